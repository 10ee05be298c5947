package cloud.dementia.db.pool;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One physical PostgreSQL connection (one backend) as the budget sees it. HikariCP holds it like any driver
 * connection; closing or aborting it gives its budget permit back exactly once. Reachable from a pooled
 * connection with {@code unwrap(Backend.class)}.
 */
interface Backend {

    /** @return when this backend was last given back to its pool (or opened), in {@link System#nanoTime()} */
    long lastReturnedNanos();

    /** Records that the backend was just given back to its pool. */
    void markReturned();

    /** @return whether an operator's drain asked for this backend to close */
    boolean drainPending();

    void markDrainPending();

    /** @return whether the physical connection was closed */
    boolean closed();

    /**
     * @return the process id the server reported for this connection at start-up ({@code pg_backend_pid()}), how the
     *         backend is found in {@code pg_stat_activity}; behind a pooler it is the pooler's, not a server process
     */
    int pid();

    /**
     * Wraps a fresh driver connection.
     *
     * @param physical  the driver's connection
     * @param pid       the backend process id the server reported for it
     * @param onClose   called once when the connection is closed or aborted
     * @return a connection that is also a {@link Backend}
     */
    static Connection wrap(Connection physical, int pid, Runnable onClose) {
        Handler handler = new Handler(physical, pid, onClose);
        return (Connection) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Connection.class, Backend.class}, handler);
    }

    final class Handler implements InvocationHandler, Backend {
        private final Connection physical;
        private final int pid;
        private final Runnable onClose;
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile long lastReturned = System.nanoTime();
        private volatile boolean drainPending;

        private Handler(Connection physical, int pid, Runnable onClose) {
            this.physical = physical;
            this.pid = pid;
            this.onClose = onClose;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Backend.class) {
                return method.invoke(this, args);
            }
            String name = method.getName();
            if (name.equals("unwrap") && args[0] == Backend.class) {
                return proxy;
            }
            if (name.equals("isWrapperFor") && args[0] == Backend.class) {
                return true;
            }
            if (name.equals("equals")) {
                return proxy == args[0];
            }
            if (name.equals("hashCode")) {
                return System.identityHashCode(proxy);
            }
            try {
                return method.invoke(physical, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                if ((name.equals("close") || name.equals("abort")) && closed.compareAndSet(false, true)) {
                    onClose.run();
                }
            }
        }

        @Override
        public long lastReturnedNanos() {
            return lastReturned;
        }

        @Override
        public void markReturned() {
            lastReturned = System.nanoTime();
        }

        @Override
        public boolean drainPending() {
            return drainPending;
        }

        @Override
        public void markDrainPending() {
            drainPending = true;
        }

        @Override
        public boolean closed() {
            return closed.get();
        }

        @Override
        public int pid() {
            return pid;
        }
    }
}
