package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.sql.DataSource;

import io.helidon.dbclient.DbClient;
import io.helidon.dbclient.DbClientException;
import io.helidon.dbclient.jdbc.JdbcClientBuilder;
import io.helidon.dbclient.jdbc.JdbcParametersConfig;
import io.micrometer.core.instrument.MeterRegistry;

import cloud.dementia.db.ConnectionTarget;

/**
 * The process's PostgreSQL connections: one physical pool whose size is the budget, shared by every schema, and over
 * it one logical pool per schema, created on first use, that operators see and steer.
 * <p>
 * A unit of work names its schema. It is admitted by the schema's pool ({@link Admission}: the schema's own max, a
 * FIFO wait bounded by the acquire timeout, fair share between schemas), then takes a physical connection, runs its
 * statements through DB Client ({@link Tx}, the schema named in every statement), and gives the connection back on
 * every path. Three kinds of unit:
 * <ul>
 *     <li>{@link #inStatement}: one statement, committed by itself: one round trip;</li>
 *     <li>{@link #inTransaction}: several statements in one transaction, committed at the end, rolled back on error;</li>
 *     <li>{@link #inReadOnlyTransaction}: a read-only transaction that always ends in a rollback, so whatever the
 *     statements changed in the session (a {@code set_config(..., false)} included) is undone before the connection
 *     serves anyone else.</li>
 * </ul>
 * No unit of work sets anything on the session: no {@code search_path}, no session-level setting. Behind a pooler no
 * named server-side prepared statement is used and the driver enforces the statement timeout per statement; on a direct
 * connection, whose session is ours, the timeout is the session default every connection opens with. So the service
 * runs unchanged behind a transaction-mode pooler.
 */
public final class PoolRegistry implements AutoCloseable {

    /** Seconds a read waits for the server beyond the statement timeout before the connection counts as lost. */
    static final int SOCKET_TIMEOUT_MARGIN_S = 5;

    private static final Logger LOG = Logger.getLogger(PoolRegistry.class.getName());
    /** An admitted caller always gets at least this long to take its physical connection (one may be opening). */
    private static final long MIN_PHYSICAL_WAIT_MS = 100;

    /** What kind of unit of work runs. */
    private enum Kind {
        STATEMENT, TRANSACTION, READ_ONLY
    }

    private final RegistrySettings settings;
    private final Budget budget;
    private final PhysicalPool physical;
    private final Admission admission;
    private final LeakWatch leaks;
    private final ScheduledExecutorService housekeeper;
    private final Map<String, LogicalPool> pools = new ConcurrentHashMap<>();
    private final Map<String, Integer> ownSizes = new ConcurrentHashMap<>();
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final PoolMeters meters;
    private final DbClient db;
    /** The unit of work running on this thread: DB Client's connection pool hands out its connection. */
    private final ThreadLocal<UnitConnection> current = new ThreadLocal<>();
    /** Schema migrations at a time: together they leave room for other work. */
    private final Semaphore migrations;
    private final int migrationSlots;
    private final boolean timeoutPerStatement;
    private final boolean namesServerStatements;
    private volatile PoolSizes sizes;
    private volatile boolean closed;
    /** When a unit of work last got an answer from the database ({@link #NEVER}: not yet); see {@link #liveness()}. */
    private volatile long lastAnswerNanos = NEVER;
    private static final long NEVER = Long.MIN_VALUE;

