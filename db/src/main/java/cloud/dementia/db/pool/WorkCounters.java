package cloud.dementia.db.pool;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A schema pool's running totals ({@link PoolTotals}). Written by every unit of work as it ends, from many threads at
 * once, read rarely (the console, meters): {@link LongAdder}s, so writers do not contend on one cache line, and a unit
 * adds its statements once at its end rather than once per statement.
 */
final class WorkCounters {

    private final LongAdder transactions = new LongAdder();
    private final LongAdder statements = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();

    /** A caller got a connection, or gave up, after waiting this long. */
    void waited(long nanos) {
        waitNanos.add(nanos);
    }

    /** Statements an attempt sent, counted whether or not the unit then ends (it may run again on another connection). */
    void sent(int count) {
        statements.add(count);
    }

    /** A unit of work ended. */
    void ended(boolean failed) {
        transactions.increment();
        if (failed) {
            errors.increment();
        }
    }

    PoolTotals totals() {
        return new PoolTotals(transactions.sum(), statements.sum(), errors.sum(), TimeUnit.NANOSECONDS.toMillis(waitNanos.sum()));
    }
}
