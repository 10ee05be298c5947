package cloud.dementia.admin;

import java.io.InputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import cloud.dementia.db.pool.CleanupReport;
import cloud.dementia.db.pool.IdleCleanup;
import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.UnknownPoolException;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.AdminAudit;
import cloud.dementia.db.store.ApiKeyStore;
import cloud.dementia.db.store.ProjectTransfer;

/**
 * The operator's actions, the same for a console form and an {@code /admin/api} call: each one calls the pool
 * registry (or idle cleanup), writes who, what, before and after to the audit log, and says in one line what it did.
 * Schema pools own no connection, so none of their actions opens or closes one; only {@code reconnect}, on the
 * physical pool, replaces connections.
 */
final class Operations {

    private static final Logger LOG = Logger.getLogger(Operations.class.getName());

    /**
     * What an action on a pool did.
     *
     * @param done   one line for the operator
     * @param before the pool before
     * @param after  the pool after
     */
    record PoolChange(String done, PoolStats before, PoolStats after) {
    }

    /**
     * What an action on the physical pool did.
     *
     * @param done   one line for the operator
     * @param before the physical pool before
     * @param after  the physical pool after
     */
    record PhysicalChange(String done, PhysicalStats before, PhysicalStats after) {
    }

    /**
     * What an idle-cleanup action did.
     *
     * @param done   one line for the operator
     * @param report the run's report (for a run)
     */
    record CleanupChange(String done, CleanupReport report) {
    }

    /** A key created or revoked; {@code secret} is the key in clear text, only when it was just created. */
    record KeyChange(String done, ApiKeyStore.ApiKey key, String secret) {
    }

    private final PoolRegistry registry;
    private final IdleCleanup cleanup;
    private final AdminAudit audit;
    private final ApiKeyStore keys;
    private final Projects projects;
    private final ProjectTransfer transfer;

    Operations(cloud.dementia.db.store.Memory memory, IdleCleanup cleanup, AdminAudit audit) {
        PoolRegistry registry = memory.registry();
        this.registry = registry;
        this.cleanup = cleanup;
        this.audit = audit;
        this.keys = new ApiKeyStore(registry);
        this.projects = memory.projects();
        this.transfer = memory.transfer();
    }

    /** @return the Citus cluster behind the coordinator, when the database is one (asked once) */
    Optional<cloud.dementia.db.store.CitusCluster> cluster() {
        Optional<cloud.dementia.db.store.CitusCluster> c = cluster;
        if (c == null) {
            c = projects.citus() ? cloud.dementia.db.store.CitusCluster.of(registry) : Optional.empty();
            cluster = c;
        }
        return c;
    }

    private volatile Optional<cloud.dementia.db.store.CitusCluster> cluster;

    /**
     * What the cluster is: Citus or not, its workers, where each project lives and how big it is, the moves going on.
     */
    Map<String, Object> clusterView() {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        Optional<cloud.dementia.db.store.CitusCluster> c = cluster();
        out.put("citus", c.isPresent());
        if (c.isEmpty()) {
            out.put("message", "one PostgreSQL: every project's schema is in the one database");
            return out;
        }
        out.put("version", c.get().version());
        List<cloud.dementia.db.store.CitusCluster.Node> workers = c.get().workers();
        out.put("workers", workers.stream().map(cloud.dementia.db.store.CitusCluster.Node::name).toList());
        Map<String, cloud.dementia.db.store.CitusCluster.Placement> placements = c.get().placements();
        List<Map<String, Object>> list = new java.util.ArrayList<>();
        for (Projects.Project p : projects.list()) {
            Map<String, Object> one = new java.util.LinkedHashMap<>();
            one.put("project", p.name());
            one.put("schema", p.schema());
            cloud.dementia.db.store.CitusCluster.Placement at = placements.get(p.schema());
            one.put("node", at == null ? null : at.node().name());
            one.put("bytes", at == null ? null : at.bytes());
            list.add(one);
        }
        out.put("projects", list);
        out.put("moves", c.get().moves());
        return out;
    }

