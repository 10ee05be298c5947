package cloud.dementia.db.pool;

import java.time.Instant;

/**
 * A snapshot of one schema's (logical) pool: how many of the shared connections it holds and may hold, who waits.
 *
 * @param schema          schema (and pool) name
 * @param state           life-cycle state
 * @param active          connections the schema holds now (checked out by its work)
 * @param waiting         callers waiting for a connection now
 * @param max             most connections the schema may hold at once
 * @param ownSize         whether {@code max} was set by an operator (remembered) rather than {@code DB_POOL_MAX_PER_SCHEMA}
 * @param longestWaitMs   how long the caller first in line has been waiting (0 when nobody waits): PgBouncer's {@code maxwait}
 * @param acquireTimeouts callers that gave up after the acquire timeout, since the pool was created
 * @param suspectedLeaks  checkouts held longer than the leak threshold right now
 * @param createdAt       when this pool was created (its first use since it was last forgotten)
 * @param lastUsedAt      when work last started or ended on it
 * @param totals          units of work, statements, errors and wait time since the pool was created
 */
public record PoolStats(String schema,
                        PoolState state,
                        int active,
                        int waiting,
                        int max,
                        boolean ownSize,
                        long longestWaitMs,
                        long acquireTimeouts,
                        int suspectedLeaks,
                        Instant createdAt,
                        Instant lastUsedAt,
                        PoolTotals totals) {

    /** @return whether every connection the schema may hold is in use: the next caller waits */
    public boolean atMax() {
        return max > 0 && active >= max;
    }

    /** @return whether every connection the schema may hold is in use, or callers wait */
    public boolean saturated() {
        return waiting > 0 || atMax();
    }
}
