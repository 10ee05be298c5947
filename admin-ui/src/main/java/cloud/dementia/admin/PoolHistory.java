package cloud.dementia.admin;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolStats;

/**
 * The last 15 minutes of every schema pool and of the physical pool, sampled every few seconds on the pool layer's
 * shared housekeeping executor (no thread of its own), for the console's charts and the "in the last 15 minutes"
 * counts. Bounded: samples older than the window are dropped, and so is a schema pool with none left.
 */
final class PoolHistory {

    static final Duration WINDOW = Duration.ofMinutes(15);
    static final Duration EVERY = Duration.ofSeconds(3);
    private static final int MOST_PER_POOL = (int) (WINDOW.toMillis() / EVERY.toMillis()) + 10;
    private static final Logger LOG = Logger.getLogger(PoolHistory.class.getName());

    /**
     * One sample of one schema pool.
     *
     * @param at              epoch milliseconds
     * @param active          connections the schema holds
     * @param waiting         callers waiting
     * @param max             most it may hold
     * @param acquireTimeouts timeouts since the pool was created
     */
    record Sample(long at, int active, int waiting, int max, long acquireTimeouts) {
    }

    /**
     * One sample of the physical pool.
     *
     * @param at       epoch milliseconds
     * @param active   connections checked out
     * @param waiting  admitted callers waiting for a connection to open
     * @param max      the budget
     * @param total    backends open
     * @param timeouts callers that got no connection from the database in time, since start
     */
    record PhysicalSample(long at, int active, int waiting, int max, int total, long timeouts) {
    }

    private final Supplier<List<PoolStats>> pools;
    private final Supplier<PhysicalStats> physical;
    private final Clock clock;
    private final Map<String, Deque<Sample>> bySchema = new HashMap<>();
    private final Deque<PhysicalSample> physicalSamples = new ArrayDeque<>();
    private ScheduledFuture<?> task;

    PoolHistory(Supplier<List<PoolStats>> pools, Supplier<PhysicalStats> physical, Clock clock) {
        this.pools = pools;
        this.physical = physical;
        this.clock = clock;
    }

    synchronized void start(ScheduledExecutorService executor) {
        if (task == null) {
            task = executor.scheduleAtFixedRate(this::sampleQuietly, 0, EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            // a failed sample must not end the schedule (a periodic task that throws is never run again)
            LOG.log(Level.WARNING, "pool history sample failed: " + e.getMessage(), e);
        }
    }

    /** Takes one sample of every pool now. */
    void sample() {
        List<PoolStats> now = pools.get();
        PhysicalStats shared = physical.get();
        long at = clock.millis();
        synchronized (this) {
            physicalSamples.addLast(new PhysicalSample(at, shared.active(), shared.waiting(), shared.max(), shared.total(), shared.timeouts()));
            while (physicalSamples.size() > MOST_PER_POOL) {
                physicalSamples.removeFirst();
            }
            for (PoolStats p : now) {
                Deque<Sample> samples = bySchema.computeIfAbsent(p.schema(), s -> new ArrayDeque<>());
                samples.addLast(new Sample(at, p.active(), p.waiting(), p.max(), p.acquireTimeouts()));
                while (samples.size() > MOST_PER_POOL) {
                    samples.removeFirst();
                }
            }
            long oldest = at - WINDOW.toMillis();
            while (!physicalSamples.isEmpty() && physicalSamples.peekFirst().at() < oldest) {
                physicalSamples.removeFirst();
            }
            bySchema.values().forEach(samples -> {
                while (!samples.isEmpty() && samples.peekFirst().at() < oldest) {
                    samples.removeFirst();
                }
            });
            bySchema.values().removeIf(Deque::isEmpty);
        }
    }

    /** @return samples taken after {@code sinceMillis}, oldest first, by schema */
    synchronized Map<String, List<Sample>> since(long sinceMillis) {
        Map<String, List<Sample>> out = new LinkedHashMap<>();
        bySchema.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            List<Sample> newer = new ArrayList<>();
            for (Sample s : e.getValue()) {
                if (s.at() > sinceMillis) {
                    newer.add(s);
                }
            }
            if (!newer.isEmpty()) {
                out.put(e.getKey(), newer);
            }
        });
        return out;
    }

    /** @return samples of the physical pool taken after {@code sinceMillis}, oldest first */
    synchronized List<PhysicalSample> physicalSince(long sinceMillis) {
        return physicalSamples.stream().filter(s -> s.at() > sinceMillis).toList();
    }

    /** @return timeouts of the physical pool within the window (0 when it has no history) */
    synchronized long recentPhysicalTimeouts(long timeoutsNow) {
        return physicalSamples.isEmpty() ? 0 : Math.max(0, timeoutsNow - physicalSamples.peekFirst().timeouts());
    }

    /** @return acquire timeouts of the pool within the window (0 when it has no history) */
    synchronized long recentTimeouts(String schema, long timeoutsNow) {
        Deque<Sample> samples = bySchema.get(schema);
        if (samples == null || samples.isEmpty()) {
            return 0;
        }
        long first = samples.peekFirst().acquireTimeouts();
        // a pool retired and opened again starts counting from zero
        return timeoutsNow >= first ? timeoutsNow - first : timeoutsNow;
    }

    synchronized int pools() {
        return bySchema.size();
    }
}
