package cloud.dementia.db.pool;

/**
 * What a schema pool has done since it was created, as PgBouncer's {@code SHOW STATS} counts it per database: units of
 * work ({@code total_xact_count}), statements ({@code total_query_count}), and the time callers spent waiting for a
 * connection ({@code total_wait_time}), plus the units that ended in an error. They only grow, until the pool is
 * retired or forgotten (its next pool counts from zero, like its acquire timeouts).
 *
 * @param transactions units of work that ran on a connection ({@code inStatement}, {@code inTransaction},
 *                     {@code inReadOnlyTransaction}), each counted once when it ended, however it ended; a unit run again
 *                     on another connection because its first statement found the connection dead counts once
 * @param statements   statements the units sent through their connection: each SQL statement DB Client prepared on
 *                     the unit's connection (it prepares, executes once and closes every statement); the registry's own
 *                     {@code BEGIN}/{@code COMMIT}/{@code ROLLBACK} are not statements
 * @param errors       of the units, those that ended with an exception (rolled back, or a failed single statement)
 * @param waitMs       time callers spent between asking for a connection and getting one or giving up (acquire
 *                     timeouts included), every caller together
 */
public record PoolTotals(long transactions, long statements, long errors, long waitMs) {

    /** A pool that has done nothing yet. */
    public static final PoolTotals NONE = new PoolTotals(0, 0, 0, 0);
}
