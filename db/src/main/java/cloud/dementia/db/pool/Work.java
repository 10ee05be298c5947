package cloud.dementia.db.pool;

import java.sql.SQLException;

/**
 * A unit of work: runs on one schema, on one connection, and returns a value. The {@link Tx} is only valid while the
 * work runs.
 *
 * @param <T> result type
 */
@FunctionalInterface
public interface Work<T> {
    T run(Tx tx) throws SQLException;
}
