package cloud.dementia.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolStats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolHistoryTest {

    final TestClock clock = new TestClock();
    final List<PoolStats> now = new ArrayList<>();
    final PoolHistory history = new PoolHistory(() -> List.copyOf(now), clock);

    static PoolStats pool(String schema, int active, int waiting, long timeouts) {
        return new PoolStats(schema, PoolState.OPEN, active, waiting, 5, false, 0, timeouts, 0, Instant.EPOCH, Instant.EPOCH);
    }

    @Test
    void keepsFifteenMinutesPerPoolAndForgetsPoolsThatAreGone() {
        now.add(pool("acme", 1, 0, 0));
        now.add(pool("gone", 0, 0, 0));
        history.sample();
        now.remove(1);
        for (int i = 0; i < 1000; i++) {
            clock.advance(PoolHistory.EVERY);
            history.sample();
        }
        var all = history.since(0);
        assertEquals(List.of("acme"), List.copyOf(all.keySet()), "a pool without samples in the window is dropped");
        int samples = all.get("acme").size();
        assertEquals(PoolHistory.WINDOW.toMillis() / PoolHistory.EVERY.toMillis() + 1, samples, "bounded by the window");
        assertTrue(all.get("acme").get(0).at() >= clock.millis() - PoolHistory.WINDOW.toMillis());
    }

    @Test
    void returnsOnlyNewerSamplesAndCountsRecentTimeouts() {
        now.add(pool("acme", 5, 2, 10));
        history.sample();
        long first = clock.millis();
        clock.advance(PoolHistory.EVERY);
        now.set(0, pool("acme", 5, 3, 14));
        history.sample();
        var newer = history.since(first).get("acme");
        assertEquals(1, newer.size());
        assertEquals(3, newer.get(0).waiting());
        assertEquals(4, history.recentTimeouts("acme", 14));
        assertEquals(2, history.recentTimeouts("acme", 2), "a pool opened again counts from zero");
        assertEquals(0, history.recentTimeouts("other", 7));
        clock.advance(Duration.ofMinutes(16));
        history.sample();
        assertEquals(0, history.recentTimeouts("acme", 14), "older timeouts fall out of the window");
    }
}
