package cloud.dementia.admin;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.PoolTotals;

/**
 * One schema pool as the console and {@code /admin/api} show it: the registry's numbers, and in {@code level} and
 * {@code why} what they mean. A schema pool owns no connection: it is how many of the shared physical connections the
 * schema may hold at once, and who waits for one.
 *
 * @param schema          schema (and pool) name
 * @param state           {@code OPEN}, {@code SUSPENDED}, {@code DRAINING} or {@code RETIRED}
 * @param active          connections the schema holds now
 * @param waiting         callers waiting for a connection now
 * @param max             most connections the schema may hold at once
 * @param ownSize         whether {@code max} is an operator's (remembered) rather than {@code DB_POOL_MAX_PER_SCHEMA}
 * @param longestWaitMs   how long the first caller in line has been waiting
 * @param acquireTimeouts callers that gave up after the acquire timeout, since the pool was opened
 * @param recentTimeouts  of those, how many in the last 15 minutes
 * @param suspectedLeaks  checkouts held longer than the leak threshold now
 * @param createdAt       when the pool was opened
 * @param lastUsedAt      when work last started or ended on it
 * @param totals          units of work, statements, errors and wait time since the pool was created (PgBouncer's
 *                        {@code SHOW STATS}); {@code longestWaitMs} is its {@code maxwait}
 * @param atMax           every connection it may hold in use: the next caller waits
 * @param saturated       every connection it may hold in use, or callers waiting
 * @param level           {@code ok}, {@code warn} or {@code crit}
 * @param badge           the status word: {@code saturated} (crit at its own max), {@code waiting} (crit below it),
 *                        else the level
 * @param why             what the numbers mean, most important first
 * @param project         the name of the project whose schema this is ({@code null} for the control schema, or a
 *                        schema no registered project owns): project schemas have opaque names
 */
record PoolView(String schema, String state, int active, int waiting, int max, boolean ownSize, long longestWaitMs,
                long acquireTimeouts, long recentTimeouts, int suspectedLeaks, Instant createdAt, Instant lastUsedAt, PoolTotals totals,
                boolean atMax, boolean saturated, String level, String badge, List<String> why, String project) {

    /** Most urgent first, then by name: the order the pools table starts in. */
    static final Comparator<PoolView> URGENT_FIRST = Comparator.comparing((PoolView p) -> Level.valueOf(p.level().toUpperCase(java.util.Locale.ROOT)))
            .reversed().thenComparing(PoolView::waiting, Comparator.reverseOrder()).thenComparing(PoolView::schema);

    static PoolView of(PoolStats s, BudgetStats budget, long recentTimeouts) {
        return of(s, budget, recentTimeouts, null);
    }

    static PoolView of(PoolStats s, BudgetStats budget, long recentTimeouts, String project) {
        Level level = Level.OK;
        String badge = null;
        List<String> why = new ArrayList<>();
        if (s.waiting() > 0) {
            level = Level.CRIT;
            badge = s.atMax() ? "saturated" : "waiting";
            if (s.atMax()) {
                why.add("saturated: all " + s.max() + " connections it may hold are in use and " + callers(s.waiting()) + " waiting; "
                        + "raise max or find what holds them");
            } else if (budget.free() == 0) {
                why.add(callers(s.waiting()) + " waiting for the budget: the schema holds " + s.active() + " of its max " + s.max()
                        + " but all " + budget.budget() + " connections of the budget are in use");
            } else {
                why.add(callers(s.waiting()) + " waiting (" + s.active() + " of max " + s.max() + " in use)");
            }
        } else if (s.atMax()) {
            level = Level.WARN;
            why.add("at max: all " + s.max() + " connections it may hold are in use; the next caller waits");
        }
        if (s.state() == cloud.dementia.db.pool.PoolState.SUSPENDED) {
            level = max(level, Level.WARN);
            why.add("suspended by an operator: new work is refused at once until it is resumed");
        } else if (s.state() == cloud.dementia.db.pool.PoolState.DRAINING) {
            why.add("draining: new work waits until the work in flight has finished");
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
        return new PoolView(s.schema(), s.state().name(), s.active(), s.waiting(), s.max(), s.ownSize(), s.longestWaitMs(),
                s.acquireTimeouts(), recentTimeouts, s.suspectedLeaks(), s.createdAt(), s.lastUsedAt(), s.totals(), s.atMax(), s.saturated(), level.css(),
                badge == null ? level.css() : badge, List.copyOf(why), project);
    }

    private static Level max(Level a, Level b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static String callers(int n) {
        return n + (n == 1 ? " caller" : " callers");
    }
}
