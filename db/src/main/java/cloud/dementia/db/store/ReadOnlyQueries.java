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
 * {@code query_database}: one read-only statement, run in a read-only transaction with the statement timeout, a row
 * limit and a byte limit, as the project's own read-only role through a security-definer function (see the project
 * migrations), so it can read its own schema only, whatever the SQL says. That role and the read-only transaction are
 * the confinement; the check here is a courtesy that refuses what is plainly not a single query with a clear message
 * before it reaches the database, reading the SQL with PostgreSQL's own lexical rules ({@link SqlLexer}).
 * <p>
 * Parameters are never written into the SQL: {@code $n} placeholders become references to one text-array parameter
 * PostgreSQL binds ({@code $1[n]}, cast by the value's JSON type), so a value is data whatever it holds.
 * <p>
 * What comes back is capped inside the database, before it is sent: each value longer than {@code maxValueChars} is cut
 * to that many characters, and rows stop before their JSON would pass {@code maxBytes}; the result says which cut.
 */
public final class ReadOnlyQueries {

    /** Total bytes of row JSON a query may return. */
    public static final int MAX_BYTES = 1_048_576;
    /** Characters of one value (a column of a row) a query may return; longer values are cut to this. */
    public static final int MAX_VALUE_CHARS = 65_536;

    /**
     * Rows as JSON objects (column order kept), and what cut them.
     *
     * @param truncatedBy {@code null}, {@code "rows"} (the row limit) or {@code "bytes"} (the byte limit)
     * @param valuesCut   whether some value was longer than the value limit and was cut
     */
    public record Result(List<String> rowsJson, String truncatedBy, boolean valuesCut) {

        /** @return whether rows were left out, by the row or the byte limit */
        public boolean truncated() {
            return truncatedBy != null;
        }
    }

    /** A parameter that is JSON (an object or a list): bound as {@code jsonb}. */
    public record JsonParam(String json) {
    }

    private static final Set<String> QUERY_STARTS = Set.of("select", "with", "values", "table");
    /** Words that never belong in a read-only query (a data-modifying WITH, a statement smuggled into a query). */
    private static final Set<String> REFUSED_WORDS = Set.of("insert", "update", "delete", "merge", "truncate", "copy", "grant",
            "revoke", "create", "alter", "drop", "reset");

    private final PoolRegistry registry;

    public ReadOnlyQueries(PoolRegistry registry) {
        this.registry = registry;
    }

    /** A query without parameters, with the default byte and value limits. */
    public Result run(String schema, String sql, int maxRows) {
        return run(schema, sql, List.of(), maxRows);
    }

    /** A query with {@code $1}, {@code $2} ... bound to the values, with the default byte and value limits. */
    public Result run(String schema, String sql, List<?> params, int maxRows) {
        return run(schema, sql, params, maxRows, MAX_BYTES, MAX_VALUE_CHARS);
    }

    /**
     * @param schema        the project's schema
     * @param sql           one SELECT / WITH / VALUES / TABLE query, with {@code $1}, {@code $2} ... for the params
     * @param params        values: null, Boolean, Number, String or {@link JsonParam}
     * @param maxRows       row limit
     * @param maxBytes      limit on the bytes of all rows' JSON
     * @param maxValueChars limit on the characters of one value
     */
    public Result run(String schema, String sql, List<?> params, int maxRows, int maxBytes, int maxValueChars) {
        String query = check(sql);
        Bound bound = bind(query, params == null ? List.of() : params);
        try {
            return registry.inReadOnlyTransaction(schema, tx -> {
                if (registry.namesServerStatements()) {
                    // the backend is shared by every project, and the statements the driver prepared there for other
                    // projects' work name their schemas and show what they do: pg_prepared_statements would list them
                    // to this query. The driver notices DEALLOCATE ALL and prepares its statements again as they come.
                    tx.execute("DEALLOCATE ALL");
                }
                List<String[]> rows = tx.query("SELECT r.out_row::text, r.out_cut FROM {s}.run_readonly_query(?, ?::text[], ?, ?, ?) AS r",
                        r -> new String[] {r.string(1), r.string(2)}, bound.sql(), bound.values(), maxRows, maxBytes, maxValueChars);
                List<String> json = new ArrayList<>(rows.size());
                String truncatedBy = null;
                boolean valuesCut = false;
                for (String[] row : rows) {
                    if (row[0] == null) {
                        truncatedBy = row[1];
                    } else {
                        json.add(row[0]);
                        valuesCut |= "value".equals(row[1]);
                    }
                }
                return new Result(json, truncatedBy, valuesCut);
            });
        } catch (DataAccessException e) {
            throw callersError(e, bound).orElseThrow(() -> e);
        }
    }

    /**
     * The query with each {@code $n} (found as PostgreSQL's lexer finds parameters: not in a literal, a quoted name, a
     * comment or a name like {@code a$1}) turned into a reference to element n of the one array parameter, and the
     * values as that array's text.
     *
     * @param shifts where the SQL sent differs in length from the caller's, to map PostgreSQL's error positions back
     */
    record Bound(String query, String sql, String[] values, List<int[]> shifts) {

        /** @return the caller's position (1-based) for a position (1-based) in the SQL sent */
        int callersPosition(int sentPosition) {
            int position = sentPosition;
            for (int[] shift : shifts) {
                int sentStart = shift[0];
                int delta = shift[1];
                int length = shift[2];
                if (sentPosition > sentStart + length) {
                    position -= delta;
                } else if (sentPosition > sentStart) {
                    // inside the reference a parameter became: the parameter itself
                    return sentStart + 1 - (sentPosition - position);
                }
            }
            return position;
        }
    }

    static Bound bind(String query, List<?> params) {
        List<SqlLexer.Parameter> found = SqlLexer.scan(query).parameters();
        StringBuilder out = new StringBuilder(query.length() + 16 * found.size());
        List<int[]> shifts = new ArrayList<>();
        int last = 0;
        for (SqlLexer.Parameter p : found) {
            if (p.number() < 1 || p.number() > params.size()) {
                throw new StoreRuleException("query uses " + p.text() + " but " + params.size() + " parameter(s) were given");
            }
            out.append(query, last, p.start());
            String reference = "($1[" + p.number() + "]" + cast(params.get(p.number() - 1)) + ")";
            shifts.add(new int[] {out.length(), reference.length() - p.length(), reference.length()});
            out.append(reference);
            last = p.start() + p.length();
        }
        out.append(query.substring(last));
        String[] values = new String[params.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = text(params.get(i));
        }
        return new Bound(query, out.toString(), values, shifts);
    }

    /** @return the cast that gives a parameter its JSON type ({@code text} for strings and null needs none) */
    private static String cast(Object value) {
        if (value instanceof Boolean) {
            return "::boolean";
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof java.math.BigInteger bi
                && bi.bitLength() < 64) {
            return "::bigint";
        }
        if (value instanceof Number) {
            return "::numeric";
        }
        if (value instanceof JsonParam) {
            return "::jsonb";
        }
        return "";
    }

    private static String text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof JsonParam j) {
            return j.json();
        }
        if (value instanceof Number n && !n.toString().matches("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?")) {
            throw new StoreRuleException("parameter " + n + " is not a plain number");
        }
        return value.toString();
    }

    /**
     * SQLSTATE classes of errors that are the service's, not the caller's query: 08 connection, 40 rollback
     * (serialization, deadlock: worth a retry), 53 insufficient resources, 57 operator intervention, 58 system, F0
     * configuration, XX internal. Anything else PostgreSQL refuses (syntax, unknown names, data, a cursor that does not
     * exist, ...) comes from the SQL the caller wrote, so it is the caller's to fix.
     */
    private static final Set<String> SERVICE_CLASSES = Set.of("08", "40", "53", "57", "58", "F0", "XX");
    /** Length of {@code SELECT q.* FROM (SELECT * FROM (} before the query in both of the function's EXECUTEs (see the project migrations). */
    private static final int WRAPPER_PREFIX = "SELECT q.* FROM (SELECT * FROM (".length();

    /**
     * @return the failure as the caller's error, with PostgreSQL's own message, SQLSTATE, where in the query and its
     *         hint, and not the wrapper function's SQL; empty when the error is the service's (connection lost, a bug)
     */
    private Optional<StoreRuleException> callersError(DataAccessException e, Bound bound) {
        String query = bound.query();
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
        if (state.length() != 5 || SERVICE_CLASSES.contains(state.substring(0, 2))) {
            return Optional.empty();
        }
        int sent = server == null ? 0 : server.getInternalPosition() - WRAPPER_PREFIX;
        int position = sent <= 0 ? 0 : sent > bound.sql().length() ? query.length() + 1 : bound.callersPosition(sent);
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
        if (state.equals("42703") || state.equals("42P01")) {
            // an unknown column or table: say where the right names are
            out.append("; the tables and their columns: inspect_database(mode=\"schema\")");
        }
        return Optional.of(new StoreRuleException(out.toString()));
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
        String code = SqlLexer.scan(sql).code().strip();
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
}
