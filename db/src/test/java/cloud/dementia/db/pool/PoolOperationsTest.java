package cloud.dementia.db.pool;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static cloud.dementia.db.pool.PoolRegistryTest.await;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolOperationsTest {

    /** Runs {@code n} units at once on the schema so the pool opens {@code n} connections; returns their backend pids. */
    static Set<Integer> openConnections(PoolRegistry registry, String schema, int n) throws InterruptedException {
        Set<Integer> pids = ConcurrentHashMap.newKeySet();
        CountDownLatch all = new CountDownLatch(n);
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            threads[i] = Thread.ofVirtual().start(() -> registry.inTransaction(schema, tx -> {
                pids.add(tx.queryOne("SELECT pg_backend_pid()", r -> r.getInt(1)).orElseThrow());
                all.countDown();
                await(all);
                return null;
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return pids;
    }

    /** A unit that holds its connection until released; returns once it holds it. */
    static final class Holder implements AutoCloseable {
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final Thread thread;
        volatile int pid;

        Holder(PoolRegistry registry, String schema) throws InterruptedException {
            thread = Thread.ofVirtual().start(() -> registry.inTransaction(schema, tx -> {
                pid = tx.queryOne("SELECT pg_backend_pid()", r -> r.getInt(1)).orElseThrow();
                held.countDown();
                await(release);
                return null;
            }));
            assertTrue(held.await(10, TimeUnit.SECONDS), "holder got a connection");
        }

        @Override
        public void close() throws InterruptedException {
            release.countDown();
            thread.join();
        }
    }

    static void eventually(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void resizeAppliesNewSizeAndRefusesToBreakTheBudget() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(6).withPoolSize(3, 0))) {
            f.schemas("acme", "other");
            openConnections(f.registry, "acme", 3);
            assertEquals(3, f.registry.currentStats("acme").orElseThrow().total());

            PoolStats grown = f.registry.resize("acme", 5, 1);
            assertEquals(5, grown.max());
            assertEquals(1, grown.minIdle());
            assertEquals(5, openConnections(f.registry, "acme", 5).size(), "five units ran at once after growing to 5");

            PoolStats shrunk = f.registry.resize("acme", 2, 0);
            assertEquals(2, shrunk.max());
            eventually("acme holds at most 2 backends", () -> f.registry.currentStats("acme").orElseThrow().total() <= 2);
            eventually("pg_stat_activity shows at most 2", () -> f.backends() <= 2);

            IllegalArgumentException overBudget = assertThrows(IllegalArgumentException.class, () -> f.registry.resize("acme", 7, 0));
            assertThat(overBudget.getMessage(), containsString("exceeds the connection budget of 6"));
            f.registry.inTransaction("other", tx -> { tx.execute("SELECT 1"); return null; });
            f.registry.resize("other", 3, 3);
            IllegalArgumentException minIdle = assertThrows(IllegalArgumentException.class, () -> f.registry.resize("acme", 4, 4));
            assertThat(minIdle.getMessage(), containsString("more than the budget of 6"));
            assertThrows(IllegalArgumentException.class, () -> f.registry.resize("acme", 0, 0));
            assertThrows(IllegalArgumentException.class, () -> f.registry.resize("acme", 2, 3));
            UnknownPoolException unknown = assertThrows(UnknownPoolException.class, () -> f.registry.resize("nope", 2, 0));
            assertThat(unknown.getMessage(), containsString("no pool for schema `nope`"));
            assertEquals(2, f.registry.currentStats("acme").orElseThrow().max(), "refused resizes changed nothing");
        }
    }

    @Test
    void drainClosesIdleNowAndInUseWhenReturned() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0))) {
            f.schemas("acme");
            Set<Integer> before = new HashSet<>(openConnections(f.registry, "acme", 3));
            try (Holder holder = new Holder(f.registry, "acme")) {
                PoolStats drained = f.registry.drain("acme");
                assertEquals(PoolState.DRAINING, drained.state());
                assertEquals(0, drained.idle(), "idle connections closed at once");
                eventually("only the held backend is left", () -> f.backends() == 1);
                assertEquals(1, f.registry.inTransaction("acme", tx -> Integer.valueOf(1)).intValue(), "new work runs while draining");
                assertFalse(before.contains(f.registry.inTransaction("acme",
                        tx -> tx.queryOne("SELECT pg_backend_pid()", r -> r.getInt(1)).orElseThrow())), "new work got a fresh connection");
                assertTrue(before.contains(holder.pid));
            }
            eventually("the held connection closed when returned", () -> f.registry.currentStats("acme").orElseThrow().state() == PoolState.OPEN);
            Set<Integer> after = new HashSet<>(openConnections(f.registry, "acme", 2));
            after.retainAll(before);
            assertTrue(after.isEmpty(), "no connection from before the drain is still used");
        }
    }

    @Test
    void suspendRefusesNewWorkAtOnceLetsInFlightFinishAndResumeRestores() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withAcquireTimeout(Duration.ofSeconds(5)))) {
            f.schemas("acme");
            Holder holder = new Holder(f.registry, "acme");
            assertEquals(PoolState.SUSPENDED, f.registry.suspend("acme").state());
            long start = System.nanoTime();
            PoolSuspendedException e = assertThrows(PoolSuspendedException.class, () -> f.registry.inTransaction("acme", tx -> Integer.valueOf(1)).intValue());
            assertThat("refused without waiting for the acquire timeout",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), lessThan(2500L));
            assertThat(e.getMessage(), containsString("schema `acme` is suspended"));
            holder.close();
            assertEquals(0, f.registry.currentStats("acme").orElseThrow().active(), "in-flight work finished");
            assertEquals(PoolState.OPEN, f.registry.resume("acme").state());
            assertEquals(Integer.valueOf(1), f.registry.inTransaction("acme", tx -> tx.queryOne("SELECT 1", r -> r.getInt(1)).orElseThrow()));
        }
    }

    @Test
    void retireClosesThePoolOnceIdleAndGivesItsBudgetBack() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0))) {
            f.schemas("acme");
            openConnections(f.registry, "acme", 2);
            PoolStats first = f.registry.currentStats("acme").orElseThrow();
            Holder holder = new Holder(f.registry, "acme");
            PoolStats retired = f.registry.retire("acme");
            assertEquals(PoolState.RETIRED, retired.state());
            assertTrue(f.registry.currentStats("acme").isEmpty(), "the pool left the registry");
            eventually("idle backend closed, held one stays", () -> f.registry.budget().allocated() == 1 && f.backends() == 1);
            holder.close();
            eventually("budget given back", () -> f.registry.budget().allocated() == 0 && f.backends() == 0);
            assertEquals(1, f.registry.inTransaction("acme", tx -> Integer.valueOf(1)).intValue(), "next use recreates the pool");
            PoolStats second = f.registry.currentStats("acme").orElseThrow();
            assertFalse(second.createdAt().isBefore(first.createdAt()));
            assertEquals(PoolState.OPEN, second.state());
        }
    }

    @Test
    void operationsWhileTrafficFlowsLoseNoWork() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0))) {
            f.schemas("acme");
            java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newFixedThreadPool(8);
            List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (int w = 0; w < 8; w++) {
                futures.add(workers.submit(() -> {
                    for (int i = 0; i < 60; i++) {
                        assertEquals("acme", f.registry.inTransaction("acme",
                                tx -> tx.queryOne("SELECT v FROM t, pg_sleep(0.002)", r -> r.getString(1)).orElseThrow()));
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 6; i++) {
                Thread.sleep(40);
                try {
                    switch (i % 3) {
                        case 0 -> f.registry.retire("acme");
                        case 1 -> f.registry.drain("acme");
                        default -> f.registry.resize("acme", 2 + i % 2, 0);
                    }
                } catch (UnknownPoolException e) {
                    // retired a moment ago and not yet reopened by the workers: nothing to act on
                }
            }
            for (java.util.concurrent.Future<?> future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
            workers.shutdown();
            assertEquals(480, done.get(), "every unit of work succeeded through retire, drain and resize");
            eventually("nothing left checked out", () -> f.registry.pools().stream().allMatch(p -> p.active() == 0));
            assertThat(f.registry.budget().allocated(), lessThanOrEqualTo(3));
        }
    }

    @Test
    void idleCleanupClosesOldIdleConnectionsAndRetiresUnusedPools() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0))) {
            f.schemas("unused", "busy");
            openConnections(f.registry, "unused", 1);
            openConnections(f.registry, "busy", 2);
            Thread.sleep(600);
            f.registry.inTransaction("busy", tx -> 1);
            assertEquals(3, f.backends());
            CleanupReport report = f.registry.cleanupIdle(Duration.ofMillis(400), "test");
            assertEquals(List.of("unused"), report.poolsRetired());
            assertEquals(2, report.connectionsClosed(), "the unused pool's connection and busy's stale one");
            assertEquals("test", report.trigger());
            assertTrue(f.registry.currentStats("unused").isEmpty());
            assertEquals(1, f.registry.currentStats("busy").orElseThrow().total());
            eventually("one backend left", () -> f.backends() == 1);
            assertEquals(1.0, f.meters.get("db.idle.cleanup.runs").counter().count());
            assertEquals(2.0, f.meters.get("db.idle.cleanup.closed").counter().count());
            assertEquals(1.0, f.meters.get("db.idle.cleanup.retired.pools").counter().count());
        }
    }

    @Test
    void heldCheckoutShowsUpAsSuspectedLeakWithItsStack() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withLeakThreshold(Duration.ofMillis(200)))) {
            f.schemas("acme");
            CountDownLatch reported = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread t = Thread.ofVirtual().start(() -> holdConnectionTooLong(f.registry, release));
            eventually("leak reported", () -> f.registry.currentStats("acme").map(PoolStats::suspectedLeaks).orElse(0) == 1);
            List<LeakReport> leaks = f.registry.leaks();
            assertEquals(1, leaks.size());
            LeakReport leak = leaks.get(0);
            assertEquals("acme", leak.schema());
            assertFalse(leak.returned());
            assertThat(leak.held().toMillis(), greaterThan(150L));
            assertThat(leak.stack(), containsString("holdConnectionTooLong"));
            assertEquals(1.0, f.meters.get("db.pool.leaks.suspected").tag("schema", "acme").gauge().value());
            release.countDown();
            t.join();
            reported.countDown();
            assertEquals(0, f.registry.currentStats("acme").orElseThrow().suspectedLeaks());
            assertEquals(1, f.registry.leaksCounted("acme"));
            assertTrue(f.registry.leaks().get(0).returned(), "kept in the history once returned");
        }
    }

    private static void holdConnectionTooLong(PoolRegistry registry, CountDownLatch release) {
        registry.inTransaction("acme", tx -> {
            await(release);
            return null;
        });
    }

    @Test
    void workSucceedsAfterEveryBackendWasTerminated() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0))) {
            f.schemas("acme");
            openConnections(f.registry, "acme", 3);
            assertEquals(3, TestDatabaseSql.terminate(f.db));
            for (int i = 0; i < 5; i++) {
                assertEquals("acme", f.registry.inTransaction("acme",
                        tx -> tx.queryOne("SELECT v FROM t", r -> r.getString(1)).orElseThrow()));
            }
            assertEquals(3, openConnections(f.registry, "acme", 3).size());
        }
    }

    @Test
    void fiftyPoolsAddOnlyAFewThreads() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(60).withPoolSize(1, 0))) {
            String[] schemas = new String[50];
            for (int i = 0; i < 50; i++) {
                schemas[i] = "p" + i;
            }
            f.schemas(schemas);
            f.registry.inTransaction("p0", tx -> 1);
            int before = ManagementFactory.getThreadMXBean().getThreadCount();
            for (String s : schemas) {
                f.registry.inTransaction(s, tx -> tx.queryOne("SELECT v FROM t", r -> r.getString(1)).orElseThrow());
            }
            assertEquals(50, f.registry.pools().size());
            int after = ManagementFactory.getThreadMXBean().getThreadCount();
            assertThat("platform threads added by 49 more pools", after - before, lessThanOrEqualTo(4));
        }
    }

    @Test
    void metersUseTheContractNamesAndLeaveWithTheRetiredPool() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s)) {
            f.schemas("acme");
            openConnections(f.registry, "acme", 2);
            assertEquals(5.0, f.meters.get("hikaricp.connections.max").tag("pool", "acme").gauge().value());
            assertEquals(2.0, f.meters.get("hikaricp.connections").tag("pool", "acme").gauge().value());
            assertEquals(2.0, f.meters.get("hikaricp.connections.idle").tag("pool", "acme").gauge().value());
            assertEquals(0.0, f.meters.get("db.pool.connections.used").tag("schema", "acme").gauge().value());
            assertEquals(5.0, f.meters.get("db.pool.connections.available").tag("schema", "acme").gauge().value());
            assertEquals(20.0, f.meters.get("db.pool.budget.connections").gauge().value());
            assertEquals(2.0, f.meters.get("db.pool.budget.allocated").gauge().value());
            assertThat(f.meters.get("hikaricp.connections.acquire").tag("pool", "acme").timer().count(), greaterThan(0L));
            try (Holder h = new Holder(f.registry, "acme")) {
                assertEquals(1.0, f.meters.get("hikaricp.connections.active").tag("pool", "acme").gauge().value());
                assertEquals(1.0, f.meters.get("db.pool.connections.used").tag("schema", "acme").gauge().value());
            }
            f.registry.retire("acme");
            assertTrue(f.meters.find("hikaricp.connections.max").tag("pool", "acme").meters().isEmpty());
            assertTrue(f.meters.find("db.pool.connections.used").tag("schema", "acme").meters().isEmpty());
        }
    }
}
