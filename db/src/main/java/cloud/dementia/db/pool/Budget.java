package cloud.dementia.db.pool;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The global connection budget: one permit per PostgreSQL backend. A permit is taken before a physical connection
 * is opened and given back only after it is closed, so the number of backends never exceeds the budget at any
 * instant, also while HikariCP replaces a connection (it removes the old one from its bag before the close has
 * finished, and would otherwise open the new one meanwhile).
 */
final class Budget {

    private final int total;
    private final Semaphore permits;

    Budget(int total) {
        this.total = total;
        this.permits = new Semaphore(total, true);
    }

    /** @return whether a permit was taken within {@code millis} */
    boolean acquire(long millis) throws InterruptedException {
        return permits.tryAcquire(millis, TimeUnit.MILLISECONDS);
    }

    void release() {
        permits.release();
    }

    /** @return backends open now (permits taken) */
    int allocated() {
        return total - permits.availablePermits();
    }

    int total() {
        return total;
    }
}
