package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The transaction a {@link Work} runs in. It offers statements, not the connection: the connection stays
 * owned by the pool layer and goes back to its pool when the work ends, on every path.
 */
public final class Tx {

    private final Connection connection;
    private final String schema;
    private boolean open = true;

    Tx(Connection connection, String schema) {
        this.connection = connection;
        this.schema = schema;
    }

    /** @return the schema this transaction's {@code search_path} selects */
    public String schema() {
        return schema;
    }

    /**
     * Runs a query and maps every row.
     *
     * @param sql    SQL with {@code ?} parameters
     * @param mapper row mapper
     * @param params parameter values, in order
     * @return the mapped rows
     */
    public <T> List<T> query(String sql, RowMapper<T> mapper, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(sql, params); ResultSet rs = ps.executeQuery()) {
            List<T> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(mapper.map(rs));
            }
            return rows;
        }
    }

    /** Runs a query and maps its first row, if any. */
    public <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(sql, params); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.ofNullable(mapper.map(rs)) : Optional.empty();
        }
    }

    /** Runs an INSERT, UPDATE, DELETE or DDL statement; returns the affected row count. */
    public int update(String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(sql, params)) {
            return ps.executeUpdate();
        }
    }

    /** Runs a parameterless statement (DDL, several statements). */
    public void execute(String sql) throws SQLException {
        check();
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }

    private PreparedStatement prepare(String sql, Object... params) throws SQLException {
        check();
        PreparedStatement ps = connection.prepareStatement(sql);
        try {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    private void check() {
        if (!open) {
            throw new IllegalStateException("this transaction on schema `" + schema + "` has ended; a Tx must not escape its unit of work");
        }
    }

    /** For the db module's own tools (migrations) that need JDBC directly; never handed outside the module. */
    Connection connection() {
        check();
        return connection;
    }

    void end() {
        open = false;
    }
}
