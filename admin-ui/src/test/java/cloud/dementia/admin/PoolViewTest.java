package cloud.dementia.admin;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.PoolTotals;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PoolViewTest {

    static PoolStats stats(String schema, PoolState state, int active, int max, int waiting, int leaks) {
        return new PoolStats(schema, state, active, waiting, max, false, 0, 0, leaks, Instant.now(), Instant.now(), PoolTotals.NONE);
    }

    /** the physical pool with the budget of 20: {@code total} backends open, {@code active} of them in use */
    static PhysicalStats physical(int active, int total, int waiting, long timeouts, int allocated) {
        return new PhysicalStats("physical", active, total - active, total, 20, 0, waiting, timeouts, allocated);
    }

    /** budget 20: 10 backends open, 8 in use, nobody waiting */
    static final BudgetStats ROOM = new BudgetStats(20, 10, 8, 0);
    /** budget 20: all in use, one caller waiting */
    static final BudgetStats FULL = new BudgetStats(20, 20, 20, 1);

    @Test
    void callersWaitingOnAFullPoolIsSaturatedAndSaysWhatToDo() {
        PoolView v = PoolView.of(stats("acme", PoolState.OPEN, 5, 5, 3, 0), ROOM, 0);
        assertEquals("crit", v.level());
        assertEquals("saturated", v.badge());
        assertEquals("saturated: all 5 connections it may hold are in use and 3 callers waiting; raise max or find what holds them",
                v.why().get(0));
    }

    @Test
    void callersWaitingBelowMaxWithAFullBudgetWaitForTheBudget() {
        PoolView v = PoolView.of(stats("acme", PoolState.OPEN, 2, 5, 1, 0), FULL, 0);
        assertEquals("crit", v.level());
        assertEquals("waiting", v.badge(), "below its own max: it waits for the budget, it is not saturated");
        assertThat(v.why().get(0), containsString("1 caller waiting for the budget: the schema holds 2 of its max 5 but all 20 connections"));
    }

    @Test
    void atMaxWithoutWaitersIsAWarning() {
        PoolView v = PoolView.of(stats("acme", PoolState.OPEN, 5, 5, 0, 0), ROOM, 0);
        assertEquals("warn", v.level());
        assertEquals("warn", v.badge());
        assertThat(v.why().get(0), containsString("at max"));
    }

    @Test
    void suspendedLeakingOrRecentlyTimingOutIsAWarningWithEachReason() {
        PoolView v = PoolView.of(stats("acme", PoolState.SUSPENDED, 1, 5, 0, 1), ROOM, 4);
        assertEquals("warn", v.level());
        assertEquals(3, v.why().size());
        assertThat(v.why().get(0), containsString("suspended"));
        assertThat(v.why().get(1), containsString("1 checkout held longer than the leak threshold"));
        assertEquals("4 acquire timeouts in the last 15 minutes", v.why().get(2));
    }

    @Test
    void aQuietPoolIsOkAndSaysHowBusyItIs() {
        assertEquals(List.of("idle"), PoolView.of(stats("a", PoolState.OPEN, 0, 5, 0, 0), ROOM, 0).why());
        PoolView busy = PoolView.of(stats("b", PoolState.OPEN, 2, 5, 0, 0), ROOM, 0);
        assertEquals("ok", busy.level());
        assertEquals(List.of("2 of 5 in use"), busy.why());
    }

    @Test
    void theMostUrgentPoolsComeFirst() {
        List<PoolView> sorted = List.of(
                PoolView.of(stats("a-ok", PoolState.OPEN, 0, 5, 0, 0), ROOM, 0),
                PoolView.of(stats("b-warn", PoolState.OPEN, 5, 5, 0, 0), ROOM, 0),
                PoolView.of(stats("c-crit", PoolState.OPEN, 5, 5, 1, 0), ROOM, 0),
                PoolView.of(stats("d-crit", PoolState.OPEN, 5, 5, 4, 0), ROOM, 0))
                .stream().sorted(PoolView.URGENT_FIRST).toList();
        assertEquals(List.of("d-crit", "c-crit", "b-warn", "a-ok"), sorted.stream().map(PoolView::schema).toList());
    }

    @Test
    void aDrainingPoolSaysNewWorkWaitsForWorkInFlight() {
        PoolView v = PoolView.of(stats("acme", PoolState.DRAINING, 2, 5, 1, 0), ROOM, 0);
        assertEquals("crit", v.level(), "callers wait now");
        assertEquals("waiting", v.badge());
        assertEquals(List.of("1 caller waiting (2 of max 5 in use)", "draining: new work waits until the work in flight has finished"), v.why());
    }

    @Test
    void theBudgetSaysWhenItIsFullAndWhoHoldsIt() {
        List<PoolView> pools = List.of(PoolView.of(stats("big", PoolState.OPEN, 15, 15, 0, 0), FULL, 0),
                PoolView.of(stats("small", PoolState.OPEN, 5, 5, 1, 0), FULL, 0));
        BudgetView b = BudgetView.of(FULL, physical(20, 20, 0, 0, 20), pools);
        assertEquals("crit", b.level());
        assertEquals("full: 1 caller waits for a connection to be given back", b.why());
        assertEquals(20, b.inUse());
        assertEquals(0, b.idle());
        assertEquals(List.of("big", "small"), b.holders().stream().map(BudgetView.Holder::schema).toList());
        assertEquals(750.0, b.segments().get(0).width(), 0.001);
        assertEquals(750.0, b.segments().get(1).x(), 0.001);
        assertEquals(2, b.segments().size(), "no idle part: every backend is in use");
        assertEquals("warn", BudgetView.of(new BudgetStats(20, 16, 16, 0), physical(16, 16, 0, 0, 16), List.of()).level());
    }

    @Test
    void theBudgetBarShowsTheSchemasHoldingConnectionsThenTheIdleOnes() {
        List<PoolView> pools = List.of(PoolView.of(stats("a", PoolState.OPEN, 6, 8, 0, 0), ROOM, 0),
                PoolView.of(stats("b", PoolState.OPEN, 2, 5, 0, 0), ROOM, 0),
                PoolView.of(stats("quiet", PoolState.OPEN, 0, 5, 0, 0), ROOM, 0));
        BudgetView b = BudgetView.of(ROOM, physical(8, 10, 0, 0, 10), pools);
        assertEquals("ok", b.level());
        assertEquals("12 of 20 connections free", b.why());
        assertEquals(List.of("a", "b"), b.holders().stream().map(BudgetView.Holder::schema).toList(), "a schema holding none is not in the bar");
        List<BudgetView.Segment> parts = b.segments();
        assertEquals(3, parts.size());
        assertEquals("idle", parts.get(2).level());
        assertEquals(2, parts.get(2).count());
        assertEquals(400.0, parts.get(2).x(), 0.001, "the idle part starts where the 8 in use end");
        assertEquals(100.0, parts.get(2).width(), 0.001);
        assertEquals(10, b.unopened(), "20 - 8 in use - 2 idle");
    }

    @Test
    void thePhysicalPoolSaysWhetherTheDatabaseGivesItsConnections() {
        PhysicalView quiet = PhysicalView.of(physical(3, 7, 0, 0, 7), 0);
        assertEquals("ok", quiet.level());
        assertEquals(List.of("7 of 20 backends open: 3 in use, 4 idle"), quiet.why());
        assertEquals(List.of("no backend open: the next work opens one"), PhysicalView.of(physical(0, 0, 0, 0, 0), 0).why());

        PhysicalView replacing = PhysicalView.of(physical(2, 2, 0, 0, 5), 0);
        assertEquals(3, replacing.closing());
        assertEquals("3 backends closing", replacing.why().get(0));

        PhysicalView slow = PhysicalView.of(physical(2, 2, 0, 4, 2), 1);
        assertEquals("warn", slow.level());
        assertEquals("1 caller got no connection from the database in time in the last 15 minutes", slow.why().get(0));

        PhysicalView failing = PhysicalView.of(physical(0, 0, 3, 9, 0), 5);
        assertEquals("crit", failing.level());
        assertEquals("failing", failing.badge());
        assertThat(failing.why().get(0), containsString("the database gives no connection: 3 callers waiting for one to open and 5 timed out"));
    }
}
