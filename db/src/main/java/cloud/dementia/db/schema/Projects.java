package cloud.dementia.db.schema;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import org.flywaydb.core.Flyway;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;
import cloud.dementia.db.pool.UnknownPoolException;

/**
 * The project registry in the control schema: which name owns which schema, which project each MCP session switched
 * to. A project's schema is created and migrated (Flyway, {@code classpath:db/project}, one history per schema) on
 * first use.
 */
public final class Projects {

    private static final Logger LOG = Logger.getLogger(Projects.class.getName());

    /** A registered project. */
    public record Project(String name, String schema, Instant createdAt) {
    }

    /** How long a project known to exist is trusted before the registry is asked again (another replica may delete it). */
    public static final java.time.Duration RECHECK = java.time.Duration.ofSeconds(30);

    /** A project this process has opened, and when it last confirmed it still exists. */
    private record Ready(ProjectName project, long checkedNanos) {
    }

    private final PoolRegistry registry;
    private final java.time.Duration recheck;
    private final Map<String, Ready> ready = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.locks.ReentrantLock> opening = new ConcurrentHashMap<>();
    private volatile String database;
    private volatile byte[] schemaKey;
    private volatile Boolean citus;

    public Projects(PoolRegistry registry) {
        this(registry, RECHECK);
    }

    /**
     * @param registry the pool registry
     * @param recheck  how long an opened project is trusted to exist before the registry is asked again
     */
    public Projects(PoolRegistry registry, java.time.Duration recheck) {
        this.registry = registry;
        this.recheck = recheck;
    }

    /** @return the cached project when it is known to exist, asking the registry again once {@code recheck} has passed */
    private ProjectName stillReady(String name) {
        Ready r = ready.get(name);
        if (r == null) {
            return null;
        }
        if (System.nanoTime() - r.checkedNanos() < recheck.toNanos()) {
            return r.project();
        }
        if (find(name).isPresent()) {
            ready.put(name, new Ready(r.project(), System.nanoTime()));
            return r.project();
        }
        // deleted meanwhile (by another replica): open it afresh, as on first use
        ready.remove(name, r);
        return null;
    }

    /**
     * The project to work in, created and migrated if this is its first use.
     *
     * @param name project name (validated here)
     * @return the project's name and schema
     * @throws ProjectNameTakenException when another name already owns the schema this name maps to
     */
    public ProjectName open(String name) {
        ProjectName cached = stillReady(name);
        if (cached != null) {
            return cached;
        }
        ProjectName project = named(name);
        // one migration per project at a time in this process, rather than each concurrent first use waiting on Flyway's
        // lock with a connection held (other replicas do wait on Flyway's lock)
        // (a ReentrantLock, not synchronized: waiting virtual threads must not pin carriers on Java 21)
        java.util.concurrent.locks.ReentrantLock lock = opening.computeIfAbsent(project.schema(),
                s -> new java.util.concurrent.locks.ReentrantLock());
        lock.lock();
        try {
            Ready again = ready.get(name);
            if (again != null) {
                return again.project();
            }
            register(project);
            migrate(project);
            ready.put(name, new Ready(project, System.nanoTime()));
        } finally {
            lock.unlock();
        }
        return project;
    }

    /**
     * Where an import goes.
     *
     * @param project    the project
     * @param registered whether it is registered already; if not, the import's transaction registers it
     *                   ({@link #registerIn}) and it exists only if that transaction commits
     */
    public record ImportTarget(ProjectName project, boolean registered) {
    }

