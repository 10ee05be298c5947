package cloud.dementia.db.pool;

import java.sql.SQLException;

/** A unit of work failed in the database (its transaction was rolled back). */
public final class DataAccessException extends PoolException {

    private final String sqlState;

    public DataAccessException(String schema, SQLException cause) {
        super(schema, cause.getMessage(), cause);
        this.sqlState = cause.getSQLState();
    }

    /** @return the SQLSTATE PostgreSQL reported, or {@code null} */
    public String sqlState() {
        return sqlState;
    }
}
