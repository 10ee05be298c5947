package cloud.dementia.db.pool;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One schema's pool as operators see and steer it: a limit on how many of the shared physical connections the schema
 * may hold at once, a FIFO of callers waiting for one, a state (open, suspended, draining, retired) and its counters.
 * It owns no connection: creating, resizing, draining or retiring it opens or closes no backend.
 * <p>
 * The fields under "admission" are read and written only under {@link Admission}'s lock.
 */
final class LogicalPool {

    final String schema;
    /** The schema as SQL names it (quoted), put into every statement of its units. */
    final String qualifier;
    final long createdMillis = System.currentTimeMillis();
    final AtomicLong acquireTimeouts = new AtomicLong();
    /** Units of work, statements, errors and wait time since the pool was created. */
    final WorkCounters work = new WorkCounters();
    /** When work last started or ended on it ({@link System#nanoTime()}); no clock read beyond that on the hot path. */
    volatile long lastUsedNanos = System.nanoTime();

    // admission (guarded by Admission.lock)
    int max;
    boolean ownSize;
    int inUse;
    PoolState state = PoolState.OPEN;
    final ArrayDeque<Admission.Waiter> waiters = new ArrayDeque<>();

    LogicalPool(String schema, int max, boolean ownSize) {
        this.schema = schema;
        this.qualifier = Tx.identifier(schema);
        this.max = max;
        this.ownSize = ownSize;
    }

    /** The schema's statements as sent, by template: expanding {@code {s}} costs more than a lookup (bounded: templates are ours). */
    private final java.util.Map<String, String> statements = new java.util.concurrent.ConcurrentHashMap<>();

    /** @return the statement with {@code {s}} replaced by this schema, quoted */
    String sql(String template) {
        String sql = statements.get(template);
        if (sql == null) {
            sql = Tx.expand(template, qualifier);
            if (statements.size() < 1024) {
                statements.put(template, sql);
            }
        }
        return sql;
    }

    void touch() {
        lastUsedNanos = System.nanoTime();
    }

    Instant lastUsedAt() {
        return Instant.now().minusNanos(System.nanoTime() - lastUsedNanos);
    }

    long idleMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastUsedNanos);
    }
}
