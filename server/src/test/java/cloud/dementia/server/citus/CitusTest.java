package cloud.dementia.server.citus;

import java.net.CookieManager;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.spec.McpSchema;

import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The server's core scenarios on a real Citus cluster (a coordinator and two workers, schema-based sharding), named by
 * {@code CITUS_TEST_URL} (the coordinator's JDBC URL; {@code .ci/run} starts one with
 * {@code ../shared/tools/citus/cluster}). Each test works in projects of its own, in that one database.
 */
class CitusTest {

    static final String ADMIN = "Basic " + Base64.getEncoder().encodeToString("admin:a-good-password".getBytes(StandardCharsets.UTF_8));
    static String url;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void cluster() {
        url = System.getenv("CITUS_TEST_URL");
        if (url == null || url.isBlank()) {
            String reason = "no Citus cluster: set CITUS_TEST_URL to a coordinator's JDBC URL "
                    + "(../shared/tools/citus/install, then ../shared/tools/citus/cluster start <db>; .ci/run does both)";
            if (System.getenv("CI") != null) {
                fail(reason);
            }
            Assumptions.abort(reason);
        }
    }

    static TestServer server(Map<String, String> env) {
        return TestServer.startOn(url, "dementia-citus-" + UUID.randomUUID().toString().substring(0, 8), env, MemoryTools::create);
    }

    static String unique(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    @Test
    void mcpSessionsAndToolsRunOnTheCoordinatorAndEachProjectIsADistributedSchema() throws Exception {
        String project = unique("mcp");
        try (TestServer server = server(Map.of()); TestMcpClient client = new TestMcpClient(server)) {
            assertEquals("2025-11-25", client.initialize().protocolVersion());
            assertTrue(client.tools().stream().anyMatch(t -> t.name().equals("lock_context")));
            McpSchema.CallToolResult locked = client.call("lock_context", Map.of("project", project, "topic", "deploys", "content",
                    "Always deploy on Tuesdays."));
            assertFalse(locked.isError(), () -> TestMcpClient.text(locked));
            assertThat(TestMcpClient.text(client.call("recall_context", Map.of("project", project, "topic", "deploys"))),
                    containsString("Tuesdays"));
            assertThat(TestMcpClient.text(client.call("search_contexts", Map.of("project", project, "query", "when do we deploy"))),
                    containsString("deploys"));
            assertThat(TestMcpClient.text(client.call("wake_up", Map.of("project", project))), containsString("deploys"));
            assertFalse(client.call("sleep", Map.of("project", project, "summary", "checked on Citus")).isError());
            // 2026-07-28, stateless
            HttpResponse<String> modern = http.send(server.request("/mcp").header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2026-07-28")
                    .header("Mcp-Method", "tools/call").header("Mcp-Name", "recall_context")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
                            + "\"recall_context\",\"arguments\":{\"project\":\"" + project + "\",\"topic\":\"deploys\"},\"_meta\":{"
                            + "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, modern.statusCode(), modern.body());
            assertThat(modern.body(), containsString("Tuesdays"));

            String schema = server.server().memory().projects().find(project).orElseThrow().schema();
            try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT count(*) FROM citus_schemas WHERE schema_name::text = ?")) {
                st.setString(1, schema);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    assertEquals(1, rs.getInt(1), "the project's schema is a distributed schema");
                }
            }
        }
    }

