package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

import cloud.dementia.db.ConnectionTarget;

/**
 * The data source HikariCP opens physical connections from. Each connection first takes a permit from the
 * global {@link Budget}; when none is free it asks the registry to make room (retire an idle pool, close an
 * idle connection elsewhere) and waits, at most the acquire timeout, for a permit.
 */
final class BudgetedDataSource extends ConnectionSource {

    /** Asks the registry to free a backend held by another pool. */
    interface RoomMaker {
        /** @return whether a backend was (or is being) released */
        boolean makeRoomFor(String schema);
    }

    private final String schema;
    private final ConnectionTarget target;
    private final Budget budget;
    private final RoomMaker roomMaker;
    private final IntSupplier waitingThreads;
    private final long acquireTimeoutMs;
    private final org.postgresql.Driver driver = new org.postgresql.Driver();
    private final Set<Backend> backends = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    BudgetedDataSource(String schema, ConnectionTarget target, Budget budget, RoomMaker roomMaker,
                       IntSupplier waitingThreads, long acquireTimeoutMs) {
        this.schema = schema;
        this.target = target;
        this.budget = budget;
        this.roomMaker = roomMaker;
        this.waitingThreads = waitingThreads;
        this.acquireTimeoutMs = acquireTimeoutMs;
    }

    @Override
    public Connection getConnection() throws SQLException {
        takePermit();
        return open();
    }

    /** Opens a physical connection for an already taken permit; closing it gives the permit back. */
    private Connection open() throws SQLException {
        Connection physical = null;
        int pid;
        try {
            physical = driver.connect(target.jdbcUrl(), target.driverProperties());
            if (physical == null) {
                throw new SQLException("the PostgreSQL driver does not accept " + target.describe());
            }
            // the driver keeps the pid the server sent at start-up (BackendKeyData): no round trip
            pid = physical.unwrap(org.postgresql.PGConnection.class).getBackendPID();
        } catch (SQLException | RuntimeException e) {
            try {
                if (physical != null) {
                    physical.close();
                }
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            } finally {
                budget.release();
            }
            throw e;
        }
        Backend[] self = new Backend[1];
        Connection wrapped = Backend.wrap(physical, pid, () -> {
            backends.remove(self[0]);
            budget.release();
        });
        self[0] = (Backend) wrapped;
        backends.add(self[0]);
        return wrapped;
    }

    private void takePermit() throws SQLException {
        if (budget.tryAcquire()) {
            return;
        }
        if (waitingThreads.getAsInt() == 0) {
            // nobody waits: this is a min-idle fill, which must not compete with pools that have callers waiting
            throw new SQLTransientConnectionException("connection budget is full; min-idle fill for schema `" + schema + "` skipped");
        }
        try {
            if (budget.acquire(schema, acquireTimeoutMs, roomMaker, () -> !closing && waitingThreads.getAsInt() > 0)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLTransientConnectionException("interrupted while waiting for room in the connection budget");
        }
        BudgetStats b = budget.stats();
        throw new SQLTransientConnectionException("connection budget exhausted (" + b.allocated() + "/" + b.budget()
                + " backends open) while opening a connection for schema `" + schema + "`");
    }

    /** Stops waiting for budget room: the pool is closing. */
    void closing() {
        closing = true;
    }

    /** @return the physical connections this pool holds now */
    Set<Backend> backends() {
        return backends;
    }

    @Override
    public int getLoginTimeout() {
        // HikariCP waits this long for its connection adder when the pool shuts down
        return 5;
    }
}
