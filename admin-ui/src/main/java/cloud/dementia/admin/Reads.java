package cloud.dementia.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.CleanupReport;
import cloud.dementia.db.pool.IdleCleanup;
import cloud.dementia.db.pool.LeakReport;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.BackendActivity;
import cloud.dementia.db.store.ServerBackend;
import cloud.dementia.db.store.ServerView;

/** What the console pages and {@code /admin/api} show, read the same way for both. */
final class Reads {

    private static final Logger LOG = Logger.getLogger(Reads.class.getName());

    /** Every pool and the budget, at one moment. */
    record Overview(Instant at, BudgetView budget, List<PoolView> pools) {
    }

    /**
     * One pool in full.
     *
     * @param pool     its numbers and their meaning
     * @param budget   the budget
     * @param resize   the limits a resize must respect
     * @param leaks    its suspected leaks, still held first
     * @param server   what PostgreSQL sees of its backends
     * @param recent   the last audited actions on it
     * @param leakThresholdMs the leak threshold
     * @param defaultMax      max of a newly opened pool ({@code DB_POOL_MAX_PER_SCHEMA})
     */
    record PoolDetail(PoolView pool, BudgetView budget, ResizeRule resize, List<LeakView> leaks, ServerSide server,
                      List<AuditView> recent, long leakThresholdMs, int defaultMax) {
    }

    /**
     * The budget check of a resize, as numbers and in words.
     *
     * @param budget     {@code DB_POOL_BUDGET}
     * @param maxAllowed the largest max this pool may get
     * @param defaultMax {@code DB_POOL_MAX_PER_SCHEMA}: resizing to it forgets the pool's own size
     * @param rule       the rule in one sentence
     */
    record ResizeRule(int budget, int maxAllowed, int defaultMax, String rule) {
    }

    /**
     * A suspected leak: a checkout held longer than the leak threshold, and the stack that took it.
     *
     * @param origin the first frame of that stack outside the pool layer and the JDK: the code that holds the connection
     */
    record LeakView(long id, String schema, String thread, Instant takenAt, long heldMs, boolean returned, String stack, String origin) {
    }

    /**
     * What PostgreSQL lists for the pool's backends ({@code pg_stat_activity}, found by pid).
     *
     * @param at                   server time of the snapshot
     * @param byState              backends per state
     * @param listed               backends the server lists
     * @param busy                 of those, not idle
     * @param notListed            pids the pool holds that the server does not list
     * @param oldestTransactionMs  age of the oldest open transaction, or {@code null}
     * @param oldestTransactionPid its backend, or {@code null}
     * @param backends             each listed backend
     * @param disagreements        where pool and server differ, one sentence each
     * @param error                why the view could not be read, or {@code null}
     */
    record ServerSide(Instant at, Map<String, Integer> byState, int listed, int busy, List<Integer> notListed, Long oldestTransactionMs,
                      Integer oldestTransactionPid, List<ServerBackend> backends, List<String> disagreements, String error) {

        static ServerSide unavailable(String why) {
            return new ServerSide(null, Map.of(), 0, 0, List.of(), null, null, List.of(), List.of(), why);
        }
    }

    /** Idle cleanup: its settings, its next run and its last runs. */
    record CleanupView(long intervalSeconds, long idleMaxSeconds, Instant nextRun, List<CleanupRun> runs) {
    }

    /** One idle-cleanup run. */
    record CleanupRun(Instant startedAt, String trigger, long idleMaxSeconds, int connectionsClosed, List<String> poolsRetired,
                      long durationMs) {

        static CleanupRun of(CleanupReport r) {
            return new CleanupRun(r.startedAt(), r.trigger(), r.idleMax().toSeconds(), r.connectionsClosed(), r.poolsRetired(),
                    r.duration().toMillis());
        }
    }

    /** One audited action, with the values that changed. */
    record AuditView(long id, Instant at, String actor, String action, String target, JsonNode before, JsonNode after,
                     List<Change> changes) {
    }

    /** One value of an audited action, before and after ({@code null} when not recorded); changed when both differ. */
    record Change(String field, String before, String after, boolean changed) {
    }

    private static final List<String> FIELD_ORDER = List.of("state", "max", "ownSize", "active", "waiting",
            "intervalSeconds", "idleMaxSeconds", "pools", "allocated", "closed", "retired");

    private final PoolRegistry registry;
    private final IdleCleanup cleanup;
    private final AdminAudit audit;
    private final ServerView serverView;
    private final PoolHistory history;

    Reads(PoolRegistry registry, IdleCleanup cleanup, AdminAudit audit, PoolHistory history) {
        this.registry = registry;
        this.cleanup = cleanup;
        this.audit = audit;
        this.serverView = new ServerView(registry);
        this.history = history;
    }

    Overview overview() {
        BudgetStats budget = registry.budget();
        List<PoolView> pools = registry.pools().stream()
                .map(s -> view(s, budget))
                .sorted(PoolView.URGENT_FIRST)
                .toList();
        return new Overview(Instant.now(), BudgetView.of(budget, pools), pools);
    }

