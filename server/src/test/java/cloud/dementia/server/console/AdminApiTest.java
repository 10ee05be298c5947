package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

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

/**
 * {@code /admin/api} as a script uses it, with HTTP Basic: every read (the budget, the physical pool, the schema pools),
 * every action, and the refusals.
 */
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

    static JsonNode poolIn(JsonNode pools, String schema) {
        for (JsonNode p : pools) {
            if (p.get("schema").asText().equals(schema)) {
                return p;
            }
        }
        throw new AssertionError("no pool `" + schema + "` in " + pools);
    }

    /** Runs one unit of work for the schema on another thread (it may have to wait); {@code done} says how it ended. */
    static Thread useLater(String schema, java.util.concurrent.atomic.AtomicReference<String> done) {
        return Thread.ofVirtual().start(() -> {
            try {
                s.use(schema);
                done.set("ran");
            } catch (RuntimeException e) {
                done.set(e.toString());
            }
        });
    }

    /** The console API reads JSON as strictly as every other route: one value, each key once, nothing after it. */
    @Test
    void aBodyWithAKeyTwiceOrDataAfterItIs400AndChangesNothing() {
        assertThat(refused(400, "POST", "/keys", "{\"name\":\"dup-a\",\"name\":\"dup-b\"}").get("error").asText(),
                containsString("Duplicate field 'name'"));
        assertThat(refused(400, "POST", "/keys", "{\"name\":\"trailing\"} {\"readOnly\":true}").get("error").asText(),
                containsString("Trailing token"));
        String keys = s.apiJson("GET", "/keys", null).toString();
        assertFalse(keys.contains("dup-") || keys.contains("trailing"), keys);
    }

    /** An expiry past what can be stored is refused saying what is allowed, never with an arithmetic overflow. */
    @Test
    void anExpiryTooFarAheadIs400SayingTheLimit() {
        String error = refused(400, "POST", "/keys", "{\"name\":\"far-future\",\"expiresAt\":\"+1000000000-01-01T00:00:00Z\"}")
                .get("error").asText();
        assertThat(error, containsString("expiresAt must be before 10000-01-01"));
        assertFalse(error.contains("overflow") || error.contains("Exception"), error);
        assertFalse(s.apiJson("GET", "/keys", null).toString().contains("far-future"));
    }

    /** A NUL in a name never reaches PostgreSQL (which refuses it as invalid UTF-8): 400 saying so, not 503. */
    @Test
    void aNulInThePathIs400BeforeAnyDatabaseWork() {
        assertThat(refused(400, "POST", "/keys/ro-alpha%00/revoke", "{}").get("error").asText(),
                containsString("the request path holds a NUL character (%00)"));
        assertThat(refused(400, "GET", "/projects/alpha%00/export", null).get("error").asText(),
                containsString("the request path holds a NUL character (%00)"));
        assertThat(refused(400, "GET", "/audit?action=x%00", null).get("error").asText(),
                containsString("the request query holds a NUL character (%00)"));
    }

    @Test
    void aProjectsOpaqueSchemaIsShownWithTheProjectsNameInTheApiAndOnItsPoolPage() {
        String schema = s.server.memory().projects().open("Payments Team").schema();
        assertTrue(schema.matches("proj_[0-9a-f]{24}"), "a new project's schema tells nothing of its name: " + schema);
        s.use(schema);
        eventually("the overview names the project beside its schema",
                () -> "Payments Team".equals(poolIn(s.apiJson("GET", "/pools", null).get("pools"), schema).path("project").asText()));
        assertEquals("Payments Team", s.apiJson("GET", "/pools/" + schema, null).path("pool").path("project").asText());
        ConsoleSession console = new ConsoleSession(s);
        assertEquals(303, console.login(ConsoleServer.USER, ConsoleServer.PASSWORD).statusCode());
        assertThat(console.get("/admin/pools/" + schema).body(), containsString("project Payments Team"));
        assertThat(console.get("/admin").body(), containsString("project Payments Team"));
    }

    @Test
    void readsShowTheBudgetThePhysicalPoolEverySchemaPoolAndWhatTheNumbersMean() throws Exception {
        s.use("reads_a");
        s.openConnections("reads_b", 2);
        JsonNode overview = s.apiJson("GET", "/pools", null);
        JsonNode budget = overview.get("budget");
        assertEquals(12, budget.get("budget").asInt());
        assertThat(budget.get("allocated").asInt(), greaterThanOrEqualTo(2));
        assertEquals(budget.get("budget").asInt() - budget.get("inUse").asInt(), budget.get("free").asInt());
        assertEquals(5, overview.get("defaultMax").asInt());

        JsonNode physical = overview.get("physical");
        assertEquals("physical", physical.get("name").asText());
        assertEquals(12, physical.get("max").asInt(), "the physical pool's max is the budget");
        assertEquals(s.registry().settings().minIdle(), physical.get("minIdle").asInt());
        assertThat(physical.get("total").asInt(), greaterThanOrEqualTo(2));
        assertEquals(physical.get("total").asInt(), physical.get("active").asInt() + physical.get("idle").asInt());
        assertEquals("ok", physical.get("level").asText());
        assertThat(physical.get("why").get(0).asText(), containsString("of 12 backends open"));

        List<String> names = schemas(overview.get("pools"));
        assertThat(names, hasItem("reads_a"));
        assertThat(names, hasItem("reads_b"));
        assertThat(names, hasItem("dementia_control"));
        assertFalse(names.contains("physical"), "the physical pool is not a schema pool");
        JsonNode b = poolIn(overview.get("pools"), "reads_b");
        assertEquals(0, b.get("active").asInt(), "its two units are done: a schema pool holds no idle connection");
        assertEquals(0, b.get("waiting").asInt());
        assertEquals(5, b.get("max").asInt());
        assertFalse(b.get("ownSize").asBoolean());
        assertEquals(0, b.get("longestWaitMs").asLong());
        assertEquals("OPEN", b.get("state").asText());
        assertEquals("ok", b.get("level").asText());
        assertEquals("ok", b.get("badge").asText());
        assertEquals("idle", b.get("why").get(0).asText());
        assertFalse(b.has("idle") || b.has("total") || b.has("minIdle"), "a schema pool has no connections of its own: " + b);

        JsonNode budgetAlone = s.apiJson("GET", "/budget", null);
        assertEquals(12, budgetAlone.get("budget").asInt());
        assertTrue(budgetAlone.has("inUse") && budgetAlone.has("idle") && budgetAlone.has("holders"), budgetAlone.toString());

        JsonNode detail = s.apiJson("GET", "/pools/reads_b", null);
        assertEquals("reads_b", detail.get("pool").get("schema").asText());
        assertEquals(12, detail.get("resize").get("maxAllowed").asInt());
        assertEquals(5, detail.get("resize").get("defaultMax").asInt());
        assertThat(detail.get("resize").get("rule").asText(), containsString("max may be 1 to 12"));
        assertThat(detail.get("resize").get("rule").asText(), containsString("resizing to 5 forgets it"));
        assertEquals(0, detail.get("server").get("listed").asInt(), "the schema holds no backend now: " + detail.get("server"));
        assertEquals(0, detail.get("server").get("disagreements").size());
        assertEquals(0, detail.get("leaks").size());
        assertTrue(detail.get("suspendable").asBoolean());
        assertEquals(1000, detail.get("acquireTimeoutMs").asLong());

        // the history is sampled every 3 s: the first sample may not be there yet right after start
        ConsoleServer.eventually("a first history sample", () -> s.apiJson("GET", "/history?since=0", null).get("pools").has("dementia_control"));
        JsonNode history = s.apiJson("GET", "/history?since=0", null);
        assertEquals("[\"at\",\"active\",\"waiting\",\"max\"]", history.get("columns").toString());
        assertEquals("[\"at\",\"active\",\"waiting\",\"max\",\"total\"]", history.get("physicalColumns").toString());
        assertTrue(history.get("pools").has("dementia_control"), history.toString());
        JsonNode lastPhysical = history.get("physical").get(history.get("physical").size() - 1);
        assertEquals(12, lastPhysical.get(3).asInt(), "the physical pool's max in its samples is the budget");
        long at = history.get("at").asLong();
        JsonNode none = s.apiJson("GET", "/history?since=" + (at + 60_000), null);
        assertEquals(0, none.get("pools").size());
        assertEquals(0, none.get("physical").size());
        assertThat(refused(400, "GET", "/history?since=yesterday", null).get("error").asText(), containsString("since must be epoch milliseconds"));
    }

    /** Runs a unit of work of {@code statements} statements on the schema. */
    static void unit(String schema, int statements) {
        s.registry().inTransaction(schema, tx -> {
            for (int i = 0; i < statements; i++) {
                tx.queryOne("SELECT 1", r -> r.integer(1));
            }
            return null;
        });
    }

    @Test
    void poolsAndMetricsGiveEachPoolsMaxwaitUnitsStatementsErrorsAndWaitTimeAsPgBouncerDoes() throws Exception {
        for (int i = 0; i < 3; i++) {
            unit("stats", 2);
        }
        assertThrows(IllegalStateException.class, () -> s.registry().inTransaction("stats", tx -> {
            tx.queryOne("SELECT 1", r -> r.integer(1));
            throw new IllegalStateException("the caller's own bug");
        }));
        JsonNode p = poolIn(s.apiJson("GET", "/pools", null).get("pools"), "stats");
        JsonNode totals = p.get("totals");
        assertEquals(4, totals.get("transactions").asLong(), p.toString());
        assertEquals(7, totals.get("statements").asLong());
        assertEquals(1, totals.get("errors").asLong());
        assertThat(totals.get("waitMs").asLong(), greaterThanOrEqualTo(0L));
        assertEquals(0, p.get("longestWaitMs").asLong(), "nobody waits: PgBouncer's maxwait is 0");
        assertEquals(totals, s.apiJson("GET", "/pools/stats", null).get("pool").get("totals"));

        assertEquals(4.0, s.metric("db_pool_transactions_total{schema=\"stats\"}"));
        assertEquals(7.0, s.metric("db_pool_statements_total{schema=\"stats\"}"));
        assertEquals(1.0, s.metric("db_pool_errors_total{schema=\"stats\"}"));
        assertEquals(totals.get("waitMs").asLong() / 1000.0, s.metric("db_pool_wait_seconds_total{schema=\"stats\"}"), 0.0005);
        assertEquals(0.0, s.metric("db_pool_wait_oldest_seconds{schema=\"stats\"}"));

        s.registry().resize("stats", 1);
        java.util.concurrent.atomic.AtomicReference<String> done = new java.util.concurrent.atomic.AtomicReference<>();
        Thread waiter;
        try (ConsoleServer.Held held = s.hold("stats")) {
            waiter = useLater("stats", done);
            eventually("a caller waits", () -> s.registry().currentStats("stats").orElseThrow().waiting() == 1);
            Thread.sleep(300);
            assertThat(poolIn(s.apiJson("GET", "/pools", null).get("pools"), "stats").get("longestWaitMs").asLong(), greaterThanOrEqualTo(300L));
            assertThat(s.metric("db_pool_wait_oldest_seconds{schema=\"stats\"}"), greaterThanOrEqualTo(0.3));
        }
        waiter.join(10_000);
        assertEquals("ran", done.get());
        JsonNode after = poolIn(s.apiJson("GET", "/pools", null).get("pools"), "stats").get("totals");
        assertThat("the caller that waited adds its wait", after.get("waitMs").asLong() - totals.get("waitMs").asLong(), greaterThanOrEqualTo(300L));
        s.registry().resize("stats", 5);
    }

    @Test
    void resizeAppliesAtOnceIsRememberedUntilSetBackToTheDefaultAndIsAudited() {
        s.use("sized");
        JsonNode r = s.apiJson("POST", "/pools/sized/resize", "{\"max\": 7}");
        assertEquals("resized `sized`: max 5 → 7 (remembered)", r.get("done").asText());
        assertEquals(5, r.get("before").get("max").asInt());
        assertFalse(r.get("before").get("ownSize").asBoolean());
        assertEquals(7, r.get("after").get("max").asInt());
        assertTrue(r.get("after").get("ownSize").asBoolean());
        assertEquals(7, r.get("pool").get("max").asInt());
        assertTrue(r.get("pool").get("ownSize").asBoolean());
        assertEquals(7, s.registry().currentStats("sized").orElseThrow().max());
        assertEquals(7.0, s.metric("db_pool_connections_max{application=\"dementia-cloud\",schema=\"sized\"}"));

        // a form works as well
        HttpResponse<String> form = s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/pools/sized/resize")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("max=6")).build());
        assertEquals(200, form.statusCode(), form.body());
        assertEquals(6, s.registry().currentStats("sized").orElseThrow().max());

        JsonNode entry = s.apiJson("GET", "/audit?limit=5", null).get("entries").get(0);
        assertEquals("resize", entry.get("action").asText());
        assertEquals("sized", entry.get("target").asText());
        assertEquals("admin (api, 127.0.0.1)", entry.get("actor").asText());
        assertEquals(7, entry.get("before").get("max").asInt());
        assertEquals(6, entry.get("after").get("max").asInt());
        assertTrue(entry.get("after").get("ownSize").asBoolean());

        JsonNode back = s.apiJson("POST", "/pools/sized/resize", "{\"max\": 5}");
        assertEquals("resized `sized`: max 6 → 5 (the default again)", back.get("done").asText());
        assertFalse(back.get("pool").get("ownSize").asBoolean(), "resizing to DB_POOL_MAX_PER_SCHEMA forgets the own size");
    }

    @Test
    void resizeRefusalsSayWhatIsWrongAndChangeNothing() {
        s.use("refuse");
        assertEquals("refused: max 13 for schema `refuse` exceeds the connection budget of 12 (DB_POOL_BUDGET): no schema can hold more "
                        + "connections than the whole process may open",
                refused(400, "POST", "/pools/refuse/resize", "{\"max\": 13}").get("error").asText());
        assertEquals("refused: max must be a whole number, got `lots`",
                refused(400, "POST", "/pools/refuse/resize", "{\"max\": \"lots\"}").get("error").asText());
        assertEquals("refused: max is required: a whole number", refused(400, "POST", "/pools/refuse/resize", "{}").get("error").asText());
        assertEquals("refused: max must be at least 1, got 0", refused(400, "POST", "/pools/refuse/resize", "{\"max\": 0}").get("error").asText());
        assertEquals("refused: minIdle is not a schema pool's setting: schema pools open no connections; the physical pool keeps "
                        + "DB_POOL_MIN_IDLE idle",
                refused(400, "POST", "/pools/refuse/resize", "{\"max\": 3, \"minIdle\": 1}").get("error").asText());
        assertThat(refused(400, "POST", "/pools/refuse/resize", "{\"max\": ").get("error").asText(), containsString("not valid JSON"));
        assertEquals("no pool for schema `nope`: it is opened on first use, or was retired",
                refused(404, "POST", "/pools/nope/resize", "{\"max\": 3}").get("error").asText());
        assertEquals(5, s.registry().currentStats("refuse").orElseThrow().max(), "no refusal changed the pool");
        assertFalse(s.registry().currentStats("refuse").orElseThrow().ownSize());
    }

    @Test
    void drainLetsWorkInFlightFinishWhileNewWorkWaitsAndClosesNoConnection() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> later = new java.util.concurrent.atomic.AtomicReference<>("waiting");
        Thread waiting;
        Set<Integer> backends;
        try (ConsoleServer.Held held = s.hold("drained")) {
            backends = s.backendPids();
            JsonNode r = s.apiJson("POST", "/pools/drained/drain", null);
            assertEquals("draining `drained`: new work waits until 1 unit of work in flight has finished; no connection is closed",
                    r.get("done").asText());
            assertEquals("OPEN", r.get("before").get("state").asText());
            assertEquals("DRAINING", r.get("after").get("state").asText());
            waiting = useLater("drained", later);
            eventually("new work waits while the drain lasts", () -> s.registry().currentStats("drained").orElseThrow().waiting() == 1);
            JsonNode pool = s.apiJson("GET", "/pools/drained", null).get("pool");
            assertEquals("DRAINING", pool.get("state").asText());
            assertThat(pool.get("why").toString(), containsString("draining: new work waits until the work in flight has finished"));
            assertEquals("waiting", later.get());
            assertTrue(s.backendPids().containsAll(backends), "no connection closed: " + backends + " → " + s.backendPids());
        }
        waiting.join(5000);
        assertEquals("ran", later.get(), "the waiting work ran once the work in flight had finished");
        assertEquals("OPEN", s.apiJson("GET", "/pools/drained", null).get("pool").get("state").asText(), "the pool serves again by itself");
        assertTrue(s.backendPids().containsAll(backends), "still no connection closed");
        assertEquals("`drained` had no work in flight: nothing to drain", s.apiJson("POST", "/pools/drained/drain", null).get("done").asText());
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
    void retireForgetsThePoolKeepsItsOwnSizeAndClosesNoConnection() throws Exception {
        s.openConnections("retired", 2);
        s.apiJson("POST", "/pools/retired/resize", "{\"max\": 3}");
        Set<Integer> backends = s.backendPids();
        JsonNode r = s.apiJson("POST", "/pools/retired/retire", null);
        assertEquals("retired `retired`: it left the registry; 0 units of work in flight finish, 0 callers waiting move to the schema's "
                + "next pool, which its next work opens with max 3 (its own size, remembered); no connection is closed", r.get("done").asText());
        assertEquals("RETIRED", r.get("after").get("state").asText());
        assertFalse(schemas(s.apiJson("GET", "/pools", null).get("pools")).contains("retired"));
        assertEquals("no pool for schema `retired`: it is opened on first use, or was retired",
                refused(404, "GET", "/pools/retired", null).get("error").asText());
        refused(404, "POST", "/pools/retired/retire", null);
        assertTrue(s.backendPids().containsAll(backends), "no connection closed: " + backends + " → " + s.backendPids());

        s.use("retired");
        JsonNode again = s.apiJson("GET", "/pools/retired", null).get("pool");
        assertEquals("OPEN", again.get("state").asText());
        assertEquals(3, again.get("max").asInt(), "the new pool has the size the operator gave the old one");
        assertTrue(again.get("ownSize").asBoolean());
        s.apiJson("POST", "/pools/retired/resize", "{\"max\": 5}");
    }

    @Test
    void reconnectReplacesEveryPhysicalConnectionIdleOnesNowBusyOnesWhenReturned() throws Exception {
        s.openConnections("reconnecting", 3);
        Set<Integer> idle;
        int busyPid;
        try (ConsoleServer.Held held = s.hold("reconnecting_busy")) {
            busyPid = s.registry().checkoutPids("reconnecting_busy").get(0);
            Set<Integer> before = s.backendPids();
            idle = new TreeSet<>(before);
            idle.remove(busyPid);
            assertThat(idle.size(), greaterThanOrEqualTo(2));
            JsonNode r = s.apiJson("POST", "/physical/reconnect", null);
            assertThat(r.get("done").asText(), startsWith("reconnecting the physical pool: "));
            assertThat(r.get("done").asText(), containsString("idle connections closed now"));
            assertThat(r.get("done").asText(), containsString("in use close when returned; new connections open as work needs them"));
            assertEquals("physical", r.get("physical").get("name").asText());
            assertThat(r.get("before").get("total").asInt(), greaterThanOrEqualTo(3));
            eventually("the idle backends are closed", () -> s.backendPids().stream().noneMatch(idle::contains));
            assertTrue(s.backendPids().contains(busyPid), "the busy one stays until its work gives it back");
        }
        eventually("the busy backend closes once returned", () -> !s.backendPids().contains(busyPid));
        s.use("reconnecting");
        Set<Integer> after = s.backendPids();
        assertFalse(after.isEmpty());
        assertTrue(after.stream().noneMatch(pid -> idle.contains(pid) || pid == busyPid), "every connection is new: " + after);

        JsonNode entry = s.apiJson("GET", "/audit?limit=5", null).get("entries").get(0);
        assertEquals("reconnect", entry.get("action").asText());
        assertEquals("physical", entry.get("target").asText());
        assertEquals("admin (api, 127.0.0.1)", entry.get("actor").asText());
        assertEquals("reconnect", s.apiJson("GET", "/physical", null).get("recent").get(0).get("action").asText());
        assertEquals("no action `explode` for the physical pool: use reconnect",
                refused(404, "POST", "/physical/explode", null).get("error").asText());
    }

    @Test
    void thePhysicalPoolShowsEveryBackendAsPostgresSeesItAndWhichSchemaHoldsIt() throws Exception {
        s.openConnections("everyone", 2);
        try (ConsoleServer.Held held = s.hold("holder")) {
            int pid = s.registry().checkoutPids("holder").get(0);
            JsonNode detail = s.apiJson("GET", "/physical", null);
            assertEquals("physical", detail.get("physical").get("name").asText());
            assertEquals(12, detail.get("physical").get("max").asInt());
            assertEquals(12, detail.get("budget").get("budget").asInt());
            JsonNode server = detail.get("server");
            assertThat("the holder's backend and the one reading pg_stat_activity", server.get("listed").asInt(), greaterThanOrEqualTo(2));
            assertEquals(server.get("held").asInt(), server.get("listed").asInt(), "PostgreSQL lists every backend: " + server);
            assertEquals(detail.get("physical").get("total").asInt(), server.get("held").asInt(), server.toString());
            assertEquals("holder", server.get("heldBy").get(String.valueOf(pid)).asText(), server.toString());
            JsonNode row = null;
            for (JsonNode backend : server.get("backends")) {
                if (backend.get("pid").asInt() == pid) {
                    row = backend;
                }
            }
            assertEquals("idle in transaction", row.get("state").asText());
            assertEquals(0, server.get("disagreements").size(), server.toString());
        }
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
    void suspectedLeaksComeWithWhereTheHolderIsStuck() throws Exception {
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
            // the holder waits on a latch inside its unit of work: its stack shows that wait, not where it took the connection
            assertThat(leak.get("stack").asText(), containsString("java.util.concurrent.CountDownLatch.await"));
            assertThat(leak.get("stack").asText(), containsString("ConsoleServer$Held"));
            assertThat("the first frame outside the pool layer, the JDK and the driver: the holder's own code", leak.get("origin").asText(),
                    startsWith("cloud.dementia.server.console.ConsoleServer.await("));
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
        assertEquals("no pool for schema `physical`: it is opened on first use, or was retired; the physical pool is GET /admin/api/physical",
                refused(404, "GET", "/pools/physical", null).get("error").asText(), "no schema is called physical: the API says where it is");
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
