package cloud.dementia.db.pool;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.logging.Logger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import com.zaxxer.hikari.pool.HikariPool;

import io.micrometer.core.instrument.MeterRegistry;

import cloud.dementia.db.ConnectionTarget;

/**
 * The physical connections: one HikariCP pool whose size is the budget. Its backends serve every schema (the schema
 * is named in each statement), so no backend is ever opened or closed because of which schema work is for. HikariCP
 * keeps what it is good at (the bag, validation of connections idle for a while, replacing dead ones, max lifetime,
 * the standard {@code hikaricp_*} meters); which caller may take a connection, and in what order, is decided before
 * it is asked ({@link Admission}), so HikariCP never holds more callers than it has connections.
 * <p>
 * This is the one place backends are opened ({@link Source#getConnection()}): a budget permit first, then the driver.
 */
final class PhysicalPool implements AutoCloseable {

    /** The physical pool's name: its {@code pool} tag on the {@code hikaricp_*} meters and its row on the console. */
    static final String NAME = "physical";
    private static final Logger LOG = Logger.getLogger(PhysicalPool.class.getName());

    private final Budget budget;
    private final Source source;
    private final HikariDataSource dataSource;
    private final HikariPool hikari;
    private final AtomicLong timeouts = new AtomicLong();

    /**
     * @param statementTimeoutMs the statement timeout to give every connection as its session default when it opens, or
     *                           0 to leave the session alone (behind a pooler)
     * @param socketTimeoutS     how long a read on a connection may wait for the server: past it the connection is
     *                           taken as lost, so a network that stops answering cannot hold a call for ever
     */
    PhysicalPool(ConnectionTarget target, Budget budget, int minIdle, long acquireTimeoutMs, long statementTimeoutMs, int socketTimeoutS,
                 ScheduledExecutorService housekeeper, ThreadFactory threads, MeterRegistry meters) {
        this.budget = budget;
        this.source = new Source(target, budget, acquireTimeoutMs, statementTimeoutMs, socketTimeoutS, housekeeper);
        HikariConfig config = hikariConfig(budget.total(), minIdle, acquireTimeoutMs);
        config.setDataSource(source);
        config.setScheduledExecutor(housekeeper);
        config.setThreadFactory(threads);
        config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(meters));
        this.dataSource = new HikariDataSource(config);
        this.hikari = (HikariPool) dataSource.getHikariPoolMXBean();
    }

    /**
     * The physical pool's HikariCP settings (besides where connections come from and the threads): one place, also for
     * the overhead benchmark's bare pool.
     */
    static HikariConfig hikariConfig(int max, int minIdle, long acquireTimeoutMs) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(NAME);
        config.setMaximumPoolSize(max);
        config.setMinimumIdle(minIdle);
        config.setConnectionTimeout(acquireTimeoutMs);
        config.setValidationTimeout(Math.min(acquireTimeoutMs - 1, 2000));
        // idle connections are closed by idle cleanup (counted, on its schedule); leaks are tracked by the registry
        config.setIdleTimeout(0);
        config.setLeakDetectionThreshold(0);
        // no keepalive pings: they would keep a serverless compute (Neon) from ever suspending. A connection idle for
        // more than HikariCP's bypass window (500 ms) is validated before it is handed out instead.
        config.setKeepaliveTime(0);
        config.setMaxLifetime(30 * 60_000L);
        // creating the pool must not block or fail on the database: the first unit of work does
        config.setInitializationFailTimeout(-1);
        config.setAutoCommit(true);
        config.setRegisterMbeans(false);
        return config;
    }

    /**
     * The driver properties every physical connection opens with: the target's own, the read timeout and, on a direct
     * connection, the statement timeout as the session default. One place, also for the overhead benchmark's bare pool.
     */
    static java.util.Properties driverProperties(ConnectionTarget target, long statementTimeoutMs, int socketTimeoutS) {
        java.util.Properties properties = target.driverProperties();
        if (socketTimeoutS > 0 && !properties.containsKey("socketTimeout") && !target.jdbcUrl().contains("socketTimeout=")) {
            properties.setProperty("socketTimeout", String.valueOf(socketTimeoutS));
        }
        if (statementTimeoutMs > 0) {
            // sent in the start-up packet: the server applies it to every statement of the session, at no cost per statement
            properties.setProperty("options", "-c statement_timeout=" + statementTimeoutMs);
        }
        return properties;
    }

    /**
     * Takes a connection. The caller has been admitted, so one is idle or being opened; the wait is for that.
     *
     * @throws SQLException when none came within {@code timeoutMs} (the database may be down)
     */
    Connection borrow(long timeoutMs) throws SQLException {
        try {
            return hikari.getConnection(timeoutMs);
        } catch (SQLTransientConnectionException e) {
            timeouts.incrementAndGet();
            throw e;
        }
    }

    /** Gives a borrowed connection back; {@code evict} closes its backend (HikariCP opens another when needed). */
    void giveBack(Connection connection, Backend backend, boolean evict) {
        backend.markReturned();
        try {
            if (evict) {
                dataSource.evictConnection(connection);
            } else {
                connection.close();
            }
        } catch (SQLException e) {
            // a connection that cannot even be returned is broken: make sure it leaves the pool
            dataSource.evictConnection(connection);
        }
    }

    /**
     * Closes idle connections whose time since they were last returned matches, keeping at least {@code keepIdle}
     * idle ones.
     *
     * @return how many were closed
     */
    int closeIdle(LongPredicate lastReturnedNanos, int keepIdle) {
        int idleNow = hikari.getIdleConnections();
        int closable = idleNow - keepIdle;
        if (closable <= 0) {
            return 0;
        }
        int closed = 0;
        List<Connection> kept = new ArrayList<>();
        // while connections it keeps are borrowed, HikariCP would count them missing from the minimum idle and open new
        // ones: no minimum during the sweep (it never closes below it), restored at the end
        var config = dataSource.getHikariConfigMXBean();
        int minIdle = config.getMinimumIdle();
        config.setMinimumIdle(0);
        try {
            // look at each connection idle now once; borrow only while HikariCP says one is idle (a borrow that finds
            // nothing would ask for a new connection)
            for (int looked = 0; looked < idleNow && closed < closable && hikari.getIdleConnections() > 0; looked++) {
                Connection c;
                try {
                    c = hikari.getConnection(0);
                } catch (SQLException e) {
                    break;
                }
                Backend b = c.unwrap(Backend.class);
                if (lastReturnedNanos.test(b.lastReturnedNanos())) {
                    dataSource.evictConnection(c);
                    closed++;
                } else {
                    kept.add(c);
                }
            }
        } catch (SQLException e) {
            // unwrap cannot fail for our own backends; stop quietly if it does
        } finally {
            for (Connection c : kept) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // returning to the pool does not fail
                }
            }
            config.setMinimumIdle(minIdle);
        }
        return closed;
    }

    /** Every connection is replaced: idle ones close now, in-use ones when they are returned (PgBouncer's RECONNECT). */
    void reconnect() {
        hikari.softEvictConnections();
    }

    /** Changes how many idle connections are kept open (at most the budget). */
    void minIdle(int minIdle) {
        dataSource.getHikariConfigMXBean().setMinimumIdle(minIdle);
    }

    PhysicalStats stats() {
        return new PhysicalStats(NAME, hikari.getActiveConnections(), hikari.getIdleConnections(), hikari.getTotalConnections(),
                budget.total(), dataSource.getHikariConfigMXBean().getMinimumIdle(), hikari.getThreadsAwaitingConnection(),
                timeouts.get(), budget.allocated());
    }

    /** @return the process ids of every backend open now */
    List<Integer> backendPids() {
        return source.open.stream().map(Backend::pid).sorted().toList();
    }

    /** @return the physical connections open now (a live view) */
    java.util.Collection<Backend> backends() {
        return source.open;
    }

    @Override
    public void close() {
        source.closing = true;
        dataSource.close();
    }

    /** Where HikariCP opens physical connections: a budget permit first, then the driver. */
    private static final class Source implements DataSource {
        /**
         * How long a closed backend's permit is held after the close: PostgreSQL still lists a backend for a moment after
         * the client closed it (measured on a 2-core machine: p50 1 ms, p99 11 ms, worst 27 ms of 200), and its
         * replacement must not open on top of it.
         */
        private static final long EXIT_GRACE_MS = 50;

        private final ConnectionTarget target;
        private final java.util.Properties properties;
        private final Budget budget;
        private final long permitWaitMs;
        private final ScheduledExecutorService timer;
        private final org.postgresql.Driver driver = new org.postgresql.Driver();
        private final Set<Backend> open = ConcurrentHashMap.newKeySet();
        private volatile boolean closing;

        Source(ConnectionTarget target, Budget budget, long permitWaitMs, long statementTimeoutMs, int socketTimeoutS,
               ScheduledExecutorService timer) {
            this.target = target;
            this.timer = timer;
            this.properties = driverProperties(target, statementTimeoutMs, socketTimeoutS);
            this.budget = budget;
            this.permitWaitMs = permitWaitMs;
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (closing) {
                throw new SQLTransientConnectionException("the pool is closing");
            }
            try {
                // HikariCP never asks for more than the budget at once; a wait here is for a backend still being closed
                if (!budget.acquire(permitWaitMs)) {
                    throw new SQLTransientConnectionException("connection budget exhausted (" + budget.allocated() + "/" + budget.total()
                            + " backends open): a closing backend did not go away within " + permitWaitMs + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLTransientConnectionException("interrupted while waiting for room in the connection budget");
            }
            Connection physical = null;
            try {
                physical = driver.connect(target.jdbcUrl(), properties);
                if (physical == null) {
                    throw new SQLException("the PostgreSQL driver does not accept " + target.describe());
                }
                // the driver keeps the pid the server sent at start-up (BackendKeyData): no round trip
                int pid = physical.unwrap(org.postgresql.PGConnection.class).getBackendPID();
                Backend[] self = new Backend[1];
                self[0] = new Backend(physical, pid, () -> {
                    open.remove(self[0]);
                    timer.schedule(budget::release, EXIT_GRACE_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
                });
                open.add(self[0]);
                return self[0];
            } catch (SQLException | RuntimeException e) {
                if (physical != null) {
                    try {
                        physical.close();
                    } catch (SQLException closing) {
                        e.addSuppressed(closing);
                    }
                }
                budget.release();
                LOG.fine(() -> "opening a backend failed: " + e.getMessage());
                throw e;
            }
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException("credentials come from the configured database target");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            // HikariCP waits this long for its connection adder when the pool shuts down
            return 5;
        }

        @Override
        public java.util.logging.Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            if (iface.isInstance(this)) {
                return iface.cast(this);
            }
            throw new SQLException("not a wrapper for " + iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return iface.isInstance(this);
        }
    }
}
