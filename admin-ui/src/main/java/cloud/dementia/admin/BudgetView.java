package cloud.dementia.admin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PhysicalStats;

/**
 * The global connection budget as the console shows it: the physical connections every schema shares, who holds them
 * now, and what that means.
 *
 * @param budget    most backends the process may hold ({@code DB_POOL_BUDGET})
 * @param inUse     connections checked out now, every schema together
 * @param allocated backends open now (or still closing)
 * @param idle      backends open and idle, ready for any schema
 * @param free      connections that could be handed out now without anyone waiting ({@code budget - inUse})
 * @param waiting   callers waiting for a connection now, every schema together
 * @param level     {@code ok}, {@code warn} (almost full, or full) or {@code crit} (full and callers wait)
 * @param why       what that means
 * @param holders   the schemas holding connections now, most first
 */
record BudgetView(int budget, int inUse, int allocated, int idle, int free, int waiting, String level, String why, List<Holder> holders) {

    /**
     * One schema's share of the budget.
     *
     * @param schema the schema
     * @param active connections it holds now
     * @param level  its pool's level
     */
    record Holder(String schema, int active, String level) {
    }

    static BudgetView of(BudgetStats b, PhysicalStats physical, List<PoolView> pools) {
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
                .sorted(Comparator.comparingInt(PoolView::active).reversed().thenComparing(PoolView::schema))
                .map(p -> new Holder(p.schema(), p.active(), p.level())).toList();
        // read a moment apart from the admission numbers: never more idle than could be
        int idle = Math.max(0, Math.min(physical.idle(), b.free()));
        return new BudgetView(b.budget(), b.inUse(), b.allocated(), idle, b.free(), b.waiting(), level.css(), why, holders);
    }

    /** @return backends that may still be opened: neither in use nor open and idle */
    public int unopened() {
        return Math.max(0, free - idle);
    }

    /**
     * One part of the budget bar, in units of a 1000-wide bar.
     *
     * @param schema the schema holding it, or {@code null} for the idle part
     * @param count  connections in it
     * @param level  its level ({@code ok}, {@code warn}, {@code crit}), or {@code idle}
     * @param x      where it starts
     * @param width  how wide it is
     */
    record Segment(String schema, int count, String level, double x, double width) {
    }

    /** @return the budget bar's parts: each holder's connections, in order, then the idle ones; the rest is unopened */
    public List<Segment> segments() {
        List<Segment> out = new ArrayList<>();
        double x = 0;
        for (Holder h : holders) {
            x = add(out, h.schema(), h.active(), h.level(), x);
        }
        add(out, null, idle, "idle", x);
        return out;
    }

    private double add(List<Segment> out, String schema, int count, String segmentLevel, double x) {
        double w = budget == 0 || count == 0 ? 0 : Math.min(1000.0 - x, 1000.0 * count / budget);
        if (w > 0) {
            out.add(new Segment(schema, count, segmentLevel, x, w));
        }
        return x + Math.max(0, w);
    }
}
