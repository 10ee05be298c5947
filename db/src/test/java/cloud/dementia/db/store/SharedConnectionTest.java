package cloud.dementia.db.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolTimeoutException;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Physical connections serve every project, so nothing one unit of work does may reach the next: here two projects
 * take turns on the very same backend (asserted by pid), and what {@code query_database} tries to leave behind is gone
 * before the other project's work runs on it.
 */
class SharedConnectionTest {

    private static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(3);

    private static int pid(PoolRegistry registry, String schema) {
        return registry.inStatement(schema, tx -> tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow());
    }

    private static StoreFixture fixture() {
        return new StoreFixture(s -> s.withBudget(2).withPoolSize(2, 0).withStatementTimeout(STATEMENT_TIMEOUT));
    }

    @Test
    void settingsAQueryChangesForTheSessionEndWithItsReadOnlyUnit() {
        try (StoreFixture f = fixture()) {
            String alpha = f.projects.open("alpha").schema();
            String beta = f.projects.open("beta").schema();
            int shared = pid(f.registry, alpha);
            f.queries.run(alpha, "SELECT set_config('default_transaction_read_only', 'on', false), "
                    + "set_config('application_name', 'hidden', false)", 10);
            assertEquals(shared, pid(f.registry, beta), "beta's work runs on the backend alpha's query just used");
            for (int i = 0; i < 8; i++) {
                Context locked = f.contexts.lock(beta, StoreTest.ctx("rule " + i, "Write after a read-only query " + i), "s");
                assertEquals("1.0", locked.version());
            }
            assertEquals(shared, pid(f.registry, beta));
            assertEquals("off", f.registry.inStatement(beta,
                    tx -> tx.queryOne("SHOW default_transaction_read_only", r -> r.string(1)).orElseThrow()));
            assertTrue(f.db.backendPids().contains(shared), "the backend still carries our application name in pg_stat_activity");
        }
    }

    @Test
    void aSessionAdvisoryLockTakenByAQueryIsReleasedBeforeTheConnectionServesAnotherProject() {
        try (StoreFixture f = fixture()) {
            String alpha = f.projects.open("alpha").schema();
            String beta = f.projects.open("beta").schema();
            int shared = pid(f.registry, alpha);
            f.queries.run(alpha, "SELECT pg_advisory_lock(hashtext('" + beta + "'), hashtext('victim'))", 10);
            assertEquals(0, advisoryLocks(f), "released when the query ended");
            assertEquals(shared, pid(f.registry, beta));
            long start = System.nanoTime();
            Context locked = f.contexts.lock(beta, StoreTest.ctx("victim", "Beta locks the topic alpha's query tried to hold."), "s");
            assertEquals("victim", locked.label());
            assertThat("beta did not wait for a lock left on the shared connection",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), lessThan(STATEMENT_TIMEOUT.toMillis() / 2));

            // a query that fails after taking one
            assertThrows(StoreRuleException.class,
                    () -> f.queries.run(alpha, "SELECT pg_advisory_lock(1), 1 / (SELECT count(*) FROM context_locks WHERE false)", 10));
            assertEquals(0, advisoryLocks(f), "released when the query failed");
            // a query cancelled by the statement timeout after taking one
            StoreRuleException cancelled = assertThrows(StoreRuleException.class,
                    () -> f.queries.run(alpha, "SELECT pg_advisory_lock(2), pg_sleep(30)", 10));
            assertThat(cancelled.getMessage(), containsString("ran longer than the statement timeout"));
            assertThat(cancelled.getMessage(), containsString("(SQLSTATE 57014)"));
            assertEquals(0, advisoryLocks(f), "released when the query was cancelled");
            assertEquals(shared, pid(f.registry, beta), "all of it on the one shared backend");
        }
    }

    /**
     * First use of many projects at once, on a budget of four: every first use migrates a schema (two connections at
     * once). Migrations take turns within half the budget, so other work always finds a connection; a caller that
     * cannot start in time gets the typed timeout (HTTP 503) and nothing else; a client that retries those ends with
     * every project.
     */
    @Test
    void firstUseOfManyProjectsAtOnceSharesTheBudgetAndEndsWithEveryProject() throws Exception {
        try (StoreFixture f = new StoreFixture(s -> s.withBudget(4).withPoolSize(2, 0))) {
            int projects = 40;
            ConcurrentLinkedQueue<String> names = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < projects; i++) {
                names.add("first use " + i);
            }
            AtomicInteger timeouts = new AtomicInteger();
            AtomicInteger maxBackends = new AtomicInteger();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (sampling.get()) {
                    maxBackends.accumulateAndGet(f.db.backends(), Math::max);
                }
            });
            Set<String> done = ConcurrentHashMap.newKeySet();
            ExecutorService clients = Executors.newFixedThreadPool(16);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                running.add(clients.submit(() -> {
                    for (String name = names.poll(); name != null; name = names.poll()) {
                        while (true) {
                            try {
                                String schema = f.projects.open(name).schema();
                                f.contexts.lock(schema, StoreTest.ctx("first", "The first context of " + name), "s");
                                done.add(name);
                                break;
                            } catch (PoolTimeoutException e) {
                                timeouts.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> r : running) {
                r.get(300, TimeUnit.SECONDS);
            }
            clients.shutdown();
            sampling.set(false);
            sampler.join();
            assertEquals(projects, done.size());
            List<Projects.ProjectCounts> all = f.projects.listWithCounts();
            assertEquals(projects, all.size());
            assertTrue(all.stream().allMatch(p -> p.contexts() == 1), "every project was migrated and holds its context");
            assertThat("backends seen at once", maxBackends.get(), lessThanOrEqualTo(4));
            assertThat(maxBackends.get(), greaterThan(0));
            java.util.logging.Logger.getLogger(SharedConnectionTest.class.getName()).info("first use of " + projects + " projects: "
                    + timeouts.get() + " typed timeouts retried, at most " + maxBackends.get() + " backends at once");
        }
    }

    private static int advisoryLocks(StoreFixture f) {
        return TestDatabase.get().queryInt("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                + "AND database = (SELECT oid FROM pg_database WHERE datname = ?)", f.db.name());
    }
}
