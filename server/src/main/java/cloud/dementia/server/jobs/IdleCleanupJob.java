package cloud.dementia.server.jobs;

import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.scheduling.FixedRate;

import cloud.dementia.db.pool.IdleCleanup;

/**
 * Runs idle cleanup every {@code DB_IDLE_CLEANUP_INTERVAL_S} on Helidon Scheduling, on the pool layer's shared
 * housekeeping executor (no thread of its own). A changed interval replaces the schedule at once.
 */
public final class IdleCleanupJob implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(IdleCleanupJob.class.getName());

    private final IdleCleanup cleanup;
    private final ScheduledExecutorService executor;
    private final Runnable alongside;
    private FixedRate task;

    /**
     * @param alongside what else runs on the same schedule (forgetting idle sessions)
     */
    public IdleCleanupJob(IdleCleanup cleanup, ScheduledExecutorService executor, Runnable alongside) {
        this.cleanup = cleanup;
        this.executor = executor;
        this.alongside = alongside;
        cleanup.onChange(c -> schedule());
        schedule();
    }

    private synchronized void schedule() {
        if (task != null) {
            task.close();
        }
        var interval = cleanup.interval();
        cleanup.nextRun(Instant.now().plus(interval));
        task = FixedRate.builder()
                .interval(interval)
                .delayBy(interval)
                .delayType(FixedRate.DelayType.SINCE_PREVIOUS_START)
                .executor(executor)
                .task(invocation -> run())
                .build();
        LOG.info(() -> "idle cleanup scheduled: every " + interval.toSeconds() + " s, max idle " + cleanup.idleMax().toSeconds() + " s");
    }

    private void run() {
        cleanup.nextRun(Instant.now().plus(cleanup.interval()));
        try {
            cleanup.runNow("schedule");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "idle cleanup failed: " + e.getMessage(), e);
        }
        try {
            alongside.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "forgetting idle sessions failed: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (task != null) {
            task.close();
            task = null;
        }
    }
}
