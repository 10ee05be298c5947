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
            var through = bouncer.target(db.name(), db.target().applicationName());
            String url = through.jdbcUrl() + (through.jdbcUrl().contains("?") ? "&" : "?") + "user=" + through.user();
            DementiaServer server = DementiaServer.start(Settings.load(Map.of("PORT", "0", "DATABASE_URL", url,
                    "DB_APPLICATION_NAME", db.target().applicationName(), "DEMENTIA_API_KEY", "pgbouncer-test-key-0123",
                    "DEMENTIA_ADMIN_PASSWORD", "a-good-password")));
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

    static JsonNode call(ToolInvoker tools, String tool, String args) {
        ToolOutcome o = tools.invoke(tools.find(tool).orElseThrow(), (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(args),
                java.util.Optional.empty());
        if (o instanceof ToolOutcome.Success s) {
            return s.output().json().orElseGet(() -> Json.object().put("text", s.output().text()));
        }
        throw new AssertionError(tool + " failed: " + o);
    }
}
