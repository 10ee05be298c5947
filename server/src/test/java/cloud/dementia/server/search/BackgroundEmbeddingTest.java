package cloud.dementia.server.search;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No request waits for the model: a lock commits without its vector, search finds it by words at once and by meaning
 * once the background embedder has stored the vector, and versions left without one are found again after a restart.
 */
class BackgroundEmbeddingTest {

    private static final String RULE = "Deploys are frozen from Friday noon until Monday morning; hotfixes need the release manager's approval.";
    /** No word of the rule: only its meaning can find it. */
    private static final String QUESTION = "when is shipping to production blocked";

    private static final String ADMIN = "Basic " + java.util.Base64.getEncoder().encodeToString("admin:a-good-password".getBytes());

    private static JsonNode execute(TestServer server, String tool, Map<String, Object> arguments) throws Exception {
        HttpResponse<String> r = server.post("/execute", Json.compact(Map.of("tool", tool, "arguments", arguments)));
        assertEquals(200, r.statusCode(), r.body());
        return Json.parse(r.body()).get("result");
    }

    private static List<String> topics(JsonNode searchResult) {
        List<String> out = new java.util.ArrayList<>();
        searchResult.get("results").forEach(h -> out.add(h.get("topic").asText()));
        return out;
    }

    private static void awaitNoBacklog(TestServer server) throws InterruptedException {
        server.awaitVectors("default");
        long deadline = System.nanoTime() + 120_000_000_000L;
        // and the embedder's own count (the meter) has caught up with the database
        while (server.server().memory().backlog().total() > 0) {
            assertTrue(System.nanoTime() < deadline, "the embedding backlog did not drain: " + server.server().memory().backlog().bySchema());
            Thread.sleep(50);
        }
    }

    private static String schemaOfDefault(TestServer server) {
        return server.server().memory().projects().find("default").orElseThrow().schema();
    }

    private static long backlogInDatabase(TestServer server) {
        return server.server().registry().inStatement(schemaOfDefault(server), tx -> tx.queryOne(
                "SELECT count(*) FROM {s}.context_locks WHERE embedding IS NULL", r -> r.longValue(1)).orElse(0L));
    }

    @Test
    void aLockIsFoundByWordsAtOnceAndByMeaningOnceTheEmbedderHasItsVector() throws Exception {
        try (TestServer server = TestServer.start(Map.of(), MemoryTools::create)) {
            execute(server, "lock_context", Map.of("topic", "deploy-freeze", "content", RULE));
            // straight after the lock, before any vector: the words find it
            assertEquals("deploy-freeze", topics(execute(server, "search_contexts", Map.of("query", "frozen deploys"))).get(0));

            awaitNoBacklog(server);
            assertEquals("deploy-freeze", topics(execute(server, "search_contexts", Map.of("query", QUESTION))).get(0),
                    "found by meaning once its vector is stored");
            String metrics = server.get("/metrics").body();
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("dementia_embedding_backlog{") && l.endsWith(" 0.0")), metrics);
        }
    }

    @Test
    void aRestartEmbedsTheVersionsLeftWithoutAVector() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            try (TestServer off = TestServer.startOn(db.jdbcUrl(), db.target().applicationName(), Map.of("DEMENTIA_EMBEDDINGS", "off"),
                    MemoryTools::create)) {
                for (int i = 0; i < 5; i++) {
                    execute(off, "lock_context", Map.of("topic", "rule-" + i, "content", RULE + " Case " + i + "."));
                }
                // and enough more that draining them takes a few seconds
                java.util.List<Map<String, Object>> more = new java.util.ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    more.add(Map.of("topic", "note-" + i, "content", "Note " + i + " about the billing service and its retries."));
                }
                execute(off, "batch_lock_contexts", Map.of("contexts", more));
                assertEquals(205, backlogInDatabase(off));
                assertEquals(0, off.server().memory().backlog().total(), "without a model nothing waits for one");
            }
            try (TestServer on = TestServer.startOn(db.jdbcUrl(), db.target().applicationName(), Map.of(), MemoryTools::create)) {
                // the console API shows the backlog while it drains, per project and in the overview
                long seen = 0;
                String last = "";
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (seen == 0 && System.nanoTime() < deadline && backlogInDatabase(on) > 0) {
                    last = on.send(on.bare("/admin/api/pools/" + schemaOfDefault(on)).header("Authorization", ADMIN)).body();
                    seen = Json.parse(last).path("embeddingBacklog").asLong();
                    Thread.sleep(20);
                }
                assertTrue(seen > 0, "the backlog was shown while the versions waited for their vectors: " + last);
                awaitNoBacklog(on);
                JsonNode pools = Json.parse(on.send(on.bare("/admin/api/pools").header("Authorization", ADMIN)).body());
                assertEquals(0, pools.path("embeddingBacklog").path(schemaOfDefault(on)).asLong(-1));
                assertEquals(0, backlogInDatabase(on));
                assertTrue(topics(execute(on, "search_contexts", Map.of("query", QUESTION))).get(0).startsWith("rule-"));
            }
        }
    }
}
