package cloud.dementia.db.pool;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static cloud.dementia.db.pool.PoolOperationsTest.eventually;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** PgBouncer's SHOW POOLS {@code maxwait} and SHOW STATS counters, per schema pool. */
class PoolTotalsTest {

    private static PoolTotals totals(RegistryFixture f) {
        return f.registry.currentStats("acme").orElseThrow().totals();
    }

    private static double meter(RegistryFixture f, String name) {
        var m = f.meters.get(name).tag("schema", "acme").meter();
        return m.measure().iterator().next().getValue();
    }

    /** A caller for the schema that waits in line until the holder gives its connection back; returns once it waits. */
    private static Thread waiter(RegistryFixture f) throws InterruptedException {
        Thread t = Thread.ofVirtual().start(() -> f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1))));
        eventually("a caller waits", () -> f.registry.currentStats("acme").orElseThrow().waiting() == 1);
        return t;
    }

    @Test
    void maxwaitIsTheAgeOfTheCallerFirstInLineAndZeroWhenNobodyWaits() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofSeconds(10)))) {
            f.schemas("acme");
            Thread waiter;
            try (PoolOperationsTest.Holder held = new PoolOperationsTest.Holder(f.registry, "acme")) {
                assertEquals(0, f.registry.currentStats("acme").orElseThrow().longestWaitMs(), "the holder waited for nobody");
                assertEquals(0.0, meter(f, "db.pool.wait.oldest.seconds"));
                waiter = waiter(f);
                Thread.sleep(400);
                long maxwait = f.registry.currentStats("acme").orElseThrow().longestWaitMs();
                assertThat(maxwait, allOf(greaterThanOrEqualTo(400L), lessThan(5000L)));
                assertThat(meter(f, "db.pool.wait.oldest.seconds"), allOf(greaterThanOrEqualTo(0.4), lessThan(5.0)));
            }
            waiter.join();
            assertEquals(0, f.registry.currentStats("acme").orElseThrow().longestWaitMs(), "nobody waits any more");
            assertEquals(0.0, meter(f, "db.pool.wait.oldest.seconds"));
        }
    }

    @Test
    void nUnitsOfKStatementsCountNTransactionsAndNTimesKStatements() {
        try (RegistryFixture f = new RegistryFixture(s -> s)) {
            f.schemas("acme");
            f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1)));
            PoolTotals before = totals(f);
            int n = 7;
            int k = 3;
            for (int i = 0; i < n; i++) {
                f.registry.inTransaction("acme", tx -> {
                    for (int j = 0; j < k; j++) {
                        tx.queryOne("SELECT v FROM {s}.t", r -> r.string(1));
                    }
                    return null;
                });
            }
            PoolTotals after = totals(f);
            assertEquals(n, after.transactions() - before.transactions());
            assertEquals((long) n * k, after.statements() - before.statements());
            assertEquals(0, after.errors() - before.errors());

            f.registry.inReadOnlyTransaction("acme", tx -> tx.query("SELECT v FROM {s}.t", r -> r.string(1)));
            f.registry.inStatement("acme", tx -> tx.update("UPDATE {s}.t SET v = v"));
            PoolTotals more = totals(f);
            assertEquals(2, more.transactions() - after.transactions(), "every kind of unit is one transaction");
            assertEquals(2, more.statements() - after.statements());
            assertEquals(0, more.errors(), "a read-only unit's rollback is no error");
            assertEquals(more.transactions(), meter(f, "db.pool.transactions"));
            assertEquals(more.statements(), meter(f, "db.pool.statements"));
        }
    }

    @Test
    void aUnitThatEndsWithAnExceptionCountsOneError() {
        try (RegistryFixture f = new RegistryFixture(s -> s)) {
            f.schemas("acme");
            f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1)));
            PoolTotals before = totals(f);
            assertThrows(IllegalStateException.class, () -> f.registry.inTransaction("acme", tx -> {
                tx.update("INSERT INTO {s}.t VALUES ('lost')");
                throw new IllegalStateException("boom");
            }));
            PoolTotals thrown = totals(f);
            assertEquals(1, thrown.errors() - before.errors());
            assertEquals(1, thrown.transactions() - before.transactions());
            assertEquals(1, thrown.statements() - before.statements(), "its statement was sent, then rolled back");

            assertThrows(DataAccessException.class, () -> f.registry.inStatement("acme", tx -> tx.update("INSERT INTO {s}.nope VALUES (1)")));
            PoolTotals refused = totals(f);
            assertEquals(1, refused.errors() - thrown.errors(), "a statement the database refused");
            assertEquals(refused.errors(), meter(f, "db.pool.errors"));

            f.registry.inTransaction("acme", tx -> tx.update("INSERT INTO {s}.t VALUES ('kept')"));
            assertEquals(refused.errors(), totals(f).errors(), "a unit that commits is no error");
        }
    }

    @Test
    void waitTimeAccumulatesWhenCallersWaitAndWhenTheyGiveUp() throws Exception {
        try (RegistryFixture f = new RegistryFixture(s -> s.withPoolSize(1, 0).withAcquireTimeout(Duration.ofMillis(600)))) {
            f.schemas("acme");
            for (int i = 0; i < 20; i++) {
                f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1)));
            }
            long uncontended = totals(f).waitMs();
            assertThat("20 callers that found a connection free waited next to nothing", uncontended, lessThan(200L));

            Thread waiter;
            try (PoolOperationsTest.Holder held = new PoolOperationsTest.Holder(f.registry, "acme")) {
                assertThrows(PoolTimeoutException.class, () -> f.registry.inStatement("acme", tx -> tx.queryOne("SELECT 1", r -> r.integer(1))));
                long afterTimeout = totals(f).waitMs();
                assertThat("a caller that gave up after the acquire timeout waited that long", afterTimeout - uncontended,
                        allOf(greaterThanOrEqualTo(590L), lessThan(5000L)));
                waiter = waiter(f);
                Thread.sleep(300);
            }
            waiter.join(TimeUnit.SECONDS.toMillis(10));
            long contended = totals(f).waitMs();
            assertThat(contended - uncontended, greaterThanOrEqualTo(590L + 290L));
            assertEquals(contended / 1000.0, meter(f, "db.pool.wait.seconds"), 0.0005);
        }
    }
}
