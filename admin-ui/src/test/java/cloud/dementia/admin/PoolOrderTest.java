package cloud.dementia.admin;

import java.util.List;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolState;

import static cloud.dementia.admin.PoolViewTest.ROOM;
import static cloud.dementia.admin.PoolViewTest.stats;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PoolOrderTest {

    static final List<PoolView> POOLS = List.of(
            PoolView.of(stats("b-ok", PoolState.OPEN, 1, 5, 0, 0), ROOM, 0),
            PoolView.of(stats("a-crit", PoolState.OPEN, 3, 3, 2, 0), ROOM, 0),
            PoolView.of(stats("c-warn", PoolState.SUSPENDED, 0, 8, 0, 0), ROOM, 0));

    static List<String> schemas(List<PoolView> pools) {
        return pools.stream().map(PoolView::schema).toList();
    }

    @Test
    void withoutAChoiceTheMostUrgentComeFirst() {
        assertEquals(List.of("a-crit", "c-warn", "b-ok"), schemas(PoolOrder.of(null, null).sort(POOLS)));
        assertEquals(PoolOrder.URGENT, PoolOrder.of("nonsense", "asc"), "an unknown column is the usual order");
    }

    @Test
    void aColumnSortsNamesAToZAndNumbersLargestFirstThenTheOtherWay() {
        assertEquals(List.of("a-crit", "b-ok", "c-warn"), schemas(PoolOrder.of("schema", null).sort(POOLS)));
        assertEquals(List.of("c-warn", "b-ok", "a-crit"), schemas(PoolOrder.of("schema", "desc").sort(POOLS)));
        assertEquals(List.of("c-warn", "b-ok", "a-crit"), schemas(PoolOrder.of("max", null).sort(POOLS)));
        assertEquals(List.of("a-crit", "b-ok", "c-warn"), schemas(PoolOrder.of("max", "asc").sort(POOLS)));
        assertEquals(List.of("a-crit", "c-warn", "b-ok"), schemas(PoolOrder.of("level", null).sort(POOLS)));
    }

    @Test
    void eachHeaderLinksToItsOrderAndTheSortedOneToTheReverse() {
        PoolOrder byMax = PoolOrder.of("max", "desc");
        assertEquals("?sort=max&dir=asc", byMax.href("max"));
        assertEquals("?sort=schema&dir=asc", byMax.href("schema"));
        assertEquals("?sort=waiting&dir=desc", byMax.href("waiting"));
        assertEquals("sorted-desc", byMax.css("max"));
        assertEquals("", byMax.css("schema"));
    }
}
