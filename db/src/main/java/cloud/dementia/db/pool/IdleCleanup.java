package cloud.dementia.db.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Idle cleanup: its settings (changeable at run time), its history, and running it. What runs it on a schedule is
 * told of setting changes through {@link #onChange}; the registry knows nothing of schedulers.
 */
public final class IdleCleanup {

    private static final int HISTORY = 20;

    private final PoolRegistry registry;
    private final Deque<CleanupReport> history = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** One run at a time (a lock, not synchronized: virtual threads must not pin carriers while it runs). */
    private final java.util.concurrent.locks.ReentrantLock running = new java.util.concurrent.locks.ReentrantLock();
    private volatile Duration interval;
    private volatile Duration idleMax;
    private volatile Instant nextRun;
    private volatile Consumer<IdleCleanup> onChange = c -> { };

    public IdleCleanup(PoolRegistry registry, Duration interval, Duration idleMax) {
        this.registry = registry;
        this.interval = requirePositive(interval, "interval");
        this.idleMax = requirePositive(idleMax, "max idle");
    }

    /** Runs one cleanup now and records its report. */
    public CleanupReport runNow(String trigger) {
        running.lock();
        try {
            CleanupReport report = registry.cleanupIdle(idleMax, trigger);
            history.addFirst(report);
            while (history.size() > HISTORY) {
                history.pollLast();
            }
            return report;
        } finally {
            running.unlock();
        }
    }

    /**
     * Changes interval and max idle; the schedule picks the new interval up at once.
     *
     * @throws IllegalArgumentException when a value is not positive
     */
    public void change(Duration newInterval, Duration newIdleMax) {
        requirePositive(newInterval, "interval");
        requirePositive(newIdleMax, "max idle");
        this.interval = newInterval;
        this.idleMax = newIdleMax;
        onChange.accept(this);
    }

    /** @return the last reports, newest first */
    public List<CleanupReport> history() {
        return List.copyOf(history);
    }

    public Duration interval() {
        return interval;
    }

    public Duration idleMax() {
        return idleMax;
    }

    /** @return when the schedule runs next, if a schedule is attached */
    public Optional<Instant> nextRun() {
        return Optional.ofNullable(nextRun);
    }

    /** Set by the schedule that runs this cleanup. */
    public void nextRun(Instant at) {
        this.nextRun = at;
    }

    /** Registers the schedule to tell about setting changes. */
    public void onChange(Consumer<IdleCleanup> listener) {
        this.onChange = listener;
    }

    private static Duration requirePositive(Duration d, String what) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException("idle cleanup " + what + " must be positive, got " + d);
        }
        return d;
    }
}
