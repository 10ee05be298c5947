package cloud.dementia.admin;

import java.util.ArrayList;
import java.util.List;

import cloud.dementia.db.pool.PhysicalStats;

/**
 * The physical pool as the console and {@code /admin/api} show it: the PostgreSQL backends the process holds, shared
 * by every schema, and in {@code level} and {@code why} what its numbers mean. Whether the budget is full is the
 * budget's to say ({@link BudgetView}); this says whether the database gives the pool its connections.
 *
 * @param name           {@code physical}: its {@code pool} tag on the {@code hikaricp_*} meters
 * @param active         connections checked out now, every schema together
 * @param idle           connections open and idle
 * @param total          backends open in the pool (active + idle)
 * @param max            the most it may open: {@code DB_POOL_BUDGET}
 * @param minIdle        idle connections it keeps open ({@code DB_POOL_MIN_IDLE})
 * @param waiting        admitted callers waiting for a connection to be opened
 * @param timeouts       admitted callers that got no connection in time (the database did not give one), since start
 * @param recentTimeouts of those, how many in the last 15 minutes
 * @param allocated      backends open or still closing (budget permits taken)
 * @param closing        of those, backends closing (replaced, or closed by idle cleanup)
 * @param level          {@code ok}, {@code warn} or {@code crit}
 * @param badge          the status word: {@code failing} (crit), else the level
 * @param why            what the numbers mean, most important first
 */
record PhysicalView(String name, int active, int idle, int total, int max, int minIdle, int waiting, long timeouts, long recentTimeouts,
                    int allocated, int closing, String level, String badge, List<String> why) {

    static PhysicalView of(PhysicalStats p, long recentTimeouts) {
        Level level = Level.OK;
        List<String> why = new ArrayList<>();
        if (recentTimeouts > 0 && p.waiting() > 0) {
            level = Level.CRIT;
            why.add("the database gives no connection: " + callers(p.waiting()) + " waiting for one to open and " + recentTimeouts
                    + " timed out in the last 15 minutes; is PostgreSQL up, or at max_connections?");
        } else if (recentTimeouts > 0) {
            level = Level.WARN;
            why.add(recentTimeouts + (recentTimeouts == 1 ? " caller" : " callers") + " got no connection from the database in time "
                    + "in the last 15 minutes");
        } else if (p.waiting() > 0) {
            why.add(callers(p.waiting()) + " waiting for a connection to open");
        }
        int closing = Math.max(0, p.allocated() - p.total());
        if (closing > 0) {
            why.add(closing + (closing == 1 ? " backend" : " backends") + " closing");
        }
        if (p.total() == 0) {
            why.add("no backend open: the next work opens one");
        } else if (p.active() >= p.max()) {
            why.add("all " + p.max() + " backends in use");
        } else {
            why.add(p.total() + " of " + p.max() + " backends open: " + p.active() + " in use, " + p.idle() + " idle");
        }
        return new PhysicalView(p.name(), p.active(), p.idle(), p.total(), p.max(), p.minIdle(), p.waiting(), p.timeouts(), recentTimeouts,
                p.allocated(), closing, level.css(), level == Level.CRIT ? "failing" : level.css(), List.copyOf(why));
    }

    private static String callers(int n) {
        return n + (n == 1 ? " caller" : " callers");
    }
}