    /**
     * @param target   where to connect
     * @param settings budget, defaults and timeouts
     * @param registry where the pool meters go
     */
    public PoolRegistry(ConnectionTarget target, RegistrySettings settings, MeterRegistry registry) {
        this.settings = settings;
        this.budget = new Budget(settings.budget());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("dementia-pool-housekeeper").daemon(true).factory(),
                new ScheduledThreadPoolExecutor.DiscardPolicy());
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.housekeeper = executor;
        // The statement timeout, for every statement: where the session is ours alone (a direct connection whose URL sets
        // no start-up options of its own), the session default each connection gets when it opens, which costs nothing
        // per statement; behind a pooler, set on each statement by the driver, which cancels it when the time is up.
        this.timeoutPerStatement = timeoutPerStatement(target);
        this.namesServerStatements = target.serverPrepared() && target.direct();
        // HikariCP's connection adder and closer run on virtual threads: no platform threads beyond the housekeeper
        this.physical = new PhysicalPool(target, budget, settings.minIdle(), settings.acquireTimeout().toMillis(),
                sessionStatementTimeoutMs(target, settings), socketTimeoutSeconds(settings), housekeeper,
                Thread.ofVirtual().name("dementia-pool-", 0).factory(), registry);
        this.admission = new Admission(settings.budget());
        this.leaks = new LeakWatch(settings.leakThreshold(), physical::backends);
        this.migrationSlots = Math.max(1, (settings.budget() - 1) / 2);
        this.migrations = new Semaphore(migrationSlots, true);
        this.meters = new PoolMeters(registry, this);
        this.db = JdbcClientBuilder.create()
                .connectionPool(this::unitConnection)
                // strings go to the driver as strings, whatever their length (no character streams)
                .parametersSetter(JdbcParametersConfig.builder().useStringBinding(false).useNString(false).build())
                .build();
        long scanMillis = Math.max(50, Math.min(1000, settings.leakThreshold().toMillis() / 4));
        housekeeper.scheduleWithFixedDelay(leaks::scan, scanMillis, scanMillis, TimeUnit.MILLISECONDS);
    }

    /** @return whether the driver times each statement (behind a pooler, or a URL with start-up options of its own) */
    static boolean timeoutPerStatement(ConnectionTarget target) {
        return !target.direct() || target.jdbcUrl().contains("options=");
    }

    /** @return the statement timeout every connection gets as its session default, or 0 when the driver times each statement */
    static long sessionStatementTimeoutMs(ConnectionTarget target, RegistrySettings settings) {
        return timeoutPerStatement(target) ? 0 : settings.statementTimeout().toMillis();
    }

    /**
     * A read waits for the server at most the statement timeout and a margin: after that the network, not the statement,
     * is what failed (the server cancels a statement at its timeout and answers at once).
     */
    static int socketTimeoutSeconds(RegistrySettings settings) {
        return (int) Math.min(Integer.MAX_VALUE, settings.statementTimeout().toSeconds() + SOCKET_TIMEOUT_MARGIN_S);
    }

    // ---------------------------------------------------------------- work

    /**
     * Runs {@code work}, which runs exactly one statement, committed by itself (auto-commit): one round trip. A second
     * statement is refused with {@link IllegalStateException}.
     *
     * @throws PoolTimeoutException   no connection within the acquire timeout
     * @throws PoolSuspendedException the schema is suspended
     * @throws DataAccessException    the database reported an error
     */
    public <T> T inStatement(String schema, Work<T> work) {
        return run(schema, Kind.STATEMENT, work);
    }

    /**
     * Runs {@code work} in one transaction on {@code schema}: commits when it returns, rolls back when it throws.
     *
     * @throws PoolTimeoutException   no connection within the acquire timeout
     * @throws PoolSuspendedException the schema is suspended
     * @throws DataAccessException    the database reported an error (rolled back)
     */
    public <T> T inTransaction(String schema, Work<T> work) {
        return run(schema, Kind.TRANSACTION, work);
    }

    /** Like {@link #inTransaction} in a {@code READ ONLY} transaction that always ends in a rollback. */
    public <T> T inReadOnlyTransaction(String schema, Work<T> work) {
        return run(schema, Kind.READ_ONLY, work);
    }

    private <T> T run(String schema, Kind kind, Work<T> work) {
        long start = System.nanoTime();
        long deadline = start + settings.acquireTimeout().toNanos();
        // a connection found dead by a unit's first statement is replaced; each one found dead is closed, so this ends
        int replacements = settings.budget() + 1;
        long asked = start;
        while (true) {
            LogicalPool pool = admit(schema, start, deadline, false);
            Connection connection = borrow(pool, start, deadline);
            pool.work.waited(System.nanoTime() - asked);
            Backend backend = backendOf(connection);
            LeakWatch.Checkout checkout = leaks.start(schema, backend);
            UnitConnection unit = new UnitConnection(connection, schema, timeoutPerStatement ? settings.statementTimeout().toMillis() : 0,
                    kind == Kind.STATEMENT);
            UnitConnection outer = current.get();
            current.set(unit);
            boolean evict = false;
            boolean failed = true;
            boolean again = false; // the unit runs again on another connection: it has not ended
            try {
                begin(connection, kind);
                T result = work.run(new Tx(pool, db, unit));
                if (kind == Kind.TRANSACTION) {
                    connection.commit();
                } else if (kind == Kind.READ_ONLY) {
                    // whatever the statements changed in the session ends here, not on the next unit of work
                    connection.rollback();
                }
                lastAnswerNanos = System.nanoTime();
                failed = false;
                return result;
            } catch (SQLException | DbClientException e) {
                SQLException failure = e instanceof SQLException s ? s : Tx.sqlException((DbClientException) e);
                boolean gone = isConnectionGone(failure);
                if (!gone && failure.getSQLState() != null) {
                    lastAnswerNanos = System.nanoTime(); // the server itself answered with an error
                }
                evict = abort(connection, kind) || gone;
                // the connection was found dead by the unit's first statement: when nothing can have been committed,
                // run the unit again on another connection
                if (gone && replacements-- > 0 && unit.statements() <= 1 && (kind != Kind.STATEMENT || terminatedBefore(failure))) {
                    LOG.fine(() -> "replacing a dead connection: schema=" + schema + " sqlstate=" + failure.getSQLState());
                    again = true;
                    asked = System.nanoTime();
                    continue;
                }
                throw new DataAccessException(schema, failure);
            } catch (RuntimeException | Error e) {
                evict = abort(connection, kind);
                throw e;
            } finally {
                unit.end();
                pool.work.sent(unit.statements());
                if (!again) {
                    pool.work.ended(failed);
                }
                if (outer == null) {
                    current.remove();
                } else {
                    current.set(outer);
                }
                leaks.end(checkout, backend);
                physical.giveBack(connection, backend, evict);
                admission.leave(pool);
            }
        }
    }

    private static void begin(Connection connection, Kind kind) throws SQLException {
        // the driver sends BEGIN (READ ONLY) with the first statement: no round trip of its own
        if (kind != Kind.STATEMENT) {
            connection.setAutoCommit(false);
        }
        if (kind == Kind.READ_ONLY) {
            connection.setReadOnly(true);
        }
    }

    /** Rolls back after a failure. @return whether the connection should be closed rather than reused */
    private static boolean abort(Connection connection, Kind kind) {
        if (kind == Kind.STATEMENT) {
            return false;
        }
        try {
            connection.rollback();
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    /** @return whether the error says the connection itself is gone (SQLSTATE class 08, or the backend was shut down) */
    static boolean isConnectionGone(SQLException e) {
        if (remoteNode(e)) {
            return false; // the coordinator answered: a node behind it failed, this connection is fine
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * @return whether the error is a Citus coordinator's report that a node behind it could not be reached or refused
     *         the connection (its SQLSTATE is of class 08, but the connection to the coordinator is fine)
     */
    static boolean remoteNode(SQLException e) {
        String m = e.getMessage();
        return m != null && m.contains("connection to the remote node");
    }

    /** @return whether the backend had been shut down before the statement reached it (so it did not run) */
    private static boolean terminatedBefore(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("57P");
    }

    /** Admits the caller to the schema's pool, following the schema to its new pool when the old one is retired. */
    private LogicalPool admit(String schema, long start, long deadline, boolean migration) {
        while (true) {
            LogicalPool pool = poolFor(schema);
            Admission.Entry entry;
            try {
                entry = admission.enter(pool, deadline, migration);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PoolException(schema, "interrupted while waiting for a connection for schema `" + schema + "`", e);
            }
            switch (entry) {
                case ADMITTED -> {
                    return pool;
                }
                case RETIRED -> {
                    // the pool was retired while we waited: the schema's next pool takes over (deadline unchanged)
                }
                case SUSPENDED -> throw new PoolSuspendedException(schema);
                case CLOSED -> throw new IllegalStateException("the pool registry is closed");
                case TIMED_OUT -> throw timeout(pool, start, null, null);
            }
        }
    }

    /** Takes a physical connection for an admitted caller; on failure the admission is given back. */
    private Connection borrow(LogicalPool pool, long start, long deadline) {
        long waitMs = Math.max(MIN_PHYSICAL_WAIT_MS, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        try {
            return physical.borrow(waitMs);
        } catch (SQLException e) {
            admission.leave(pool);
            throw timeout(pool, start, "the database gave no connection: " + e.getMessage(), e);
        }
    }

    private PoolTimeoutException timeout(LogicalPool pool, long start, String why, Throwable cause) {
        pool.acquireTimeouts.incrementAndGet();
        long waitedNanos = System.nanoTime() - start;
        pool.work.waited(waitedNanos);
        long waited = TimeUnit.NANOSECONDS.toMillis(waitedNanos);
        PoolTimeoutException timeout = new PoolTimeoutException(statsOf(pool), budget(), waited, why, cause);
        LOG.warning(timeout::getMessage);
        return timeout;
    }

    private static Backend backendOf(Connection connection) {
        try {
            return connection.unwrap(Backend.class);
        } catch (SQLException e) {
            throw new IllegalStateException("a pooled connection is not one of ours", e);
        }
    }

    /** DB Client's connection pool: the connection of the unit of work running on this thread. */
    private Connection unitConnection() {
        UnitConnection unit = current.get();
        if (unit == null) {
            throw new IllegalStateException("DB Client was used outside a unit of work: statements run inside PoolRegistry.inTransaction "
                    + "(or inStatement, inReadOnlyTransaction)");
        }
        return unit;
    }

    // ---------------------------------------------------------------- pools

    private LogicalPool poolFor(String schema) {
        LogicalPool pool = pools.get(schema);
        if (pool != null) {
            return pool;
        }
        lifecycle.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the pool registry is closed");
            }
            pool = pools.get(schema);
            if (pool == null) {
                Integer own = ownSizes.get(schema);
                pool = new LogicalPool(schema, own == null ? settings.maxPerSchema() : own, own != null);
                meters.open(schema);
                pools.put(schema, pool);
                LogicalPool created = pool;
                LOG.fine(() -> "pool opened: schema=" + schema + " max=" + created.max + (created.ownSize ? " (own size)" : ""));
            }
            return pool;
        } finally {
            lifecycle.unlock();
        }
    }

    /**
     * Where operators' resizes are remembered. Loads what is remembered now and applies it to the pools open.
     */
    public void rememberSizesIn(PoolSizes store) {
        this.sizes = store;
        reloadSizes();
    }

    private void reloadSizes() {
        PoolSizes store = sizes;
        if (store == null) {
            return;
        }
        Map<String, Integer> loaded = store.load();
        ownSizes.keySet().retainAll(loaded.keySet());
        ownSizes.putAll(loaded);
        for (LogicalPool pool : pools.values()) {
            Integer own = loaded.get(pool.schema);
            admission.resize(pool, own == null ? settings.maxPerSchema() : own, own != null);
        }
    }

    // ---------------------------------------------------------------- migrations

    /**
     * Runs a schema migration tool (Flyway) with a data source of its own (one connection, see {@link MigrationSource}),
     * not held to the schema's max; migrations run a few at a time (half the budget's worth of connections at most), so
     * first uses of many new projects never take every connection. The connection is closed when the tool returns it,
     * so whatever session state the tool set (its {@code search_path}) dies with it. The typed pool errors come out as themselves.
     *
     * @throws PoolTimeoutException when the migration could not start, or get a connection, within the acquire timeout
     */
    public <T> T migrate(String schema, Function<DataSource, T> migration) {
        long start = System.nanoTime();
        boolean started;
        try {
            started = migrations.tryAcquire(settings.acquireTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PoolException(schema, "interrupted while waiting to migrate schema `" + schema + "`", e);
        }
        if (!started) {
            throw timeout(poolFor(schema), start, "schema migrations run " + migrationSlots
                    + " at a time (half the budget) and those ahead did not finish in time", null);
        }
        try {
            return migration.apply(new MigrationSource(schema));
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof PoolException p) {
                    throw p;
                }
            }
            throw e;
        } finally {
            migrations.release();
        }
    }

    /**
     * The data source a migration tool gets: one budget-counted connection, however many times the tool asks for one,
     * closed (not pooled) when the tool has closed every handle to it.
     * <p>
     * One session, because Flyway on PostgreSQL writes a migration's history row on the connection that holds its lock,
     * in the lock's transaction, and runs the migration itself on a second connection, in a transaction committed
     * before the lock's: a process killed between the two commits left the migration applied but not recorded, and
     * every later open ran it again and failed ({@code column ... already exists}). With both handles on one session,
     * the migration's transaction carries its history row and commits both at once; the lock stays a transaction's
     * lock, which a transaction-mode pooler keeps. A migration runs on one thread, so the handle count needs no lock.
     */
    private final class MigrationSource implements DataSource {
        private final String schema;
        private Connection session;
        private int handles;

        MigrationSource(String schema) {
            this.schema = schema;
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (handles == 0) {
                session = openSession();
            }
            handles++;
            return new DelegatingConnection(session) {
                private boolean returned;

                @Override
                public void close() {
                    if (!returned) {
                        returned = true;
                        if (--handles == 0) {
                            try {
                                delegate.close();
                            } catch (SQLException e) {
                                // giving a connection back never fails; it is evicted either way
                            }
                        }
                    }
                }
            };
        }

        private Connection openSession() throws SQLException {
            long start = System.nanoTime();
            LogicalPool pool;
            Connection connection;
            try {
                pool = admit(schema, start, start + settings.acquireTimeout().toNanos(), true);
                connection = borrow(pool, start, start + settings.acquireTimeout().toNanos());
                pool.work.waited(System.nanoTime() - start);
            } catch (PoolException e) {
                throw new SQLTransientConnectionException(e.getMessage(), e);
            }
            Backend backend = backendOf(connection);
            LeakWatch.Checkout checkout = leaks.start(schema, backend);
            Connection returning = new DelegatingConnection(connection) {
                private boolean returned;

                @Override
                public void close() {
                    if (!returned) {
                        returned = true;
                        leaks.end(checkout, backend);
                        physical.giveBack(connection, backend, true);
                        admission.leave(pool);
                    }
                }
            };
            if (!timeoutPerStatement) {
                // a migration may take longer than a statement of the service; the connection is closed afterwards
                try (java.sql.Statement st = connection.createStatement()) {
                    st.execute("SET statement_timeout = 0");
                } catch (SQLException e) {
                    returning.close();
                    throw e;
                }
            }
            return returning;
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new java.sql.SQLFeatureNotSupportedException("credentials come from the configured database target");
        }

        @Override
        public java.io.PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(java.io.PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws java.sql.SQLFeatureNotSupportedException {
            throw new java.sql.SQLFeatureNotSupportedException();
        }

        @Override
        public <U> U unwrap(Class<U> iface) throws SQLException {
            throw new SQLException("not a wrapper for " + iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }

    // ---------------------------------------------------------------- operations

    /**
     * Changes how many connections the schema may hold at once; applies at once (callers waiting are admitted if it
     * grew; work in flight above a lower max finishes). The size is remembered (it survives the pool being forgotten
     * and a restart); resizing back to {@code DB_POOL_MAX_PER_SCHEMA} forgets it.
     *
     * @throws IllegalArgumentException when {@code max} breaks the {@link #sizeRule()}
     */
    public PoolStats resize(String schema, int max) {
        LogicalPool pool = existing(schema);
        sizeRule().check(schema, max);
        boolean own = max != settings.maxPerSchema();
        PoolSizes store = sizes;
        if (store != null) {
            // remembered first: a resize that could not be written down is not made at all
            if (own) {
                store.remember(schema, max);
            } else {
                store.forget(schema);
            }
        }
        if (own) {
            ownSizes.put(schema, max);
        } else {
            ownSizes.remove(schema);
        }
        int before = admission.numbers(pool).max();
        admission.resize(pool, max, own);
        LOG.info(() -> "pool resized: schema=" + schema + " max=" + before + "->" + max + (own ? " (remembered)" : " (default)"));
        return statsOf(pool);
    }

    /**
     * Work in flight finishes; new work waits (within the acquire timeout) until it has, then the pool serves again.
     * No connection is closed: they are shared (to replace connections, see {@link #reconnect()}).
     */
    public PoolStats drain(String schema) {
        LogicalPool pool = existing(schema);
        PoolState before = admission.drain(pool);
        LOG.info(() -> "pool drained: schema=" + schema + " state_before=" + before + " in_flight=" + admission.numbers(pool).inUse());
        return statsOf(pool);
    }

    /** New work for the schema fails at once with {@link PoolSuspendedException} until {@link #resume}. */
    public PoolStats suspend(String schema) {
        LogicalPool pool = existing(schema);
        PoolState before = admission.suspend(pool);
        if (before != PoolState.SUSPENDED) {
            LOG.info(() -> "pool suspended: schema=" + schema + " in_flight=" + admission.numbers(pool).inUse());
        }
        return statsOf(pool);
    }

    public PoolStats resume(String schema) {
        LogicalPool pool = existing(schema);
        if (admission.resume(pool) == PoolState.SUSPENDED) {
            LOG.info(() -> "pool resumed: schema=" + schema);
        }
        return statsOf(pool);
    }

    /**
     * Retires the schema's pool: it leaves the registry now (the next use creates a new one, with the remembered size),
     * work in flight finishes, callers waiting move to the new pool. No connection is closed.
     */
    public PoolStats retire(String schema) {
        LogicalPool pool = existing(schema);
        forget(pool, "operator");
        admission.retire(pool);
        return statsOf(pool);
    }

    private boolean forget(LogicalPool pool, String why) {
        lifecycle.lock();
        try {
            if (!pools.remove(pool.schema, pool)) {
                return false;
            }
            meters.remove(pool.schema);
        } finally {
            lifecycle.unlock();
        }
        LOG.info(() -> "pool retired: schema=" + pool.schema + " reason=" + why);
        return true;
    }

    /** Replaces every physical connection: idle ones close now, in-use ones when returned (PgBouncer's RECONNECT). */
    public PhysicalStats reconnect() {
        physical.reconnect();
        LOG.info(() -> "physical pool reconnecting: every connection is replaced, in-use ones when returned");
        return physical.stats();
    }

    /**
     * Closes idle physical connections last used longer than {@code idleMax} ago (keeping the minimum idle) and forgets
     * schema pools unused that long (not suspended ones: an operator's state stays). Remembered sizes are re-read.
     */
    public CleanupReport cleanupIdle(Duration idleMax, String trigger) {
        long started = System.nanoTime();
        Instant at = Instant.now();
        long limit = started - idleMax.toNanos();
        int closedConnections = physical.closeIdle(lastReturned -> lastReturned < limit, physical.stats().minIdle());
        List<String> forgotten = new ArrayList<>();
        for (LogicalPool pool : List.copyOf(pools.values())) {
            if (pool.lastUsedNanos < limit && admission.retireIfUnused(pool) && forget(pool, "idle cleanup (unused for " + idleMax.toSeconds() + " s)")) {
                forgotten.add(pool.schema);
            }
        }
        try {
            reloadSizes();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "idle cleanup: remembered pool sizes could not be re-read: " + e.getMessage(), e);
        }
        CleanupReport report = new CleanupReport(at, trigger, idleMax, closedConnections, List.copyOf(forgotten),
                Duration.ofNanos(System.nanoTime() - started));
        meters.recordCleanup(report);
        LOG.info(() -> "idle cleanup: trigger=" + trigger + " closed=" + report.connectionsClosed() + " forgotten=" + report.poolsRetired()
                + " took_ms=" + report.duration().toMillis());
        return report;
    }

    // ---------------------------------------------------------------- reading

    /** @return the stats of the schema's current pool, if it has one */
    public Optional<PoolStats> currentStats(String schema) {
        LogicalPool pool = pools.get(schema);
        return pool == null ? Optional.empty() : Optional.of(statsOf(pool));
    }

    /** @return a snapshot of every schema pool, by schema name */
    public List<PoolStats> pools() {
        return pools.values().stream().map(this::statsOf).sorted(Comparator.comparing(PoolStats::schema)).toList();
    }

    /** @return the physical pool: the backends every schema shares */
    public PhysicalStats physical() {
        return physical.stats();
    }

    /** @return the process ids of every backend the physical pool holds now, as {@code pg_stat_activity} lists them */
    public List<Integer> backendPids() {
        return physical.backendPids();
    }

    /** @return the process ids of the backends the schema's work holds right now (its checkouts) */
    public List<Integer> checkoutPids(String schema) {
        return leaks.pids(schema);
    }

    /** @return which schema's work holds each backend right now, by process id (backends in the pool are not in it) */
    public Map<Integer, String> holders() {
        return leaks.holders();
    }

    /** @return what a schema pool's max may be */
    public SizeRule sizeRule() {
        return new SizeRule(budget.total(), settings.maxPerSchema());
    }

    /** @return what the registry's own traffic shows of the database now (see {@link Liveness}) */
    public Liveness liveness() {
        long[] inFlight = leaks.inFlight();
        long last = lastAnswerNanos;
        return new Liveness(last == NEVER ? null : Duration.ofNanos(System.nanoTime() - last), (int) inFlight[0],
                inFlight[1] < 0 ? null : Duration.ofNanos(inFlight[1]), admission.inUse() >= admission.slots());
    }

    public BudgetStats budget() {
        return new BudgetStats(budget.total(), budget.allocated(), admission.inUse(), admission.waiting());
    }

    /** @return suspected leaks still held (oldest first), then recently returned ones */
    public List<LeakReport> leaks() {
        return leaks.reports();
    }

    /** @return suspected leaks ever counted for the schema */
    public long leaksCounted(String schema) {
        return leaks.suspectedTotal(schema);
    }

    public RegistrySettings settings() {
        return settings;
    }

    /**
     * @return whether the driver names server-side prepared statements on backends that are this process's alone: they
     *         stay in the backend's session, where any unit of work of any schema can list them
     *         ({@code pg_prepared_statements}), and may be dropped there ({@code DEALLOCATE ALL}). Behind a pooler the
     *         session is not ours to clear, and the driver names none unless told to.
     */
    public boolean namesServerStatements() {
        return namesServerStatements;
    }

    /** @return the executor shared by the physical pool's housekeeping (and usable for other pool-layer timers) */
    public ScheduledExecutorService housekeeper() {
        return housekeeper;
    }

    private PoolStats statsOf(LogicalPool pool) {
        Admission.PoolNumbers n = admission.numbers(pool);
        return new PoolStats(pool.schema, n.state(), n.inUse(), n.waiting(), n.max(), n.ownSize(), n.longestWaitMillis(),
                pool.acquireTimeouts.get(), leaks.suspected(pool.schema), Instant.ofEpochMilli(pool.createdMillis), pool.lastUsedAt(),
                pool.work.totals());
    }

    private LogicalPool existing(String schema) {
        LogicalPool pool = pools.get(schema);
        if (pool == null) {
            throw new UnknownPoolException(schema);
        }
        return pool;
    }

    /** Closes the physical pool (checked-out connections are aborted) and stops the housekeeper. */
    @Override
    public void close() {
        lifecycle.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lifecycle.unlock();
        }
        admission.close();
        physical.close();
        db.close();
        housekeeper.shutdownNow();
        LOG.info(() -> "pool registry closed: pools=" + pools.size() + " budget=" + budget.allocated() + "/" + budget.total());
    }

}
