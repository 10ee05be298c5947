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
import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.search.EmbeddingBacklog;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.SizeRule;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.BackendActivity;
import cloud.dementia.db.store.ServerBackend;
import cloud.dementia.db.store.ServerView;

/** What the console pages and {@code /admin/api} show, read the same way for both. */
final class Reads {

    private static final Logger LOG = Logger.getLogger(Reads.class.getName());

    /**
     * Every pool and the budget, at one moment.
     *
     * @param budget     the connection budget
     * @param physical   the physical pool: the backends every schema shares
     * @param pools      the schema pools, most urgent first
     * @param defaultMax max of a schema pool without a size of its own ({@code DB_POOL_MAX_PER_SCHEMA})
     * @param embeddingBacklog context versions waiting for their vector, by project schema (projects with a backlog
     *                   counted by this process's background embedder)
     */
    record Overview(Instant at, BudgetView budget, PhysicalView physical, List<PoolView> pools, int defaultMax,
                    Map<String, Long> embeddingBacklog) {
    }

    /**
     * One schema pool in full.
     *
     * @param pool             its numbers and their meaning
     * @param budget           the budget
     * @param resize           the limits a resize must respect
     * @param leaks            its suspected leaks, still held first
     * @param server           what PostgreSQL sees of the backends the schema's work holds now
     * @param recent           the last audited actions on it
     * @param leakThresholdMs  the leak threshold ({@code DB_LEAK_THRESHOLD_MS})
     * @param acquireTimeoutMs how long new work waits for a connection ({@code DB_POOL_ACQUIRE_TIMEOUT_MS})
     * @param suspendable      whether it may be suspended (not the control schema)
     * @param embeddingBacklog the project's context versions waiting for their vector (0 for the control schema)
     */
    record PoolDetail(PoolView pool, BudgetView budget, ResizeRule resize, List<LeakView> leaks, ServerSide server,
                      List<AuditView> recent, long leakThresholdMs, long acquireTimeoutMs, boolean suspendable, long embeddingBacklog,
                      Placement placement) {
    }

    /**
     * Where a project's schema lives on a Citus cluster, and where it may move.
     *
     * @param node    the worker that holds it ({@code host:port})
     * @param bytes   its size (its shards' bytes)
     * @param workers every worker it could move to
     */
    record Placement(String node, long bytes, List<String> workers, List<String> moving) {
    }

    private static final Format FORMAT = new Format();

