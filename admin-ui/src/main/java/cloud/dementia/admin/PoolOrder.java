package cloud.dementia.admin;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The order of the pools table: the most urgent first, or by the column an operator clicked. It travels in the page's
 * query ({@code ?sort=max&dir=asc}), so a sorted table is a link, a reload keeps it, and the rows are sorted once,
 * here, whether the page is rendered whole or refreshed.
 *
 * @param key       the column ({@code urgency} when none was chosen)
 * @param ascending smallest first
 */
record PoolOrder(String key, boolean ascending) {

    static final PoolOrder URGENT = new PoolOrder("urgency", false);

    /** Each sortable column, smallest first. */
    private static final Map<String, Comparator<PoolView>> COLUMNS = Map.ofEntries(
            Map.entry("level", Comparator.comparing((PoolView p) -> Level.valueOf(p.level().toUpperCase(Locale.ROOT)))
                    .thenComparingInt(PoolView::waiting)),
            Map.entry("schema", Comparator.comparing(PoolView::schema)),
            Map.entry("state", Comparator.comparing(PoolView::state)),
            Map.entry("active", Comparator.comparingInt(PoolView::active)),
            Map.entry("waiting", Comparator.comparingInt(PoolView::waiting)),
            Map.entry("max", Comparator.comparingInt(PoolView::max)),
            Map.entry("longestWaitMs", Comparator.comparingLong(PoolView::longestWaitMs)),
            Map.entry("acquireTimeouts", Comparator.comparingLong(PoolView::acquireTimeouts)),
            Map.entry("suspectedLeaks", Comparator.comparingInt(PoolView::suspectedLeaks)),
            Map.entry("transactions", Comparator.comparingLong((PoolView p) -> p.totals().transactions())),
            Map.entry("errors", Comparator.comparingLong((PoolView p) -> p.totals().errors())),
            Map.entry("lastUsedAt", Comparator.comparing(PoolView::lastUsedAt, Comparator.nullsFirst(Comparator.naturalOrder()))));

    /** @return the order asked for; an unknown column is the urgent-first order, a missing direction the column's usual one */
    static PoolOrder of(String key, String dir) {
        if (key == null || !COLUMNS.containsKey(key)) {
            return URGENT;
        }
        return new PoolOrder(key, dir == null ? ascendingFirst(key) : dir.equals("asc"));
    }

    /** Names and states read A to Z first; numbers and times largest (newest) first. */
    private static boolean ascendingFirst(String key) {
        return key.equals("schema") || key.equals("state");
    }

    List<PoolView> sort(List<PoolView> pools) {
        Comparator<PoolView> c = COLUMNS.get(key);
        if (c == null) {
            return pools.stream().sorted(PoolView.URGENT_FIRST).toList();
        }
        return pools.stream().sorted((ascending ? c : c.reversed()).thenComparing(PoolView::schema)).toList();
    }

    /** @return the link of a column's header: the column in its usual direction, or this column reversed */
    public String href(String column) {
        boolean asc = column.equals(key) ? !ascending : ascendingFirst(column);
        return "?sort=" + column + "&dir=" + (asc ? "asc" : "desc");
    }

    /** @return the header's class: {@code sorted-asc} or {@code sorted-desc} on the sorted column */
    public String css(String column) {
        return column.equals(key) ? (ascending ? "sorted-asc" : "sorted-desc") : "";
    }
}
