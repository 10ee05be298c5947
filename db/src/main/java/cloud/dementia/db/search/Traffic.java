package cloud.dementia.db.search;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tool calls being served now. The background embedder gives way to them: on a machine of two cores the model's
 * 20-30 ms of CPU per text would otherwise land on the calls' latency.
 */
public final class Traffic {

    private final AtomicInteger inFlight = new AtomicInteger();

    /** A call starts. */
    public void enter() {
        inFlight.incrementAndGet();
    }

    /** A call ended. */
    public void exit() {
        inFlight.decrementAndGet();
    }

    /** @return whether any call is being served */
    public boolean busy() {
        return inFlight.get() > 0;
    }
}
