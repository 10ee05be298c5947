package cloud.dementia.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.thymeleaf.TemplateEngine;
import org.thymeleaf.context.Context;
import org.thymeleaf.templatemode.TemplateMode;
import org.thymeleaf.templateresolver.StringTemplateResolver;

import cloud.dementia.db.pool.BudgetStats;
import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.pool.PoolTotals;
import cloud.dementia.db.store.ServerBackend;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pages render from their templates without a database, and a page's refresh ({@code ?live}) is exactly the
 * page's own {@code data-live} parts: one source of markup.
 */
class TemplatesTest {

    static final Templates TEMPLATES = new Templates();
    static final Instant HOUR_AGO = Instant.now().minus(Duration.ofHours(1));
    static final BudgetStats BUDGET = new BudgetStats(12, 9, 7, 2);
    static final PoolTotals TOTALS = new PoolTotals(12_345, 40_000, 2, 8_300);
    static final PhysicalStats PHYSICAL = new PhysicalStats("physical", 7, 2, 9, 12, 1, 0, 0, 9);

    static PoolView pool(String schema, PoolState state, int active, int waiting, int max, boolean own) {
        return PoolView.of(new PoolStats(schema, state, active, waiting, max, own, waiting > 0 ? 1200 : 0, 3, 0, HOUR_AGO, HOUR_AGO, TOTALS), BUDGET, 0);
    }

    static final List<PoolView> POOLS = List.of(pool("proj_orders", PoolState.OPEN, 3, 2, 3, true),
            pool("proj_billing", PoolState.OPEN, 4, 0, 6, false), pool("proj_docs", PoolState.SUSPENDED, 0, 0, 5, false));

    static final Reads.ServerSide SERVER = new Reads.ServerSide(HOUR_AGO, 2, 3, Map.of("idle in transaction", 2, "idle", 1), 3, 2, List.of(),
            1500L, 101, List.of(new ServerBackend(101, "idle in transaction", HOUR_AGO, HOUR_AGO, HOUR_AGO, "Client:ClientRead", "SELECT 1"),
            new ServerBackend(102, "idle in transaction", HOUR_AGO, HOUR_AGO, HOUR_AGO, null, "SELECT 2"),
            new ServerBackend(103, "idle", HOUR_AGO, null, HOUR_AGO, null, "COMMIT")),
            Map.of(101, "proj_orders", 102, "proj_orders"), List.of(), null);

    static Map<String, Object> model(String page) {
        Map<String, Object> m = new HashMap<>();
        m.put("page", page);
        m.put("fmt", new Format());
        m.put("cssVersion", "c");
        m.put("jsVersion", "j");
        m.put("user", "admin");
        m.put("csrf", "token-123");
        m.put("now", Instant.now());
        BudgetView budget = BudgetView.of(BUDGET, PHYSICAL, POOLS);
        m.put("overview", new Reads.Overview(Instant.now(), budget, PhysicalView.of(PHYSICAL, 0), POOLS, 5, java.util.Map.of()));
        switch (page) {
            case "pools" -> {
                m.put("order", PoolOrder.URGENT);
                m.put("pools", PoolOrder.URGENT.sort(POOLS));
            }
            case "pool" -> {
                PoolView p = POOLS.get(0);
                m.put("schema", p.schema());
                m.put("p", p);
                m.put("detail", new Reads.PoolDetail(p, budget, new Reads.ResizeRule(12, 12, 5, "max may be 1 to 12"),
                        List.of(new Reads.LeakView(7, p.schema(), "worker-1", HOUR_AGO, 3_600_000, false,
                                "cloud.dementia.Holder.run(Holder.java:9)\njava.base/java.lang.Thread.run(Thread.java:1)", "cloud.dementia.Holder.run(Holder.java:9)")),
                        SERVER, List.of(), 10_000, 5_000, true, 0,
                        new Reads.Placement("10.0.0.1:5432", 1_572_864, List.of("10.0.0.1:5432", "10.0.0.2:5432"),
                                List.of("context_locks to 10.0.0.2:5432: 512.0 kB of 1.0 MB copied"))));
            }
            case "physical" -> {
                PhysicalView ph = PhysicalView.of(PHYSICAL, 0);
                m.put("ph", ph);
                m.put("detail", new Reads.PhysicalDetail(ph, budget, SERVER, List.of()));
            }
            case "cleanup" -> m.put("c", new Reads.CleanupView(300, 600, Instant.now().plusSeconds(42), List.of()));
            default -> throw new IllegalArgumentException(page);
        }
        return m;
    }

    /** The {@code data-live} elements of a rendered page, as Thymeleaf selects them from its HTML. */
    static String liveParts(String html) {
        TemplateEngine engine = new TemplateEngine();
        StringTemplateResolver resolver = new StringTemplateResolver();
        resolver.setTemplateMode(TemplateMode.HTML);
        engine.setTemplateResolver(resolver);
        return engine.process(html, Set.of("[data-live]"), new Context());
    }

