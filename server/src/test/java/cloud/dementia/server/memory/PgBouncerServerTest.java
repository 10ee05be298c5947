package cloud.dementia.server.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.PgBouncer;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.DementiaServer;
import cloud.dementia.server.Settings;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole server behind a real PgBouncer in transaction mode: migrations, tools and projects unchanged. */
class PgBouncerServerTest {

    @Test
    void memoryServerWorksUnchangedBehindTransactionPooler() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase(); PgBouncer bouncer = PgBouncer.start(3)) {
            DementiaServer server = behind(bouncer, db);
            try {
                ToolInvoker tools = server.tools();
                ExecutorService workers = Executors.newFixedThreadPool(8);
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < 8; w++) {
                    String project = w % 2 == 0 ? "north" : "south";
                    int worker = w;
                    done.add(workers.submit(() -> {
                        for (int i = 0; i < 10; i++) {
                            call(tools, "lock_context", "{\"project\":\"" + project + "\",\"topic\":\"t\",\"content\":\"" + project + " " + worker + "/" + i + "\"}");
                            JsonNode recalled = call(tools, "recall_context", "{\"project\":\"" + project + "\",\"topic\":\"t\"}");
                            assertTrue(recalled.get("content").asText().startsWith(project + " "), recalled.toString());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(120, TimeUnit.SECONDS);
                }
                workers.shutdown();
                assertEquals(40, call(tools, "context_dashboard", "{\"project\":\"north\"}").get("contexts").asInt());
                assertEquals(40, call(tools, "context_dashboard", "{\"project\":\"south\"}").get("contexts").asInt());
                JsonNode rows = call(tools, "query_database",
                        "{\"project\":\"north\",\"format\":\"json\",\"query\":\"SELECT DISTINCT split_part(content, ' ', 1) AS p FROM context_locks\"}")
                        .get("rows");
                assertEquals(1, rows.size());
                assertEquals("north", rows.get(0).get("p").asText());
            } finally {
                server.stop();
            }
        }
    }

    /** Watching a context polls the project through its pool: no LISTEN, so it works behind a transaction pooler. */
    @Test
    void aWatchedContextIsHeardBehindTheTransactionPooler() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase(); PgBouncer bouncer = PgBouncer.start(3)) {
            DementiaServer server = behind(bouncer, db);
            try {
                ToolInvoker tools = server.tools();
                call(tools, "lock_context", "{\"project\":\"watched\",\"topic\":\"rule\",\"content\":\"v1\"}");
                String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscriptions/listen\",\"params\":{\"notifications\":{"
                        + "\"resourceSubscriptions\":[\"dementia://watched/context/rule\"]},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                        + "\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}";
                java.net.http.HttpResponse<java.io.InputStream> res = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                        .newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/mcp"))
                        .header("Authorization", "Bearer pgbouncer-test-key-0123").header("Content-Type", "application/json")
                        .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2026-07-28")
                        .header("Mcp-Method", "subscriptions/listen").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofInputStream());
                java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
                Thread.ofVirtual().start(() -> {
                    try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(res.body(),
                            java.nio.charset.StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            if (line.startsWith("data:")) {
                                events.add(line);
                            }
                        }
                    } catch (java.io.IOException e) {
                        // ended
                    }
                });
                assertTrue(events.poll(5, TimeUnit.SECONDS).contains("notifications/subscriptions/acknowledged"));
                call(tools, "lock_context", "{\"project\":\"watched\",\"topic\":\"rule\",\"content\":\"v2\"}");
                String update = events.poll(5, TimeUnit.SECONDS);
                assertTrue(update != null && update.contains("notifications/resources/updated") && update.contains("dementia://watched/context/rule"),
                        "heard behind PgBouncer: " + update);
            } finally {
                server.stop();
            }
        }
    }

    /** @return the whole server, its database reached through the pooler */
    static DementiaServer behind(PgBouncer bouncer, TestDatabase.Fresh db) {
        var through = bouncer.target(db.name(), db.target().applicationName());
        String url = through.jdbcUrl() + (through.jdbcUrl().contains("?") ? "&" : "?") + "user=" + through.user();
        return DementiaServer.start(Settings.load(Map.of("PORT", "0", "DATABASE_URL", url, "DB_APPLICATION_NAME", db.target().applicationName(),
                "DEMENTIA_API_KEY", "pgbouncer-test-key-0123", "DEMENTIA_ADMIN_PASSWORD", "a-good-password")));
    }

    static JsonNode call(ToolInvoker tools, String tool, String args) {
        ToolOutcome o = tools.invoke(tools.find(tool).orElseThrow(), (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(args),
                java.util.Optional.empty());
        if (o instanceof ToolOutcome.Success s) {
            return s.output().json().orElseGet(() -> Json.object().put("text", s.output().text()));
        }
        throw new AssertionError(tool + " failed: " + o);
    }
}
