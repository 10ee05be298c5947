package cloud.dementia.db.store;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;


/**
 * What PostgreSQL itself sees of a pool's backends, next to what the pool says, taken at the same moment.
 *
 * @param at         server time of the snapshot
 * @param pool       the pool: {@code physical}, or a schema
 * @param checkedOut connections the pool says are checked out now
 * @param poolPids   the backend process ids the pool holds (a schema: those its work holds now)
 * @param backends   those backends as {@code pg_stat_activity} lists them (a pid the server does not know is missing)
 * @param heldBy     which schema's work holds each of those backends, by pid, read in the same unit of work (backends not in
 *                   it are idle in the pool)
 */
public record BackendActivity(Instant at, String pool, int checkedOut, List<Integer> poolPids, List<ServerBackend> backends,
                              Map<Integer, String> heldBy) {

    /** @return how many of the pool's backends the server lists in each state, busiest states first */
    public Map<String, Integer> byState() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        backends.stream()
                .sorted(Comparator.comparing(ServerBackend::busy).reversed().thenComparing(ServerBackend::state))
                .forEach(b -> counts.merge(b.state(), 1, Integer::sum));
        return counts;
    }

    /** @return backends the server counts as doing work (not {@code idle}) */
    public int busy() {
        return (int) backends.stream().filter(ServerBackend::busy).count();
    }

    /** @return pids the pool holds that the server does not list (terminated, or a pooler's pids) */
    public List<Integer> notListed() {
        Set<Integer> listed = new HashSet<>();
        backends.forEach(b -> listed.add(b.pid()));
        return poolPids.stream().filter(pid -> !listed.contains(pid)).toList();
    }

    /** @return the backend whose transaction has been open longest, if any is in a transaction */
    public Optional<ServerBackend> oldestTransaction() {
        return backends.stream().filter(b -> b.transactionStart() != null).min(Comparator.comparing(ServerBackend::transactionStart));
    }

    /** @return how long the oldest open transaction has been running */
    public Optional<Duration> oldestTransactionAge() {
        return oldestTransaction().map(b -> Duration.between(b.transactionStart(), at)).map(d -> d.isNegative() ? Duration.ZERO : d);
    }

    /**
     * @return where the pool and the server disagree, one sentence each (empty when they agree); the two views are
     *         taken a moment apart, so a difference that shows once is normal, one that stays is worth a look
     */
    public List<String> disagreements() {
        List<String> out = new ArrayList<>();
        List<Integer> missing = notListed();
        if (!missing.isEmpty()) {
            out.add("the pool holds " + missing.size() + " backend" + (missing.size() == 1 ? "" : "s") + " PostgreSQL does not list (pid "
                    + missing.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("") + "): terminated or lost, "
                    + "the pool replaces a dead connection when it next uses it (behind PgBouncer the pids are the pooler's and never match)");
        }
        int busy = busy();
        if (busy > checkedOut) {
            out.add("PostgreSQL shows " + busy + " busy backend" + (busy == 1 ? "" : "s") + " but the pool has " + checkedOut
                    + " checked out: a transaction may be left open on a connection the pool thinks is idle");
        } else if (busy < checkedOut && missing.isEmpty()) {
            out.add("the pool has " + checkedOut + " checked out but PostgreSQL shows " + busy + " busy: checkouts holding a "
                    + "connection without a transaction on the server (starting, finishing, or stuck before their first statement)");
        }
        return out;
    }
}