    /** Moves a project's schema to another worker (Citus), audited; returns when it is done. */
    Map<String, Object> moveProject(Actor who, String name, String node) {
        cloud.dementia.db.store.CitusCluster c = cluster().orElseThrow(() -> new IllegalArgumentException(
                "the database is one PostgreSQL, not a Citus cluster: there is nowhere to move a project to"));
        Projects.Project project = projects.find(name).orElseThrow(() -> new IllegalArgumentException("no project `" + name + "`"));
        cloud.dementia.db.store.CitusCluster.Node to = cloud.dementia.db.store.CitusCluster.Node.parse(node);
        cloud.dementia.db.store.CitusCluster.Placement before = c.placement(project.schema())
                .orElseThrow(() -> new IllegalArgumentException("project `" + name + "` is not a distributed schema"));
        long start = System.nanoTime();
        cloud.dementia.db.store.CitusCluster.Placement after = c.move(project.schema(), to);
        long ms = (System.nanoTime() - start) / 1_000_000;
        record(who, "move_project", project.schema(), Map.of("project", name, "node", before.node().name(), "bytes", before.bytes()),
                Map.of("project", name, "node", after.node().name(), "bytes", after.bytes(), "took_ms", ms));
        LOG.info(() -> "console: " + who + " moved project=" + name + " schema=" + project.schema() + " from " + before.node().name() + " to "
                + after.node().name() + " in " + ms + " ms");
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("done", "moved project `" + name + "` from " + before.node().name() + " to " + after.node().name() + " in " + ms + " ms");
        out.put("project", name);
        out.put("schema", project.schema());
        out.put("from", before.node().name());
        out.put("node", after.node().name());
        out.put("bytes", after.bytes());
        return out;
    }

    /** @return the project of that name, if it exists */
    Optional<Projects.Project> project(String name) {
        return projects.find(name);
    }

    /** Writes a project's JSON Lines (see {@link ProjectTransfer}). */
    void export(Projects.Project project, java.util.function.Consumer<String> lines) {
        transfer.export(project.schema(), project.name(), lines);
    }

    /**
     * Imports JSON Lines (UTF-8) into a project, read as they arrive, audited; the project is created if needed, and
     * only if the import commits. A bad line is refused with its number and field.
     */
    Map<String, Object> importProject(Actor who, String name, InputStream jsonl) {
        ProjectTransfer.Imported imported = transfer.importInto(name, jsonl);
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("added", imported.added());
        after.put("skipped", imported.skipped());
        record(who, "import project", "project:" + name, null, after);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("done", "imported into `" + name + "`: " + imported.added() + " added, " + imported.skipped() + " already there");
        body.putAll(after);
        return body;
    }

    /** @return every scoped API key, revoked ones too, newest first */
    List<ApiKeyStore.ApiKey> keys() {
        return keys.list();
    }

    /**
     * Creates a scoped API key from the fields {@code name}, {@code projects} (names or prefixes ending in {@code *},
     * comma-separated or a JSON list; empty or absent for every project), {@code readOnly} ({@code true}/{@code on})
     * and {@code expiresInDays} or {@code expiresAt} (ISO date or instant; absent: never).
     */
    KeyChange createKey(Actor who, Fields f) {
        String name = f.text("name").map(String::strip).orElseThrow(() -> new IllegalArgumentException("name is required"));
        List<String> projects = projectList(f.text("projects").orElse(""));
        boolean readOnly = switch (f.text("readOnly").map(v -> v.strip().toLowerCase(java.util.Locale.ROOT)).orElse("false")) {
            case "true", "on", "1", "yes" -> true;
            case "false", "off", "0", "no", "" -> false;
            default -> throw new IllegalArgumentException("readOnly must be true or false, got `" + f.text("readOnly").orElse("") + "`");
        };
        java.time.Instant expiresAt = expiry(f);
        ApiKeyStore.Created created = keys.create(name, projects, readOnly, expiresAt, who.toString());
        record(who, "create key", "key:" + name, null, keyValues(created.key()));
        String done = "created key `" + name + "` (" + (readOnly ? "read-only" : "read-write") + ", "
                + (created.key().projects().isEmpty() ? "every project" : String.join(", ", created.key().projects()))
                + (expiresAt == null ? "" : ", expires " + expiresAt) + "): copy it now, it is not shown again";
        LOG.info(() -> "console: " + who + " create key name=" + name);
        return new KeyChange(done, created.key(), created.secret());
    }

