package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.SessionGuard;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #9 "Keys with scopes": keys are records in the control schema with a scope (projects, read-only), created (shown
 * once), listed and revoked from the console and {@code /admin/api}, audited; a call outside the scope is refused and
 * creates nothing; sessions belong to the key that opened them.
 */
class ScopedKeysTest {

    static ConsoleServer s;

    @BeforeAll
    static void start() {
        s = new ConsoleServer();
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    /** Creates a key through the API and returns it in clear text. */
    static String createKey(String name, String projectsJson, boolean readOnly) {
        HttpResponse<String> r = s.api("POST", "/keys", "{\"name\":\"" + name + "\",\"projects\":" + projectsJson + ",\"readOnly\":" + readOnly + "}");
        assertEquals(201, r.statusCode(), r.body());
        String key = Json.parse(r.body()).path("key").asText();
        assertTrue(key.startsWith("dmk_") && key.length() == 47, key);
        return key;
    }

    static HttpResponse<String> execute(String key, String tool, String arguments, String session) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url("/execute"))).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"" + tool + "\",\"arguments\":" + arguments + "}"));
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return s.send(b.build());
    }

    static HttpResponse<String> mcp(String key, String session, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url("/mcp"))).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            b.header("Mcp-Session-Id", session);
        }
        return s.send(b.build());
    }

    static String initialize(String key) {
        HttpResponse<String> r = mcp(key, null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"scoped\",\"version\":\"1\"}}}");
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("Mcp-Session-Id").orElseThrow();
    }

    static String toolCall(String tool, String arguments) {
        return "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":" + arguments + "}}";
    }

    static List<String> projectNames(HttpResponse<String> listProjects) {
        List<String> names = new ArrayList<>();
        Json.parse(listProjects.body()).path("result").path("projects").forEach(p -> names.add(p.path("name").asText()));
        return names;
    }

    @Test
    void aKeyReachesOnlyItsProjectsAndACallOutsideCreatesNothing() {
        String key = createKey("scoped-rw", "[\"alpha\",\"team-*\"]", false);
        assertEquals(200, execute(key, "lock_context", "{\"topic\":\"t\",\"content\":\"in scope\",\"project\":\"alpha\"}", null).statusCode());
        assertEquals(200, execute(key, "lock_context", "{\"topic\":\"t\",\"content\":\"by prefix\",\"project\":\"team-blue\"}", null).statusCode());
        HttpResponse<String> outside = execute(key, "lock_context", "{\"topic\":\"t\",\"content\":\"no\",\"project\":\"beta\"}", null);
        assertEquals(403, outside.statusCode(), outside.body());
        assertThat(outside.body(), containsString("does not reach project `beta` (it reaches alpha, team-*)"));
        // the default project is outside this scope too, and not created
        HttpResponse<String> noProject = execute(key, "recall_context", "{\"topic\":\"t\"}", null);
        assertEquals(403, noProject.statusCode(), noProject.body());
        assertEquals(403, execute(key, "create_project", "{\"name\":\"gamma\"}", null).statusCode());
        assertEquals(403, execute(key, "delete_project", "{\"name\":\"beta\",\"confirm\":true}", null).statusCode());
        // over MCP: isError with the same message
        String session = initialize(key);
        HttpResponse<String> call = mcp(key, session, toolCall("recall_context", "{\"topic\":\"t\",\"project\":\"beta\"}"));
        assertEquals(200, call.statusCode(), call.body());
        JsonNode result = Json.parse(call.body()).path("result");
        assertTrue(result.path("isError").asBoolean(), call.body());
        assertThat(result.toString(), containsString("does not reach project `beta`"));
        // nothing was created outside the scope; list_projects shows only what the key reaches
        List<String> all = projectNames(execute(ConsoleServer.API_KEY, "list_projects", "{}", null));
        assertFalse(all.contains("beta") || all.contains("gamma"), all.toString());
        assertTrue(all.contains("alpha") && all.contains("team-blue"), all.toString());
        execute(ConsoleServer.API_KEY, "create_project", "{\"name\":\"other\"}", null);
        assertEquals(List.of("alpha", "team-blue"), projectNames(execute(key, "list_projects", "{}", null)).stream().sorted().toList());
    }

    @Test
    void aReadOnlyKeyReadsAndChangesNothing() {
        execute(ConsoleServer.API_KEY, "lock_context", "{\"topic\":\"rule\",\"content\":\"read me\",\"project\":\"ro-project\"}", null);
        String key = createKey("reader", "[]", true);
        HttpResponse<String> recall = execute(key, "recall_context", "{\"topic\":\"rule\",\"project\":\"ro-project\"}", null);
        assertEquals(200, recall.statusCode(), recall.body());
        assertThat(recall.body(), containsString("read me"));
        assertEquals(200, execute(key, "search_contexts", "{\"query\":\"read\",\"project\":\"ro-project\"}", null).statusCode());
        HttpResponse<String> write = execute(key, "lock_context", "{\"topic\":\"rule\",\"content\":\"changed\",\"project\":\"ro-project\"}", null);
        assertEquals(403, write.statusCode(), write.body());
        assertThat(write.body(), containsString("is read-only and lock_context changes data"));
        // a read-only key opens existing projects only
        HttpResponse<String> missing = execute(key, "recall_context", "{\"topic\":\"rule\",\"project\":\"never-made\"}", null);
        assertThat(missing.body(), containsString("a read-only key does not create projects"));
        assertFalse(projectNames(execute(ConsoleServer.API_KEY, "list_projects", "{}", null)).contains("never-made"));
    }

    /**
     * The assistant's loop starts with wake_up, and a read-only key may start it too: wake_up reads and records nothing
     * (no session row), and the key is shown only the tools it may call, over MCP and on GET /tools alike.
     */
    @Test
    void aReadOnlyKeyWakesUpWithoutRecordingAndIsShownOnlyTheToolsItMayCall() {
        execute(ConsoleServer.API_KEY, "lock_context", "{\"topic\":\"rule\",\"content\":\"Always read first.\",\"project\":\"ro-wake\"}", null);
        String key = createKey("ro-waker", "[]", true);
        String session = initialize(key);
        HttpResponse<String> woke = mcp(key, session, toolCall("wake_up", "{\"project\":\"ro-wake\"}"));
        assertEquals(200, woke.statusCode(), woke.body());
        JsonNode result = Json.parse(woke.body()).path("result");
        assertFalse(result.path("isError").asBoolean(), woke.body());
        JsonNode reading = Json.parse(result.path("content").path(0).path("text").asText());
        assertEquals("rule", reading.path("contexts").path("always_check").path(0).path("topic").asText(), reading.toString());
        assertEquals(session, reading.path("session").path("id").asText(), reading.toString());
        assertFalse(reading.path("session").path("recorded").asBoolean(true), reading.toString());
        String schema = s.server.memory().projects().find("ro-wake").orElseThrow().schema();
        long rows = s.server.registry().inStatement(schema, tx -> tx.queryOne("SELECT count(*) FROM {s}.sessions WHERE id = ?",
                r -> r.longValue(1), session).orElseThrow());
        assertEquals(0, rows, "a read-only wake_up records no session");
        HttpResponse<String> viaExecute = execute(key, "wake_up", "{\"project\":\"ro-wake\"}", null);
        assertEquals(200, viaExecute.statusCode(), viaExecute.body());

        JsonNode everyTool = Json.parse(s.send(HttpRequest.newBuilder(URI.create(s.url("/tools"))).header("Authorization", "Bearer "
                + ConsoleServer.API_KEY).GET().build()).body()).path("tools");
        List<String> callable = new ArrayList<>();
        for (JsonNode tool : everyTool) {
            String name = tool.path("name").asText();
            if (tool.path("annotations").path("readOnlyHint").asBoolean()
                    || List.of("recall_context", "batch_recall_contexts", "switch_project", "wake_up").contains(name)) {
                callable.add(name);
            }
        }
        assertTrue(callable.contains("wake_up") && callable.contains("search_contexts") && callable.size() < everyTool.size(), callable.toString());
        List<String> overMcp = new ArrayList<>();
        HttpResponse<String> listed = mcp(key, session, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\",\"params\":{}}");
        assertEquals(200, listed.statusCode(), listed.body());
        Json.parse(listed.body()).path("result").path("tools").forEach(t -> overMcp.add(t.path("name").asText()));
        assertEquals(callable, overMcp, "tools/list for a read-only key");
        List<String> overHttp = new ArrayList<>();
        JsonNode readerTools = Json.parse(s.send(HttpRequest.newBuilder(URI.create(s.url("/tools"))).header("Authorization", "Bearer " + key)
                .GET().build()).body());
        readerTools.path("tools").forEach(t -> overHttp.add(t.path("name").asText()));
        assertEquals(callable, overHttp, "GET /tools for a read-only key");
        assertEquals(callable.size(), readerTools.path("count").asInt());
        // every tool it is shown, it may call: none answers that the key is read-only
        for (String tool : callable) {
            HttpResponse<String> r = execute(key, tool, "{\"project\":\"ro-wake\"}", null);
            assertThat(tool, r.body(), not(containsString("is read-only and")));
        }
        // a read-write key still sees every tool
        List<String> writerOverMcp = new ArrayList<>();
        String writerSession = initialize(ConsoleServer.API_KEY);
        Json.parse(mcp(ConsoleServer.API_KEY, writerSession, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}").body())
                .path("result").path("tools").forEach(t -> writerOverMcp.add(t.path("name").asText()));
        assertEquals(everyTool.size(), writerOverMcp.size(), writerOverMcp.toString());
    }

    @Test
    void aRevokedKeyIsRefusedFromTheNextRequestAndEveryChangeIsAudited() {
        String key = createKey("short-lived", "[\"alpha\"]", false);
        assertEquals(200, execute(key, "list_projects", "{}", null).statusCode());
        JsonNode listed = s.apiJson("GET", "/keys", null).path("keys");
        JsonNode record = null;
        for (JsonNode k : listed) {
            if (k.path("name").asText().equals("short-lived")) {
                record = k;
            }
        }
        assertTrue(record != null && record.path("active").asBoolean() && !record.path("lastUsedAt").isNull(), listed.toString());
        assertThat(listed.toString(), not(containsString(key)));
        assertThat(listed.toString(), not(containsString(key.substring(8))));
        HttpResponse<String> revoked = s.api("POST", "/keys/short-lived/revoke", null);
        assertEquals(200, revoked.statusCode(), revoked.body());
        HttpResponse<String> after = execute(key, "list_projects", "{}", null);
        assertEquals(401, after.statusCode(), after.body());
        assertEquals(400, s.api("POST", "/keys/short-lived/revoke", null).statusCode(), "revoked already");
        assertEquals(409, s.api("POST", "/keys", "{\"name\":\"short-lived\"}").statusCode(), "names are unique for good");
        String audit = s.api("GET", "/audit?limit=50", null).body();
        assertThat(audit, containsString("create key"));
        assertThat(audit, containsString("revoke key"));
        assertThat(audit, containsString("key:short-lived"));
        assertThat(audit, not(containsString(key)));
    }

    @Test
    void badKeyRequestsSayWhatIsWrong() {
        assertThat(s.api("POST", "/keys", "{\"name\":\"bad name!\"}").body(), containsString("a key name is 1 to 63 letters"));
        assertThat(s.api("POST", "/keys", "{\"name\":\"k1\",\"projects\":[\"a;b\"]}").body(), containsString("is not a project name or prefix"));
        assertThat(s.api("POST", "/keys", "{\"name\":\"k2\",\"expiresAt\":\"2001-01-01\"}").body(), containsString("is not in the future"));
        assertThat(s.api("POST", "/keys", "{\"name\":\"k3\",\"readOnly\":\"maybe\"}").body(), containsString("readOnly must be true or false"));
        assertEquals(400, s.api("POST", "/keys", "{}").statusCode());
    }

    @Test
    void anExpiredKeyIsRefused() throws Exception {
        HttpResponse<String> r = s.api("POST", "/keys", "{\"name\":\"expiring\",\"expiresAt\":\"" + Instant.now().plusSeconds(2) + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        String key = Json.parse(r.body()).path("key").asText();
        assertEquals(200, execute(key, "list_projects", "{}", null).statusCode());
        Thread.sleep(2500);
        assertEquals(401, execute(key, "list_projects", "{}", null).statusCode());
    }

    @Test
    void aSessionBelongsToTheKeyThatOpenedIt() {
        String a = createKey("owner-a", "[]", false);
        String b = createKey("owner-b", "[]", false);
        String session = initialize(a);
        assertEquals(200, mcp(a, session, toolCall("switch_project", "{\"name\":\"a-project\"}")).statusCode());
        // another key presenting the id: refused on MCP and on /execute, and A's project is untouched
        HttpResponse<String> stolen = mcp(b, session, toolCall("switch_project", "{\"name\":\"b-project\"}"));
        assertEquals(403, stolen.statusCode(), stolen.body());
        assertThat(stolen.body(), containsString("belongs to another API key"));
        // on /execute an id is in the key's own namespace: B's "session" with A's id is B's own, not A's
        HttpResponse<String> viaExecute = execute(b, "switch_project", "{\"name\":\"b-project\"}", session);
        assertEquals(200, viaExecute.statusCode(), viaExecute.body());
        assertThat(viaExecute.body(), containsString("\"session\":\"key:owner-b/" + session + "\""));
        HttpResponse<String> active = execute(a, "get_active_project", "{}", session);
        assertThat(active.body(), containsString("\"project\":\"a-project\""));
        // A's MCP session is the same session on /execute, for A
        assertThat(active.body(), containsString("\"session\":\"" + session + "\""));
        // two keys using one /execute id never meet
        assertEquals(200, execute(b, "switch_project", "{\"name\":\"b-project\"}", "shared-id").statusCode());
        assertThat(execute(a, "get_active_project", "{}", "shared-id").body(), containsString("\"source\":\"default\""));
        assertThat(execute(b, "get_active_project", "{}", "shared-id").body(), containsString("\"project\":\"b-project\""));
        HttpResponse<String> invented = mcp(a, "invented-0000", toolCall("list_projects", "{}"));
        assertEquals(404, invented.statusCode(), invented.body());
        assertFalse(new cloud.dementia.db.store.McpSessions(s.registry()).sessionOwner("invented-0000").isPresent(), "an invented MCP session id is not stored");
    }

    @Test
    void unusedSessionsAreForgottenAndEachKeyKeepsABoundedNumber() throws Exception {
        cloud.dementia.db.store.McpSessions projects = new cloud.dementia.db.store.McpSessions(s.registry());
        SessionGuard guard = new SessionGuard(projects, Duration.ofMillis(200));
        Caller caller = new Caller("key:forgetful", "forgetful", List.of(), false);
        String id = guard.execute("forget-me", caller);
        assertEquals("key:forgetful/forget-me", id);
        assertTrue(projects.sessionOwner(id).isPresent());
        Thread.sleep(400);
        guard.forgetIdle();
        assertFalse(projects.sessionOwner(id).isPresent(), "forgotten after the idle time");
        for (int i = 0; i < 5; i++) {
            projects.claimSession("many-" + i, "key:many", 1_000);
            Thread.sleep(5);
        }
        assertEquals(3, projects.forgetIdleSessions(Duration.ofDays(1), 2));
        assertTrue(projects.sessionOwner("many-4").isPresent() && projects.sessionOwner("many-3").isPresent());
        assertFalse(projects.sessionOwner("many-0").isPresent());
    }

    /** The cap of 1,000 sessions per key holds at every initialize: the least recently used session goes, not only at cleanup. */
    @Test
    void everyInitializeKeepsTheKeysSessionsWithinTheCap() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1_010; i++) {
            HttpResponse<String> init = s.send(HttpRequest.newBuilder(URI.create(s.url("/mcp")))
                    .header("Authorization", "Bearer " + ConsoleServer.API_KEY).header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(cloud.dementia.server.TestServer.INITIALIZE)).build());
            assertEquals(200, init.statusCode(), init.body());
            ids.add(init.headers().firstValue("Mcp-Session-Id").orElseThrow());
        }
        cloud.dementia.db.store.McpSessions projects = new cloud.dementia.db.store.McpSessions(s.registry());
        String owner = projects.sessionOwner(ids.getLast()).orElseThrow();
        long held = s.registry().inStatement(cloud.dementia.db.schema.ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT count(*) FROM {s}.mcp_sessions WHERE owner = ?", r -> r.longValue(1), owner)).orElseThrow();
        assertEquals(1_000, held);
        assertFalse(projects.sessionOwner(ids.getFirst()).isPresent(), "the least recently used session went");
        assertTrue(projects.sessionOwner(ids.get(10)).isPresent(), "the 1,000 most recent stay");
    }

    @Test
    void theConsoleCreatesShowsOnceListsAndRevokesKeys() {
        ConsoleSession c = new ConsoleSession(s).loggedIn();
        HttpResponse<String> page = c.get("/admin/keys");
        assertEquals(200, page.statusCode());
        String csrf = ConsoleSession.csrf(page.body());
        Map<String, String> form = new LinkedHashMap<>();
        form.put("_csrf", csrf);
        form.put("name", "from-console");
        form.put("projects", "alpha, team-*");
        form.put("readOnly", "true");
        form.put("expiresInDays", "30");
        HttpResponse<String> created = c.post("/admin/keys", form);
        assertEquals(303, created.statusCode(), created.body());
        String shown = c.get("/admin/keys").body();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("id=\"revealed-key\">(dmk_[A-Za-z0-9_-]{43})<").matcher(shown);
        assertTrue(m.find(), shown);
        String key = m.group(1);
        assertThat(shown, containsString("created key `from-console` (read-only, alpha, team-*, expires"));
        assertThat(c.get("/admin/keys").body(), not(containsString(key)));
        assertEquals(200, execute(key, "list_projects", "{}", null).statusCode());
        Map<String, String> revoke = Map.of("_csrf", csrf);
        assertEquals(303, c.post("/admin/keys/from-console/revoke", revoke).statusCode());
        assertThat(c.get("/admin/keys").body(), containsString("revoked "));
        assertEquals(401, execute(key, "list_projects", "{}", null).statusCode());
    }
}
