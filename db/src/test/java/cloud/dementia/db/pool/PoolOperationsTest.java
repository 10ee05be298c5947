package cloud.dementia.db.pool;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static cloud.dementia.db.pool.PoolRegistryTest.await;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolOperationsTest {

    /** Runs {@code n} units at once on the schema, so that {@code n} connections are open; returns their backend pids. */
    static Set<Integer> openConnections(PoolRegistry registry, String schema, int n) throws InterruptedException {
        Set<Integer> pids = ConcurrentHashMap.newKeySet();
        CountDownLatch all = new CountDownLatch(n);
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            threads[i] = Thread.ofVirtual().start(() -> registry.inStatement(schema, tx -> {
                pids.add(tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow());
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
                pid = tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow();
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
            Thread.sleep(10);
        }
    }

    private static String one(PoolRegistry registry, String schema) {
        return registry.inStatement(schema, tx -> tx.queryOne("SELECT v FROM {s}.t", r -> r.string(1)).orElseThrow());
    }

    @Test
    void resizeAppliesAtOnceIsRememberedAcrossRetireAndRefusesToBreakTheBudget() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(6).withPoolSize(1, 0).withAcquireTimeout(Duration.ofSeconds(10)))) {
            f.schemas("acme");
            one(f.registry, "acme");
            try (Holder first = new Holder(f.registry, "acme")) {
                AtomicReference<String> second = new AtomicReference<>();
                Thread waiter = Thread.ofVirtual().start(() -> second.set(one(f.registry, "acme")));
                eventually("a second caller waits at max 1", () -> f.registry.currentStats("acme").orElseThrow().waiting() == 1);
                PoolStats grown = f.registry.resize("acme", 3);
                assertEquals(3, grown.max());
                assertTrue(grown.ownSize());
                waiter.join(5000);
                assertEquals("acme", second.get(), "growing admitted the waiting caller at once");
            }
            IllegalArgumentException overBudget = assertThrows(IllegalArgumentException.class, () -> f.registry.resize("acme", 7));
            assertThat(overBudget.getMessage(), containsString("exceeds the connection budget of 6"));
            assertThrows(IllegalArgumentException.class, () -> f.registry.resize("acme", 0));
            UnknownPoolException unknown = assertThrows(UnknownPoolException.class, () -> f.registry.resize("nope", 2));
            assertThat(unknown.getMessage(), containsString("`nope`"));
            assertEquals(3, f.registry.currentStats("acme").orElseThrow().max(), "refused resizes changed nothing");

            f.registry.retire("acme");
            one(f.registry, "acme");
            PoolStats again = f.registry.currentStats("acme").orElseThrow();
            assertEquals(3, again.max(), "the size survived the retire");
            assertTrue(again.ownSize());
            PoolStats back = f.registry.resize("acme", 1);
            assertFalse(back.ownSize(), "back at DB_POOL_MAX_PER_SCHEMA the size is no longer its own");
        }
    }

    @Test
    void drainLetsWorkInFlightFinishHoldsNewWorkUntilThenAndClosesNoBackend() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0).withAcquireTimeout(Duration.ofSeconds(10)))) {
            f.schemas("acme");
            openConnections(f.registry, "acme", 2);
            List<Integer> pidsBefore = f.registry.backendPids();
            AtomicReference<String> later = new AtomicReference<>();
            Thread newWork;
            try (Holder held = new Holder(f.registry, "acme")) {
                PoolStats drained = f.registry.drain("acme");
                assertEquals(PoolState.DRAINING, drained.state());
                newWork = Thread.ofVirtual().start(() -> later.set(one(f.registry, "acme")));
                eventually("new work waits while draining", () -> f.registry.currentStats("acme").orElseThrow().waiting() == 1);
                Thread.sleep(100);
                assertEquals(null, later.get(), "new work did not start while the old work was in flight");
            }
            newWork.join(5000);
            assertEquals("acme", later.get(), "new work ran once the work in flight finished");
            assertEquals(PoolState.OPEN, f.registry.currentStats("acme").orElseThrow().state());
            assertEquals(pidsBefore, f.registry.backendPids(), "no backend was opened or closed");
        }
    }

    @Test
    void suspendRefusesNewAndQueuedWorkAtOnceLetsInFlightFinishAndResumeRestores() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofSeconds(10)))) {
            f.schemas("acme");
            AtomicReference<Throwable> queuedFailure = new AtomicReference<>();
            try (Holder held = new Holder(f.registry, "acme")) {
                Thread queued = Thread.ofVirtual().start(() -> {
                    try {
                        one(f.registry, "acme");
                    } catch (RuntimeException e) {
                        queuedFailure.set(e);
                    }
                });
                eventually("a caller queued", () -> f.registry.currentStats("acme").orElseThrow().waiting() == 1);
                assertEquals(PoolState.SUSPENDED, f.registry.suspend("acme").state());
                queued.join(2000);
                assertTrue(queuedFailure.get() instanceof PoolSuspendedException, "the queued caller was refused at once: " + queuedFailure.get());
                long start = System.nanoTime();
                PoolSuspendedException e = assertThrows(PoolSuspendedException.class, () -> one(f.registry, "acme"));
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), lessThanOrEqualTo(500L));
                assertThat(e.getMessage(), containsString("schema `acme` is suspended"));
            }
            assertEquals(0, f.registry.currentStats("acme").orElseThrow().active(), "in-flight work finished");
            assertEquals(PoolState.OPEN, f.registry.resume("acme").state());
            assertEquals("acme", one(f.registry, "acme"));
        }
    }

    @Test
    void retireForgetsThePoolClosesNoBackendAndItsWaitersMoveToTheNextPool() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofSeconds(10)))) {
            f.schemas("acme");
            one(f.registry, "acme");
            PoolStats first = f.registry.currentStats("acme").orElseThrow();
            List<Integer> pidsBefore = f.registry.backendPids();
            AtomicReference<String> moved = new AtomicReference<>();
            try (Holder held = new Holder(f.registry, "acme")) {
                Thread waiter = Thread.ofVirtual().start(() -> moved.set(one(f.registry, "acme")));
                eventually("a caller queued", () -> f.registry.currentStats("acme").orElseThrow().waiting() == 1);
                PoolStats retired = f.registry.retire("acme");
                assertEquals(PoolState.RETIRED, retired.state());
                waiter.join(5000);
                assertEquals("acme", moved.get(), "the waiting caller was served by the schema's next pool");
            }
            PoolStats second = f.registry.currentStats("acme").orElseThrow();
            assertFalse(second.createdAt().isBefore(first.createdAt()));
            assertEquals(PoolState.OPEN, second.state());
            assertEquals(0, f.registry.budget().inUse());
            assertTrue(f.registry.backendPids().containsAll(pidsBefore), "retiring closed no backend");
        }
    }

    /** Operators steer schema pools; none of it reaches PostgreSQL: the same backends before and after. */
    @Test
    void schemaPoolOperationsOpenAndCloseNoBackend() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(4).withPoolSize(2, 4))) {
            f.schemas("a", "b", "c");
            eventually("min idle opened the budget", () -> f.registry.physical().total() == 4);
            List<Integer> pids = f.db.backendPids();
            for (String s : List.of("a", "b", "c")) {
                one(f.registry, s);
                f.registry.resize(s, 3);
                f.registry.drain(s);
                f.registry.suspend(s);
                f.registry.resume(s);
                f.registry.resize(s, 1);
                f.registry.retire(s);
                one(f.registry, s);
            }
            f.registry.cleanupIdle(Duration.ofMillis(1), "test");
            one(f.registry, "a");
            assertEquals(pids, f.db.backendPids(), "PostgreSQL saw the same backends throughout");
        }
    }

    @Test
    void operationsWhileTrafficFlowsLoseNoWork() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0).withAcquireTimeout(Duration.ofSeconds(20)))) {
            f.schemas("acme");
            AtomicInteger done = new AtomicInteger();
            ExecutorService workers = Executors.newFixedThreadPool(8);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                futures.add(workers.submit(() -> {
                    for (int i = 0; i < 60; i++) {
                        assertEquals("acme", f.registry.inStatement("acme",
                                tx -> tx.queryOne("SELECT v FROM {s}.t, pg_sleep(0.002)", r -> r.string(1)).orElseThrow()));
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 9; i++) {
                Thread.sleep(40);
                try {
                    switch (i % 3) {
                        case 0 -> f.registry.retire("acme");
                        case 1 -> f.registry.drain("acme");
                        default -> f.registry.resize("acme", 2 + i % 2);
                    }
                } catch (UnknownPoolException e) {
                    // retired a moment ago and not yet reopened by the workers: nothing to act on
                }
            }
            for (Future<?> future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
            workers.shutdown();
            assertEquals(480, done.get(), "every unit of work succeeded through retire, drain and resize");
            eventually("nothing left checked out", () -> f.registry.budget().inUse() == 0);
            assertThat("never more connections than callers", f.registry.budget().allocated(), lessThanOrEqualTo(8));
        }
    }

    @Test
    void idleCleanupClosesOldIdleConnectionsAboveTheMinimumAndForgetsUnusedPools() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 1))) {
            f.schemas("unused", "busy");
            openConnections(f.registry, "unused", 1);
            openConnections(f.registry, "busy", 3);
            Thread.sleep(600);
            one(f.registry, "busy");
            assertEquals(3, f.backends());
            CleanupReport report = f.registry.cleanupIdle(Duration.ofMillis(400), "test");
            assertEquals(List.of("unused"), report.poolsRetired(), "the pool unused for 400 ms was forgotten");
            assertEquals(2, report.connectionsClosed(), "the two connections idle since before the pause; the one just used stays");
            assertEquals("test", report.trigger());
            assertTrue(f.registry.currentStats("unused").isEmpty());
            assertTrue(f.registry.currentStats("busy").isPresent());
            eventually("one backend left", () -> f.backends() == 1);
            Thread.sleep(500);
            assertEquals(0, f.registry.cleanupIdle(Duration.ofMillis(400), "test").connectionsClosed(), "the minimum idle stays open");
            assertEquals(1, f.backends());
            assertEquals(2.0, f.meters.get("db.idle.cleanup.runs").counter().count());
            assertEquals(2.0, f.meters.get("db.idle.cleanup.closed").counter().count());
            assertEquals(2.0, f.meters.get("db.idle.cleanup.retired.pools").counter().count(), "busy was forgotten by the second run");
        }
    }

    @Test
    void heldCheckoutShowsUpAsSuspectedLeakWithTheStackOfTheThreadHoldingIt() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withLeakThreshold(Duration.ofMillis(200)))) {
            f.schemas("acme");
            CountDownLatch release = new CountDownLatch(1);
            Thread t = Thread.ofVirtual().start(() -> holdConnectionTooLong(f.registry, release));
            eventually("leak reported", () -> f.registry.currentStats("acme").map(PoolStats::suspectedLeaks).orElse(0) == 1);
            List<LeakReport> leaks = f.registry.leaks();
            assertEquals(1, leaks.size());
            LeakReport leak = leaks.get(0);
            assertEquals("acme", leak.schema());
            assertFalse(leak.returned());
            assertThat(leak.held().toMillis(), greaterThan(150L));
            assertThat("where the holder is stuck now", leak.stack(), containsString("holdConnectionTooLong"));
            assertThat(leak.stack(), containsString("CountDownLatch.await"));
            assertEquals(1.0, f.meters.get("db.pool.leaks.suspected").tag("schema", "acme").gauge().value());
            release.countDown();
            t.join();
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
            long before = f.registry.currentStats("acme").orElseThrow().totals().transactions();
            for (int i = 0; i < 5; i++) {
                assertEquals("acme", one(f.registry, "acme"));
                long updated = f.registry.inTransaction("acme", tx -> tx.update("UPDATE {s}.t SET v = v WHERE v = 'acme'"));
                assertEquals(1L, updated);
            }
            PoolTotals totals = f.registry.currentStats("acme").orElseThrow().totals();
            assertEquals(10, totals.transactions() - before, "a unit run again on another connection counts once");
            assertEquals(0, totals.errors(), "and ended without an error");
            assertEquals(3, openConnections(f.registry, "acme", 3).size());
        }
    }

    @Test
    void reconnectReplacesEveryPhysicalConnection() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(3, 0))) {
            f.schemas("acme");
            Set<Integer> before = openConnections(f.registry, "acme", 3);
            try (Holder held = new Holder(f.registry, "acme")) {
                f.registry.reconnect();
                eventually("idle ones closed now", () -> f.registry.physical().total() == 1);
                assertTrue(before.contains(held.pid), "the one in use stays until returned");
            }
            eventually("the one in use closed when returned", () -> f.registry.physical().total() == 0);
            Set<Integer> after = openConnections(f.registry, "acme", 3);
            assertFalse(after.stream().anyMatch(before::contains), "every connection is new");
        }
    }

    @Test
    void fiftyPoolsAddNoThread() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(20).withPoolSize(1, 0))) {
            String[] schemas = new String[50];
            for (int i = 0; i < 50; i++) {
                schemas[i] = "p" + i;
            }
            f.schemas(schemas);
            one(f.registry, "p0");
            int before = ManagementFactory.getThreadMXBean().getThreadCount();
            for (String s : schemas) {
                one(f.registry, s);
            }
            assertEquals(50, f.registry.pools().size());
            int after = ManagementFactory.getThreadMXBean().getThreadCount();
            assertThat("platform threads added by 49 more pools", after - before, lessThanOrEqualTo(1));
        }
    }

    @Test
    void metersUseTheContractNamesAndLeaveWithTheRetiredPool() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s)) {
            f.schemas("acme");
            openConnections(f.registry, "acme", 2);
            assertEquals(20.0, f.meters.get("hikaricp.connections.max").tag("pool", "physical").gauge().value());
            assertEquals(2.0, f.meters.get("hikaricp.connections").tag("pool", "physical").gauge().value());
            assertEquals(2.0, f.meters.get("hikaricp.connections.idle").tag("pool", "physical").gauge().value());
            assertThat(f.meters.get("hikaricp.connections.acquire").tag("pool", "physical").timer().count(), greaterThan(0L));
            assertEquals(0.0, f.meters.get("db.pool.connections.used").tag("schema", "acme").gauge().value());
            assertEquals(5.0, f.meters.get("db.pool.connections.available").tag("schema", "acme").gauge().value());
            assertEquals(5.0, f.meters.get("db.pool.connections.max").tag("schema", "acme").gauge().value());
            assertEquals(20.0, f.meters.get("db.pool.budget.connections").gauge().value());
            assertEquals(2.0, f.meters.get("db.pool.budget.allocated").gauge().value());
            try (Holder h = new Holder(f.registry, "acme")) {
                // HikariCP's own gauges refresh at most once a second
                eventually("hikaricp_connections_active{pool=physical} is 1",
                        () -> f.meters.get("hikaricp.connections.active").tag("pool", "physical").gauge().value() == 1.0);
                assertEquals(1.0, f.meters.get("db.pool.connections.used").tag("schema", "acme").gauge().value());
                assertEquals(1.0, f.meters.get("db.pool.budget.in.use").gauge().value());
            }
            f.registry.retire("acme");
            assertTrue(f.meters.find("db.pool.connections.used").tag("schema", "acme").meters().isEmpty());
            assertNotEquals(0, f.meters.find("hikaricp.connections").tag("pool", "physical").meters().size(),
                    "the physical pool's meters stay");
        }
    }
}