    /** Revokes a key for good: refused from the next request on, on every replica. */
    KeyChange revokeKey(Actor who, String name) {
        if (ApiKeyStore.reserved(name)) {
            throw new IllegalArgumentException("`" + name + "` is a key of DEMENTIA_API_KEY(S) or the first start, not revoked here: change "
                    + "DEMENTIA_API_KEY(S) and restart, or replace the generated key with reset-credentials");
        }
        ApiKeyStore.ApiKey before = keys.revoke(name, who.toString()).orElseThrow(() -> new IllegalArgumentException(
                keys.find(name).isPresent() ? "key `" + name + "` is revoked already" : "no key named `" + name + "`"));
        ApiKeyStore.ApiKey after = keys.find(name).orElse(before);
        record(who, "revoke key", "key:" + name, keyValues(before), keyValues(after));
        LOG.info(() -> "console: " + who + " revoke key name=" + name);
        return new KeyChange("revoked key `" + name + "`: it is refused from the next request on", after, null);
    }

    private static List<String> projectList(String text) {
        String t = text.strip();
        if (t.isEmpty()) {
            return List.of();
        }
        if (t.startsWith("[")) {
            com.fasterxml.jackson.databind.JsonNode node = Json.read(t);
            List<String> out = new java.util.ArrayList<>();
            node.forEach(n -> {
                if (!n.isTextual()) {
                    throw new IllegalArgumentException("projects must be a list of project names or prefixes (strings)");
                }
                out.add(n.asText());
            });
            return out;
        }
        return java.util.Arrays.stream(t.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList();
    }

    private static java.time.Instant expiry(Fields f) {
        Optional<Integer> days = f.optionalWholeNumber("expiresInDays");
        if (days.isPresent()) {
            if (days.get() < 1 || days.get() > 3650) {
                throw new IllegalArgumentException("expiresInDays must be between 1 and 3650, got " + days.get());
            }
            return java.time.Instant.now().plus(Duration.ofDays(days.get()));
        }
        Optional<String> at = f.text("expiresAt").map(String::strip).filter(v -> !v.isEmpty());
        if (at.isEmpty()) {
            return null;
        }
        java.time.Instant instant;
        try {
            instant = at.get().length() == 10 ? java.time.LocalDate.parse(at.get()).atStartOfDay(java.time.ZoneOffset.UTC).toInstant()
                    : java.time.Instant.parse(at.get());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("expiresAt must be a date (2027-01-31) or an instant (2027-01-31T12:00:00Z), got `" + at.get() + "`");
        }
        // the driver turns an instant into milliseconds, which years past 292 million overflow; no key needs 10,000
        if (!instant.isBefore(LATEST_EXPIRY)) {
            throw new IllegalArgumentException("expiresAt must be before 10000-01-01, got `" + at.get() + "`: leave it out for a key that never expires");
        }
        return instant;
    }

    private static final java.time.Instant LATEST_EXPIRY = java.time.Instant.parse("+10000-01-01T00:00:00Z");

    /** The values of a key an operator compares before and after (never the key or its hash). */
    static Map<String, Object> keyValues(ApiKeyStore.ApiKey k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", k.name());
        m.put("hint", k.hint());
        m.put("allProjects", k.projects().isEmpty());
        m.put("projects", k.projects());
        m.put("readOnly", k.readOnly());
        m.put("createdAt", String.valueOf(k.createdAt()));
        m.put("createdBy", k.createdBy());
        m.put("expiresAt", k.expiresAt() == null ? null : k.expiresAt().toString());
        m.put("lastUsedAt", k.lastUsedAt() == null ? null : k.lastUsedAt().toString());
        m.put("revokedAt", k.revokedAt() == null ? null : k.revokedAt().toString());
        m.put("revokedBy", k.revokedBy());
        m.put("active", k.active(java.time.Instant.now()));
        return m;
    }

    /**
     * Applies a pool action by its name, as both the console's forms and {@code /admin/api} name them.
     *
     * @return what it did, or empty when there is no action of that name
     */
    java.util.Optional<PoolChange> apply(Actor who, String schema, String action, Fields fields) {
        return java.util.Optional.ofNullable(switch (action) {
            case "resize" -> {
                if (fields.optionalWholeNumber("minIdle").isPresent()) {
                    throw new IllegalArgumentException("minIdle is not a schema pool's setting: schema pools open no connections; the "
                            + "physical pool keeps DB_POOL_MIN_IDLE idle");
                }
                yield resize(who, schema, fields.wholeNumber("max"));
            }
            case "drain" -> drain(who, schema);
            case "suspend" -> suspend(who, schema);
            case "resume" -> resume(who, schema);
            case "retire" -> retire(who, schema);
            case "move" -> {
                String project = projects.list().stream().filter(p -> p.schema().equals(schema)).map(Projects.Project::name).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("schema `" + schema + "` is no project's: only a project can move"));
                PoolStats before = registry.currentStats(schema).orElseThrow(() -> new cloud.dementia.db.pool.UnknownPoolException(schema));
                Map<String, Object> moved = moveProject(who, project, fields.text("node").orElseThrow(
                        () -> new IllegalArgumentException("give the worker to move to (node, host:port)")));
                yield new PoolChange(String.valueOf(moved.get("done")), before, registry.currentStats(schema).orElse(before));
            }
            default -> null;
        });
    }

