package cloud.dementia.db.pool;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Who may take one of the shared physical connections now, and who is next. A caller is admitted when a connection
 * is free (fewer than the budget checked out) and its schema's pool is open and below its own max. Otherwise it
 * waits, at most until its deadline, in its schema's FIFO. When a connection comes back it goes to the waiting schema
 * that holds the fewest connections (ties: the longest waiter), so a schema with many callers queued cannot starve
 * a quiet one: fair share without computing shares.
 * <p>
 * One lock guards all of it. The uncontended path is lock, two comparisons, two increments, unlock; nothing here
 * touches the database, so the lock is never held across I/O. A caller in line waits without the lock, parked until
 * it is given its turn or its deadline passes.
 */
final class Admission {

    /** How an attempt to enter ended. */
    enum Entry {
        ADMITTED,
        /** the pool was retired meanwhile: enter the schema's new pool */
        RETIRED,
        TIMED_OUT,
        SUSPENDED,
        CLOSED
    }

    /** A caller waiting in a schema's FIFO. The outcome is written under the lock, read by the caller without it. */
    static final class Waiter {
        final Thread thread = Thread.currentThread();
        final long since = System.nanoTime();
        final boolean migration;
        volatile Entry outcome;

        Waiter(boolean migration) {
            this.migration = migration;
        }

        void decide(Entry e) {
            outcome = e;
            LockSupport.unpark(thread);
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final int slots;
    /** Pools with callers waiting, in the order they started waiting. */
    private final Set<LogicalPool> queued = new LinkedHashSet<>();
    private int inUse;
    private int waiting;
    private boolean closed;

    Admission(int slots) {
        this.slots = slots;
    }

    /**
     * Admits the caller to one connection of {@code pool}, waiting at most until {@code deadlineNanos}.
     *
     * @param migration a schema migration: it is not held to the pool's max
     */
    Entry enter(LogicalPool pool, long deadlineNanos, boolean migration) throws InterruptedException {
        Waiter w;
        lock.lock();
        try {
            Entry refused = refusal(pool);
            if (refused != null) {
                return refused;
            }
            if (pool.waiters.isEmpty() && mayTake(pool, migration)) {
                take(pool);
                return Entry.ADMITTED;
            }
            w = new Waiter(migration);
            pool.waiters.addLast(w);
            queued.add(pool);
            waiting++;
        } finally {
            lock.unlock();
        }
        // the turn is given (or refused) under the lock by whoever frees a connection, who unparks this caller; it waits
        // without the lock, so waking it is one unpark (a Condition would make it queue for the lock once more). Watching
        // for the turn with a spin first was measured too: more CPU per unit, no more throughput, on two cores.
        while (w.outcome == null) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0 || Thread.interrupted()) {
                if (giveUp(pool, w)) {
                    if (left > 0) {
                        throw new InterruptedException();
                    }
                    return Entry.TIMED_OUT;
                }
                break;
            }
            LockSupport.parkNanos(this, left);
        }
        return w.outcome;
    }

