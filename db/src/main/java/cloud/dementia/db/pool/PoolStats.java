package cloud.dementia.db.pool;

import java.time.Instant;

/**
 * A snapshot of one schema's pool.
 *
 * @param schema          schema (and pool) name
 * @param state           life-cycle state
 * @param active          connections checked out now
 * @param idle            connections open and idle
 * @param total           physical connections (backends) open
 * @param max             maximum pool size
 * @param minIdle         minimum idle connections kept
 * @param waiting         threads waiting for a connection
 * @param acquireTimeouts acquisitions that gave up after the acquire timeout, since the pool was created
 * @param suspectedLeaks  checkouts held longer than the leak threshold right now
 * @param createdAt       when this pool was opened
 * @param lastUsedAt      when work last started or ended on it
 */
public record PoolStats(String schema,
                        PoolState state,
                        int active,
                        int idle,
                        int total,
                        int max,
                        int minIdle,
                        int waiting,
                        long acquireTimeouts,
                        int suspectedLeaks,
                        Instant createdAt,
                        Instant lastUsedAt) {

    /** @return whether every connection is in use or threads are waiting */
    public boolean saturated() {
        return waiting > 0 || (max > 0 && active >= max);
    }
}