    /**
     * Applies an action on the physical pool by its name, as both the console's forms and {@code /admin/api} name it.
     *
     * @return what it did, or empty when there is no action of that name
     */
    java.util.Optional<PhysicalChange> applyToPhysical(Actor who, String action) {
        return java.util.Optional.ofNullable(switch (action) {
            case "reconnect" -> reconnect(who);
            default -> null;
        });
    }

    /** @return whether the schema's pool may be suspended: every one but the control schema's, which the server itself needs */
    static boolean maySuspend(String schema) {
        return !schema.equals(ControlSchema.NAME);
    }

    PoolChange resize(Actor who, String schema, int max) {
        PoolStats before = existing(schema);
        PoolStats after = registry.resize(schema, max);
        return audited(who, "resize", before, after, "resized `" + schema + "`: max " + before.max() + " → " + after.max()
                + (after.ownSize() ? " (remembered)" : " (the default again)"));
    }

    PoolChange drain(Actor who, String schema) {
        PoolStats before = existing(schema);
        PoolStats after = registry.drain(schema);
        String done;
        if (after.state() == PoolState.DRAINING) {
            done = "draining `" + schema + "`: new work waits until " + plural(after.active(), "unit") + " of work in flight "
                    + (after.active() == 1 ? "has" : "have") + " finished; no connection is closed";
        } else if (before.state() == PoolState.SUSPENDED) {
            done = "`" + schema + "` is suspended: nothing to drain (resume it first)";
        } else {
            done = "`" + schema + "` had no work in flight: nothing to drain";
        }
        return audited(who, "drain", before, after, done);
    }

    PoolChange suspend(Actor who, String schema) {
        if (!maySuspend(schema)) {
            throw new IllegalArgumentException("the control schema `" + ControlSchema.NAME + "` cannot be suspended: the server itself "
                    + "needs it (projects, sessions, this audit log); drain or resize it instead");
        }
        PoolStats before = existing(schema);
        PoolStats after = registry.suspend(schema);
        return audited(who, "suspend", before, after, before.state() == PoolState.SUSPENDED
                ? "`" + schema + "` was already suspended"
                : "suspended `" + schema + "`: new work is refused at once; " + plural(before.active(), "unit") + " of work in flight "
                        + (before.active() == 1 ? "finishes" : "finish") + "; no connection is closed");
    }

    PoolChange resume(Actor who, String schema) {
        PoolStats before = existing(schema);
        PoolStats after = registry.resume(schema);
        return audited(who, "resume", before, after, before.state() == PoolState.SUSPENDED
                ? "resumed `" + schema + "`: it takes new work again"
                : "`" + schema + "` was not suspended (" + before.state() + "): nothing to resume");
    }

