package cloud.dementia.db.pool;

/** Life cycle of one schema's pool, as an operator sees it. */
public enum PoolState {
    /** Serving work. */
    OPEN,
    /** Refusing new work at once (operator's suspend); in-flight work finishes. */
    SUSPENDED,
    /** Serving work; connections that existed at the drain close as soon as they are idle. */
    DRAINING,
    /** Closed (or closing once its last checkout returns); its budget is given back. Next use opens a new pool. */
    RETIRED
}
