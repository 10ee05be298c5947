package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import io.helidon.dbclient.DbClient;
import io.helidon.dbclient.DbClientException;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * What a {@link Work} runs its statements with: Helidon DB Client over the unit's connection. It offers statements,
 * not the connection: the connection stays owned by the pool layer and goes back when the work ends, on every path.
 * <p>
 * Statements name their schema: write {@code {s}} where the schema goes ({@code SELECT ... FROM {s}.context_locks});
 * the helpers here put in the unit's schema, quoted. Nothing is set on the session (no {@code search_path}), so the
 * SQL alone says what it reaches, and a transaction pooler can hand the next transaction to anyone.
 */
public final class Tx {

    /**
     * The name DB Client gives our statements in its logs: named here, because for an unnamed statement it hashes the
     * whole SQL text (SHA-256) on every call to make one up.
     */
    private static final String NAME = "dementia";

    private final LogicalPool pool;
    private final DbClient client;
    private final Connection unit;

    Tx(LogicalPool pool, DbClient client, Connection unit) {
        this.pool = pool;
        this.client = client;
        this.unit = unit;
    }

    /** @return the name quoted as an SQL identifier ({@code "my schema"}); the one place names are quoted */
    public static String identifier(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** @return the schema this unit of work is for */
    public String schema() {
        return pool.schema;
    }

    /** @return the SQL with {@code {s}} replaced by this unit's schema, quoted */
    public String sql(String template) {
        return pool.sql(template);
    }

    /** @return the SQL with {@code {s}} replaced by the quoted schema: what a unit of work sends */
    static String expand(String template, String qualifiedSchema) {
        return template.replace("{s}", qualifiedSchema);
    }

    /** @return DB Client's statements over this unit's connection (SQL as given: use {@link #sql} for {@code {s}}) */
    public DbExecute db() {
        return client.execute();
    }

    /**
     * Runs a query and maps every row.
     *
     * @param template SQL with {@code ?} parameters and {@code {s}} for the schema
     */
    public <T> List<T> query(String template, RowMapper<T> mapper, Object... params) throws SQLException {
        try (Stream<DbRow> rows = db().createNamedQuery(NAME, sql(template)).params(params).execute()) {
            return rows.map(r -> mapper.map(new Row(r))).toList();
        } catch (DbClientException e) {
            throw sqlException(e);
        }
    }

    /** Runs a query and maps its first row, if any. */
    public <T> Optional<T> queryOne(String template, RowMapper<T> mapper, Object... params) throws SQLException {
        try {
            return db().createNamedGet(NAME, sql(template)).params(params).execute().map(r -> mapper.map(new Row(r)));
        } catch (DbClientException e) {
            throw sqlException(e);
        }
    }

    /** Runs an INSERT, UPDATE, DELETE or DDL statement; returns the affected row count. */
    public long update(String template, Object... params) throws SQLException {
        try {
            return db().createNamedDmlStatement(NAME, sql(template)).params(params).execute();
        } catch (DbClientException e) {
            throw sqlException(e);
        }
    }

    /**
     * Runs one INSERT, UPDATE or DELETE once per parameter list, as one JDBC batch: the driver sends the statements
     * together instead of waiting for each answer, so many rows cost a few round trips rather than one each. They run
     * in order, each seeing the ones before it.
     *
     * @param template SQL with {@code ?} parameters and {@code {s}} for the schema
     * @param rows     the parameters of each execution
     * @return each execution's row count, in order
     * @throws java.sql.BatchUpdateException when one fails; the transaction is then aborted, so the driver counts every
     *                                        execution failed and names the failing one only in its message
     */
    public long[] batch(String template, List<Object[]> rows) throws SQLException {
        try (PreparedStatement statement = unit.prepareStatement(sql(template))) {
            for (Object[] params : rows) {
                for (int i = 0; i < params.length; i++) {
                    statement.setObject(i + 1, params[i]);
                }
                statement.addBatch();
            }
            return statement.executeLargeBatch();
        }
    }

    /** Runs one statement without parameters (DDL, {@code DO} blocks) and ignores what it returns. */
    public void execute(String template) throws SQLException {
        update(template);
    }

    /** DB Client reports database errors wrapped; the registry classifies the driver's own exception. */
    static SQLException sqlException(DbClientException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return new SQLException(e.getMessage(), e);
    }
}
