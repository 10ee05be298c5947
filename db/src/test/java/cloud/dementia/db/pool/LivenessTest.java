package cloud.dementia.db.pool;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the registry's own traffic shows of the database ({@link PoolRegistry#liveness()}), against a real PostgreSQL. */
class LivenessTest {

    @Test
    void answersWorkInFlightAndSaturationAreSeenWithoutARoundTrip() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(2).withPoolSize(2, 0))) {
            Liveness fresh = f.registry.liveness();
            assertNull(fresh.sinceLastAnswer(), "no unit of work has run yet");
            assertEquals(0, fresh.inFlight());
            assertFalse(fresh.saturated());
            assertFalse(fresh.showsLiveDatabase(Duration.ofSeconds(2), Duration.ofSeconds(32)), "no traffic, no evidence");

            f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1)));
            Liveness answered = f.registry.liveness();
            assertNotNull(answered.sinceLastAnswer());
            assertTrue(answered.showsLiveDatabase(Duration.ofSeconds(2), Duration.ofSeconds(32)));
            assertFalse(answered.showsLiveDatabase(Duration.ZERO, Duration.ofSeconds(32)), "an answer older than the window is not evidence");

            try (PoolOperationsTest.Holder a = new PoolOperationsTest.Holder(f.registry, "acme");
                 PoolOperationsTest.Holder b = new PoolOperationsTest.Holder(f.registry, "beta")) {
                Liveness busy = f.registry.liveness();
                assertEquals(2, busy.inFlight());
                assertTrue(busy.saturated(), "both connections of the budget are taken");
                assertNotNull(busy.youngestInFlight());
                assertTrue(busy.showsLiveDatabase(Duration.ZERO, Duration.ofSeconds(32)), "work in flight within the statement time");
                assertFalse(busy.showsLiveDatabase(Duration.ZERO, Duration.ZERO), "work in flight for longer than a statement may run");
            }
        }
    }

    @Test
    void anErrorRaisedByTheServerIsAnAnswer() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(2).withPoolSize(2, 0))) {
            assertThrows(DataAccessException.class, () -> f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1/0", r -> r.integer(1))));
            assertNotNull(f.registry.liveness().sinceLastAnswer(), "division by zero came from a live server");
        }
    }
}
