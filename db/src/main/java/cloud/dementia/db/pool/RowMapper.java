package cloud.dementia.db.pool;

/** Maps one row of a result. */
@FunctionalInterface
public interface RowMapper<T> {
    T map(Row row);
}
