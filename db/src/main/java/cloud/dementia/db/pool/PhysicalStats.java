package cloud.dementia.db.pool;

/**
 * A snapshot of the physical pool: the PostgreSQL backends the process holds, shared by every schema.
 *
 * @param name      {@code physical}: its {@code pool} tag on the {@code hikaricp_*} meters
 * @param active    connections checked out now (by any schema)
 * @param idle      connections open and idle
 * @param total     backends open in the pool (active + idle)
 * @param max       the most it may open: {@code DB_POOL_BUDGET}
 * @param minIdle   idle connections it keeps open ({@code DB_POOL_MIN_IDLE})
 * @param waiting   admitted callers waiting for a connection to be opened
 * @param timeouts  admitted callers that got no connection in time (the database did not answer)
 * @param allocated budget permits taken: backends open or still closing, never more than {@code max}
 */
public record PhysicalStats(String name, int active, int idle, int total, int max, int minIdle, int waiting, long timeouts,
                            int allocated) {
}
