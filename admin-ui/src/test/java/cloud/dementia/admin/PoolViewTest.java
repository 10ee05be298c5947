package cloud.dementia.admin;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolStats;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PoolViewTest {

    static PoolStats stats(String schema, PoolState state, int active, int max, int waiting, int leaks) {
        return new PoolStats(schema, state, active, waiting, max, false, 0, 0, leaks, Instant.now(), Instant.now());
    }

    /** budget 20: 10 backends open, 8 in use, nobody waiting */
    static final BudgetStats ROOM = new BudgetStats(20, 10, 8, 0);
    /** budget 20: all in use, one caller waiting */
    static final BudgetStats FULL = new BudgetStats(20, 20, 20, 1);

    @Test
    void callersWaitingOnAFullPoolIsSaturatedAndSaysWhatToDo() {
        PoolView v = PoolView.of(stats("acme", PoolState.OPEN, 5, 5, 3, 0), ROOM, 0);
        assertEquals("crit", v.level());
        assertEquals("saturated: all 5 connections it may hold are in use and 3 callers waiting; raise max or find what holds them",
                v.why().get(0));
    }

    @Test
    void callersWaitingBelowMaxWithAFullBudgetWaitForTheBudget() {
        PoolView v = PoolView.of(stats("acme", PoolState.OPEN, 2, 5, 1, 0), FULL, 0);
        assertEquals("crit", v.level());
        assertThat(v.why().get(0), containsString("1 caller waiting for the budget: the schema holds 2 of its max 5 but all 20 connections"));
    }

    @Test
    void atMaxWithoutWaitersIsAWarning() {
        PoolView v = PoolView.of(stats("acme", PoolState.OPEN, 5, 5, 0, 0), ROOM, 0);
        assertEquals("warn", v.level());
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
    void theBudgetSaysWhenItIsFullAndWhoHoldsIt() {
        List<PoolView> pools = List.of(PoolView.of(stats("big", PoolState.OPEN, 15, 15, 0, 0), FULL, 0),
                PoolView.of(stats("small", PoolState.OPEN, 5, 5, 1, 0), FULL, 0));
        BudgetView b = BudgetView.of(FULL, pools);
        assertEquals("crit", b.level());
        assertEquals("full: 1 caller waits for a connection to be given back", b.why());
        assertEquals(List.of("big", "small"), b.holders().stream().map(BudgetView.Holder::schema).toList());
        assertEquals(750.0, b.segments().get(0).width(), 0.001);
        assertEquals(750.0, b.segments().get(1).x(), 0.001);
        assertEquals("ok", BudgetView.of(ROOM, List.of()).level());
        assertEquals("warn", BudgetView.of(new BudgetStats(20, 16, 16, 0), List.of()).level());
    }
}
