package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolState;
import cloud.dementia.db.pool.PoolSuspendedException;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.tools.Json;

import static cloud.dementia.server.console.ConsoleServer.eventually;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /admin/api} as a script uses it, with HTTP Basic: every read, every action, and the refusals. */
class AdminApiTest {

    static ConsoleServer s;

    @BeforeAll
    static void start() {
        s = new ConsoleServer(Map.of("DB_LEAK_THRESHOLD_MS", "400"));
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static JsonNode refused(int status, String method, String path, String json) {
        HttpResponse<String> r = s.api(method, path, json);
        assertEquals(status, r.statusCode(), method + " " + path + ": " + r.body());
        assertThat(r.headers().firstValue("Content-Type").orElse(""), startsWith("application/json"));
        return Json.parse(r.body());
    }

    static List<String> schemas(JsonNode pools) {
        List<String> out = new ArrayList<>();
        pools.forEach(p -> out.add(p.get("schema").asText()));
        return out;
    }

    @Test
    void readsShowEveryPoolTheBudgetAndWhatTheNumbersMean() throws Exception {
        s.use("reads_a");
        s.openConnections("reads_b", 2);
        JsonNode overview = s.apiJson("GET", "/pools", null);
        assertEquals(12, overview.get("budget").get("budget").asInt());
        assertThat(overview.get("budget").get("allocated").asInt(), greaterThanOrEqualTo(3));
        List<String> names = schemas(overview.get("pools"));
        assertThat(names, hasItem("reads_a"));
        assertThat(names, hasItem("reads_b"));
        assertThat(names, hasItem("dementia_control"));
        JsonNode b = null;
        for (JsonNode p : overview.get("pools")) {
            if (p.get("schema").asText().equals("reads_b")) {
                b = p;
            }
        }
        assertEquals(2, b.get("idle").asInt());
        assertEquals(2, b.get("total").asInt());
        assertEquals(5, b.get("max").asInt());
        assertEquals("OPEN", b.get("state").asText());
        assertEquals("ok", b.get("level").asText());
        assertEquals("idle", b.get("why").get(0).asText());

        JsonNode budget = s.apiJson("GET", "/budget", null);
        assertEquals(budget.get("budget").asInt() - budget.get("allocated").asInt(), budget.get("free").asInt());

        JsonNode detail = s.apiJson("GET", "/pools/reads_b", null);
        assertEquals("reads_b", detail.get("pool").get("schema").asText());
        assertEquals(12, detail.get("resize").get("maxAllowed").asInt());
        assertThat(detail.get("resize").get("rule").asText(), containsString("max may be 1 to 12"));
        assertEquals(2, detail.get("server").get("listed").asInt(), "PostgreSQL lists both backends: " + detail.get("server"));
        assertEquals(2, detail.get("server").get("byState").get("idle").asInt());
        assertEquals(0, detail.get("server").get("disagreements").size());
        assertEquals(0, detail.get("leaks").size());

        // the history is sampled every 3 s: the first sample may not be there yet right after start
        ConsoleServer.eventually("a first history sample", () -> {
            try {
                return s.apiJson("GET", "/history?since=0", null).get("pools").has("dementia_control");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode history = s.apiJson("GET", "/history?since=0", null);
        assertEquals("[\"at\",\"active\",\"waiting\",\"total\",\"max\"]", history.get("columns").toString());
        assertTrue(history.get("pools").has("dementia_control"), history.toString());
        long at = history.get("at").asLong();
        assertEquals(0, s.apiJson("GET", "/history?since=" + (at + 60_000), null).get("pools").size());
        assertThat(refused(400, "GET", "/history?since=yesterday", null).get("error").asText(), containsString("since must be epoch milliseconds"));
    }

    @Test
    void resizeAppliesAtOnceShowsInMetricsAndIsAudited() {
        s.use("sized");
        JsonNode r = s.apiJson("POST", "/pools/sized/resize", "{\"max\": 7, \"minIdle\": 1}");
        assertEquals("resized `sized`: max 5 → 7, min idle 0 → 1", r.get("done").asText());
        assertEquals(5, r.get("before").get("max").asInt());
        assertEquals(7, r.get("after").get("max").asInt());
        assertEquals(7, r.get("pool").get("max").asInt());
        assertEquals(7, s.registry().currentStats("sized").orElseThrow().max());
        assertEquals(7.0, s.metric("hikaricp_connections_max{pool=\"sized\"}"));

        // a form works as well, and min idle may be left out (it stays)
        HttpResponse<String> form = s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/pools/sized/resize")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("max=6")).build());
        assertEquals(200, form.statusCode(), form.body());
        assertEquals(6, s.registry().currentStats("sized").orElseThrow().max());
        assertEquals(1, s.registry().currentStats("sized").orElseThrow().minIdle());

        JsonNode entry = s.apiJson("GET", "/audit?limit=5", null).get("entries").get(0);
        assertEquals("resize", entry.get("action").asText());
        assertEquals("sized", entry.get("target").asText());
        assertEquals("admin (api, 127.0.0.1)", entry.get("actor").asText());
        assertEquals(7, entry.get("before").get("max").asInt());
        assertEquals(6, entry.get("after").get("max").asInt());
        assertEquals(1, entry.get("after").get("minIdle").asInt());
    }

    @Test
    void resizeRefusalsSayWhatIsWrongAndChangeNothing() {
        s.use("refuse");
        s.use("reserve");
        assertEquals("refused: max 13 for schema `refuse` exceeds the connection budget of 12 (DB_POOL_BUDGET): no pool can hold more "
                        + "backends than the whole process may open",
                refused(400, "POST", "/pools/refuse/resize", "{\"max\": 13}").get("error").asText());
        assertEquals("refused: max must be a whole number, got `lots`",
                refused(400, "POST", "/pools/refuse/resize", "{\"max\": \"lots\"}").get("error").asText());
        assertEquals("refused: max is required: a whole number", refused(400, "POST", "/pools/refuse/resize", "{}").get("error").asText());
        assertEquals("refused: max must be at least 1, got 0", refused(400, "POST", "/pools/refuse/resize", "{\"max\": 0}").get("error").asText());
        assertEquals("refused: min idle must be between 0 and max (3), got 4",
                refused(400, "POST", "/pools/refuse/resize", "{\"max\": 3, \"minIdle\": 4}").get("error").asText());
        assertThat(refused(400, "POST", "/pools/refuse/resize", "{\"max\": ").get("error").asText(), containsString("not valid JSON"));

        s.apiJson("POST", "/pools/reserve/resize", "{\"max\": 8, \"minIdle\": 8}");
        try {
            int reserved = s.registry().pools().stream().filter(p -> !p.schema().equals("refuse")).mapToInt(p -> p.minIdle()).sum() + 5;
            assertThat(refused(400, "POST", "/pools/refuse/resize", "{\"max\": 5, \"minIdle\": 5}").get("error").asText(),
                    containsString("min idle 5 for schema `refuse` would reserve " + reserved + " idle connections across all pools, "
                            + "more than the budget of 12"));
        } finally {
            s.apiJson("POST", "/pools/reserve/resize", "{\"max\": 5, \"minIdle\": 0}");
        }
        assertEquals("no pool for schema `nope`: it is opened on first use, or was retired",
                refused(404, "POST", "/pools/nope/resize", "{\"max\": 3}").get("error").asText());
        assertEquals(5, s.registry().currentStats("refuse").orElseThrow().max(), "no refusal changed the pool");
        assertEquals(0, s.registry().currentStats("refuse").orElseThrow().minIdle());
    }

    @Test
    void drainClosesIdleConnectionsNow() throws Exception {
        s.openConnections("drained", 3);
        JsonNode r = s.apiJson("POST", "/pools/drained/drain", null);
        assertThat(r.get("done").asText(), startsWith("draining `drained`: 3 idle connections closed now, 0 connections in use close when returned"));
        eventually("the drained pool holds no backend", () -> s.registry().currentStats("drained").orElseThrow().total() == 0);
        assertEquals(3, r.get("before").get("idle").asInt());
    }

    @Test
    void suspendRefusesNewWorkUntilResumedAndTheControlSchemaCannotBeSuspended() {
        s.use("paused");
        assertEquals("SUSPENDED", s.apiJson("POST", "/pools/paused/suspend", null).get("after").get("state").asText());
        assertThrows(PoolSuspendedException.class, () -> s.use("paused"));
        assertEquals("`paused` was already suspended", s.apiJson("POST", "/pools/paused/suspend", null).get("done").asText());
        assertEquals("warn", s.apiJson("GET", "/pools/paused", null).get("pool").get("level").asText());
        assertEquals("resumed `paused`: it takes new work again", s.apiJson("POST", "/pools/paused/resume", null).get("done").asText());
        s.use("paused");
        assertEquals("`paused` was not suspended (OPEN): nothing to resume", s.apiJson("POST", "/pools/paused/resume", null).get("done").asText());
        assertThat(refused(400, "POST", "/pools/dementia_control/suspend", null).get("error").asText(),
                containsString("the control schema `dementia_control` cannot be suspended"));
        assertEquals(PoolState.OPEN, s.registry().currentStats("dementia_control").orElseThrow().state());
    }

    @Test
    void retireRemovesThePoolUntilItsNextUse() throws Exception {
        s.openConnections("retired", 2);
        JsonNode r = s.apiJson("POST", "/pools/retired/retire", null);
        assertThat(r.get("done").asText(), startsWith("retired `retired`: 2 idle connections closed now"));
        assertEquals("RETIRED", r.get("after").get("state").asText());
        assertFalse(schemas(s.apiJson("GET", "/pools", null).get("pools")).contains("retired"));
        assertEquals("no pool for schema `retired`: it is opened on first use, or was retired",
                refused(404, "GET", "/pools/retired", null).get("error").asText());
        refused(404, "POST", "/pools/retired/retire", null);
        s.use("retired");
        assertEquals("OPEN", s.apiJson("GET", "/pools/retired", null).get("pool").get("state").asText());
    }

    @Test
    void idleCleanupRunsOnDemandWithSettingsChangedAtRunTime() {
        try {
            JsonNode changed = s.apiJson("POST", "/cleanup/settings", "{\"intervalSeconds\": 900, \"idleMaxSeconds\": 1}");
            assertEquals("idle cleanup now runs every 900 s and closes connections idle longer than 1 s (was every 300 s, 600 s)",
                    changed.get("done").asText());
            assertEquals(900, changed.get("cleanup").get("intervalSeconds").asInt());
            s.use("stale");
            ConsoleServer.sleep(1200);
            JsonNode run = s.apiJson("POST", "/cleanup/run", null);
            assertThat(run.get("done").asText(), startsWith("idle cleanup closed "));
            assertThat(run.get("report").get("poolsRetired").toString(), containsString("\"stale\""));
            assertTrue(s.registry().currentStats("stale").isEmpty());
            JsonNode cleanup = s.apiJson("GET", "/cleanup", null);
            assertEquals(1, cleanup.get("idleMaxSeconds").asInt());
            assertEquals("admin (api, 127.0.0.1)", cleanup.get("runs").get(0).get("trigger").asText());
            assertTrue(cleanup.get("nextRun").asText().startsWith("20"), cleanup.toString());
            assertThat(refused(400, "POST", "/cleanup/settings", "{\"intervalSeconds\": 0, \"idleMaxSeconds\": 60}").get("error").asText(),
                    containsString("idle cleanup interval must be positive"));
            assertEquals("refused: idleMaxSeconds must be a whole number, got `soon`",
                    refused(400, "POST", "/cleanup/settings", "{\"intervalSeconds\": 60, \"idleMaxSeconds\": \"soon\"}").get("error").asText());
            JsonNode audit = s.apiJson("GET", "/audit?limit=3", null).get("entries");
            assertEquals("cleanup run", audit.get(0).get("action").asText());
            assertEquals("cleanup settings", audit.get(1).get("action").asText());
            assertEquals(300, audit.get(1).get("before").get("intervalSeconds").asInt());
            assertEquals(900, audit.get(1).get("after").get("intervalSeconds").asInt());
        } finally {
            s.apiJson("POST", "/cleanup/settings", "{\"intervalSeconds\": 300, \"idleMaxSeconds\": 600}");
        }
    }

    @Test
    void suspectedLeaksComeWithTheStackThatTookTheConnection() throws Exception {
        try (ConsoleServer.Held held = s.hold("leaky")) {
            eventually("the held checkout is a suspected leak",
                    () -> s.registry().currentStats("leaky").map(p -> p.suspectedLeaks() == 1).orElse(false));
            JsonNode leaks = s.apiJson("GET", "/leaks", null).get("leaks");
            JsonNode leak = null;
            for (JsonNode l : leaks) {
                if (l.get("schema").asText().equals("leaky")) {
                    leak = l;
                }
            }
            assertFalse(leak.get("returned").asBoolean());
            assertThat(leak.get("heldMs").asLong(), greaterThanOrEqualTo(400L));
            assertThat(leak.get("stack").asText(), containsString("ConsoleServer$Held"));
            assertThat("the first frame outside the pool layer: who holds it", leak.get("origin").asText(), startsWith("cloud.dementia.server.console.ConsoleServer$Held"));
            JsonNode detail = s.apiJson("GET", "/pools/leaky", null);
            assertEquals(1, detail.get("leaks").size());
            assertEquals("warn", detail.get("pool").get("level").asText());
            assertThat(detail.get("pool").get("why").get(0).asText(), containsString("1 checkout held longer than the leak threshold"));
        }
    }

    @Test
    void theServerViewShowsWhatPostgresSeesAndWhereItDisagreesWithThePool() throws Exception {
        try (ConsoleServer.Held held = s.hold("seen")) {
            JsonNode server = s.apiJson("GET", "/pools/seen", null).get("server");
            assertEquals(1, server.get("listed").asInt(), server.toString());
            assertEquals(1, server.get("byState").get("idle in transaction").asInt(), server.toString());
            assertEquals(1, server.get("busy").asInt());
            assertThat(server.get("oldestTransactionMs").asLong(), greaterThanOrEqualTo(0L));
            assertEquals(0, server.get("disagreements").size(), server.toString());
            int pid = server.get("backends").get(0).get("pid").asInt();
            assertEquals(1, TestDatabase.get().queryInt("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ?", pid));
            eventually("the terminated backend is gone from pg_stat_activity",
                    () -> TestDatabase.get().queryInt("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid) == 0);
            JsonNode after = s.apiJson("GET", "/pools/seen", null).get("server");
            assertEquals(pid, after.get("notListed").get(0).asInt());
            assertThat(after.get("disagreements").get(0).asText(), containsString("PostgreSQL does not list (pid " + pid + ")"));
        }
    }

    @Test
    void unknownActionsAndRoutesAnswerWithJson404() {
        for (String action : List.of("drain", "suspend", "resume", "retire")) {
            assertEquals("no pool for schema `nowhere`: it is opened on first use, or was retired",
                    refused(404, "POST", "/pools/nowhere/" + action, null).get("error").asText(), action);
        }
        s.use("routes");
        assertEquals("no action `explode`: use resize, drain, suspend, resume or retire",
                refused(404, "POST", "/pools/routes/explode", null).get("error").asText());
        assertThat(refused(404, "GET", "/nothing/here", null).get("error").asText(), containsString("no GET /admin/api/nothing/here"));
    }

    @Test
    void theAuditReadsNewestFirstInPages() {
        s.use("paged");
        s.apiJson("POST", "/pools/paged/drain", null);
        s.apiJson("POST", "/pools/paged/drain", null);
        JsonNode first = s.apiJson("GET", "/audit?limit=1", null).get("entries");
        assertEquals(1, first.size());
        long id = first.get(0).get("id").asLong();
        JsonNode older = s.apiJson("GET", "/audit?limit=1&before=" + id, null).get("entries");
        assertEquals(id - 1, older.get(0).get("id").asLong());
        assertEquals("refused: limit must be between 1 and 1000, got 0", refused(400, "GET", "/audit?limit=0", null).get("error").asText());
    }
}