    /**
     * The project an import writes into. An existing project is opened as usual. A new one gets its schema created and
     * migrated but is not registered: it is not listed, found or opened by anyone, and becomes a project only when the
     * import's transaction registers it and commits. An import refused halfway, or a process killed during one, so
     * leaves no project behind: at most this unregistered schema, empty (the import's rows went with its transaction),
     * which the next open or import of the name migrates and reuses as it is. It is not dropped on failure, because a
     * concurrent import of the same new name may be writing into it.
     *
     * @throws ProjectNameTakenException when another name already owns the schema this name maps to (nothing created)
     */
    public ImportTarget openForImport(String name) {
        ProjectName cached = stillReady(name);
        if (cached != null) {
            return new ImportTarget(cached, true);
        }
        ProjectName project = named(name);
        if (find(project.name()).isPresent()) {
            return new ImportTarget(open(project.name()), true);
        }
        String owner = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT name FROM {s}.projects WHERE schema = ?",
                r -> r.string(1), project.schema())).orElse(null);
        if (owner != null && !owner.equals(project.name())) {
            throw new ProjectNameTakenException(project, owner);
        }
        java.util.concurrent.locks.ReentrantLock lock = opening.computeIfAbsent(project.schema(),
                s -> new java.util.concurrent.locks.ReentrantLock());
        lock.lock();
        try {
            migrate(project);
        } finally {
            lock.unlock();
        }
        return new ImportTarget(project, false);
    }

    /**
     * Registers the project inside the caller's transaction, on whichever schema's connection it runs: the project
     * exists for everyone else when that transaction commits, and not at all if it rolls back.
     *
     * @throws ProjectNameTakenException when another name owns the schema (the transaction should roll back)
     */
    public static void registerIn(Tx tx, ProjectName project) throws SQLException {
        String control = Tx.identifier(ControlSchema.NAME);
        String normal = ProjectName.normalised(project.name());
        if (!normal.isEmpty()) {
            // a project registered with a schema of another derivation (before opaque names) under a name of the same
            // normalised form: the same project to a user, so refused as a schema collision would be
            Optional<String> same = tx.queryOne("SELECT name FROM " + control + ".projects WHERE " + ProjectName.normalisedSql("name")
                    + " = ? AND name <> ? AND schema <> ? LIMIT 1", r -> r.string(1), normal, project.name(), project.schema());
            if (same.isPresent()) {
                throw new ProjectNameTakenException(project, same.get());
            }
        }
        // two statements: the second sees a row another replica committed while the insert waited on it
        tx.update("INSERT INTO " + control + ".projects (name, schema) VALUES (?, ?) ON CONFLICT DO NOTHING", project.name(), project.schema());
        String owner = tx.queryOne("SELECT name FROM " + control + ".projects WHERE schema = ?", r -> r.string(1), project.schema())
                .orElse(null);
        if (owner == null) {
            // the schema is held under the name's own row with another schema? only possible if the mapping changed
            throw new IllegalStateException("project `" + project.name() + "` could not be registered");
        }
        if (!owner.equals(project.name())) {
            throw new ProjectNameTakenException(project, owner);
        }
    }

    /** Remembers a project an import registered and committed as opened (its schema is migrated). */
    public void imported(ProjectName project) {
        ready.put(project.name(), new Ready(project, System.nanoTime()));
    }

    /**
     * Registers a new project explicitly.
     *
     * @return whether it was new
     */
    public boolean create(String name) {
        ProjectName.validate(name);
        boolean created = find(name).isEmpty();
        open(name);
        return created;
    }

    /**
     * @param name a project name (validated here)
     * @return the project with the schema it is registered with, or, not registered, the opaque schema it would get
     */
    public ProjectName named(String name) {
        ProjectName.validate(name);
        return find(name).map(p -> new ProjectName(p.name(), p.schema())).orElseGet(() -> ProjectName.opaque(name, schemaKey()));
    }

    private byte[] schemaKey() {
        byte[] key = schemaKey;
        if (key == null) {
            String hex = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT schema_key FROM {s}.installation", r -> r.string(1)))
                    .orElseThrow(() -> new IllegalStateException("the control schema has no installation key"));
            key = java.util.HexFormat.of().parseHex(hex);
            schemaKey = key;
        }
        return key;
    }

    private void register(ProjectName project) {
        registry.inTransaction(ControlSchema.NAME, tx -> {
            registerIn(tx, project);
            return null;
        });
    }

    private void migrate(ProjectName project) {
        String db = database();
        boolean citus = citus();
        long start = System.nanoTime();
        int applied = registry.migrate(project.schema(), dataSource -> Flyway.configure(Projects.class.getClassLoader())
                .dataSource(dataSource)
                .schemas(project.schema())
                .defaultSchema(project.schema())
                // the migrations every database runs, and the forms of those Citus refuses on a distributed schema
                .locations("classpath:db/project", citus ? "classpath:db/citus/project" : "classpath:db/plain/project")
                // a project moved from plain PostgreSQL to Citus ran the plain forms: what it applied is not checked again
                .validateOnMigrate(!citus)
                .table("flyway_schema_history")
                .placeholders(Map.of("schema", project.schema(), "reader", project.readerRole(db)))
                .connectRetries(0)
                .load()
                .migrate().migrationsExecuted);
        if (citus) {
            readerLogsInToWorkers(project.readerRole(db));
        }
        if (applied > 0) {
            LOG.info(() -> "project schema migrated: project=" + project.name() + " schema=" + project.schema() + " migrations=" + applied
                    + " took_ms=" + (System.nanoTime() - start) / 1_000_000);
        }
    }

    /** @return whether the database is a Citus coordinator (the extension is installed): asked once */
    public boolean citus() {
        Boolean c = citus;
        if (c == null) {
            c = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
                    r -> r.bool(1)).orElse(false));
            citus = c;
        }
        return c;
    }

    /**
     * On Citus a query of {@code query_database} runs on the worker that holds the project, over a connection Citus opens
     * as the current role, the project's reader: the role may log in, with a password only the coordinator holds
     * ({@code pg_dist_authinfo}, readable by superusers only), derived from the installation's key so every replica
     * sets the same. Its rights stay the reader's: this schema, read only.
     */
    private void readerLogsInToWorkers(String reader) {
        String password = readerPassword(reader);
        registry.inTransaction(ControlSchema.NAME, tx -> {
            tx.execute("ALTER ROLE " + Tx.identifier(reader) + " LOGIN PASSWORD '" + password + "'");
            tx.update("INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, ?, ?) ON CONFLICT DO NOTHING", reader,
                    "password=" + password);
            return null;
        });
    }

    private String readerPassword(String reader) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(schemaKey(), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(("reader-password:" + reader).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the name of the database the service works in */
    public String database() {
        if (database == null) {
            database = registry.inStatement(ControlSchema.NAME,
                    tx -> tx.queryOne("SELECT current_database()", r -> r.string(1)).orElseThrow());
        }
        return database;
    }

    /** @return the registered project of that name, if any */
    public Optional<Project> find(String name) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT name, schema, created_at FROM {s}.projects WHERE name = ?",
                r -> new Project(r.string(1), r.string(2), r.instant(3)), name));
    }

    /** @return every registered project, by name */
    public List<Project> list() {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query(
                "SELECT name, schema, created_at FROM {s}.projects ORDER BY name",
                r -> new Project(r.string(1), r.string(2), r.instant(3))));
    }

    /** A project with its counts. */
    public record ProjectCounts(Project project, long contexts, long sessions, long entries, Instant lastActive) {
    }

    /**
     * Every project with its counts, read through the control schema's pool with schema-qualified SQL: listing many
     * projects opens no pool per project.
     */
    public List<ProjectCounts> listWithCounts() {
        List<Project> all = list();
        return registry.inReadOnlyTransaction(ControlSchema.NAME, tx -> {
            List<ProjectCounts> out = new java.util.ArrayList<>();
            for (Project p : all) {
                String s = Tx.identifier(p.schema());
                boolean exists = tx.queryOne("SELECT to_regclass(?) IS NOT NULL", r -> r.bool(1), s + ".context_locks")
                        .orElse(false);
                if (!exists) {
                    out.add(new ProjectCounts(p, 0, 0, 0, null));
                    continue;
                }
                out.add(tx.queryOne("SELECT (SELECT count(*) FROM " + s + ".context_locks), (SELECT count(*) FROM " + s + ".sessions), "
                        + "(SELECT count(*) FROM " + s + ".memory_entries), (SELECT max(last_active) FROM " + s + ".sessions)",
                        r -> new ProjectCounts(p, r.longValue(1), r.longValue(2), r.longValue(3), r.instant(4))).orElseThrow());
            }
            return out;
        });
    }

    /**
     * Drops the project's schema and role and forgets it. Its pool is retired (work in flight on it finishes first).
     *
     * @return whether a project of that name existed
     */
    public boolean delete(String name) {
        Optional<Project> found = find(name);
        if (found.isEmpty()) {
            return false;
        }
        ProjectName project = new ProjectName(found.get().name(), found.get().schema());
        String reader = project.readerRole(database());
        registry.inTransaction(ControlSchema.NAME, tx -> {
            tx.execute("DROP SCHEMA IF EXISTS " + Tx.identifier(project.schema()) + " CASCADE");
            tx.execute("DO $do$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + reader + "') THEN "
                    + "EXECUTE 'DROP OWNED BY " + Tx.identifier(reader) + "'; EXECUTE 'DROP ROLE " + Tx.identifier(reader) + "'; END IF; END $do$");
            tx.update("DELETE FROM {s}.projects WHERE name = ?", name);
            if (citus()) {
                tx.update("DELETE FROM pg_dist_authinfo WHERE rolename = ?", reader);
            }
            return null;
        });
        ready.remove(name);
        try {
            registry.retire(project.schema());
        } catch (UnknownPoolException e) {
            // no pool was open for it
        }
        LOG.info(() -> "project deleted: project=" + name + " schema=" + project.schema());
        return true;
    }

    /** Two names map to one schema: the second is refused, never mixed with the first. */
    public static final class ProjectNameTakenException extends IllegalArgumentException {
        public ProjectNameTakenException(ProjectName wanted, String owner) {
            super("project `" + wanted.name() + "` is project `" + owner + "` (names that differ only in case and punctuation are one "
                    + "project): use that name, or choose a name that differs in more than case and punctuation");
        }
    }
}
