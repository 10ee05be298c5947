package cloud.dementia.server.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import cloud.dementia.db.pool.CleanupReport;
import cloud.dementia.db.pool.IdleCleanup;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdleCleanupJobTest {

    @Test
    void runsOnScheduleOnDemandAndPicksUpNewSettingsAtRunTime() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry())) {
            registry.inStatement("busy", tx -> tx.queryOne("SELECT 1", r -> r.integer(1)));
            IdleCleanup cleanup = new IdleCleanup(registry, Duration.ofHours(1), Duration.ofHours(1));
            try (IdleCleanupJob job = new IdleCleanupJob(cleanup, registry.housekeeper(), () -> { })) {
                Instant next = cleanup.nextRun().orElseThrow();
                assertTrue(next.isAfter(Instant.now().plus(Duration.ofMinutes(59))), "next run one interval away");

                CleanupReport manual = cleanup.runNow("operator");
                assertEquals("operator", manual.trigger());
                assertEquals(List.of(), manual.poolsRetired(), "the pool was used within max idle");

                cleanup.change(Duration.ofMillis(300), Duration.ofMillis(100));
                Thread.sleep(100);
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (cleanup.history().stream().noneMatch(r -> r.trigger().equals("schedule")) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                List<CleanupReport> history = cleanup.history();
                CleanupReport scheduled = history.stream().filter(r -> r.trigger().equals("schedule")).findFirst().orElseThrow();
                assertEquals(Duration.ofMillis(100), scheduled.idleMax(), "the new max idle applies");
                assertTrue(history.stream().anyMatch(r -> r.poolsRetired().contains("busy")), "the idle pool was retired");
                assertTrue(registry.currentStats("busy").isEmpty());
                assertEquals(0, db.backends());
                Thread.sleep(1000);
                assertThat("runs repeat at the new interval", cleanup.history().size(), greaterThanOrEqualTo(3));
                assertEquals("operator", cleanup.history().get(cleanup.history().size() - 1).trigger(), "newest first");
                assertThrows(IllegalArgumentException.class, () -> cleanup.change(Duration.ZERO, Duration.ofSeconds(1)));
            }
        }
    }
}
