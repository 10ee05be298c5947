package cloud.dementia.server.memory;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.spec.McpSchema;

import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The memory server end to end: a real MCP client over Streamable HTTP, and /execute, against a real database. */
class MemoryServerTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Map<String, Object> args(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static JsonNode ok(TestMcpClient client, String tool, Map<String, Object> arguments) {
        McpSchema.CallToolResult r = client.call(tool, arguments);
        assertFalse(Boolean.TRUE.equals(r.isError()), tool + " failed: " + TestMcpClient.text(r));
        String text = TestMcpClient.text(r);
        return text.startsWith("{") ? Json.parse(text) : Json.object().put("text", text);
    }

    @Test
    void realMcpClientListsAndCallsEveryTool() {
        try (TestMcpClient client = new TestMcpClient(server)) {
            client.initialize();
            List<McpSchema.Tool> tools = client.tools();
            Set<String> names = new TreeSet<>();
            tools.forEach(t -> names.add(t.name()));
            Set<String> expected = new TreeSet<>(List.of("create_project", "list_projects", "get_project_info", "delete_project",
                    "switch_project", "get_active_project", "wake_up", "sleep", "get_last_handover", "memory_status", "lock_context",
                    "recall_context", "unlock_context", "batch_lock_contexts", "batch_recall_contexts", "explore_context_tree",
                    "search_contexts", "check_contexts", "context_dashboard", "query_database", "inspect_database",
                    // added by #10: progress notes for the handover, and a project's data out and in
                    "record_progress", "export_project", "import_project"));
            assertEquals(expected, names);
            McpSchema.Tool search = tools.stream().filter(t -> t.name().equals("search_contexts")).findFirst().orElseThrow();
            assertEquals(Boolean.TRUE, search.annotations().readOnlyHint());
            assertTrue(((List<?>) search.inputSchema().get("required")).contains("query"));
            McpSchema.Tool unlock = tools.stream().filter(t -> t.name().equals("unlock_context")).findFirst().orElseThrow();
            assertEquals(Boolean.TRUE, unlock.annotations().destructiveHint());

            String p = "mcp-all";
            assertTrue(ok(client, "create_project", args("name", p)).get("created").asBoolean());
            assertEquals(p, ok(client, "switch_project", args("name", p)).get("project").asText());
            assertEquals("session", ok(client, "get_active_project", args()).get("source").asText());
            assertEquals(p, ok(client, "wake_up", args()).get("project").asText());
            assertEquals("1.0", ok(client, "lock_context", args("topic", "rules", "content", "Always write tests first.")).get("version").asText());
            assertEquals(2, ok(client, "batch_lock_contexts", args("contexts", List.of(
                    Map.of("topic", "db", "content", "PostgreSQL with one schema per project.", "tags", List.of("storage")),
                    Map.of("topic", "api", "content", "Tools are MCP tools.", "priority", "important")))).get("count").asInt());
            assertEquals("Always write tests first.", ok(client, "recall_context", args("topic", "rules")).get("content").asText());
            assertEquals(2, ok(client, "batch_recall_contexts", args("topics", List.of("db", "api"))).get("found").asInt());
            assertThat(ok(client, "explore_context_tree", args()).get("text").asText(), containsString("rules v1.0"));
            assertEquals(1, ok(client, "explore_context_tree", args("flat", false)).get("always_check").size());
            assertEquals("db", ok(client, "search_contexts", args("query", "schema project")).get("results").get(0).get("topic").asText());
            assertEquals("rules", ok(client, "check_contexts", args("text", "a plan to add tools")).get("always_check").get(0).get("topic").asText());
            assertEquals(3, ok(client, "context_dashboard", args()).get("topics").asInt());
            assertEquals(3, ok(client, "memory_status", args()).get("contexts").asInt());
            assertThat(TestMcpClient.text(client.call("query_database", args("query", "SELECT label FROM context_locks ORDER BY label"))),
                    containsString("rules"));
            assertTrue(ok(client, "inspect_database", args("mode", "tables")).get("tables").size() >= 5);
            assertFalse(ok(client, "sleep", args()).get("handover").isNull());
            assertThat(ok(client, "get_last_handover", args()).get("handover").get("summary").asText(), containsString("rules v1.0"));
            assertEquals(1, ok(client, "unlock_context", args("topic", "api")).get("versions_deleted").size());
            assertTrue(ok(client, "list_projects", args()).toString().contains(p));
            assertEquals(2, ok(client, "get_project_info", args("name", p)).get("stats").get("contexts").asInt());
            assertThat(TestMcpClient.text(client.call("delete_project", args("name", p))), containsString("confirm=true"));
        }
    }

    /**
     * The handover's tools_used names each tool as the assistant called it and counts every call of the session, the
     * reading ones included; the session's calls (as exported) count them all.
     */
    @Test
    void theHandoverAndTheSessionCountEveryCallByTheToolsName() {
        try (TestMcpClient client = new TestMcpClient(server)) {
            client.initialize();
            String p = "counted";
            ok(client, "wake_up", args("project", p));
            ok(client, "lock_context", args("topic", "db", "content", "PostgreSQL, one schema per project.", "project", p));
            ok(client, "recall_context", args("topic", "db", "project", p));
            ok(client, "recall_context", args("topic", "db", "project", p));
            ok(client, "search_contexts", args("query", "database", "project", p));
            ok(client, "record_progress", args("note", "chose PostgreSQL", "project", p));
            ok(client, "memory_status", args("project", p));
            JsonNode handover = ok(client, "sleep", args("summary", "Chose the database.", "project", p)).get("handover");
            assertEquals(Json.parse("{\"lock_context\":1,\"memory_status\":1,\"recall_context\":2,\"record_progress\":1,"
                    + "\"search_contexts\":1,\"sleep\":1,\"wake_up\":1}"), handover.get("tools_used"), handover.toString());
            String session = client.sessionId().orElseThrow();
            JsonNode exported = null;
            for (String line : TestMcpClient.text(client.call("export_project", args("project", p))).split("\n")) {
                JsonNode o = Json.parse(line);
                if (o.path("kind").asText().equals("session") && o.path("id").asText().equals(session)) {
                    exported = o;
                }
            }
            assertTrue(exported != null, "the session is exported");
            assertEquals(9, exported.path("calls").asInt(), "eight calls, then export_project itself: " + exported);
        }
    }

    /**
     * What the MCP Inspector's {@code --strict} checks: every argument of every tool says its JSON type, and a list the
     * type of its items; {@code query_database}'s {@code params} is a list of plain JSON values.
     */
    @Test
    void everyArgumentOfEveryToolDeclaresItsType() throws Exception {
        HttpResponse<String> listed = server.get("/tools");
        assertEquals(200, listed.statusCode(), listed.body());
        List<String> untyped = new ArrayList<>();
        for (JsonNode tool : Json.parse(listed.body()).path("tools")) {
            tool.path("inputSchema").path("properties").properties()
                    .forEach(p -> collectUntyped(tool.path("name").asText() + "." + p.getKey(), p.getValue(), untyped));
        }
        assertEquals(List.of(), untyped, "arguments without a type");
        JsonNode params = Json.object();
        for (JsonNode tool : Json.parse(listed.body()).path("tools")) {
            if (tool.path("name").asText().equals("query_database")) {
                params = tool.path("inputSchema").path("properties").path("params");
            }
        }
        assertEquals("array", params.path("type").asText(), params.toString());
        List<String> itemTypes = new ArrayList<>();
        params.path("items").path("type").forEach(t -> itemTypes.add(t.asText()));
        assertTrue(itemTypes.containsAll(List.of("string", "number", "boolean", "null")), params.toString());
    }

    private static void collectUntyped(String path, JsonNode schema, List<String> untyped) {
        if (schema.has("anyOf")) {
            schema.get("anyOf").forEach(alternative -> collectUntyped(path, alternative, untyped));
            return;
        }
        if (!schema.has("type")) {
            untyped.add(path);
            return;
        }
        if (schema.path("type").asText().equals("array")) {
            if (schema.has("items")) {
                collectUntyped(path + "[]", schema.get("items"), untyped);
            } else {
                untyped.add(path + "[]");
            }
        }
        schema.path("properties").properties().forEach(p -> collectUntyped(path + "." + p.getKey(), p.getValue(), untyped));
    }

    @Test
    void toolFailuresAreIsErrorResultsWithActionableMessages() {
        try (TestMcpClient client = new TestMcpClient(server)) {
            client.initialize();
            McpSchema.CallToolResult missing = client.call("recall_context", args("topic", "never-locked", "project", "errors"));
            assertEquals(Boolean.TRUE, missing.isError());
            assertThat(TestMcpClient.text(missing), containsString("no context `never-locked` in project `errors`"));
            McpSchema.CallToolResult badArg = client.call("lock_context", args("topic", "x", "project", "errors"));
            assertEquals(Boolean.TRUE, badArg.isError());
            assertThat(TestMcpClient.text(badArg), containsString("argument `content` is required"));
            ok(client, "lock_context", args("topic", "rule", "content", "Never commit secrets.", "project", "errors"));
            McpSchema.CallToolResult force = client.call("unlock_context", args("topic", "rule", "project", "errors"));
            assertEquals(Boolean.TRUE, force.isError());
            assertThat(TestMcpClient.text(force), containsString("needs force=true"));
            McpSchema.CallToolResult deleteUnconfirmed = client.call("delete_project", args("name", "errors"));
            assertFalse(Boolean.TRUE.equals(deleteUnconfirmed.isError()));
            assertThat(TestMcpClient.text(deleteUnconfirmed), containsString("confirm=true"));
            assertTrue(ok(client, "delete_project", args("name", "errors", "confirm", true)).get("deleted").asBoolean());
        }
    }

    /** #9 defect 4: a NUL character in a string argument reached PostgreSQL and answered 500 in 9 tools. */
    @Test
    void textPostgresqlCannotStoreIsABadArgumentNamingIt() throws Exception {
        HttpResponse<String> nul = server.post("/execute",
                "{\"tool\":\"lock_context\",\"arguments\":{\"project\":\"text\",\"topic\":\"t\",\"content\":\"a\\u0000b\"}}");
        assertEquals(400, nul.statusCode(), nul.body());
        assertThat(nul.body(), containsString("argument `content` contains a NUL character"));
        HttpResponse<String> nested = server.post("/execute", "{\"tool\":\"batch_lock_contexts\",\"arguments\":{\"project\":\"text\","
                + "\"contexts\":[{\"topic\":\"a\",\"content\":\"fine\"},{\"topic\":\"b\",\"content\":\"x\",\"tags\":[\"ok\",\"\\u0000\"]}]}}");
        assertEquals(400, nested.statusCode(), nested.body());
        assertThat(nested.body(), containsString("argument `contexts[1].tags[1]` contains a NUL character"));
        HttpResponse<String> surrogate = server.post("/execute",
                "{\"tool\":\"recall_context\",\"arguments\":{\"project\":\"text\",\"topic\":\"\\ud800\"}}");
        assertEquals(400, surrogate.statusCode(), surrogate.body());
        assertThat(surrogate.body(), containsString("argument `topic` contains an unpaired surrogate"));
        try (TestMcpClient client = new TestMcpClient(server)) {
            client.initialize();
            McpSchema.CallToolResult viaMcp = client.call("lock_context", args("project", "text", "topic", "t", "content", "a\u0000b"));
            assertEquals(Boolean.TRUE, viaMcp.isError());
            assertThat(TestMcpClient.text(viaMcp), containsString("argument `content` contains a NUL character"));
        }
    }

    @Test
    void switchProjectAppliesToItsOwnMcpSessionOnlyAndProjectsNeverMix() {
        try (TestMcpClient a = new TestMcpClient(server); TestMcpClient b = new TestMcpClient(server)) {
            a.initialize();
            b.initialize();
            ok(a, "switch_project", args("name", "team-a"));
            ok(a, "lock_context", args("topic", "shared-topic", "content", "team A's decision"));
            ok(b, "lock_context", args("topic", "shared-topic", "content", "default project's decision"));
            assertEquals("team-a", ok(a, "get_active_project", args()).get("project").asText());
            assertEquals("default", ok(b, "get_active_project", args()).get("project").asText());
            assertEquals("team A's decision", ok(a, "recall_context", args("topic", "shared-topic")).get("content").asText());
            assertEquals("default project's decision", ok(b, "recall_context", args("topic", "shared-topic")).get("content").asText());
            assertEquals("1.0", ok(b, "recall_context", args("topic", "shared-topic")).get("version").asText(), "versions are per project");
            ok(b, "switch_project", args("name", "team-a"));
            assertEquals("team A's decision", ok(b, "recall_context", args("topic", "shared-topic")).get("content").asText());
        }
    }

    /** The incident write-up's deployment test: 50 concurrent wake_up with 2 connections per schema. */
    @Test
    void fiftyConcurrentWakeUpsThroughExecuteOnTwoConnectionsAllSucceed() throws Exception {
        try (TestServer small = TestServer.start(Map.of("DB_POOL_MAX_PER_SCHEMA", "2"), MemoryTools::create)) {
            assertEquals(200, small.post("/execute", "{\"tool\":\"wake_up\",\"arguments\":{\"project\":\"deploy\"}}").statusCode());
            var registry = small.server().registry();
            String deploy = small.server().memory().projects().find("deploy").orElseThrow().schema();
            java.util.concurrent.atomic.AtomicInteger mostHeld = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean sampling = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (sampling.get()) {
                    mostHeld.accumulateAndGet(registry.currentStats(deploy).map(PoolStats::active).orElse(0), Math::max);
                }
            });
            ExecutorService pool = Executors.newFixedThreadPool(50);
            List<Future<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                calls.add(pool.submit(() -> small.post("/execute", "{\"tool\":\"wake_up\",\"arguments\":{\"project\":\"deploy\"}}")));
            }
            for (Future<HttpResponse<String>> call : calls) {
                HttpResponse<String> r = call.get(120, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(Json.parse(r.body()).get("success").asBoolean(), r.body());
            }
            pool.shutdown();
            sampling.set(false);
            sampler.join();
            assertTrue(mostHeld.get() <= 2, "the schema held at most its 2 connections at once: " + mostHeld.get());
            for (PoolStats stats : registry.pools()) {
                assertEquals(0, stats.active(), "no connection left active in " + stats.schema());
            }
            assertEquals(0, registry.budget().inUse());
        }
    }
}
