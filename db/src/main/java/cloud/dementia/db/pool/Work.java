package cloud.dementia.db.pool;

import java.sql.SQLException;

/**
 * A unit of work: runs inside one transaction on one schema and returns a value. The connection behind the
 * {@link Tx} is only valid while the work runs.
 *
 * @param <T> result type
 */
@FunctionalInterface
public interface Work<T> {
    T run(Tx tx) throws SQLException;
}
