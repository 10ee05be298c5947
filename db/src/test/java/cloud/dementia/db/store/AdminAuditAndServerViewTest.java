package cloud.dementia.db.store;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.testing.TestDatabase;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminAuditAndServerViewTest {

    @Test
    void auditEntriesSurviveANewRegistryAndComeBackNewestFirst() {
        TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
        try {
            try (PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry())) {
                ControlSchema.migrate(registry);
                AdminAudit audit = new AdminAudit(registry);
                AdminAudit.Entry first = audit.record("admin (api, 127.0.0.1)", "resize", "acme", "{\"max\": 5}", "{\"max\": 8}");
                audit.record("admin (console, 127.0.0.1)", "cleanup run", null, null, "{\"closed\": 2}");
                assertEquals("{\"max\": 5}", first.before());
                assertTrue(first.at() != null && first.id() > 0);
            }
            try (PoolRegistry again = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry())) {
                AdminAudit audit = new AdminAudit(again);
                List<AdminAudit.Entry> entries = audit.recent(10, Long.MAX_VALUE);
                assertEquals(List.of("cleanup run", "resize"), entries.stream().map(AdminAudit.Entry::action).toList());
                assertNull(entries.get(0).target());
                assertEquals("{\"max\": 8}", entries.get(1).after());
                assertEquals(1, audit.recent(10, entries.get(0).id()).size(), "paging: older than the newest");
                assertEquals(List.of("acme"), audit.recentFor("acme", 5).stream().map(AdminAudit.Entry::target).toList());
            }
        } finally {
            db.close();
        }
    }

    @Test
    void serverViewFindsTheBackendsASchemaHoldsAndEveryPhysicalOneByPid() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            ServerView view = new ServerView(f.registry);
            assertTrue(view.of("acme").isEmpty(), "no pool, no view");
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = Thread.ofVirtual().start(() -> f.registry.inTransaction("acme", tx -> {
                tx.queryOne("SELECT 1", r -> 1);
                held.countDown();
                awaitRelease(release);
                return null;
            }));
            assertTrue(held.await(10, TimeUnit.SECONDS));
            // a second connection, idle once its work ends
            Thread.ofVirtual().start(() -> f.registry.inStatement("acme", tx -> tx.queryOne("SELECT pg_sleep(0.05)", r -> 1))).join();
            Thread.sleep(50);
            BackendActivity activity = view.of("acme").orElseThrow();
            assertEquals(1, activity.poolPids().size(), "acme's work holds one backend now");
            assertEquals(Map.of("idle in transaction", 1), activity.byState());
            assertEquals(1, activity.busy());
            assertThat(activity.oldestTransactionAge().orElseThrow(), greaterThanOrEqualTo(Duration.ofMillis(40)));
            assertEquals(List.of(), activity.disagreements(), "pool and server agree: 1 checked out, 1 busy");

            BackendActivity physical = view.physical();
            assertEquals("physical", physical.pool());
            assertEquals(f.registry.backendPids().size(), physical.backends().size(), "every backend of the physical pool is listed");
            assertEquals(1, physical.byState().get("idle in transaction"), physical.byState().toString());
            assertEquals(1, physical.byState().get("active"), "the view's own query: " + physical.byState());
            assertEquals(List.of(), physical.disagreements(), "2 checked out (acme's and the view's own), 2 busy");
            int acmePid = activity.poolPids().get(0);
            assertEquals("acme", physical.heldBy().get(acmePid), "the physical view says which schema holds each backend");
            assertEquals(2, physical.heldBy().size(), "acme's backend and the view's own (control schema): " + physical.heldBy());
            assertTrue(physical.heldBy().containsValue("dementia_control"));

            int killed = TestDatabase.get().queryInt("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ?",
                    activity.oldestTransaction().orElseThrow().pid());
            assertEquals(1, killed);
            Thread.sleep(200);
            BackendActivity after = view.of("acme").orElseThrow();
            assertEquals(1, after.notListed().size());
            assertThat(after.disagreements().get(0), containsString("PostgreSQL does not list"));
            release.countDown();
            holder.join();
        }
    }

    private static void awaitRelease(CountDownLatch release) {
        try {
            if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
