package cloud.dementia.db.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Tracks every checkout with the stack that took it. A checkout held longer than the leak threshold is a
 * suspected leak: logged once, counted, and listed until its connection comes back (then kept in a short
 * history of recent leaks).
 */
final class LeakWatch {

    private static final Logger LOG = Logger.getLogger(LeakWatch.class.getName());
    private static final int HISTORY = 50;

    /** One connection checked out by a unit of work. */
    static final class Checkout {
        final long id;
        final String schema;
        final String thread;
        final long takenNanos;
        final Instant takenAt;
        final Throwable origin;
        volatile boolean suspected;

        Checkout(long id, String schema) {
            this.id = id;
            this.schema = schema;
            this.thread = Thread.currentThread().getName().isEmpty() ? Thread.currentThread().toString() : Thread.currentThread().getName();
            this.takenNanos = System.nanoTime();
            this.takenAt = Instant.now();
            // the raw backtrace is captured now and only formatted if this checkout is ever reported
            this.origin = new Throwable("connection taken here");
        }

        LeakReport report(boolean returned, long nowNanos) {
            String stack = Arrays.stream(origin.getStackTrace())
                    .map(StackTraceElement::toString)
                    .collect(Collectors.joining("\n"));
            return new LeakReport(id, schema, thread, takenAt, Duration.ofNanos(nowNanos - takenNanos), returned, stack);
        }
    }

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Checkout> open = new ConcurrentHashMap<>();
    private final Deque<LeakReport> history = new ArrayDeque<>();
    private final Map<String, AtomicLong> totalBySchema = new ConcurrentHashMap<>();
    private volatile long thresholdNanos;

    LeakWatch(Duration threshold) {
        this.thresholdNanos = threshold.toNanos();
    }

    Checkout start(String schema) {
        Checkout c = new Checkout(ids.incrementAndGet(), schema);
        open.put(c.id, c);
        return c;
    }

    void end(Checkout c) {
        open.remove(c.id);
        if (c.suspected) {
            LeakReport r = c.report(true, System.nanoTime());
            LOG.info(() -> "suspected leak returned: schema=" + c.schema + " checkout=" + c.id + " held_ms=" + r.held().toMillis());
            synchronized (history) {
                history.addFirst(r);
                while (history.size() > HISTORY) {
                    history.removeLast();
                }
            }
        }
    }

    /** Marks checkouts past the threshold; each is logged once with its stack. */
    void scan() {
        long now = System.nanoTime();
        for (Checkout c : open.values()) {
            if (!c.suspected && now - c.takenNanos > thresholdNanos) {
                c.suspected = true;
                totalBySchema.computeIfAbsent(c.schema, s -> new AtomicLong()).incrementAndGet();
                LeakReport r = c.report(false, now);
                LOG.log(Level.WARNING, "suspected connection leak: schema=" + c.schema + " checkout=" + c.id + " thread=" + c.thread
                        + " held_ms=" + r.held().toMillis() + " threshold_ms=" + Duration.ofNanos(thresholdNanos).toMillis()
                        + " taken at " + r.stack().lines().limit(8).collect(Collectors.joining(" <- ")));
            }
        }
    }

    int suspected(String schema) {
        int n = 0;
        for (Checkout c : open.values()) {
            if (c.suspected && c.schema.equals(schema)) {
                n++;
            }
        }
        return n;
    }

    long suspectedTotal(String schema) {
        AtomicLong n = totalBySchema.get(schema);
        return n == null ? 0 : n.get();
    }

    /** @return suspected leaks still held (oldest first), then recently returned ones */
    List<LeakReport> reports() {
        long now = System.nanoTime();
        List<LeakReport> out = new ArrayList<>();
        open.values().stream()
                .filter(c -> c.suspected)
                .sorted(Comparator.comparingLong(c -> c.takenNanos))
                .forEach(c -> out.add(c.report(false, now)));
        synchronized (history) {
            out.addAll(history);
        }
        return out;
    }

    Duration threshold() {
        return Duration.ofNanos(thresholdNanos);
    }
}
