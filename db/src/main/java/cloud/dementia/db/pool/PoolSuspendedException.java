package cloud.dementia.db.pool;

/** New work for a suspended schema is refused at once, never queued. */
public final class PoolSuspendedException extends PoolException {

    public PoolSuspendedException(String schema) {
        super(schema, "schema `" + schema + "` is suspended by an operator: new work is refused until it is resumed", null);
    }
}
