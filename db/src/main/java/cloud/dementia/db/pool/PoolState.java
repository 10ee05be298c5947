package cloud.dementia.db.pool;

/** Life cycle of one schema's pool, as an operator sees it. */
public enum PoolState {
    /** Serving work. */
    OPEN,
    /** Refusing new work at once (operator's suspend); in-flight work finishes. */
    SUSPENDED,
    /** New work waits until the work in flight at the drain has finished; then the pool is open again. No connection closes. */
    DRAINING,
    /** Left the registry: its work in flight finishes, callers waiting move on. Next use creates a new pool. No connection closes. */
    RETIRED
}
