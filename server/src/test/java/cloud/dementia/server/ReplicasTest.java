package cloud.dementia.server;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #11: two server processes on one database behind no sticky load balancer. An MCP client whose every request goes to
 * the other process works end to end, a console login on one is valid on the other, and the two together never hold
 * more backends than their two budgets.
 */
class ReplicasTest {

    static final Duration START = Duration.ofSeconds(90);
    static final int BUDGET = 4;
    static final String PASSWORD = "replica-console-password-1";

    @Test
    void anyReplicaServesAnyRequest() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            Map<String, String> env = ServerProcess.envFor(db, Map.of("DEMENTIA_API_KEY", TestServer.KEY, "DEMENTIA_ADMIN_PASSWORD", PASSWORD,
                    "DB_POOL_BUDGET", Integer.toString(BUDGET), "DB_POOL_MAX_PER_SCHEMA", "2", "DEMENTIA_EMBEDDINGS", "off"));
            AtomicBoolean sampling = new AtomicBoolean(true);
            AtomicInteger most = new AtomicInteger();
            try (ServerProcess a = ServerProcess.start(env); ServerProcess b = ServerProcess.start(env)) {
                // both start at once: the control schema's migration is taken by one, the other waits for it
                Thread readyA = Thread.ofPlatform().start(() -> ready(a));
                ready(b);
                readyA.join();
                ready(a);
                // its own thread: the common pool has one thread on a 2-core machine, which the MCP client needs
                Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                    while (sampling.get()) {
                        most.accumulateAndGet(db.backends(), Math::max);
                        sleep(20);
                    }
                });

                mcpClientAlternatingBetweenReplicas(a, b);
                consoleLoginOnOneReplicaIsValidOnTheOther(a, b);

                sampling.set(false);
                sampler.join(5_000);
            }
            System.out.println("replicas: most backends of the two processes at once: " + most.get() + " (budget " + BUDGET + " each)");
            assertTrue(most.get() >= 1, "backends were sampled");
            assertTrue(most.get() <= 2 * BUDGET, "two replicas hold at most their two budgets: " + most.get());
        }
    }

    private static void mcpClientAlternatingBetweenReplicas(ServerProcess a, ServerProcess b) throws Exception {
        AtomicInteger requests = new AtomicInteger();
        AtomicReference<String> lastSession = new AtomicReference<>();
        Map<String, Integer> byReplica = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(a.url())
                .endpoint("/mcp")
                .httpRequestCustomizer((request, method, uri, body, context) -> {
                    // a load balancer without sticky sessions: every request goes to the other replica
                    ServerProcess to = requests.getAndIncrement() % 2 == 0 ? a : b;
                    request.uri(URI.create(to.url() + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())));
                    request.header("Authorization", "Bearer " + TestServer.KEY);
                    request.copy().build().headers().firstValue("Mcp-Session-Id").ifPresent(lastSession::set);
                    byReplica.merge(to.url(), 1, Integer::sum);
                    log.add(method + " " + to.url());
                })
                .build();
        McpSyncClient client = McpClient.sync(transport)
                .clientInfo(new McpSchema.Implementation("replicas-test", "1"))
                .requestTimeout(Duration.ofSeconds(30))
                .build();
        try {
            client.initialize();
            assertTrue(client.listTools().tools().size() > 10, "tools listed by the replica that did not see initialize");
            assertFalse(call(client, "switch_project", Map.of("name", "replicated")).isError());
            // switched through one replica, in force on the other (each call below lands on alternating replicas)
            for (int i = 0; i < 4; i++) {
                assertThat(text(call(client, "get_active_project", Map.of())), containsString("replicated"));
            }
            assertFalse(call(client, "lock_context", Map.of("topic", "replica-rule", "content", "Any replica serves any request.")).isError());
            assertThat(text(call(client, "recall_context", Map.of("topic", "replica-rule"))), containsString("Any replica serves any request."));
            client.ping();
        } finally {
            client.closeGracefully();
        }
        assertTrue(byReplica.getOrDefault(a.url(), 0) >= 4 && byReplica.getOrDefault(b.url(), 0) >= 4, "both replicas served: " + byReplica);

        // the session the client ended (DELETE on one replica) is unknown on both from then on
        String ended = lastSession.get();
        assertTrue(ended != null, "the client had a session");
        for (ServerProcess replica : new ServerProcess[] {a, b}) {
            // the replica that took the DELETE refuses at once; the other once its few seconds of cached verdict are up
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int status;
            do {
                status = mcpPing(replica, ended).statusCode();
            } while (status != 404 && System.nanoTime() < deadline && sleep(200));
            assertEquals(404, status, "an ended session is refused by every replica within seconds: " + log);
        }
    }

    private static void consoleLoginOnOneReplicaIsValidOnTheOther(ServerProcess a, ServerProcess b) throws Exception {
        // one cookie jar for both, as a browser has behind one public address
        try (HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).followRedirects(HttpClient.Redirect.NEVER).build()) {
            String loginPage = browser.send(HttpRequest.newBuilder(URI.create(a.url() + "/admin/login")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher token = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(loginPage);
            assertTrue(token.find(), loginPage);
            String form = "_csrf=" + enc(token.group(1)) + "&user=admin&password=" + enc(PASSWORD) + "&next=%2Fadmin";
            HttpResponse<String> login = browser.send(HttpRequest.newBuilder(URI.create(a.url() + "/admin/login"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(303, login.statusCode(), login.body());
            HttpResponse<String> onB = browser.send(HttpRequest.newBuilder(URI.create(b.url() + "/admin")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, onB.statusCode(), "the session opened on the first replica is valid on the second");
            assertThat(onB.body(), containsString("Sign out"));
        }
    }

    private static HttpResponse<String> mcpPing(ServerProcess p, String session) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create(p.url() + "/mcp"))
                    .header("Authorization", "Bearer " + TestServer.KEY)
                    .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .header("Mcp-Session-Id", session)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"ping\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private static McpSchema.CallToolResult call(McpSyncClient client, String tool, Map<String, Object> args) {
        return client.callTool(new McpSchema.CallToolRequest(tool, args));
    }

    private static String text(McpSchema.CallToolResult result) {
        return TestMcpClient.text(result);
    }

    private static int ready(ServerProcess p) {
        try {
            return p.awaitReady(START);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
