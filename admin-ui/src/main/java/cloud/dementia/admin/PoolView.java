package cloud.dementia.admin;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PoolStats;

/**
 * One pool as the console and {@code /admin/api} show it: the registry's numbers, and in {@code level} and
 * {@code why} what they mean.
 *
 * @param schema          schema (and pool) name
 * @param state           {@code OPEN}, {@code SUSPENDED}, {@code DRAINING} or {@code RETIRED}
 * @param active          connections checked out now
 * @param idle            connections open and idle
 * @param total           backends open (active + idle)
 * @param max             most connections the pool may open
 * @param minIdle         idle connections the pool keeps open
 * @param waiting         callers waiting for a connection now
 * @param acquireTimeouts callers that gave up after the acquire timeout, since the pool was opened
 * @param recentTimeouts  of those, how many in the last 15 minutes
 * @param suspectedLeaks  checkouts held longer than the leak threshold now
 * @param createdAt       when the pool was opened
 * @param lastUsedAt      when work last started or ended on it
 * @param saturated       every connection in use, or callers waiting
 * @param level           {@code ok}, {@code warn} or {@code crit}
 * @param why             what the numbers mean, most important first
 */
record PoolView(String schema, String state, int active, int idle, int total, int max, int minIdle, int waiting,
                long acquireTimeouts, long recentTimeouts, int suspectedLeaks, Instant createdAt, Instant lastUsedAt,
                boolean saturated, String level, List<String> why) {

    /** Most urgent first, then by name: the order the pools table starts in. */
    static final Comparator<PoolView> URGENT_FIRST = Comparator.comparing((PoolView p) -> Level.valueOf(p.level().toUpperCase(java.util.Locale.ROOT)))
            .reversed().thenComparing(PoolView::waiting, Comparator.reverseOrder()).thenComparing(PoolView::schema);

    static PoolView of(PoolStats s, BudgetStats budget, long recentTimeouts) {
        Level level = Level.OK;
        List<String> why = new ArrayList<>();
        if (s.waiting() > 0) {
            level = Level.CRIT;
            if (s.total() >= s.max()) {
                why.add("saturated: all " + s.max() + " connections in use and " + callers(s.waiting()) + " waiting; "
                        + "raise max or find what holds them");
            } else if (budget.free() == 0) {
                why.add(callers(s.waiting()) + " waiting for the budget: the pool holds " + s.total() + " of max " + s.max()
                        + " but all " + budget.budget() + " backends of the budget are open");
            } else {
                why.add(callers(s.waiting()) + " waiting while a connection opens (" + s.total() + " of max " + s.max() + " open)");
            }
        } else if (s.max() > 0 && s.active() >= s.max()) {
            level = Level.WARN;
            why.add("at max: all " + s.max() + " connections in use; the next caller waits");
        }
        if (s.state() == cloud.dementia.db.pool.PoolState.SUSPENDED) {
            level = max(level, Level.WARN);
            why.add("suspended by an operator: new work is refused at once until it is resumed");
        } else if (s.state() == cloud.dementia.db.pool.PoolState.DRAINING) {
            why.add("draining: connections from before the drain close as they come back");
        }
        if (s.suspectedLeaks() > 0) {
            level = max(level, Level.WARN);
            why.add(s.suspectedLeaks() + (s.suspectedLeaks() == 1 ? " checkout" : " checkouts")
                    + " held longer than the leak threshold: see the stacks on the pool's page");
        }
        if (recentTimeouts > 0) {
            level = max(level, Level.WARN);
            why.add(recentTimeouts + " acquire " + (recentTimeouts == 1 ? "timeout" : "timeouts") + " in the last 15 minutes");
        }
        if (why.isEmpty()) {
            why.add(s.active() == 0 ? "idle" : s.active() + " of " + s.max() + " in use");
        }
        return new PoolView(s.schema(), s.state().name(), s.active(), s.idle(), s.total(), s.max(), s.minIdle(), s.waiting(),
                s.acquireTimeouts(), recentTimeouts, s.suspectedLeaks(), s.createdAt(), s.lastUsedAt(), s.saturated(), level.css(),
                List.copyOf(why));
    }

    private static Level max(Level a, Level b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String callers(int n) {
        return n + (n == 1 ? " caller" : " callers");
    }
}