    PoolChange retire(Actor who, String schema) {
        PoolStats before = existing(schema);
        PoolStats after = registry.retire(schema);
        return audited(who, "retire", before, after, "retired `" + schema + "`: it left the registry; " + plural(before.active(), "unit")
                + " of work in flight " + (before.active() == 1 ? "finishes, " : "finish, ") + plural(before.waiting(), "caller")
                + (before.waiting() == 1 ? " waiting moves" : " waiting move") + " to the schema's next pool, which its next work opens with max "
                + before.max() + (before.ownSize() ? " (its own size, remembered)" : " (the default)") + "; no connection is closed");
    }

    PhysicalChange reconnect(Actor who) {
        PhysicalStats before = registry.physical();
        PhysicalStats after = registry.reconnect();
        String done = "reconnecting the physical pool: " + plural(before.idle(), "idle connection") + " closed now, "
                + plural(before.active(), "connection") + " in use close when returned; new connections open as work needs them";
        record(who, "reconnect", after.name(), auditValues(before), auditValues(after));
        LOG.info(() -> "console: " + who + " reconnect pool=" + after.name() + ": " + done);
        return new PhysicalChange(done, before, after);
    }

    CleanupChange cleanupNow(Actor who) {
        Map<String, Object> before = new LinkedHashMap<>();
        before.put("allocated", registry.budget().allocated());
        before.put("pools", registry.pools().size());
        CleanupReport report = cleanup.runNow(who.toString());
        String done = "idle cleanup closed " + plural(report.connectionsClosed(), "idle connection") + " and retired "
                + plural(report.poolsRetired().size(), "pool") + (report.poolsRetired().isEmpty() ? "" : " (" + String.join(", ", report.poolsRetired()) + ")")
                + " in " + report.duration().toMillis() + " ms (max idle " + report.idleMax().toSeconds() + " s)";
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("allocated", registry.budget().allocated());
        after.put("pools", registry.pools().size());
        after.put("closed", report.connectionsClosed());
        after.put("retired", report.poolsRetired());
        record(who, "cleanup run", null, before, after);
        return new CleanupChange(done, report);
    }

    CleanupChange cleanupSettings(Actor who, Duration interval, Duration idleMax) {
        Map<String, Object> before = cleanupSettings();
        cleanup.change(interval, idleMax);
        Map<String, Object> after = cleanupSettings();
        record(who, "cleanup settings", null, before, after);
        return new CleanupChange("idle cleanup now runs every " + interval.toSeconds() + " s and closes connections idle longer than "
                + idleMax.toSeconds() + " s (was every " + before.get("intervalSeconds") + " s, " + before.get("idleMaxSeconds") + " s)", null);
    }

    /** Records a login or logout (no values). */
    void session(Actor who, String action) {
        record(who, action, null, null, null);
    }

    private Map<String, Object> cleanupSettings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("intervalSeconds", cleanup.interval().toSeconds());
        m.put("idleMaxSeconds", cleanup.idleMax().toSeconds());
        return m;
    }

    private PoolStats existing(String schema) {
        return registry.currentStats(schema).orElseThrow(() -> new UnknownPoolException(schema));
    }

    private PoolChange audited(Actor who, String action, PoolStats before, PoolStats after, String done) {
        record(who, action, before.schema(), auditValues(before), auditValues(after));
        LOG.info(() -> "console: " + who + " " + action + " schema=" + before.schema() + ": " + done);
        return new PoolChange(done, before, after);
    }

    private void record(Actor who, String action, String target, Object before, Object after) {
        try {
            audit.record(who.toString(), action, target, before == null ? null : Json.write(before), after == null ? null : Json.write(after));
        } catch (RuntimeException e) {
            // the action has happened; not being able to write it down must not make it look as if it had not
            LOG.log(Level.WARNING, "audit entry not written: actor=" + who + " action=" + action + " target=" + target + ": " + e.getMessage(), e);
        }
    }

    /** The values an operator compares before and after. */
    static Map<String, Object> auditValues(PoolStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", s.state().name());
        m.put("max", s.max());
        m.put("ownSize", s.ownSize());
        m.put("active", s.active());
        m.put("waiting", s.waiting());
        return m;
    }

    /** The values of the physical pool an operator compares before and after. */
    static Map<String, Object> auditValues(PhysicalStats p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("active", p.active());
        m.put("idle", p.idle());
        m.put("total", p.total());
        m.put("allocated", p.allocated());
        return m;
    }

    static String plural(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }
}
