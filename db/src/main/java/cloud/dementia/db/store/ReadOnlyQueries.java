package cloud.dementia.db.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import cloud.dementia.db.pool.DataAccessException;
import cloud.dementia.db.pool.PoolRegistry;

/**
 * {@code query_database}: one read-only statement, run in a read-only transaction with the statement timeout and a row
 * limit, as the project's own read-only role through a security-definer function (see the project migration), so it
 * can read its own schema only, whatever the SQL says. Statements that are not a single query are refused before they
 * reach the database, with a message that says so.
 */
public final class ReadOnlyQueries {

    /** Rows as JSON objects (column order kept), and whether the limit cut them. */
    public record Result(List<String> rowsJson, boolean truncated) {
    }

    private static final Set<String> QUERY_STARTS = Set.of("select", "with", "values", "table");
    /** Words that never belong in a read-only query (a data-modifying WITH, a statement smuggled into a query). */
    private static final Set<String> REFUSED_WORDS = Set.of("insert", "update", "delete", "merge", "truncate", "copy", "grant",
            "revoke", "create", "alter", "drop", "reset");

    private final PoolRegistry registry;

    public ReadOnlyQueries(PoolRegistry registry) {
        this.registry = registry;
    }

    /**
     * @param schema  the project's schema
     * @param sql     one SELECT / WITH / VALUES / TABLE query, parameters already bound as literals
     * @param maxRows row limit
     */
    public Result run(String schema, String sql, int maxRows) {
        String query = check(sql);
        try {
            return registry.inReadOnlyTransaction(schema, tx -> {
                List<String> rows = new ArrayList<>(tx.query("SELECT r::text FROM {s}.run_readonly_query(?, ?) AS r", r -> r.string(1), query,
                        maxRows + 1));
                boolean truncated = rows.size() > maxRows;
                if (truncated) {
                    rows.remove(rows.size() - 1);
                }
                return new Result(rows, truncated);
            });
        } catch (DataAccessException e) {
            throw callersError(e, query).orElseThrow(() -> e);
        }
    }

    /**
     * SQLSTATE classes of errors the caller's query caused, not the service: 21 cardinality, 22 data (division by zero,
     * bad input), 25 (read-only transaction), 2F/38/39 (functions), 42 syntax and access (unknown column or table,
     * permission denied), 0A not supported, 54 program limits, P0 raised by a function it called.
     */
    private static final Set<String> CALLERS_CLASSES = Set.of("21", "22", "25", "2F", "38", "39", "42", "0A", "54", "P0");
    /** Length of {@code SELECT to_json(q) FROM (} before the query in the function's EXECUTE (see the project migration). */
    private static final int WRAPPER_PREFIX = "SELECT to_json(q) FROM (".length();

    /**
     * @return the failure as the caller's error, with PostgreSQL's own message, SQLSTATE, where in the query and its
     *         hint, and not the wrapper function's SQL; empty when the error is the service's (connection lost, a bug)
     */
    private Optional<StoreRuleException> callersError(DataAccessException e, String query) {
        String state = e.sqlState();
        if (state == null) {
            return Optional.empty();
        }
        ServerErrorMessage server = e.getCause() instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String message = server != null && server.getMessage() != null ? server.getMessage() : e.getCause().getMessage();
        if ("57014".equals(state)) {
            return Optional.of(new StoreRuleException("the query ran longer than the statement timeout ("
                    + registry.settings().statementTimeout().toMillis() + " ms) and was cancelled (SQLSTATE 57014): " + message));
        }
        if (!CALLERS_CLASSES.contains(state.substring(0, 2))) {
            return Optional.empty();
        }
        int position = server == null ? 0 : server.getInternalPosition() - WRAPPER_PREFIX;
        if (position > query.length() && message.startsWith("syntax error at or near")) {
            // the parser met the wrapper's closing parenthesis: the query itself ended too early
            message = "syntax error at end of input";
        }
        StringBuilder out = new StringBuilder("the query failed: ").append(message).append(" (SQLSTATE ").append(state).append(")");
        if (position > query.length()) {
            out.append(" at the end of the query");
        } else if (position > 0) {
            out.append(" at character ").append(position);
        }
        if (server != null && server.getDetail() != null) {
            out.append("; ").append(server.getDetail());
        }
        if (server != null && server.getHint() != null) {
            out.append("; hint: ").append(server.getHint());
        }
        return Optional.of(new StoreRuleException(out.toString()));
    }

