package cloud.dementia.db.search;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tool calls being served now, and when the last one started or ended. The background embedder waits for a quiet
 * moment: on a machine of two cores the model's CPU (5-30 ms a text) would otherwise land on the calls' latency.
 */
public final class Traffic {

    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastNanos = System.nanoTime() - Long.MAX_VALUE / 2;

    /** A call starts. */
    public void enter() {
        inFlight.incrementAndGet();
        lastNanos = System.nanoTime();
    }

    /** A call ended. */
    public void exit() {
        lastNanos = System.nanoTime();
        inFlight.decrementAndGet();
    }

    /** @return whether a call is being served, or one started or ended within {@code quietNanos} */
    public boolean busy(long quietNanos) {
        return inFlight.get() > 0 || System.nanoTime() - lastNanos < quietNanos;
    }
}