    Optional<PoolDetail> pool(String schema) {
        Optional<PoolStats> stats = registry.currentStats(schema);
        if (stats.isEmpty()) {
            return Optional.empty();
        }
        ServerSide server = serverSide(schema);
        // after the server view, so that a pool retired meanwhile is reported as gone rather than with stale numbers
        stats = registry.currentStats(schema);
        if (stats.isEmpty()) {
            return Optional.empty();
        }
        List<LeakView> leaks = registry.leaks().stream().filter(l -> l.schema().equals(schema)).map(Reads::leak).toList();
        return Optional.of(new PoolDetail(view(stats.get()), overview().budget(), resizeRule(schema), leaks, server,
                recentActions(schema), registry.settings().leakThreshold().toMillis(), registry.settings().maxPerSchema()));
    }

    List<LeakView> leaks() {
        return registry.leaks().stream().map(Reads::leak).toList();
    }

    CleanupView cleanup() {
        return new CleanupView(cleanup.interval().toSeconds(), cleanup.idleMax().toSeconds(), cleanup.nextRun().orElse(null),
                cleanup.history().stream().map(CleanupRun::of).toList());
    }

    List<AuditView> audit(int limit, long beforeId) {
        return audit.recent(limit, beforeId).stream().map(Reads::auditView).toList();
    }

    PoolHistory history() {
        return history;
    }

    Optional<PoolStats> stats(String schema) {
        return registry.currentStats(schema);
    }

    /** @return the pool as the console shows it, against the budget now */
    PoolView view(PoolStats s) {
        return view(s, registry.budget());
    }

    private PoolView view(PoolStats s, BudgetStats budget) {
        return PoolView.of(s, budget, history.recentTimeouts(s.schema(), s.acquireTimeouts()));
    }

    ResizeRule resizeRule(String schema) {
        int budget = registry.budget().budget();
        int defaultMax = registry.settings().maxPerSchema();
        String rule = "max may be 1 to " + budget + " (the budget, DB_POOL_BUDGET: no schema may hold more connections than the whole "
                + "process opens). The size is remembered across idle cleanup and restarts; " + defaultMax
                + " (DB_POOL_MAX_PER_SCHEMA) makes the pool follow the default again.";
        return new ResizeRule(budget, budget, defaultMax, rule);
    }

    private ServerSide serverSide(String schema) {
        try {
            Optional<BackendActivity> activity = serverView.of(schema);
            if (activity.isEmpty()) {
                return ServerSide.unavailable("the pool was retired while it was read");
            }
            BackendActivity a = activity.get();
            return new ServerSide(a.at(), a.byState(), a.backends().size(), a.busy(), a.notListed(),
                    a.oldestTransactionAge().map(Duration::toMillis).orElse(null),
                    a.oldestTransaction().map(ServerBackend::pid).orElse(null), a.backends(), a.disagreements(), null);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "server view of schema=" + schema + " failed", e);
            return ServerSide.unavailable("pg_stat_activity could not be read: " + e.getMessage());
        }
    }

    private List<AuditView> recentActions(String schema) {
        try {
            return audit.recentFor(schema, 5).stream().map(Reads::auditView).toList();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "recent actions of schema=" + schema + " could not be read", e);
            return List.of();
        }
    }

    private static LeakView leak(LeakReport r) {
        String origin = r.stack().lines()
                .filter(frame -> !frame.startsWith("cloud.dementia.db.pool.") && !frame.startsWith("java.") && !frame.startsWith("jdk.")
                        && !frame.contains("/java.") && !frame.startsWith("com.zaxxer."))
                .findFirst().orElse(null);
        return new LeakView(r.id(), r.schema(), r.thread(), r.takenAt(), r.held().toMillis(), r.returned(), r.stack(), origin);
    }

    static AuditView auditView(AdminAudit.Entry e) {
        JsonNode before = e.before() == null ? null : Json.read(e.before());
        JsonNode after = e.after() == null ? null : Json.read(e.after());
        List<Change> changes = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        addFields(before, fields);
        addFields(after, fields);
        // jsonb keeps keys in its own order: show them in the order an operator reads a pool
        fields.sort(java.util.Comparator.comparingInt(f -> FIELD_ORDER.indexOf(f) < 0 ? FIELD_ORDER.size() : FIELD_ORDER.indexOf(f)));
        for (String f : fields) {
            String b = text(before, f);
            String a = text(after, f);
            changes.add(new Change(f, b, a, b != null && a != null && !b.equals(a)));
        }
        return new AuditView(e.id(), e.at(), e.actor(), e.action(), e.target(), before, after, changes);
    }

    private static void addFields(JsonNode node, List<String> fields) {
        if (node != null && node.isObject()) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!fields.contains(f)) {
                    fields.add(f);
                }
            }
        }
    }

    private static String text(JsonNode node, String field) {
        if (node == null || !node.has(field)) {
            return null;
        }
        JsonNode v = node.get(field);
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(item -> items.add(item.asText()));
            return items.isEmpty() ? "none" : String.join(", ", items);
        }
        return v.isValueNode() ? v.asText() : v.toString();
    }
}