    @Test
    void queryDatabaseRunsOnTheWorkerAsTheProjectsReaderAndReachesNothingElse() throws Exception {
        String alpha = unique("alpha");
        String beta = unique("beta");
        try (TestServer server = server(Map.of())) {
            execute(server, "lock_context", Map.of("project", alpha, "topic", "t", "content", "alpha secret"));
            execute(server, "lock_context", Map.of("project", beta, "topic", "t", "content", "beta secret"));
            JsonNode own = execute(server, "query_database", Map.of("project", alpha, "query", "SELECT label, content FROM context_locks"));
            assertTrue(own.path("success").asBoolean(), own.toString());
            assertThat(own.toString(), containsString("alpha secret"));
            String betaSchema = server.server().memory().projects().find(beta).orElseThrow().schema();
            for (String sql : List.of("SELECT * FROM " + betaSchema + ".context_locks", "SELECT * FROM dementia_control.api_keys",
                    "SELECT * FROM dementia_control.installation", "SELECT set_config('role', 'postgres', false)",
                    "SELECT * FROM (SELECT set_config('role', 'postgres', true)) x", "DELETE FROM context_locks", "SET ROLE postgres",
                    "WITH x AS (DELETE FROM context_locks RETURNING *) SELECT * FROM x", "select 1 from context_locks for update",
                    "SELECT run_command_on_workers('SELECT 1')", "SELECT citus_schema_move('" + betaSchema + "'::regnamespace, '127.0.0.1', 1)",
                    "SELECT * FROM pg_dist_authinfo")) {
                JsonNode refused = execute(server, "query_database", Map.of("project", alpha, "query", sql));
                assertFalse(refused.path("success").asBoolean(), sql + " -> " + refused);
                assertFalse(refused.toString().contains("beta secret"), sql);
                assertFalse(refused.toString().contains("password="), sql);
            }
            JsonNode rows = execute(server, "query_database", Map.of("project", alpha, "query", "SELECT g FROM generate_series(1, 500) g"));
            assertTrue(rows.toString().contains("500") || rows.toString().contains("rows"), rows.toString());
        }
    }

