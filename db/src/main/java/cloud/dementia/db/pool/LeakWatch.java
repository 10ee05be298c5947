package cloud.dementia.db.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Tracks every checkout, at no cost worth measuring on the hot path: a checkout is a small record (thread, time)
 * hung on the physical connection it took, and taken off when the connection comes back; no stack, no map. The
 * housekeeper's scan walks the open connections and finds checkouts held longer than the leak threshold; for each it
 * takes the stack of the thread that holds the connection at that moment (where it is stuck now, which is what an
 * operator needs), logs it once, counts it, and lists it until the connection comes back (then keeps it in a short
 * history).
 */
final class LeakWatch {

    private static final Logger LOG = Logger.getLogger(LeakWatch.class.getName());
    private static final int HISTORY = 50;

    /** One connection checked out by a unit of work. */
    static final class Checkout {
        final long id;
        final String schema;
        final int pid;
        final Thread thread;
        final long takenNanos = System.nanoTime();
        volatile String stack;

        Checkout(long id, String schema, int pid, Thread thread) {
            this.id = id;
            this.schema = schema;
            this.pid = pid;
            this.thread = thread;
        }

        boolean suspected() {
            return stack != null;
        }

        LeakReport report(boolean returned, long nowNanos) {
            String name = thread.getName().isEmpty() ? thread.toString() : thread.getName();
            Duration held = Duration.ofNanos(nowNanos - takenNanos);
            Instant takenAt = Instant.now().minus(Duration.ofNanos(System.nanoTime() - takenNanos));
            return new LeakReport(id, schema, name, takenAt, held, returned, stack);
        }
    }

    private final AtomicLong ids = new AtomicLong();
    private final Supplier<Collection<Backend>> backends;
    private final Deque<LeakReport> history = new ArrayDeque<>();
    private final Map<String, AtomicLong> totalBySchema = new ConcurrentHashMap<>();
    private final long thresholdNanos;

    /**
     * @param threshold checkout age reported as a suspected leak
     * @param backends  the physical connections open now (where the checkouts hang)
     */
    LeakWatch(Duration threshold, Supplier<Collection<Backend>> backends) {
        this.thresholdNanos = threshold.toNanos();
        this.backends = backends;
    }

    Checkout start(String schema, Backend backend) {
        Checkout c = new Checkout(ids.incrementAndGet(), schema, backend.pid(), Thread.currentThread());
        backend.checkout = c;
        return c;
    }

    void end(Checkout c, Backend backend) {
        backend.checkout = null;
        if (c.suspected()) {
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

    private List<Checkout> open() {
        List<Checkout> out = new ArrayList<>();
        for (Backend b : backends.get()) {
            Checkout c = b.checkout;
            if (c != null) {
                out.add(c);
            }
        }
        return out;
    }

    /** Marks checkouts past the threshold, each with the stack of the thread holding it, and logs each once. */
    void scan() {
        long now = System.nanoTime();
        for (Checkout c : open()) {
            if (!c.suspected() && now - c.takenNanos > thresholdNanos) {
                String stack = Arrays.stream(c.thread.getStackTrace()).map(StackTraceElement::toString).collect(Collectors.joining("\n"));
                c.stack = stack.isEmpty() ? "(the thread had no stack to show: " + c.thread.getState() + ")" : stack;
                totalBySchema.computeIfAbsent(c.schema, s -> new AtomicLong()).incrementAndGet();
                LeakReport r = c.report(false, now);
                LOG.warning(() -> "suspected connection leak: schema=" + c.schema + " checkout=" + c.id + " thread=" + r.thread()
                        + " backend_pid=" + c.pid + " held_ms=" + r.held().toMillis() + " threshold_ms="
                        + Duration.ofNanos(thresholdNanos).toMillis() + " holder is at "
                        + r.stack().lines().limit(8).collect(Collectors.joining(" <- ")));
            }
        }
    }

    int suspected(String schema) {
        int n = 0;
        for (Checkout c : open()) {
            if (c.suspected() && c.schema.equals(schema)) {
                n++;
            }
        }
        return n;
    }

    long suspectedTotal(String schema) {
        AtomicLong n = totalBySchema.get(schema);
        return n == null ? 0 : n.get();
    }

    /** @return how many connections are checked out now, and the age of the newest checkout in nanoseconds (-1: none) */
    long[] inFlight() {
        long now = System.nanoTime();
        long youngest = -1;
        int n = 0;
        for (Checkout c : open()) {
            n++;
            long age = now - c.takenNanos;
            if (youngest < 0 || age < youngest) {
                youngest = age;
            }
        }
        return new long[] {n, youngest};
    }

    /** @return which schema holds each backend now, by pid */
    java.util.Map<Integer, String> holders() {
        java.util.Map<Integer, String> out = new java.util.TreeMap<>();
        open().forEach(c -> out.put(c.pid, c.schema));
        return out;
    }

    /** @return the backend pids the schema's checkouts hold now */
    List<Integer> pids(String schema) {
        return open().stream().filter(c -> c.schema.equals(schema)).map(c -> c.pid).sorted().toList();
    }

    /** @return suspected leaks still held (oldest first), then recently returned ones */
    List<LeakReport> reports() {
        long now = System.nanoTime();
        List<LeakReport> out = new ArrayList<>();
        open().stream()
                .filter(Checkout::suspected)
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
