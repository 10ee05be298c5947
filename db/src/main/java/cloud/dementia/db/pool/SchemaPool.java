package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.pool.HikariPool;

import cloud.dementia.db.ConnectionTarget;

/** One schema's HikariCP pool, its state as operators steer it, and its physical connections. */
final class SchemaPool {

    /** Set while the pool layer itself borrows connections (cleanup, reclaim), so meters ignore it. */
    static final ThreadLocal<Boolean> MAINTENANCE = ThreadLocal.withInitial(() -> false);

    private final String schema;
    private final HikariDataSource dataSource;
    private final HikariPool hikari;
    private final BudgetedDataSource source;
    private final AtomicReference<PoolState> state = new AtomicReference<>(PoolState.OPEN);
    private final Instant createdAt = Instant.now();
    private final AtomicLong acquireTimeouts = new AtomicLong();
    private final AtomicInteger checkedOut = new AtomicInteger();
    private volatile long lastUsedNanos = System.nanoTime();
    private volatile Instant lastUsedAt = createdAt;

    SchemaPool(String schema, ConnectionTarget target, int max, int minIdle, long acquireTimeoutMs, Budget budget,
               BudgetedDataSource.RoomMaker roomMaker, ScheduledExecutorService housekeeper, ThreadFactory threads,
               MetricsTrackerFactory metrics) {
        this.schema = schema;
        AtomicReference<HikariPool> self = new AtomicReference<>();
        this.source = new BudgetedDataSource(schema, target, budget, roomMaker,
                () -> self.get() == null ? 1 : self.get().getThreadsAwaitingConnection(), acquireTimeoutMs);
        HikariConfig config = new HikariConfig();
        config.setPoolName(schema);
        config.setDataSource(source);
        config.setMaximumPoolSize(max);
        config.setMinimumIdle(minIdle);
        config.setConnectionTimeout(acquireTimeoutMs);
        config.setValidationTimeout(Math.min(acquireTimeoutMs, 2000));
        // the registry closes idle connections itself (counted, on its schedule) and tracks leaks itself
        config.setIdleTimeout(0);
        config.setLeakDetectionThreshold(0);
        // no keepalive pings: they would keep a serverless compute (Neon) from ever suspending;
        // stale connections are found by validation and by the transaction prelude instead
        config.setKeepaliveTime(0);
        config.setMaxLifetime(30 * 60_000L);
        // creating a pool must not block or fail on the database: the first unit of work does
        config.setInitializationFailTimeout(-1);
        config.setAutoCommit(false);
        config.setRegisterMbeans(false);
        config.setScheduledExecutor(housekeeper);
        config.setThreadFactory(threads);
        config.setMetricsTrackerFactory(metrics);
        this.dataSource = new HikariDataSource(config);
        this.hikari = (HikariPool) dataSource.getHikariPoolMXBean();
        self.set(hikari);
    }

    String schema() {
        return schema;
    }

    PoolState state() {
        PoolState s = state.get();
        if (s == PoolState.DRAINING && source.backends().stream().noneMatch(Backend::drainPending)) {
            state.compareAndSet(PoolState.DRAINING, PoolState.OPEN);
            return state.get();
        }
        return s;
    }

    boolean setState(PoolState expected, PoolState next) {
        return state.compareAndSet(expected, next);
    }

    void forceState(PoolState next) {
        state.set(next);
    }

    Connection borrow() throws SQLException {
        touch();
        Connection c = dataSource.getConnection();
        checkedOut.incrementAndGet();
        return c;
    }

    /** Gives a borrowed connection back; {@code close} closes its backend instead of keeping it idle. */
    void giveBack(Connection connection, boolean close) {
        checkedOut.decrementAndGet();
        touch();
        try {
            Backend backend = connection.unwrap(Backend.class);
            backend.markReturned();
            if (close || backend.drainPending() || state.get() == PoolState.RETIRED
                    || hikari.getTotalConnections() > dataSource.getHikariConfigMXBean().getMaximumPoolSize()) {
                dataSource.evictConnection(connection);
            } else {
                connection.close();
            }
        } catch (SQLException e) {
            // a connection that cannot even be unwrapped or closed is broken: make sure it leaves the pool
            dataSource.evictConnection(connection);
        }
    }

    void countTimeout() {
        acquireTimeouts.incrementAndGet();
    }

    private void touch() {
        lastUsedNanos = System.nanoTime();
        lastUsedAt = Instant.now();
    }

    long lastUsedNanos() {
        return lastUsedNanos;
    }

    int checkedOut() {
        return checkedOut.get();
    }

    int active() {
        return hikari.getActiveConnections();
    }

    int idle() {
        return hikari.getIdleConnections();
    }

    int total() {
        return hikari.getTotalConnections();
    }

    int waiting() {
        return hikari.getThreadsAwaitingConnection();
    }

    int max() {
        return dataSource.getHikariConfigMXBean().getMaximumPoolSize();
    }

    int minIdle() {
        return dataSource.getHikariConfigMXBean().getMinimumIdle();
    }

    PoolStats stats(int suspectedLeaks) {
        return new PoolStats(schema, state(), active(), idle(), total(), max(), minIdle(), waiting(),
                acquireTimeouts.get(), suspectedLeaks, createdAt, lastUsedAt);
    }

    /** Applies a new size; idle connections above the new maximum close now, busy ones when returned. */
    void resize(int max, int minIdle) {
        var config = dataSource.getHikariConfigMXBean();
        if (max >= config.getMaximumPoolSize()) {
            config.setMaximumPoolSize(max);
            config.setMinimumIdle(minIdle);
        } else {
            config.setMinimumIdle(minIdle);
            config.setMaximumPoolSize(max);
        }
        int excess = total() - max;
        if (excess > 0) {
            closeIdle(b -> true, excess, 0);
        }
    }

    /** Idle connections close now, in-use ones when returned; new work gets fresh connections. */
    void drain() {
        source.backends().forEach(Backend::markDrainPending);
        state.compareAndSet(PoolState.OPEN, PoolState.DRAINING);
        hikari.softEvictConnections();
    }

    /**
     * Closes idle connections that match, keeping at least {@code keepIdle} idle ones.
     *
     * @return how many were closed
     */
    int closeIdle(Predicate<Backend> which, int limit, int keepIdle) {
        int candidates = Math.min(idle() - keepIdle, limit);
        if (candidates <= 0) {
            return 0;
        }
        List<Connection> borrowed = new ArrayList<>();
        int closed = 0;
        MAINTENANCE.set(true);
        try {
            // borrow only what is idle right now: a zero wait never queues behind real work
            int idleNow = idle();
            for (int i = 0; i < idleNow && closed < candidates; i++) {
                Connection c;
                try {
                    c = hikari.getConnection(0);
                } catch (SQLException e) {
                    break;
                }
                Backend b = c.unwrap(Backend.class);
                if (which.test(b)) {
                    dataSource.evictConnection(c);
                    closed++;
                } else {
                    borrowed.add(c);
                }
            }
        } catch (SQLException e) {
            // unwrap cannot fail for our own backends; stop quietly if it does
        } finally {
            for (Connection c : borrowed) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // returning to the pool does not fail
                }
            }
            MAINTENANCE.set(false);
        }
        return closed;
    }

    List<Backend> backends() {
        return List.copyOf(source.backends());
    }

    /** @return the process ids of the backends this pool holds now */
    List<Integer> backendPids() {
        return source.backends().stream().map(Backend::pid).sorted().toList();
    }

    boolean isClosed() {
        return dataSource.isClosed();
    }

    void close() {
        source.closing();
        dataSource.close();
    }
}
