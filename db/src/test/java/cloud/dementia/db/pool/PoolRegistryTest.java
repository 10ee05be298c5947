package cloud.dementia.db.pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static cloud.dementia.db.pool.PoolOperationsTest.eventually;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
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
                results.add(pool.submit(() -> f.registry.inStatement("acme",
                        tx -> tx.queryOne("SELECT 1 FROM pg_sleep(0.1)", r -> r.integer(1)).orElseThrow())));
            }
            int ok = 0;
            for (Future<Integer> r : results) {
                ok += r.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(10, ok);
            PoolStats stats = f.registry.currentStats("acme").orElseThrow();
            assertEquals(0, stats.active());
            assertEquals(0, f.registry.budget().inUse());
            assertThat("the schema never held more than its max, so no more backends were opened", f.registry.physical().total(),
                    lessThanOrEqualTo(2));
            assertThat(f.backends(), lessThanOrEqualTo(2));
        }
    }

    @Test
    void exhaustedPoolWaitsAboutTheAcquireTimeoutThenFailsWithBothLevelsNumbers() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofMillis(1000)))) {
            f.schemas("acme");
            try (PoolOperationsTest.Holder held = new PoolOperationsTest.Holder(f.registry, "acme")) {
                long start = System.nanoTime();
                PoolTimeoutException e = assertThrows(PoolTimeoutException.class,
                        () -> f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1))));
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(waited, allOf(greaterThanOrEqualTo(900L), lessThan(5000L)));
                assertThat(e.getMessage(), allOf(containsString("no connection for schema `acme` within"),
                        containsString("(1/1 in use"), containsString("all schemas: 1/20 in use")));
                assertEquals("acme", e.schema());
                assertEquals(1, f.registry.currentStats("acme").orElseThrow().acquireTimeouts());
            }
        }
    }

    @Test
    void exceptionInsideUnitOfWorkReturnsTheConnectionAndRollsBack() {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0))) {
            f.schemas("acme");
            for (int i = 0; i < 5; i++) {
                assertThrows(IllegalStateException.class, () -> f.registry.inTransaction("acme", tx -> {
                    tx.update("INSERT INTO {s}.t VALUES ('lost')");
                    throw new IllegalStateException("boom");
                }));
                DataAccessException e = assertThrows(DataAccessException.class, () -> f.registry.inTransaction("acme",
                        tx -> tx.update("INSERT INTO {s}.no_such_table VALUES (1)")));
                assertEquals("42P01", e.sqlState());
            }
            assertEquals(0, f.registry.currentStats("acme").orElseThrow().active());
            long rows = f.registry.inStatement("acme", tx -> tx.queryOne("SELECT count(*) FROM {s}.t", r -> r.longValue(1)).orElseThrow());
            assertEquals(1, rows, "the failed units were rolled back");
        }
    }

    @Test
    void singleStatementUnitRefusesASecondStatement() {
        try (RegistryFixture f = new RegistryFixture(s -> s)) {
            f.schemas("acme");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.registry.inStatement("acme", tx -> {
                tx.update("INSERT INTO {s}.t VALUES ('first')");
                return tx.update("INSERT INTO {s}.t VALUES ('second')");
            }));
            assertThat(e.getMessage(), containsString("ran a second statement"));
            assertEquals(0, f.registry.budget().inUse(), "the connection came back");
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
            try (BackendSampler sampler = new BackendSampler(f)) {
                ExecutorService workers = Executors.newFixedThreadPool(50);
                List<Future<String>> results = new ArrayList<>();
                for (int w = 0; w < 50; w++) {
                    String schema = schemas[w % 10];
                    results.add(workers.submit(() -> {
                        String seen = null;
                        for (int i = 0; i < 4; i++) {
                            seen = f.registry.inStatement(schema,
                                    tx -> tx.queryOne("SELECT v FROM {s}.t, pg_sleep(0.01)", r -> r.string(1)).orElseThrow());
                        }
                        return seen;
                    }));
                }
                for (int w = 0; w < 50; w++) {
                    assertEquals(schemas[w % 10], results.get(w).get(120, TimeUnit.SECONDS), "worker " + w + " saw its own schema");
                }
                workers.shutdown();
                sampler.stop();
                assertThat(sampler.samples.get(), greaterThanOrEqualTo(10));
                assertThat("backends seen in pg_stat_activity", sampler.maxSeen.get(), lessThanOrEqualTo(4));
                assertThat(f.registry.budget().allocated(), lessThanOrEqualTo(4));
            }
        }
    }

    /**
     * HikariCP takes a connection it replaces out of its bag before the close has finished; without the budget's permit
     * (given back only once the backend is closed) the replacement could open meanwhile, and PostgreSQL would see budget + 1.
     * Here every connection is replaced every 30 ms under load, and the sampler never sees more than the budget.
     */
    @Test
    void theBudgetHoldsWhileConnectionsAreReplacedUnderLoad() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(3).withPoolSize(3, 0).withAcquireTimeout(Duration.ofSeconds(20)))) {
            f.schemas("a", "b", "c");
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger units = new AtomicInteger();
            try (BackendSampler sampler = new BackendSampler(f)) {
                ExecutorService workers = Executors.newFixedThreadPool(12);
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < 12; w++) {
                    String schema = List.of("a", "b", "c").get(w % 3);
                    done.add(workers.submit(() -> {
                        while (running.get()) {
                            assertEquals(schema, f.registry.inStatement(schema,
                                    tx -> tx.queryOne("SELECT v FROM {s}.t, pg_sleep(0.001)", r -> r.string(1)).orElseThrow()));
                            units.incrementAndGet();
                        }
                        return null;
                    }));
                }
                Set<Integer> seen = new java.util.HashSet<>();
                for (int i = 0; i < 60; i++) {
                    Thread.sleep(30);
                    seen.addAll(f.registry.backendPids());
                    f.registry.reconnect();
                }
                running.set(false);
                for (Future<?> d : done) {
                    d.get(60, TimeUnit.SECONDS);
                }
                workers.shutdown();
                sampler.stop();
                assertThat("connections were really replaced", seen.size(), greaterThan(10));
                assertThat("work went on while its connections were replaced", units.get(), greaterThan(20));
                assertThat("backends PostgreSQL saw at once, replacements included", sampler.maxSeen.get(), lessThanOrEqualTo(3));
            }
        }
    }

    /**
     * The point of schema-agnostic connections: thirty schemas over a budget of four, callers on random schemas. Once the
     * four backends are open, no schema ever needs a backend of its own: PostgreSQL sees the same four processes for
     * the whole run, however often the schema changes.
     */
    @Test
    void manySchemasOverASmallBudgetOpenNoNewBackendsAfterWarmUp() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(4).withPoolSize(2, 4).withAcquireTimeout(Duration.ofSeconds(10)))) {
            String[] schemas = new String[30];
            for (int i = 0; i < schemas.length; i++) {
                schemas[i] = "m" + i;
            }
            f.schemas(schemas);
            eventually("min idle opened the four backends", () -> f.registry.physical().total() == 4);
            Set<Integer> warm = Set.copyOf(f.registry.backendPids());
            try (BackendSampler sampler = new BackendSampler(f)) {
                ExecutorService workers = Executors.newFixedThreadPool(16);
                AtomicInteger units = new AtomicInteger();
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < 16; w++) {
                    done.add(workers.submit(() -> {
                        for (int i = 0; i < 40; i++) {
                            String schema = schemas[ThreadLocalRandom.current().nextInt(schemas.length)];
                            assertEquals(schema, f.registry.inStatement(schema,
                                    tx -> tx.queryOne("SELECT v FROM {s}.t", r -> r.string(1)).orElseThrow()));
                            units.incrementAndGet();
                        }
                        return null;
                    }));
                }
                for (Future<?> d : done) {
                    d.get(120, TimeUnit.SECONDS);
                }
                workers.shutdown();
                sampler.stop();
                assertEquals(640, units.get());
                assertEquals(30, f.registry.pools().size(), "every schema got a pool");
                assertEquals(warm, sampler.pidsSeen, "PostgreSQL saw exactly the four warm backends, no new one");
                assertEquals(warm, Set.copyOf(f.registry.backendPids()));
            }
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
                        f.registry.inStatement("busy", tx -> tx.queryOne("SELECT 1 FROM pg_sleep(0.02)", r -> r.integer(1)));
                    }
                    return null;
                });
            }
            eventually("busy holds every connection and callers queue behind it", () -> f.registry.budget().inUse() == 4
                    && f.registry.currentStats("busy").map(PoolStats::waiting).orElse(0) > 0);
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                assertEquals("quiet", f.registry.inStatement("quiet",
                        tx -> tx.queryOne("SELECT v FROM {s}.t", r -> r.string(1)).orElseThrow()), "the quiet schema got a connection");
                assertThat("the quiet schema went ahead of busy's queue", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                        lessThan(2000L));
            }
            running.set(false);
            hammer.shutdown();
            assertTrue(hammer.awaitTermination(30, TimeUnit.SECONDS));
            assertThat(f.registry.budget().allocated(), lessThanOrEqualTo(4));
        }
    }

    /**
     * Fair share, exactly: every connection is held by `busy`, three of its callers wait, then one of `quiet`. The next
     * connection given back goes to `quiet` (it holds none), though busy's callers came first.
     */
    @Test
    void aReturnedConnectionGoesToTheWaitingSchemaThatHoldsTheFewest() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withBudget(2).withPoolSize(2, 0).withAcquireTimeout(Duration.ofSeconds(20)))) {
            f.schemas("busy", "quiet");
            List<String> admitted = new CopyOnWriteArrayList<>();
            try (PoolOperationsTest.Holder first = new PoolOperationsTest.Holder(f.registry, "busy");
                 PoolOperationsTest.Holder second = new PoolOperationsTest.Holder(f.registry, "busy")) {
                List<Thread> waiters = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    int n = i;
                    waiters.add(Thread.ofVirtual().start(() -> f.registry.inStatement("busy", tx -> admitted.add("busy" + n))));
                    eventually("busy caller " + n + " queued", () -> f.registry.currentStats("busy").orElseThrow().waiting() == n + 1);
                }
                waiters.add(Thread.ofVirtual().start(() -> f.registry.inStatement("quiet", tx -> admitted.add("quiet"))));
                eventually("quiet queued", () -> f.registry.currentStats("quiet").map(PoolStats::waiting).orElse(0) == 1);
                assertEquals(4, f.registry.budget().waiting());
                first.close();
                eventually("someone admitted", () -> !admitted.isEmpty());
                assertEquals("quiet", admitted.get(0), "the schema holding none went first");
                second.close();
                for (Thread t : waiters) {
                    t.join(10_000);
                }
                assertEquals(List.of("quiet", "busy0", "busy1", "busy2"), admitted, "then busy's callers, first come first served");
            }
        }
    }

    @Test
    void callersOfOneSchemaAreAdmittedInTheOrderTheyCame() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofSeconds(20)))) {
            f.schemas("acme");
            List<Integer> order = new CopyOnWriteArrayList<>();
            List<Thread> waiters = new ArrayList<>();
            try (PoolOperationsTest.Holder held = new PoolOperationsTest.Holder(f.registry, "acme")) {
                for (int i = 0; i < 5; i++) {
                    int n = i;
                    waiters.add(Thread.ofVirtual().start(() -> f.registry.inStatement("acme", tx -> order.add(n))));
                    eventually("caller " + n + " queued", () -> f.registry.currentStats("acme").orElseThrow().waiting() == n + 1);
                }
                // the first in line has waited a while: a millisecond at least, which a fast machine may not have taken yet
                Thread.sleep(5);
                assertThat(f.registry.currentStats("acme").orElseThrow().longestWaitMs(), greaterThan(0L));
            }
            for (Thread t : waiters) {
                t.join(10_000);
            }
            assertEquals(List.of(0, 1, 2, 3, 4), order);
        }
    }

    /**
     * The statement timeout holds for every statement: behind a pooler the driver cancels the statement, on a direct
     * connection the session default each connection opened with does (and then the unit's session shows it).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "direct connection: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void theStatementTimeoutCancelsALongStatement(boolean direct) {
        try (cloud.dementia.db.testing.TestDatabase.Fresh db = cloud.dementia.db.testing.TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target().withDirect(direct), RegistrySettings.defaults()
                     .withStatementTimeout(Duration.ofMillis(500)), new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
            TestDatabaseSql.run(db, "acme");
            long start = System.nanoTime();
            DataAccessException e = assertThrows(DataAccessException.class,
                    () -> registry.inStatement("acme", tx -> tx.queryOne("SELECT pg_sleep(10)", r -> 1)));
            assertEquals("57014", e.sqlState(), e.getMessage());
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), lessThan(5000L));
            String session = registry.inStatement("acme", tx -> tx.queryOne("SHOW statement_timeout", r -> r.string(1)).orElseThrow());
            assertEquals(direct ? "500ms" : "0", session, "a pooled session is left alone; a direct one has it as its default");
            assertEquals("acme", registry.inStatement("acme", tx -> tx.queryOne("SELECT v FROM {s}.t", r -> r.string(1)).orElseThrow()),
                    "the connection serves the next unit");
        }
    }

    /** On a direct connection the driver may prepare a statement it runs often; the registry works the same. */
    @Test
    void onADirectConnectionRepeatedStatementsArePreparedOnTheServer() {
        try (cloud.dementia.db.testing.TestDatabase.Fresh db = cloud.dementia.db.testing.TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target().withServerPrepared(true), RegistrySettings.defaults().withBudget(2)
                     .withPoolSize(1, 0), new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
            TestDatabaseSql.run(db, "acme");
            for (int i = 0; i < 10; i++) {
                assertEquals("acme", registry.inStatement("acme", tx -> tx.queryOne("SELECT v FROM {s}.t WHERE v = ?", r -> r.string(1), "acme")
                        .orElseThrow()));
            }
            long prepared = registry.inStatement("acme", tx -> tx.queryOne(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM \"acme\".t WHERE v = $1%'", r -> r.longValue(1))
                    .orElseThrow());
            assertEquals(1, prepared, "the statement run ten times on the one connection is a named server-side statement");
        }
    }

    /**
     * Samples our backends in {@code pg_stat_activity} as fast as one kept-open connection can ask (a sample every
     * millisecond or so): the most seen at once, and every pid seen.
     */
    static final class BackendSampler implements AutoCloseable {
        final AtomicInteger maxSeen = new AtomicInteger();
        final AtomicInteger samples = new AtomicInteger();
        final Set<Integer> pidsSeen = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        BackendSampler(RegistryFixture f) throws java.sql.SQLException {
            java.sql.Connection observer = cloud.dementia.db.testing.TestDatabase.get().observer();
            thread = Thread.ofPlatform().name("pg_stat_activity-sampler").start(() -> {
                try (observer; java.sql.PreparedStatement ps = observer.prepareStatement(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = ? AND datname = ?")) {
                    ps.setString(1, f.db.target().applicationName());
                    ps.setString(2, f.db.name());
                    while (running.get()) {
                        int n = 0;
                        try (java.sql.ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                n++;
                                pidsSeen.add(rs.getInt(1));
                            }
                        }
                        maxSeen.accumulateAndGet(n, Math::max);
                        samples.incrementAndGet();
                    }
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException("sampling pg_stat_activity: " + e.getMessage(), e);
                }
            });
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        @Override
        public void close() throws InterruptedException {
            stop();
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
