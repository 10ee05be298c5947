package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One physical PostgreSQL connection (one backend), as HikariCP holds it. Closing or aborting it runs {@code onClose}
 * exactly once, after the driver has closed the socket: that is when its budget permit is given back, so a
 * replacement can never be opened while the backend it replaces still counts on the server. Reachable from a pooled
 * connection with {@code unwrap(Backend.class)}.
 */
final class Backend extends DelegatingConnection {

    private final int pid;
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long lastReturnedNanos = System.nanoTime();
    /** The unit of work holding this connection now, or {@code null} while it is in the pool (see {@link LeakWatch}). */
    volatile LeakWatch.Checkout checkout;

    /**
     * @param physical the driver's connection
     * @param pid      the backend process id the server reported at start-up ({@code pg_backend_pid()})
     * @param onClose  run once when the connection is closed or aborted
     */
    Backend(Connection physical, int pid, Runnable onClose) {
        super(physical);
        this.pid = pid;
        this.onClose = onClose;
    }

    /**
     * @return the process id that {@code pg_stat_activity} lists this backend under; behind a pooler it is the
     *         pooler's, not a server process
     */
    int pid() {
        return pid;
    }

    /** @return when this backend was last given back to the pool (or opened), in {@link System#nanoTime()} */
    long lastReturnedNanos() {
        return lastReturnedNanos;
    }

    void markReturned() {
        lastReturnedNanos = System.nanoTime();
    }

    boolean closed() {
        return closed.get();
    }

    @Override
    public void close() throws SQLException {
        try {
            delegate.close();
        } finally {
            released();
        }
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        try {
            delegate.abort(executor);
        } finally {
            released();
        }
    }

    private void released() {
        if (closed.compareAndSet(false, true)) {
            onClose.run();
        }
    }
}
