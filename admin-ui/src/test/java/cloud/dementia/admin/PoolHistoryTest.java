package cloud.dementia.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.PoolTotals;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolHistoryTest {

    final TestClock clock = new TestClock();
    final List<PoolStats> now = new ArrayList<>();
    PhysicalStats physicalNow = physical(0, 0, 0);
    final PoolHistory history = new PoolHistory(() -> List.copyOf(now), () -> physicalNow, clock);

    static PhysicalStats physical(int active, int total, long timeouts) {
        return new PhysicalStats("physical", active, total - active, total, 12, 0, 0, timeouts, total);
    }

    static PoolStats pool(String schema, int active, int waiting, long timeouts) {
        return new PoolStats(schema, PoolState.OPEN, active, waiting, 5, false, 0, timeouts, 0, Instant.EPOCH, Instant.EPOCH, PoolTotals.NONE);
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

    @Test
    void samplesThePhysicalPoolAndCountsItsRecentTimeouts() {
        physicalNow = physical(2, 4, 1);
        history.sample();
        long first = clock.millis();
        clock.advance(PoolHistory.EVERY);
        physicalNow = physical(3, 5, 3);
        history.sample();
        var newer = history.physicalSince(first);
        assertEquals(1, newer.size());
        assertEquals(3, newer.get(0).active());
        assertEquals(5, newer.get(0).total());
        assertEquals(12, newer.get(0).max());
        assertEquals(2, history.physicalSince(0).size());
        assertEquals(2, history.recentPhysicalTimeouts(3));
        for (int i = 0; i < 1000; i++) {
            clock.advance(PoolHistory.EVERY);
            history.sample();
        }
        assertEquals(PoolHistory.WINDOW.toMillis() / PoolHistory.EVERY.toMillis() + 1, history.physicalSince(0).size(), "bounded by the window");
        assertEquals(0, history.recentPhysicalTimeouts(3), "older timeouts fall out of the window");
    }
}