    /** @return where the schema lives, when the database is a Citus cluster and the schema is distributed */
    Placement placement(String schema) {
        try {
            return cluster.get().flatMap(c -> c.placement(schema).map(p -> new Placement(p.node().name(), p.bytes(),
                    c.workers().stream().map(cloud.dementia.db.store.CitusCluster.Node::name).toList(),
                    // a move in progress: each of the schema's tables, copied so far
                    c.moves().stream().filter(m -> m.table().startsWith(schema + "."))
                            .map(m -> m.table().substring(schema.length() + 1) + " to " + m.to().name() + ": " + FORMAT.bytes(m.targetBytes())
                                    + " of " + FORMAT.bytes(m.sourceBytes()) + " copied")
                            .toList()))).orElse(null);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "the cluster's placement of " + schema + " could not be read", e);
            return null;
        }
    }

    /**
     * The physical pool in full.
     *
     * @param physical its numbers and their meaning
     * @param budget   the budget
     * @param server   what PostgreSQL sees of every backend it holds, and which schema holds each one now
     * @param recent   the last audited actions on it
     */
    record PhysicalDetail(PhysicalView physical, BudgetView budget, ServerSide server, List<AuditView> recent) {
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
     * A suspected leak: a checkout held longer than the leak threshold, and where its holder is stuck.
     *
     * @param stack  the holding thread's stack when the checkout crossed the threshold, one frame per line
     * @param origin the first frame of that stack outside the pool layer and the JDK: the code that holds the connection
     */
    record LeakView(long id, String schema, String thread, Instant takenAt, long heldMs, boolean returned, String stack, String origin) {
    }

    /**
     * What PostgreSQL lists for a pool's backends ({@code pg_stat_activity}, found by pid), next to what the pool says.
     *
     * @param at                   server time of the snapshot
     * @param checkedOut           connections the pool says are checked out (the schema holds, or all schemas hold)
     * @param held                 backends the pool holds: a schema's checkouts, or every backend of the physical pool
     * @param byState              backends per state
     * @param listed               backends the server lists
     * @param busy                 of those, not idle
     * @param notListed            pids the pool holds that the server does not list
     * @param oldestTransactionMs  age of the oldest open transaction, or {@code null}
     * @param oldestTransactionPid its backend, or {@code null}
     * @param backends             each listed backend
     * @param heldBy               which schema's work holds each backend now, by pid (backends not in it are idle)
     * @param disagreements        where pool and server differ, one sentence each
     * @param error                why the view could not be read, or {@code null}
     */
    record ServerSide(Instant at, int checkedOut, int held, Map<String, Integer> byState, int listed, int busy, List<Integer> notListed,
                      Long oldestTransactionMs, Integer oldestTransactionPid, List<ServerBackend> backends, Map<Integer, String> heldBy,
                      List<String> disagreements, String error) {

        static ServerSide unavailable(String why) {
            return new ServerSide(null, 0, 0, Map.of(), 0, 0, List.of(), null, null, List.of(), Map.of(), List.of(), why);
        }

        static ServerSide of(BackendActivity a) {
            return new ServerSide(a.at(), a.checkedOut(), a.poolPids().size(), a.byState(), a.backends().size(), a.busy(), a.notListed(),
                    a.oldestTransactionAge().map(Duration::toMillis).orElse(null), a.oldestTransaction().map(ServerBackend::pid).orElse(null),
                    a.backends(), a.heldBy(), a.disagreements(), null);
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

    private static final List<String> FIELD_ORDER = List.of("state", "max", "ownSize", "active", "idle", "total", "waiting",
            "intervalSeconds", "idleMaxSeconds", "pools", "allocated", "closed", "retired");

    private final PoolRegistry registry;
    private final IdleCleanup cleanup;
    private final AdminAudit audit;
    private final ServerView serverView;
    private final PoolHistory history;
    private final EmbeddingBacklog backlog;
    private final cloud.dementia.db.schema.Projects projects;
    private final java.util.function.Supplier<Optional<cloud.dementia.db.store.CitusCluster>> cluster;
    /** The projects' names by schema, read at most every {@link #NAMES_FOR}; the last good read is kept in an outage. */
    private volatile Map<String, String> names = Map.of();
    private volatile long namesRead = Long.MIN_VALUE;
    private static final java.time.Duration NAMES_FOR = java.time.Duration.ofSeconds(5);

    Reads(PoolRegistry registry, IdleCleanup cleanup, AdminAudit audit, PoolHistory history, EmbeddingBacklog backlog,
          cloud.dementia.db.schema.Projects projects, java.util.function.Supplier<Optional<cloud.dementia.db.store.CitusCluster>> cluster) {
        this.registry = registry;
        this.cluster = cluster;
        this.projects = projects;
        this.backlog = backlog;
        this.cleanup = cleanup;
        this.audit = audit;
        this.serverView = new ServerView(registry);
        this.history = history;
    }

    Overview overview() {
        BudgetStats budget = registry.budget();
        PhysicalStats physical = registry.physical();
        List<PoolView> pools = registry.pools().stream()
                .map(s -> view(s, budget))
                .sorted(PoolView.URGENT_FIRST)
                .toList();
        return new Overview(Instant.now(), BudgetView.of(budget, physical, pools), physicalView(physical), pools,
                registry.settings().maxPerSchema(), new java.util.TreeMap<>(backlog.bySchema()));
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
        return Optional.of(new PoolDetail(view(stats.get()), overview().budget(), resizeRule(), leaks, server, recentActions(schema),
                registry.settings().leakThreshold().toMillis(), registry.settings().acquireTimeout().toMillis(),
                Operations.maySuspend(schema), backlog.bySchema().getOrDefault(schema, 0L), placement(schema)));
    }

    PhysicalDetail physical() {
        ServerSide server;
        try {
            server = ServerSide.of(serverView.physical());
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "server view of the physical pool failed", e);
            server = ServerSide.unavailable("pg_stat_activity could not be read: " + e.getMessage());
        }
        Overview o = overview();
        return new PhysicalDetail(o.physical(), o.budget(), server, recentActions(o.physical().name()));
    }

    /** @return the physical pool's name: a path segment of its own, never a schema ({@code dementia_control}, {@code proj_*}) */
    String physicalName() {
        return registry.physical().name();
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

    /** @return the pool as the console shows it, against the budget now */
    PoolView view(PoolStats s) {
        return view(s, registry.budget());
    }

    private PoolView view(PoolStats s, BudgetStats budget) {
        return PoolView.of(s, budget, history.recentTimeouts(s.schema(), s.acquireTimeouts()), projectOf(s.schema()));
    }

    /** @return the name of the project whose schema this is, if one is registered (a new one is looked for at most once a second) */
    String projectOf(String schema) {
        String name = projectNames().get(schema);
        if (name == null && cloud.dementia.db.schema.ProjectName.isProjectSchema(schema) && System.nanoTime() - namesRead > 1_000_000_000L) {
            namesRead = Long.MIN_VALUE;
            name = projectNames().get(schema);
        }
        return name;
    }

    /** @return the registered projects' names by schema (schema names are opaque, the console shows the name beside) */
    Map<String, String> projectNames() {
        long now = System.nanoTime();
        if (now - namesRead > NAMES_FOR.toNanos() || namesRead == Long.MIN_VALUE) {
            try {
                Map<String, String> read = new java.util.HashMap<>();
                projects.list().forEach(p -> read.put(p.schema(), p.name()));
                names = Map.copyOf(read);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "project names could not be read; the last ones are shown", e);
            }
            namesRead = now;
        }
        return names;
    }

    /** @return the physical pool as the console shows it */
    PhysicalView physicalView(PhysicalStats p) {
        return PhysicalView.of(p, history.recentPhysicalTimeouts(p.timeouts()));
    }

    ResizeRule resizeRule() {
        // the registry's own rule, the one its resize enforces: asked, not restated
        SizeRule rule = registry.sizeRule();
        return new ResizeRule(registry.budget().budget(), rule.maxAllowed(), rule.defaultMax(), rule.describe());
    }

    private ServerSide serverSide(String schema) {
        try {
            Optional<BackendActivity> activity = serverView.of(schema);
            if (activity.isEmpty()) {
                return ServerSide.unavailable("the pool was retired while it was read");
            }
            return ServerSide.of(activity.get());
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "server view of schema=" + schema + " failed", e);
            return ServerSide.unavailable("pg_stat_activity could not be read: " + e.getMessage());
        }
    }

    private List<AuditView> recentActions(String target) {
        try {
            return audit.recentFor(target, 5).stream().map(Reads::auditView).toList();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "recent actions on " + target + " could not be read", e);
            return List.of();
        }
    }

    /** Frames of the pool layer, the JDK, the driver and DB Client: the holder's own code is the first frame after them. */
    private static final List<String> PLUMBING = List.of("cloud.dementia.db.pool.", "java.", "jdk.", "sun.", "com.zaxxer.", "org.postgresql.",
            "io.helidon.dbclient.");

    private static LeakView leak(LeakReport r) {
        String origin = r.stack().lines()
                .filter(frame -> PLUMBING.stream().noneMatch(frame::startsWith) && !frame.contains("/java.") && !frame.contains("/jdk."))
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
