package cloud.dementia.db.pool;

/** An operation named a schema that has no pool. */
public final class UnknownPoolException extends PoolException {

    public UnknownPoolException(String schema) {
        super(schema, "no pool for schema `" + schema + "`: it is opened on first use, or was retired", null);
    }
}
