package cloud.dementia.db.pool;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The global connection budget: one permit per PostgreSQL backend. A permit is taken before a physical
 * connection is opened and given back when it is closed, so the number of backends never exceeds the budget,
 * at any instant, whatever the pools do.
 */
final class Budget {

    private final int total;
    private final Semaphore permits;
    private final AtomicInteger waitingPools = new AtomicInteger();

    Budget(int total) {
        this.total = total;
        this.permits = new Semaphore(total, true);
    }

    boolean tryAcquire() {
        return permits.tryAcquire();
    }

    boolean tryAcquire(long millis) throws InterruptedException {
        waitingPools.incrementAndGet();
        try {
            return permits.tryAcquire(millis, TimeUnit.MILLISECONDS);
        } finally {
            waitingPools.decrementAndGet();
        }
    }

    /**
     * Takes a permit, making room when the budget is full: asks {@code roomMaker} to free a backend elsewhere and
     * waits in short slices, at most {@code timeoutMs}, while {@code stillNeeded} holds.
     *
     * @return whether a permit was taken
     */
    boolean acquire(String schema, long timeoutMs, BudgetedDataSource.RoomMaker roomMaker, java.util.function.BooleanSupplier stillNeeded)
            throws InterruptedException {
        if (tryAcquire()) {
            return true;
        }
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline && stillNeeded.getAsBoolean()) {
            roomMaker.makeRoomFor(schema);
            if (tryAcquire(SLICE_MS)) {
                return true;
            }
        }
        return false;
    }

    private static final long SLICE_MS = 25;

    void release() {
        permits.release();
    }

    /** @return whether some pool is waiting for room right now */
    boolean contended() {
        return waitingPools.get() > 0;
    }

    BudgetStats stats() {
        int free = permits.availablePermits();
        return new BudgetStats(total, total - free, free, waitingPools.get());
    }

    int total() {
        return total;
    }
}
