package cloud.dementia.db.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * #9 defect 6: the checker's lexer was not PostgreSQL's. Each case here is read the way PostgreSQL's own lexer reads it
 * ({@code scan.l}); {@link StoreTest#queriesAreReadAsPostgresqlReadsThemAndParametersAreBound} runs the same shapes
 * against the database.
 */
class SqlLexerTest {

    private static List<Integer> parameters(String sql) {
        return SqlLexer.scan(sql).parameters().stream().map(SqlLexer.Parameter::number).toList();
    }

    @Test
    void anEscapeStringsBackslashQuoteDoesNotEndIt() {
        String sql = "SELECT E'\\'' ; DELETE FROM context_locks --'";
        String code = SqlLexer.scan(sql).code();
        assertThat(code, containsString("; DELETE FROM context_locks"));
        StoreRuleException e = assertThrows(StoreRuleException.class, () -> ReadOnlyQueries.check(sql));
        assertThat(e.getMessage(), containsString("several statements"));
        // in a standard string a backslash is an ordinary character: '\' is a whole literal, and what follows is code
        assertTrue(SqlLexer.scan("SELECT '\\' ; x'").code().contains(";"));
    }

    @Test
    void dollarQuoteTagsMayHoldDigitsButNotStartWithThem() {
        assertEquals(List.of(), parameters("SELECT $a1$ $1 $a1$"));
        assertEquals(List.of(), parameters("SELECT $_9$ it's $2 $_9$"));
        assertEquals(List.of(1, 2), parameters("SELECT $1, $2"));
        // $1$ is a parameter followed by a dollar, not a tag
        assertEquals(List.of(1), parameters("SELECT $1$"));
        // a different tag inside does not end the string
        assertEquals(List.of(), parameters("SELECT $a$ $b$ $1 $b$ $a$"));
    }

    @Test
    void aDollarInsideANameIsPartOfTheName() {
        assertEquals(List.of(), parameters("SELECT a$1 FROM t"));
        assertEquals(List.of(2), parameters("SELECT x$y$ , $2"));
    }

    @Test
    void blockCommentsNest() {
        String sql = "SELECT 1 /* outer /* inner */ ; DROP TABLE x */";
        assertFalse(SqlLexer.scan(sql).code().contains("DROP"));
        assertEquals("SELECT 1 /* outer /* inner */ ; DROP TABLE x */", ReadOnlyQueries.check(sql));
        assertEquals(List.of(), parameters("SELECT 1 -- $1\r, 2"));
        assertEquals(List.of(3), parameters("SELECT 1 -- $1\n, $3"));
    }

    @Test
    void quotedNamesAndPrefixedStringsAreNotCode() {
        assertEquals("SELECT x        FROM t", SqlLexer.scan("SELECT \"delete\" FROM t").code());
        assertEquals(List.of(), parameters("SELECT U&'$1', U&\"$2\", B'01', X'1f', N'$3'"));
        // a name ending in e before a quote is a name and a standard string
        assertEquals(List.of(), parameters("SELECT somee'\\'' , $1'"));
        ReadOnlyQueries.check("SELECT \"update\" FROM (VALUES (1)) AS v(\"update\")");
    }

    @Test
    void parametersBecomeReferencesToOneBoundArrayAndValuesNeverEnterTheSql() {
        ReadOnlyQueries.Bound b = ReadOnlyQueries.bind("SELECT $1, $2, $3, $4, $5, '$1'",
                java.util.Arrays.asList("$p$; DROP TABLE x; $p$", 7L, 1.5, true, null));
        assertEquals("SELECT ($1[1]), ($1[2]::bigint), ($1[3]::numeric), ($1[4]::boolean), ($1[5]), '$1'", b.sql());
        assertEquals("$p$; DROP TABLE x; $p$", b.values()[0]);
        assertFalse(b.sql().contains("DROP"));
        assertTrue(b.callersPosition(b.sql().indexOf("'$1'") + 1) == "SELECT $1, $2, $3, $4, $5, '$1'".indexOf("'$1'") + 1);
        StoreRuleException e = assertThrows(StoreRuleException.class, () -> ReadOnlyQueries.bind("SELECT $2", List.of("a")));
        assertThat(e.getMessage(), containsString("query uses $2 but 1 parameter(s) were given"));
        // without params a $1 is refused, not bound to the array itself
        assertThrows(StoreRuleException.class, () -> ReadOnlyQueries.bind("SELECT $1", List.of()));
    }
}