    @Test
    void aProjectIsExportedImportedTwiceAndDeletedOnTheCluster() throws Exception {
        String project = unique("exported");
        String copy = unique("imported");
        try (TestServer server = server(Map.of())) {
            execute(server, "lock_context", Map.of("project", project, "topic", "a", "content", "first"));
            execute(server, "lock_context", Map.of("project", project, "topic", "a", "content", "second"));
            execute(server, "record_progress", Map.of("project", project, "note", "a step"));
            HttpResponse<String> exported = http.send(server.bare("/admin/api/projects/" + project + "/export").header("Authorization", ADMIN).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, exported.statusCode(), exported.body());
            JsonNode first = api(server, "POST", "/admin/api/projects/" + copy + "/import", exported.body());
            assertEquals(2, first.path("added").path("context").asInt(), first.toString());
            assertEquals(1, first.path("added").path("entry").asInt(), first.toString());
            JsonNode again = api(server, "POST", "/admin/api/projects/" + copy + "/import", exported.body());
            assertEquals(0, again.path("added").path("context").asInt(), "nothing twice: " + again);
            assertEquals(2, again.path("skipped").path("context").asInt(), again.toString());
            assertEquals(0, again.path("added").path("entry").asInt(), again.toString());
            assertThat(execute(server, "recall_context", Map.of("project", copy, "topic", "a")).toString(), containsString("second"));
            String schema = server.server().memory().projects().find(copy).orElseThrow().schema();
            JsonNode deleted = execute(server, "delete_project", Map.of("name", copy, "confirm", true));
            assertTrue(deleted.path("success").asBoolean(), deleted.toString());
            try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement(
                    "SELECT (SELECT count(*) FROM citus_schemas WHERE schema_name::text = ?), to_regnamespace(?) IS NULL")) {
                st.setString(1, schema);
                st.setString(2, schema);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    assertEquals(0, rs.getInt(1));
                    assertTrue(rs.getBoolean(2), "the schema is gone from the cluster");
                }
            }
        }
    }

    @Test
    void aWorkerRefusingTheReadersLoginIsAClearToolErrorNotALostConnection() throws Exception {
        String project = unique("refused");
        try (TestServer server = server(Map.of())) {
            execute(server, "lock_context", Map.of("project", project, "topic", "t", "content", "x"));
            var projects = server.server().memory().projects();
            String reader = new cloud.dementia.db.schema.ProjectName(project, projects.find(project).orElseThrow().schema())
                    .readerRole(projects.database());
            try (Connection c = coordinator(); java.sql.Statement st = c.createStatement()) {
                st.execute("ALTER ROLE \"" + reader + "\" NOLOGIN");
            }
            try {
                JsonNode refused = execute(server, "query_database", Map.of("project", project, "query", "SELECT label FROM context_locks"));
                assertFalse(refused.path("success").asBoolean(), refused.toString());
                assertThat(refused.toString(), containsString("a node of the Citus cluster refused the connection"));
                assertFalse(refused.toString().contains("lost its database connection"), refused.toString());
                // the server's own work in the project goes on
                assertTrue(execute(server, "recall_context", Map.of("project", project, "topic", "t")).path("success").asBoolean());
            } finally {
                try (Connection c = coordinator(); java.sql.Statement st = c.createStatement()) {
                    st.execute("ALTER ROLE \"" + reader + "\" LOGIN");
                }
            }
            assertTrue(execute(server, "query_database", Map.of("project", project, "query", "SELECT label FROM context_locks"))
                    .path("success").asBoolean());
        }
    }

    /**
     * A worker the coordinator cannot reach: the coordinator is routed to the project's worker through a proxy
     * ({@code citus_update_node}), the proxy closed, a call made, the route put back.
     */
    @Test
    void aWorkerThatCannotBeReachedIsA503WithRetryAfterAtOnce() throws Exception {
        String project = unique("unreachable");
        try (TestServer server = server(Map.of())) {
            execute(server, "lock_context", Map.of("project", project, "topic", "t", "content", "on a worker that goes away"));
            String schema = server.server().memory().projects().find(project).orElseThrow().schema();
            String node = placement(schema);
            int port = Integer.parseInt(node.substring(node.lastIndexOf(':') + 1));
            int nodeId;
            try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT nodeid FROM pg_dist_node WHERE nodeport = ?")) {
                st.setInt(1, port);
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    nodeId = rs.getInt(1);
                }
            }
            cloud.dementia.db.testing.TcpProxy proxy = new cloud.dementia.db.testing.TcpProxy("127.0.0.1", port);
            try {
                updateNode(nodeId, proxy.port());
                // a new server, so that no connection of the coordinator to the worker is cached from before
                try (TestServer fresh = server(Map.of())) {
                    assertTrue(execute(fresh, "recall_context", Map.of("project", project, "topic", "t")).path("success").asBoolean(),
                            "through the proxy first");
                    proxy.close();
                    HttpResponse<String> r = fresh.post("/execute", Json.compact(Map.of("tool", "recall_context", "arguments",
                            Map.of("project", project, "topic", "t"))));
                    assertEquals(503, r.statusCode(), r.body());
                    assertTrue(r.headers().firstValue("Retry-After").isPresent(), "Retry-After");
                    assertThat(r.body(), containsString("a node of the Citus cluster could not be reached"));
                }
            } finally {
                proxy.close();
                updateNode(nodeId, port);
            }
            assertTrue(execute(server, "recall_context", Map.of("project", project, "topic", "t")).path("success").asBoolean(), "back");
        }
    }

    static void updateNode(int nodeId, int port) throws SQLException {
        try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT citus_update_node(?, '127.0.0.1', ?)")) {
            st.setInt(1, nodeId);
            st.setInt(2, port);
            st.execute();
        }
    }

    @Test
    void theConsoleAndTheApiShowWhereEachProjectLivesAndAnOperatorMovesOne() throws Exception {
        String project = unique("moved");
        try (TestServer server = server(Map.of())) {
            execute(server, "lock_context", Map.of("project", project, "topic", "t", "content", "moves with its schema"));
            String schema = server.server().memory().projects().find(project).orElseThrow().schema();
            JsonNode cluster = api(server, "GET", "/admin/api/cluster", null);
            assertTrue(cluster.path("citus").asBoolean(), cluster.toString());
            assertEquals(2, cluster.path("workers").size(), cluster.toString());
            String from = null;
            for (JsonNode p : cluster.path("projects")) {
                if (p.path("project").asText().equals(project)) {
                    from = p.path("node").asText();
                    assertTrue(p.path("bytes").asLong() > 0, p.toString());
                }
            }
            assertTrue(from != null && from.contains(":"), cluster.toString());
            String to = null;
            for (JsonNode w : cluster.path("workers")) {
                if (!w.asText().equals(from)) {
                    to = w.asText();
                }
            }
            // the console's pool page says where it lives
            HttpClient console = HttpClient.newBuilder().cookieHandler(new CookieManager()).followRedirects(HttpClient.Redirect.NEVER).build();
            String login = console.send(server.bare("/admin/login").GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(login);
            assertTrue(csrf.find());
            HttpResponse<String> in = console.send(server.bare("/admin/login").header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("_csrf=" + URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8)
                            + "&user=admin&password=a-good-password&next=%2Fadmin")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(303, in.statusCode(), in.body());
            String page = console.send(server.bare("/admin/pools/" + schema).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(page, containsString("On Citus worker <b id=\"placement-node\">" + from + "</b>"));
            assertThat(page, containsString("project " + project));

            JsonNode moved = api(server, "POST", "/admin/api/projects/" + URLEncoder.encode(project, StandardCharsets.UTF_8).replace("+", "%20")
                    + "/move", "{\"node\":\"" + to + "\"}");
            assertEquals(to, moved.path("node").asText(), moved.toString());
            assertEquals(from, moved.path("from").asText());
            assertThat(execute(server, "recall_context", Map.of("project", project, "topic", "t")).toString(), containsString("moves with its schema"));
            JsonNode audit = api(server, "GET", "/admin/api/audit", null);
            assertThat(audit.toString(), containsString("move_project"));
            JsonNode refused = apiRaw(server, "POST", "/admin/api/projects/" + project + "/move", "{\"node\":\"127.0.0.1:1\"}");
            assertThat(refused.toString(), containsString("is not a worker"));
        }
    }

    @Test
    void aProjectMovedWhileItsToolsAreCalledLosesNothingAcknowledged() throws Exception {
        String project = unique("busy");
        try (TestServer server = server(Map.of())) {
            execute(server, "lock_context", Map.of("project", project, "topic", "seed", "content", "first"));
            String schema = server.server().memory().projects().find(project).orElseThrow().schema();
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            AtomicInteger retried = new AtomicInteger();
            AtomicInteger next = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                done.add(pool.submit(() -> {
                    int i;
                    while ((i = next.getAndIncrement()) < 300) {
                        String topic = "topic-" + i;
                        for (int attempt = 0; ; attempt++) {
                            HttpResponse<String> r = http.send(server.request("/execute").header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(Json.compact(Map.of("tool", "lock_context", "arguments",
                                            Map.of("project", project, "topic", topic, "content", "written during the move " + i))))).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200 && Json.parse(r.body()).path("success").asBoolean()) {
                                acknowledged.add(topic);
                                break;
                            }
                            assertEquals(503, r.statusCode(), "only a retried 503 while writes are blocked: " + r.body());
                            assertTrue(attempt < 50, "no call fails for good: " + r.body());
                            retried.incrementAndGet();
                            Thread.sleep(200);
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(300);
            String from = placement(schema);
            String to = otherWorker(from);
            try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT citus_schema_move(?::regnamespace, ?, ?, 'block_writes')")) {
                st.setString(1, schema);
                st.setString(2, to.substring(0, to.lastIndexOf(':')));
                st.setInt(3, Integer.parseInt(to.substring(to.lastIndexOf(':') + 1)));
                st.execute();
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertEquals(to, placement(schema), "the schema moved");
            assertEquals(300, acknowledged.size());
            Set<String> stored = new HashSet<>();
            try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT label FROM " + schema + ".context_locks")) {
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        stored.add(rs.getString(1));
                    }
                }
            }
            assertTrue(stored.containsAll(acknowledged), "every acknowledged lock is stored (" + retried.get() + " retried 503s)");
            System.out.println("citus: moved " + schema + " from " + from + " to " + to + " under load: " + acknowledged.size()
                    + " locks acknowledged, " + stored.size() + " versions stored, " + retried.get() + " 503s retried");
        }
    }

    @Test
    void ourBackendsOnTheCoordinatorStayWithinTheBudget() throws Exception {
        String app = "dementia-citus-budget-" + UUID.randomUUID().toString().substring(0, 6);
        try (TestServer server = TestServer.startOn(url, app, Map.of("DB_POOL_BUDGET", "4", "DB_POOL_MAX_PER_SCHEMA", "4"), MemoryTools::create)) {
            List<String> projects = List.of(unique("b1"), unique("b2"), unique("b3"));
            AtomicInteger most = new AtomicInteger();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().start(() -> {
                try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND backend_type = 'client backend'")) {
                    st.setString(1, app);
                    while (sampling.get()) {
                        try (ResultSet rs = st.executeQuery()) {
                            rs.next();
                            most.accumulateAndGet(rs.getInt(1), Math::max);
                        }
                        Thread.sleep(20);
                    }
                } catch (SQLException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int n = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 15; i++) {
                        execute(server, i % 2 == 0 ? "lock_context" : "search_contexts", Map.of("project", projects.get(n % 3), "topic", "t" + i,
                                "content", "load " + i, "query", "load"));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
            sampling.set(false);
            sampler.join();
            pool.shutdown();
            assertTrue(most.get() > 0, "the sampler saw our backends");
            System.out.println("citus: at most " + most.get() + " of our backends on the coordinator, budget 4, 16 callers on 3 projects");
            assertThat("our backends on the coordinator at most", most.get(), lessThanOrEqualTo(4));
        }
    }

    // ---------------------------------------------------------------- helpers

    static Connection coordinator() throws SQLException {
        String jdbc = url.startsWith("jdbc:") ? url : "jdbc:" + url;
        return DriverManager.getConnection(jdbc);
    }

    static String placement(String schema) throws SQLException {
        try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT min(sh.nodename) || ':' || min(sh.nodeport) "
                + "FROM citus_schemas s JOIN citus_shards sh ON sh.colocation_id = s.colocation_id WHERE s.schema_name::text = ?")) {
            st.setString(1, schema);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    static String otherWorker(String node) throws SQLException {
        try (Connection c = coordinator(); PreparedStatement st = c.prepareStatement("SELECT nodename || ':' || nodeport FROM pg_dist_node "
                + "WHERE groupid <> 0 AND noderole = 'primary' AND shouldhaveshards AND nodename || ':' || nodeport <> ? ORDER BY nodeport LIMIT 1")) {
            st.setString(1, node);
            try (ResultSet rs = st.executeQuery()) {
                assertTrue(rs.next(), "another worker than " + node);
                String other = rs.getString(1);
                assertNotEquals(node, other);
                return other;
            }
        }
    }

    static JsonNode execute(TestServer server, String tool, Map<String, Object> arguments) throws Exception {
        HttpResponse<String> r = server.post("/execute", Json.compact(Map.of("tool", tool, "arguments", arguments)));
        return Json.parse(r.body());
    }

    JsonNode api(TestServer server, String method, String path, String json) throws Exception {
        HttpRequest.Builder b = server.bare(path).header("Authorization", ADMIN);
        HttpResponse<String> r = http.send((json == null ? b.GET() : b.header("Content-Type", "application/json").method(method,
                HttpRequest.BodyPublishers.ofString(json))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
        return Json.parse(r.body());
    }

    JsonNode apiRaw(TestServer server, String method, String path, String json) throws Exception {
        HttpResponse<String> r = http.send(server.bare(path).header("Authorization", ADMIN).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        return Json.parse(r.body());
    }
}
