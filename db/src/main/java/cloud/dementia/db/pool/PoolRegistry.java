package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;

import cloud.dementia.db.ConnectionTarget;

/**
 * One HikariCP pool per schema, created on first use, all under one global connection budget.
 * <p>
 * Work is handed in as a {@link Work} and runs in one transaction that selects its schema and statement timeout
 * for that transaction only ({@code set_config(..., true)}), so no session state is left on a server connection
 * and the service runs unchanged behind a transaction-mode pooler. The connection goes back to its pool on every
 * path. Waits are bounded by the acquire timeout and end in a {@link PoolTimeoutException} that names the numbers.
 * <p>
 * Budget policy: a pool that needs a backend while the budget is full first retires fully idle pools (least
 * recently used first), then closes idle connections of other pools; if there is still no room it waits, within
 * its acquire timeout, for a backend to be given back. While any pool waits for room, a connection returned by a
 * pool holding more than its fair share ({@code budget / pools in use}, at least 1) is closed instead of kept, so
 * one busy schema cannot hold the whole budget against the others.
 */
public final class PoolRegistry implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PoolRegistry.class.getName());
    /** SQLSTATE classes meaning the connection itself is gone. */
    private static final String CONNECTION_EXCEPTION_CLASS = "08";
    private static final String ADMIN_SHUTDOWN = "57P01";

    private final ConnectionTarget target;
    private final Budget budget;
    private final LeakWatch leaks;
    private final ScheduledExecutorService housekeeper;
    private final ThreadFactory poolThreads;
    private final Map<String, SchemaPool> pools = new ConcurrentHashMap<>();
    /** Pools retired while connections were still out; closed when their last checkout returns. */
    private final Map<SchemaPool, Boolean> retiring = new ConcurrentHashMap<>();
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final PoolMeters meters;
    private volatile RegistrySettings settings;
    private volatile boolean closed;

    /**
     * @param target   where to connect
     * @param settings budget, defaults and timeouts
     * @param registry where the pool meters go
     */
    public PoolRegistry(ConnectionTarget target, RegistrySettings settings, MeterRegistry registry) {
        this.target = target;
        this.settings = settings;
        this.budget = new Budget(settings.budget());
        this.leaks = new LeakWatch(settings.leakThreshold());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("dementia-pool-housekeeper").daemon(true).factory(),
                new ScheduledThreadPoolExecutor.DiscardPolicy());
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.housekeeper = executor;
        // connection adders and closers of every pool run on virtual threads: 50 pools, no more platform threads
        this.poolThreads = Thread.ofVirtual().name("dementia-pool-", 0).factory();
        this.meters = new PoolMeters(registry, this);
        long scanMillis = Math.max(50, Math.min(1000, settings.leakThreshold().toMillis() / 4));
        housekeeper.scheduleWithFixedDelay(leaks::scan, scanMillis, scanMillis, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- work

    /**
     * Runs {@code work} in one transaction on {@code schema}: commits when it returns, rolls back when it throws.
     *
     * @throws PoolTimeoutException    no connection within the acquire timeout
     * @throws PoolSuspendedException  the schema is suspended
     * @throws DataAccessException     the database reported an error (rolled back)
     */
    public <T> T inTransaction(String schema, Work<T> work) {
        return run(schema, false, work);
    }

    /** Like {@link #inTransaction} in a {@code READ ONLY} transaction. */
    public <T> T inReadOnlyTransaction(String schema, Work<T> work) {
        return run(schema, true, work);
    }

    private <T> T run(String schema, boolean readOnly, Work<T> work) {
        // a connection found dead in the prelude is replaced; no statement of the work has run yet, so it is safe
        int attemptsLeft = settings.budget() + 1;
        while (true) {
            SchemaPool pool = poolFor(schema);
            Connection connection = borrow(pool);
            if (connection == null) {
                // the pool was retired while we asked it for a connection: the next one is a fresh pool
                if (--attemptsLeft > 0) {
                    continue;
                }
                throw new UnknownPoolException(schema);
            }
            LeakWatch.Checkout checkout = leaks.start(schema);
            boolean closeBackend = false;
            Tx tx = new Tx(connection, schema);
            try {
                try {
                    prelude(connection, schema, readOnly);
                } catch (SQLException e) {
                    if (isConnectionGone(e) && --attemptsLeft > 0) {
                        closeBackend = true;
                        LOG.fine(() -> "replacing a dead connection: schema=" + schema + " sqlstate=" + e.getSQLState());
                        continue;
                    }
                    throw e;
                }
                T result = work.run(tx);
                connection.commit();
                return result;
            } catch (SQLException e) {
                closeBackend = rollback(connection) || isConnectionGone(e);
                throw new DataAccessException(schema, e);
            } catch (RuntimeException | Error e) {
                closeBackend = rollback(connection);
                throw e;
            } finally {
                tx.end();
                leaks.end(checkout);
                giveBack(pool, connection, closeBackend);
            }
        }
    }

    private void prelude(Connection connection, String schema, boolean readOnly) throws SQLException {
        // transaction-scoped settings only: nothing outlives the transaction on the server connection
        try (PreparedStatement ps = connection.prepareStatement(readOnly
                ? "SELECT set_config('search_path', ?, true), set_config('statement_timeout', ?, true), "
                  + "set_config('transaction_read_only', 'on', true)"
                : "SELECT set_config('search_path', ?, true), set_config('statement_timeout', ?, true)")) {
            ps.setString(1, quoteIdent(schema) + ", public");
            ps.setString(2, Long.toString(settings.statementTimeout().toMillis()));
            ps.execute();
        }
    }

    private static boolean rollback(Connection connection) {
        try {
            connection.rollback();
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    private static boolean isConnectionGone(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith(CONNECTION_EXCEPTION_CLASS) || s.getSQLState().equals(ADMIN_SHUTDOWN))) {
                return true;
            }
        }
        return false;
    }

    /** @return a connection, or {@code null} when the pool was retired meanwhile */
    private Connection borrow(SchemaPool pool) {
        long start = System.nanoTime();
        try {
            return pool.borrow();
        } catch (SQLException e) {
            if (pool.state() == PoolState.RETIRED) {
                return null;
            }
            return failBorrow(pool, start, e);
        }
    }

    private Connection failBorrow(SchemaPool pool, long start, SQLException failure) {
        if (failure instanceof SQLTransientConnectionException) {
            pool.countTimeout();
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            PoolTimeoutException timeout = new PoolTimeoutException(statsOf(pool), budget(), waited, failure);
            LOG.warning(() -> timeout.getMessage());
            throw timeout;
        }
        throw new DataAccessException(pool.schema(), failure);
    }

    private void giveBack(SchemaPool pool, Connection connection, boolean closeBackend) {
        boolean overShare = budget.contended() && pool.total() > fairShare();
        pool.giveBack(connection, closeBackend || overShare);
        if (pool.state() == PoolState.RETIRED && retiring.containsKey(pool) && pool.checkedOut() == 0) {
            finishRetire(pool);
        }
    }

    private int fairShare() {
        int inUse = 0;
        for (SchemaPool p : pools.values()) {
            if (p.total() > 0 || p.waiting() > 0) {
                inUse++;
            }
        }
        return Math.max(1, budget.total() / Math.max(1, inUse));
    }

    // ---------------------------------------------------------------- pools

    private SchemaPool poolFor(String schema) {
        if (closed) {
            throw new IllegalStateException("the pool registry is closed");
        }
        SchemaPool pool = pools.get(schema);
        if (pool == null) {
            lifecycle.lock();
            try {
                if (closed) {
                    throw new IllegalStateException("the pool registry is closed");
                }
                pool = pools.get(schema);
                if (pool == null) {
                    RegistrySettings s = settings;
                    meters.open(schema);
                    pool = new SchemaPool(schema, target, s.maxPerSchema(), s.minIdle(), s.acquireTimeout().toMillis(), budget,
                            this::makeRoomFor, housekeeper, poolThreads, meters);
                    pools.put(schema, pool);
                    SchemaPool created = pool;
                    LOG.info(() -> "pool opened: schema=" + schema + " max=" + created.max() + " min_idle=" + created.minIdle()
                            + " budget=" + budget.stats().allocated() + "/" + budget.total());
                }
            } finally {
                lifecycle.unlock();
            }
        }
        if (pool.state() == PoolState.SUSPENDED) {
            throw new PoolSuspendedException(schema);
        }
        return pool;
    }

    /**
     * Frees one backend for {@code schema}: retires the least recently used fully idle pool, else closes an idle
     * connection of another pool that has no waiters.
     */
    private boolean makeRoomFor(String schema) {
        List<SchemaPool> candidates = new ArrayList<>();
        for (SchemaPool p : pools.values()) {
            if (!p.schema().equals(schema) && p.idle() > 0 && p.waiting() == 0 && p.state() != PoolState.RETIRED) {
                candidates.add(p);
            }
        }
        candidates.sort(Comparator.comparingLong(SchemaPool::lastUsedNanos));
        for (SchemaPool victim : candidates) {
            if (victim.active() == 0 && victim.checkedOut() == 0 && victim.state() != PoolState.SUSPENDED) {
                if (retireInternal(victim, "budget: room for `" + schema + "`")) {
                    return true;
                }
            }
            if (victim.closeIdle(b -> true, 1, 0) > 0) {
                LOG.fine(() -> "budget: closed an idle connection of schema=" + victim.schema() + " for schema=" + schema);
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- operations

    /**
     * Changes a pool's size. Refused when {@code max} exceeds the budget or when the pools' minimum idle
     * connections together would exceed it.
     */
    public PoolStats resize(String schema, int max, int minIdle) {
        SchemaPool pool = existing(schema);
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1, got " + max);
        }
        if (minIdle < 0 || minIdle > max) {
            throw new IllegalArgumentException("min idle must be between 0 and max (" + max + "), got " + minIdle);
        }
        if (max > budget.total()) {
            throw new IllegalArgumentException("max " + max + " for schema `" + schema + "` exceeds the connection budget of "
                    + budget.total() + " (DB_POOL_BUDGET): no pool can hold more backends than the whole process may open");
        }
        int otherMinIdle = 0;
        for (SchemaPool p : pools.values()) {
            if (p != pool) {
                otherMinIdle += p.minIdle();
            }
        }
        if (otherMinIdle + minIdle > budget.total()) {
            throw new IllegalArgumentException("min idle " + minIdle + " for schema `" + schema + "` would reserve " + (otherMinIdle + minIdle)
                    + " idle connections across all pools, more than the budget of " + budget.total());
        }
        int oldMax = pool.max();
        int oldMin = pool.minIdle();
        pool.resize(max, minIdle);
        LOG.info(() -> "pool resized: schema=" + schema + " max=" + oldMax + "->" + max + " min_idle=" + oldMin + "->" + minIdle);
        return statsOf(pool);
    }

    /** Idle connections close now, in-use ones when they are returned; new work gets fresh connections. */
    public PoolStats drain(String schema) {
        SchemaPool pool = existing(schema);
        int before = pool.total();
        pool.drain();
        LOG.info(() -> "pool drained: schema=" + schema + " connections_before=" + before + " open_now=" + pool.total());
        return statsOf(pool);
    }

    /** New work for the schema fails at once with {@link PoolSuspendedException} until {@link #resume}. */
    public PoolStats suspend(String schema) {
        SchemaPool pool = existing(schema);
        PoolState s = pool.state();
        if (s == PoolState.SUSPENDED) {
            return statsOf(pool);
        }
        pool.forceState(PoolState.SUSPENDED);
        LOG.info(() -> "pool suspended: schema=" + schema + " in_flight=" + pool.active());
        return statsOf(pool);
    }

    public PoolStats resume(String schema) {
        SchemaPool pool = existing(schema);
        if (pool.setState(PoolState.SUSPENDED, PoolState.OPEN)) {
            LOG.info(() -> "pool resumed: schema=" + schema);
        }
        return statsOf(pool);
    }

    /**
     * Retires the pool: it leaves the registry now (next use opens a new one), its idle connections close now and
     * the rest as soon as they are returned, giving their budget back.
     */
    public PoolStats retire(String schema) {
        SchemaPool pool = existing(schema);
        PoolStats before = statsOf(pool);
        retireInternal(pool, "operator");
        return new PoolStats(before.schema(), PoolState.RETIRED, before.active(), 0, before.active(), before.max(), before.minIdle(),
                before.waiting(), before.acquireTimeouts(), before.suspectedLeaks(), before.createdAt(), before.lastUsedAt());
    }

    private boolean retireInternal(SchemaPool pool, String why) {
        lifecycle.lock();
        try {
            if (!pools.remove(pool.schema(), pool)) {
                return false;
            }
            pool.forceState(PoolState.RETIRED);
            meters.remove(pool.schema());
        } finally {
            lifecycle.unlock();
        }
        if (pool.checkedOut() == 0) {
            finishRetire(pool);
        } else {
            retiring.put(pool, Boolean.TRUE);
            pool.closeIdle(b -> true, Integer.MAX_VALUE, 0);
            if (pool.checkedOut() == 0) {
                finishRetire(pool);
            }
        }
        LOG.info(() -> "pool retired: schema=" + pool.schema() + " reason=" + why + " still_out=" + pool.checkedOut()
                + " budget=" + budget.stats().allocated() + "/" + budget.total());
        return true;
    }

    private void finishRetire(SchemaPool pool) {
        retiring.remove(pool);
        if (!pool.isClosed()) {
            pool.close();
        }
    }

    /**
     * Closes connections idle longer than {@code idleMax} (keeping each pool's minimum idle) and retires pools
     * unused that long.
     */
    public CleanupReport cleanupIdle(Duration idleMax, String trigger) {
        long started = System.nanoTime();
        java.time.Instant at = java.time.Instant.now();
        long limit = started - idleMax.toNanos();
        int closedConnections = 0;
        List<String> retired = new ArrayList<>();
        for (SchemaPool pool : List.copyOf(pools.values())) {
            if (pool.lastUsedNanos() < limit && pool.checkedOut() == 0 && pool.active() == 0 && pool.waiting() == 0
                    && pool.state() != PoolState.SUSPENDED) {
                int open = pool.total();
                if (retireInternal(pool, "idle cleanup (unused for " + idleMax.toSeconds() + " s)")) {
                    retired.add(pool.schema());
                    closedConnections += open;
                }
            } else {
                closedConnections += pool.closeIdle(b -> b.lastReturnedNanos() < limit, Integer.MAX_VALUE, pool.minIdle());
            }
        }
        CleanupReport report = new CleanupReport(at, trigger, idleMax, closedConnections, List.copyOf(retired),
                Duration.ofNanos(System.nanoTime() - started));
        meters.recordCleanup(report);
        LOG.info(() -> "idle cleanup: trigger=" + trigger + " closed=" + report.connectionsClosed() + " retired=" + report.poolsRetired()
                + " took_ms=" + report.duration().toMillis());
        return report;
    }

    /**
     * A data source for schema-migration tools (Flyway) inside the db module. Its connections are opened for the
     * migration alone, outside the schema's pool (Flyway holds one connection while it asks for another, which a pool
     * of one could never give), yet each takes a permit from the budget like any backend and is tracked as a checkout;
     * closing one closes its backend, so whatever session state the tool set dies with it.
     *
     * @param schema the schema being migrated
     * @return the data source
     */
    public javax.sql.DataSource migrationDataSource(String schema) {
        return new MigrationDataSource(schema, this);
    }

    /** Opens a budget-counted physical connection for {@link MigrationDataSource}. */
    Connection openForMigration(String schema) throws SQLException {
        if (closed) {
            throw new IllegalStateException("the pool registry is closed");
        }
        long start = System.nanoTime();
        boolean permit;
        try {
            permit = budget.acquire(schema, settings.acquireTimeout().toMillis(), this::makeRoomFor, () -> !closed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLTransientConnectionException("interrupted while waiting for room in the connection budget");
        }
        if (!permit) {
            BudgetStats b = budget.stats();
            throw new SQLTransientConnectionException(String.format("no connection for migrating schema `%s` within %d ms (budget %d/%d)",
                    schema, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), b.allocated(), b.budget()));
        }
        Connection physical;
        try {
            physical = new org.postgresql.Driver().connect(target.jdbcUrl(), target.driverProperties());
            if (physical == null) {
                throw new SQLException("the PostgreSQL driver does not accept " + target.describe());
            }
        } catch (SQLException | RuntimeException e) {
            budget.release();
            throw e;
        }
        LeakWatch.Checkout checkout = leaks.start(schema);
        int pid = physical.unwrap(org.postgresql.PGConnection.class).getBackendPID();
        return Backend.wrap(physical, pid, () -> {
            leaks.end(checkout);
            budget.release();
        });
    }

    // ---------------------------------------------------------------- reading

    /** @return the stats of the schema's current pool, if it has one */
    public Optional<PoolStats> currentStats(String schema) {
        SchemaPool pool = pools.get(schema);
        return pool == null ? Optional.empty() : Optional.of(statsOf(pool));
    }

    /** @return a snapshot of every pool, by schema name */
    public List<PoolStats> pools() {
        return pools.values().stream().map(this::statsOf).sorted(Comparator.comparing(PoolStats::schema)).toList();
    }

    /**
     * @return the process ids of the backends the schema's current pool holds now, as {@code pg_stat_activity} lists
     *         them (empty when the schema has no pool); read-only, for showing what the server sees of a pool
     */
    public List<Integer> backendPids(String schema) {
        SchemaPool pool = pools.get(schema);
        return pool == null ? List.of() : pool.backendPids();
    }

    public BudgetStats budget() {
        return budget.stats();
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

    /** @return the executor shared by every pool's housekeeping (and usable for other pool-layer timers) */
    public ScheduledExecutorService housekeeper() {
        return housekeeper;
    }

    private PoolStats statsOf(SchemaPool pool) {
        return pool.stats(leaks.suspected(pool.schema()));
    }

    private SchemaPool existing(String schema) {
        SchemaPool pool = pools.get(schema);
        if (pool == null) {
            throw new UnknownPoolException(schema);
        }
        return pool;
    }

    /** Closes every pool (checked-out connections are aborted) and stops the housekeeper. */
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
        List<SchemaPool> all = new ArrayList<>(pools.values());
        all.addAll(retiring.keySet());
        pools.clear();
        retiring.clear();
        for (SchemaPool pool : all) {
            pool.close();
        }
        housekeeper.shutdownNow();
        LOG.info(() -> "pool registry closed: pools=" + all.size() + " budget=" + budget.stats().allocated() + "/" + budget.total());
    }

    static String quoteIdent(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