    /**
     * Like {@link #run(String, String, int)}, with {@code $1}, {@code $2} ... placeholders bound to the values as SQL
     * literals (strings dollar-quoted with a tag the value does not contain, numbers and booleans checked).
     */
    public Result run(String schema, String sql, List<?> params, int maxRows) {
        return run(schema, bind(sql, params), maxRows);
    }

    static String bind(String sql, List<?> params) {
        if (params == null || params.isEmpty()) {
            return sql;
        }
        String code = stripLiteralsAndComments(sql);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$(\\d+)").matcher(code);
        StringBuilder out = new StringBuilder();
        int last = 0;
        while (m.find()) {
            String digits = m.group(1);
            int index = digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
            if (index < 1 || index > params.size()) {
                throw new StoreRuleException("query uses $" + digits + " but " + params.size() + " parameter(s) were given");
            }
            out.append(sql, last, m.start()).append(literal(params.get(index - 1)));
            last = m.end();
        }
        out.append(sql.substring(last));
        return out.toString();
    }

    static String literal(Object value) {
        if (value == null) {
            return "NULL";
        }
        if (value instanceof Boolean b) {
            return b ? "TRUE" : "FALSE";
        }
        if (value instanceof Number n) {
            String text = n.toString();
            if (!text.matches("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?")) {
                throw new StoreRuleException("parameter " + text + " is not a plain number");
            }
            return text;
        }
        String text = value.toString();
        String tag = "$p$";
        int i = 0;
        while (text.contains(tag)) {
            tag = "$p" + (i++) + "$";
        }
        return tag + text + tag;
    }

    /**
     * Refuses anything but a single query.
     *
     * @return the query without a trailing semicolon
     */
    static String check(String sql) {
        if (sql == null || sql.isBlank()) {
            throw new StoreRuleException("query must not be empty");
        }
        String code = stripLiteralsAndComments(sql).strip();
        while (code.endsWith(";")) {
            code = code.substring(0, code.length() - 1).strip();
        }
        if (code.contains(";")) {
            throw new StoreRuleException("query holds several statements: send one SELECT at a time");
        }
        String[] words = code.toLowerCase(Locale.ROOT).split("[^a-z_]+");
        String first = words.length > 0 && words[0].isEmpty() && words.length > 1 ? words[1] : (words.length > 0 ? words[0] : "");
        if (!QUERY_STARTS.contains(first)) {
            throw new StoreRuleException("only read-only queries are allowed (SELECT, WITH, VALUES, TABLE); `" + first.toUpperCase(Locale.ROOT)
                    + "` is refused");
        }
        for (String w : words) {
            if (REFUSED_WORDS.contains(w)) {
                throw new StoreRuleException("query contains `" + w.toUpperCase(Locale.ROOT) + "`: only read-only queries are allowed");
            }
        }
        if (isSetStatementLike(code)) {
            throw new StoreRuleException("query contains `SET`: changing roles or settings is not allowed");
        }
        String trimmed = sql.strip();
        while (trimmed.endsWith(";")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1).strip();
        }
        return trimmed;
    }

    private static boolean isSetStatementLike(String code) {
        // "set" inside a query is otherwise only UPDATE ... SET (already refused) or a name; refuse SET ROLE and friends
        return code.toLowerCase(Locale.ROOT).matches("(?s).*\\bset\\s+(role|session|local|search_path|transaction)\\b.*");
    }

    /** Blanks out string literals, quoted identifiers, dollar-quoted strings and comments, keeping positions. */
    static String stripLiteralsAndComments(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                end = end < 0 ? n : end;
                out.append(" ".repeat(end - i));
                i = end;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                out.append(" ".repeat(end - i));
                i = end;
            } else if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < n) {
                    if (sql.charAt(j) == c) {
                        if (j + 1 < n && sql.charAt(j + 1) == c) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                int end = Math.min(n, j + 1);
                out.append(c == '"' ? "x" : "'").append(" ".repeat(Math.max(0, end - i - 1)));
                i = end;
            } else if (c == '$') {
                int close = sql.indexOf('$', i + 1);
                String tag = close > 0 ? sql.substring(i, close + 1) : null;
                if (tag != null && tag.matches("\\$[A-Za-z_]*\\$")) {
                    int end = sql.indexOf(tag, close + 1);
                    end = end < 0 ? n : end + tag.length();
                    out.append("'").append(" ".repeat(end - i - 1));
                    i = end;
                } else {
                    out.append(c);
                    i++;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