    /** @return whether the caller left the line (false: its turn came just now and it must take it) */
    private boolean giveUp(LogicalPool pool, Waiter w) {
        lock.lock();
        try {
            if (w.outcome != null) {
                return false;
            }
            pool.waiters.remove(w);
            if (pool.waiters.isEmpty()) {
                queued.remove(pool);
            }
            waiting--;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives back what {@link #enter} admitted and hands the connection to the next waiter, if any. */
    void leave(LogicalPool pool) {
        lock.lock();
        try {
            pool.inUse--;
            inUse--;
            if (pool.state == PoolState.DRAINING && pool.inUse == 0) {
                pool.state = PoolState.OPEN;
            }
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    private Entry refusal(LogicalPool pool) {
        if (closed) {
            return Entry.CLOSED;
        }
        return switch (pool.state) {
            case SUSPENDED -> Entry.SUSPENDED;
            case RETIRED -> Entry.RETIRED;
            default -> null;
        };
    }

    private boolean mayTake(LogicalPool pool, boolean migration) {
        return inUse < slots && pool.state == PoolState.OPEN && (migration || pool.inUse < pool.max);
    }

    private void take(LogicalPool pool) {
        pool.inUse++;
        inUse++;
        pool.touch();
    }

    /** While a connection is free, gives it to the waiting schema that holds the fewest. */
    private void dispatch() {
        while (inUse < slots && !queued.isEmpty()) {
            LogicalPool next = null;
            Waiter head = null;
            for (LogicalPool p : queued) {
                Waiter h = p.waiters.peekFirst();
                if (h == null || !mayTake(p, h.migration)) {
                    continue;
                }
                if (next == null || p.inUse < next.inUse || (p.inUse == next.inUse && h.since < head.since)) {
                    next = p;
                    head = h;
                }
            }
            if (next == null) {
                return;
            }
            next.waiters.pollFirst();
            if (next.waiters.isEmpty()) {
                queued.remove(next);
            }
            waiting--;
            take(next);
            head.decide(Entry.ADMITTED);
        }
    }

    /** Wakes every waiter of the pool with {@code outcome} (suspended, retired). */
    private void refuseWaiters(LogicalPool pool, Entry outcome) {
        for (Waiter w : pool.waiters) {
            w.decide(outcome);
            waiting--;
        }
        pool.waiters.clear();
        queued.remove(pool);
    }

    void resize(LogicalPool pool, int max, boolean ownSize) {
        lock.lock();
        try {
            pool.max = max;
            pool.ownSize = ownSize;
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    /** @return the state before */
    PoolState suspend(LogicalPool pool) {
        lock.lock();
        try {
            PoolState before = pool.state;
            if (before == PoolState.OPEN || before == PoolState.DRAINING) {
                pool.state = PoolState.SUSPENDED;
                refuseWaiters(pool, Entry.SUSPENDED);
                dispatch();
            }
            return before;
        } finally {
            lock.unlock();
        }
    }

    /** @return the state before */
    PoolState resume(LogicalPool pool) {
        lock.lock();
        try {
            PoolState before = pool.state;
            if (before == PoolState.SUSPENDED) {
                pool.state = PoolState.OPEN;
                dispatch();
            }
            return before;
        } finally {
            lock.unlock();
        }
    }

    /** New work waits until what is in flight now has finished; then the pool serves again. @return the state before */
    PoolState drain(LogicalPool pool) {
        lock.lock();
        try {
            PoolState before = pool.state;
            if (before == PoolState.OPEN && pool.inUse > 0) {
                pool.state = PoolState.DRAINING;
            }
            return before;
        } finally {
            lock.unlock();
        }
    }

    /** The pool takes no more work; its waiters move on to the schema's next pool. */
    void retire(LogicalPool pool) {
        lock.lock();
        try {
            pool.state = PoolState.RETIRED;
            refuseWaiters(pool, Entry.RETIRED);
            dispatch();
        } finally {
            lock.unlock();
        }
    }

    /** @return whether the pool is unused (nothing checked out, nobody waiting) and was retired by this call */
    boolean retireIfUnused(LogicalPool pool) {
        lock.lock();
        try {
            if (pool.inUse > 0 || !pool.waiters.isEmpty() || pool.state == PoolState.SUSPENDED || pool.state == PoolState.RETIRED) {
                return false;
            }
            pool.state = PoolState.RETIRED;
            return true;
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            for (LogicalPool p : queued.toArray(LogicalPool[]::new)) {
                refuseWaiters(p, Entry.CLOSED);
            }
        } finally {
            lock.unlock();
        }
    }

    /** One pool's admission numbers, read together. */
    record PoolNumbers(PoolState state, int inUse, int waiting, int max, boolean ownSize, long longestWaitMillis) {
    }

    PoolNumbers numbers(LogicalPool pool) {
        lock.lock();
        try {
            Waiter head = pool.waiters.peekFirst();
            return new PoolNumbers(pool.state, pool.inUse, pool.waiters.size(), pool.max, pool.ownSize,
                    head == null ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - head.since));
        } finally {
            lock.unlock();
        }
    }

    /** @return connections checked out now, every schema together */
    int inUse() {
        lock.lock();
        try {
            return inUse;
        } finally {
            lock.unlock();
        }
    }

    /** @return callers waiting now, every schema together */
    int waiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    int slots() {
        return slots;
    }
}
