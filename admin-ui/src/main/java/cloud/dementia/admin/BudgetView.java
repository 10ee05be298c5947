package cloud.dementia.admin;

import java.util.List;

import cloud.dementia.db.pool.BudgetStats;

/**
 * The global connection budget as the console shows it.
 *
 * @param budget    most backends the process may hold ({@code DB_POOL_BUDGET})
 * @param allocated backends open now, all pools together
 * @param free      backends that may still be opened
 * @param waiting   pools waiting for room in the budget now
 * @param level     {@code ok}, {@code warn} (almost full) or {@code crit} (full and pools wait)
 * @param why       what that means
 * @param holders   who holds the allocated backends, most first
 */
record BudgetView(int budget, int allocated, int free, int waiting, String level, String why, List<Holder> holders) {

    /**
     * One pool's share of the budget.
     *
     * @param schema the pool
     * @param total  backends it holds
     * @param level  its level
     */
    record Holder(String schema, int total, String level) {
    }

    static BudgetView of(BudgetStats b, List<PoolView> pools) {
        Level level;
        String why;
        if (b.free() == 0 && b.waiting() > 0) {
            level = Level.CRIT;
            why = "full: " + b.waiting() + (b.waiting() == 1 ? " caller waits" : " callers wait") + " for a connection to be given back";
        } else if (b.free() == 0) {
            level = Level.WARN;
            why = "full: every connection is in use; the next caller waits";
        } else if (b.inUse() * 4 >= b.budget() * 3) {
            level = Level.WARN;
            why = "almost full: " + b.free() + " of " + b.budget() + " connections free";
        } else {
            level = Level.OK;
            why = b.free() + " of " + b.budget() + " connections free";
        }
        List<Holder> holders = pools.stream().filter(p -> p.active() > 0)
                .sorted(java.util.Comparator.comparingInt(PoolView::active).reversed().thenComparing(PoolView::schema))
                .map(p -> new Holder(p.schema(), p.active(), p.level())).toList();
        return new BudgetView(b.budget(), b.allocated(), b.free(), b.waiting(), level.css(), why, holders);
    }

    /**
     * One pool's part of the budget bar, in units of a 1000-wide bar.
     *
     * @param schema the pool
     * @param total  backends it holds
     * @param level  its level
     * @param x      where its part starts
     * @param width  how wide it is
     */
    record Segment(String schema, int total, String level, double x, double width) {
    }

    /** @return the budget bar's parts: each holder's backends, in order */
    public List<Segment> segments() {
        List<Segment> out = new java.util.ArrayList<>();
        double x = 0;
        for (Holder h : holders) {
            double w = budget == 0 ? 0 : 1000.0 * h.total() / budget;
            out.add(new Segment(h.schema(), h.total(), h.level(), x, w));
            x += w;
        }
        return out;
    }

}