    static List<String> ids(String html) {
        Matcher m = Pattern.compile("<[a-z]+ [^>]*?id=\"([^\"]+)\"[^>]*? data-live").matcher(html);
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void aPagesRefreshIsThePagesOwnLiveParts() {
        for (String page : List.of("pools", "pool", "physical", "cleanup")) {
            Map<String, Object> m = model(page);
            String full = TEMPLATES.render(page, m);
            String live = TEMPLATES.renderLive(page, m);
            assertEquals(liveParts(full), live, page);
            assertTrue(ids(live).contains("mini-budget"), page + ": the header's budget refreshes too: " + ids(live));
            assertFalse(live.contains("<html"), page + ": no page around the parts");
        }
        // on one PostgreSQL a pool has no placement: its live parts render alone as well (a part is rendered without its parents)
        Map<String, Object> plain = model("pool");
        Reads.PoolDetail d = (Reads.PoolDetail) plain.get("detail");
        plain.put("detail", new Reads.PoolDetail(d.pool(), d.budget(), d.resize(), d.leaks(), d.server(), d.recent(), d.leakThresholdMs(),
                d.acquireTimeoutMs(), d.suspendable(), d.embeddingBacklog(), null));
        assertEquals(liveParts(TEMPLATES.render("pool", plain)), TEMPLATES.renderLive("pool", plain), "pool on one PostgreSQL");
        assertFalse(ids(TEMPLATES.renderLive("pool", plain)).contains("placement-moving"));
        assertEquals(List.of("mini-budget", "budget", "physical", "pools-card"), ids(TEMPLATES.renderLive("pools", model("pools"))));
        assertEquals(List.of("mini-budget", "pool-head", "size-now", "placement-moving", "actions", "server-view", "leaks", "recent-actions"),
                ids(TEMPLATES.renderLive("pool", model("pool"))));
        assertEquals(List.of("mini-budget", "physical-head", "reconnect", "server-view", "recent-actions"),
                ids(TEMPLATES.renderLive("physical", model("physical"))));
    }

    @Test
    void thePoolsPageShowsThePhysicalRowAndMarksOwnSizes() {
        String html = TEMPLATES.render("pools", model("pools"));
        assertThat(html, containsString("id=\"physical-row\""));
        assertThat(html, containsString("<b id=\"budget-in-use\">7</b> / <span id=\"budget-total\">12</span>"));
        Matcher orders = Pattern.compile("<tr [^>]*data-schema=\"proj_orders\"[^>]*>.*?</tr>", Pattern.DOTALL).matcher(html);
        assertTrue(orders.find());
        assertThat(orders.group(), containsString("<span class=\"own\""));
        assertThat(orders.group(), containsString(">saturated<"));
        Matcher billing = Pattern.compile("<tr [^>]*data-schema=\"proj_billing\"[^>]*>.*?</tr>", Pattern.DOTALL).matcher(html);
        assertTrue(billing.find());
        assertThat(billing.group(), not(containsString("class=\"own\"")));
        assertThat(html, containsString("class=\"seg seg-idle\""));
        assertThat(orders.group(), containsString("<span class=\"n-transactions\">12,345</span>"));
        assertThat(orders.group(), containsString("40,000 stmts"));
        assertThat(orders.group(), containsString("<td class=\"num n-errors\">2</td>"));
    }

    @Test
    void theSchemaPoolPageShowsWhatItsUnitsOfWorkDidAsPgBouncersShowStats() {
        String text = TEMPLATES.render("pool", model("pool")).replaceAll("<[^>]+>", " ").replaceAll("\\s+", " ");
        assertThat(text, containsString("Units of work 12,345 transactions run since the pool was created"));
        assertThat(text, containsString("Statements 40,000 3.2 per unit"));
        assertThat(text, containsString("Errors 2 units that ended with an error"));
        assertThat(text, containsString("Time waited 8 s for a connection, every caller together, those that timed out included"));
        assertThat(text, containsString("callers in line; the first for 1 s"));
    }

    @Test
    void onACitusClusterThePoolPageSaysWhichWorkerHoldsTheProjectAndOffersTheOthers() {
        String pool = TEMPLATES.render("pool", model("pool"));
        String text = pool.replaceAll("<[^>]+>", " ").replaceAll("\\s+", " ");
        assertThat(text, containsString("On Citus worker 10.0.0.1:5432 , 1.5 MB ."));
        assertThat(pool, containsString("<option value=\"10.0.0.2:5432\">10.0.0.2:5432</option>"));
        assertFalse(pool.contains("<option value=\"10.0.0.1:5432\""), "not the worker it is on");
        assertThat(pool, containsString("/move\""));
        assertThat(text, containsString("moving: context_locks to 10.0.0.2:5432: 512.0 kB of 1.0 MB copied"));
    }

    @Test
    void theConfirmationsSayThatNoConnectionCloses() {
        String pool = TEMPLATES.render("pool", model("pool"));
        for (String id : List.of("drain-text", "suspend-text", "retire-text")) {
            Matcher m = Pattern.compile("id=\"" + id + "\">(.*?)</p>", Pattern.DOTALL).matcher(pool);
            assertTrue(m.find(), id);
            assertThat(id, m.group(1).replaceAll("<[^>]+>", "").replaceAll("\\s+", " "), containsString("No connection is closed."));
        }
        assertThat(pool, containsString("own size"));
        assertThat(pool, containsString("Back to the default (5)"));
        String physical = TEMPLATES.render("physical", model("physical"));
        assertThat(physical, containsString("action=\"/admin/physical/reconnect\""));
        assertThat(physical.replaceAll("<[^>]+>", "").replaceAll("\\s+", " "), containsString("The 2 idle ones close now; the 7 in use close when their work gives them back"));
        assertThat(physical, containsString(">proj_orders</a>"));
        assertThat(physical, containsString("idle in the pool"));
    }
}
