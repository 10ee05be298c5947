package cloud.dementia.db.pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolRegistryTest {

    /** The incident write-up's own test: pool of 2, 10 concurrent units each holding for 100 ms. */
    @Test
    void tenConcurrentUnitsOnPoolOfTwoAllSucceedAndActiveReturnsToZero() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(2, 0))) {
            f.schemas("acme");
            ExecutorService pool = Executors.newFixedThreadPool(10);
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                results.add(pool.submit(() -> f.registry.inTransaction("acme",
                        tx -> tx.queryOne("SELECT 1 FROM pg_sleep(0.1)", r -> r.getInt(1)).orElseThrow())));
            }
            int ok = 0;
            for (Future<Integer> r : results) {
                ok += r.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(10, ok);
            PoolStats stats = f.registry.currentStats("acme").orElseThrow();
            assertEquals(0, stats.active());
            assertThat(stats.total(), lessThanOrEqualTo(2));
            assertThat(f.backends(), lessThanOrEqualTo(2));
        }
    }

    @Test
    void exhaustedPoolWaitsAboutTheAcquireTimeoutThenFailsWithItsNumbers() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofMillis(1000)))) {
            f.schemas("acme");
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = Thread.ofVirtual().start(() -> f.registry.inTransaction("acme", tx -> {
                held.countDown();
                await(release);
                return null;
            }));
            assertTrue(held.await(10, TimeUnit.SECONDS));
            long start = System.nanoTime();
            PoolTimeoutException e = assertThrows(PoolTimeoutException.class,
                    () -> f.registry.inTransaction("acme", tx -> { tx.execute("SELECT 1"); return null; }));
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            release.countDown();
            holder.join();
            assertThat(waited, allOf(greaterThanOrEqualTo(900L), lessThan(5000L)));
            assertThat(e.getMessage(), allOf(containsString("no connection for schema `acme` within"),
                    containsString("(1/1 in use"), containsString("budget 1/20")));
            assertEquals("acme", e.schema());
            assertEquals(1, f.registry.currentStats("acme").orElseThrow().acquireTimeouts());
        }
    }

    @Test
    void exceptionInsideUnitOfWorkReturnsTheConnectionAndRollsBack() {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0))) {
            f.schemas("acme");
            for (int i = 0; i < 5; i++) {
                assertThrows(IllegalStateException.class, () -> f.registry.inTransaction("acme", tx -> {
                    tx.update("INSERT INTO t VALUES ('lost')");
                    throw new IllegalStateException("boom");
                }));
                assertThrows(DataAccessException.class, () -> f.registry.inTransaction("acme",
                        tx -> tx.update("INSERT INTO no_such_table VALUES (1)")));
            }
            assertEquals(0, f.registry.currentStats("acme").orElseThrow().active());
            int rows = f.registry.inTransaction("acme", tx -> tx.queryOne("SELECT count(*) FROM t", r -> r.getInt(1)).orElseThrow());
            assertEquals(1, rows, "the failed units were rolled back");
        }
    }

    @Test
    void budgetIsNeverExceededAcrossTenSchemasAndFiftyWorkers() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(4).withPoolSize(3, 0)
                .withAcquireTimeout(Duration.ofSeconds(20)))) {
            String[] schemas = new String[10];
            for (int i = 0; i < 10; i++) {
                schemas[i] = "s" + i;
            }
            f.schemas(schemas);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger maxSeen = new AtomicInteger();
            AtomicInteger samples = new AtomicInteger();
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (running.get()) {
                    maxSeen.accumulateAndGet(f.backends(), Math::max);
                    samples.incrementAndGet();
                }
            });
            ExecutorService workers = Executors.newFixedThreadPool(50);
            List<Future<String>> results = new ArrayList<>();
            for (int w = 0; w < 50; w++) {
                String schema = schemas[w % 10];
                results.add(workers.submit(() -> {
                    String seen = null;
                    for (int i = 0; i < 4; i++) {
                        seen = f.registry.inTransaction(schema,
                                tx -> tx.queryOne("SELECT v FROM t, pg_sleep(0.01)", r -> r.getString(1)).orElseThrow());
                    }
                    return seen;
                }));
            }
            for (int w = 0; w < 50; w++) {
                assertEquals(schemas[w % 10], results.get(w).get(120, TimeUnit.SECONDS), "worker " + w + " saw its own schema");
            }
            running.set(false);
            sampler.join();
            workers.shutdown();
            assertThat(samples.get(), greaterThanOrEqualTo(10));
            assertThat("backends seen in pg_stat_activity", maxSeen.get(), lessThanOrEqualTo(4));
            assertThat(f.registry.budget().allocated(), lessThanOrEqualTo(4));
            assertThat(maxSeen.get(), is(greaterThanOrEqualTo(1)));
        }
    }

    @Test
    void oneBusySchemaCannotStarveAnotherOfTheWholeBudget() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(4).withPoolSize(4, 0)
                .withAcquireTimeout(Duration.ofSeconds(5)))) {
            f.schemas("busy", "quiet");
            AtomicBoolean running = new AtomicBoolean(true);
            ExecutorService hammer = Executors.newFixedThreadPool(16);
            for (int i = 0; i < 16; i++) {
                hammer.submit(() -> {
                    while (running.get()) {
                        f.registry.inTransaction("busy", tx -> tx.queryOne("SELECT 1 FROM pg_sleep(0.02)", r -> r.getInt(1)));
                    }
                    return null;
                });
            }
            PoolOperationsTest.eventually("busy holds the whole budget", () -> f.registry.budget().allocated() == 4
                    && f.registry.currentStats("busy").map(PoolStats::total).orElse(0) == 4);
            for (int i = 0; i < 5; i++) {
                assertEquals("quiet", f.registry.inTransaction("quiet",
                        tx -> tx.queryOne("SELECT v FROM t", r -> r.getString(1)).orElseThrow()), "the quiet schema got a connection");
            }
            running.set(false);
            hammer.shutdown();
            assertTrue(hammer.awaitTermination(30, TimeUnit.SECONDS));
            assertThat(f.registry.budget().allocated(), lessThanOrEqualTo(4));
        }
    }

    static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
