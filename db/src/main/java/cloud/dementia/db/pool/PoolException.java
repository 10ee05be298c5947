package cloud.dementia.db.pool;

/** Base of the errors the pool layer gives callers; every message names the schema and what to do. */
public class PoolException extends RuntimeException {

    private final String schema;

    public PoolException(String schema, String message, Throwable cause) {
        super(message, cause);
        this.schema = schema;
    }

    /** @return the schema the failed work was for */
    public String schema() {
        return schema;
    }
}
