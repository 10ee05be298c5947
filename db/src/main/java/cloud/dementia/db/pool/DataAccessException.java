package cloud.dementia.db.pool;

import java.sql.SQLException;

/** A unit of work failed in the database (its transaction was rolled back). */
public final class DataAccessException extends PoolException {

    private final String sqlState;
    private final boolean connectionLost;
    private final boolean remoteNode;

    public DataAccessException(String schema, SQLException cause) {
        super(schema, cause.getMessage(), cause);
        this.sqlState = cause.getSQLState();
        this.connectionLost = PoolRegistry.isConnectionGone(cause);
        this.remoteNode = PoolRegistry.remoteNode(cause);
    }

    /** @return whether a node behind a Citus coordinator failed (could not be reached, or refused the login) */
    public boolean remoteNode() {
        return remoteNode;
    }

    /** @return whether that node refused the login (a role, a password, pg_hba): a setting to fix, not a node down */
    public boolean remoteLoginRefused() {
        String m = getMessage();
        return remoteNode && m != null && m.contains("FATAL");
    }

    /** @return the SQLSTATE PostgreSQL reported, or {@code null} */
    public String sqlState() {
        return sqlState;
    }

    /**
     * @return whether the unit lost its connection (SQLSTATE class 08, or the backend was terminated or shut down:
     *         57P01-57P03): the database or the network, not the work; the same call may succeed on a new connection
     */
    public boolean connectionLost() {
        return connectionLost;
    }

    /** @return whether PostgreSQL gave up on the transaction to let another go on (serialization failure, deadlock) */
    public boolean transactionConflict() {
        return "40001".equals(sqlState) || "40P01".equals(sqlState);
    }

    /** @return whether the statement timeout (or an operator's cancel) stopped the statement (SQLSTATE 57014) */
    public boolean cancelled() {
        return "57014".equals(sqlState);
    }
}
