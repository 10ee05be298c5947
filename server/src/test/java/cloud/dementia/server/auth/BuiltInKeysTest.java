package cloud.dementia.server.auth;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.DementiaServer;
import cloud.dementia.server.Settings;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keys of {@code DEMENTIA_API_KEY(S)} and the generated key are rows of {@code api_keys} like an operator's: stored
 * at start, replaced or removed when the environment changes, checked by the same lookup, and out of the operators'
 * reach in the console.
 */
class BuiltInKeysTest {

    static final String FIRST = "first-key-0123456789";
    static final String SECOND = "second-key-0123456789";
    static final String THIRD = "third-key-0123456789";
    static final String PASSWORD = "a-good-password";

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theEnvironmentsKeysAreRowsReplacedWhenItChangesAndTheGeneratedKeyTakesOverWithoutThem() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            DementiaServer server = start(db, Map.of("DEMENTIA_API_KEYS", FIRST + "," + SECOND));
            try {
                assertEquals(200, tools(server, FIRST).statusCode());
                assertEquals(200, tools(server, SECOND).statusCode());
                assertEquals(List.of("env-1 environment DEMENTIA_API_KEYS #1", "env-2 environment DEMENTIA_API_KEYS #2"), rows(server));
            } finally {
                server.stop();
            }

            server = start(db, Map.of("DEMENTIA_API_KEY", THIRD));
            try {
                assertEquals(401, tools(server, FIRST).statusCode(), "a key taken out of the environment opens nothing");
                assertEquals(401, tools(server, SECOND).statusCode());
                assertEquals(200, tools(server, THIRD).statusCode());
                assertEquals(List.of("env-1 environment DEMENTIA_API_KEY"), rows(server));
            } finally {
                server.stop();
            }

            server = start(db, Map.of());
            String generated = server.credentials().firstRun().flatMap(Credentials.FirstRun::apiKey)
                    .orElseThrow(() -> new AssertionError("without keys in the environment a key is generated"));
            try {
                assertEquals(401, tools(server, THIRD).statusCode(), "the environment's keys go with it");
                assertEquals(200, tools(server, generated).statusCode());
                assertEquals(List.of("generated generated " + generated.substring(0, 8) + "…"), rows(server));
            } finally {
                server.stop();
            }

            server = start(db, Map.of());
            try {
                assertTrue(server.credentials().firstRun().isEmpty(), "the stored key is kept, and not printed again");
                assertEquals(200, tools(server, generated).statusCode());
            } finally {
                server.stop();
            }

            server = start(db, Map.of("DEMENTIA_API_KEY", THIRD));
            try {
                assertEquals(401, tools(server, generated).statusCode(), "keys in the environment replace the generated one");
                assertEquals(200, tools(server, THIRD).statusCode());
            } finally {
                server.stop();
            }
        }
    }

    @Test
    void operatorsNeitherTakeNorListNorRevokeTheBuiltInKeys() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            DementiaServer server = start(db, Map.of("DEMENTIA_API_KEY", FIRST));
            try {
                HttpResponse<String> taken = admin(server, "POST", "/keys", "{\"name\":\"env-2\"}");
                assertEquals(400, taken.statusCode(), taken.body());
                assertThat(taken.body(), containsString("`env-2` is reserved"));
                assertEquals(400, admin(server, "POST", "/keys", "{\"name\":\"generated\"}").statusCode());
                HttpResponse<String> revoke = admin(server, "POST", "/keys/env-1/revoke", "{}");
                assertEquals(400, revoke.statusCode(), revoke.body());
                assertThat(revoke.body(), containsString("change DEMENTIA_API_KEY(S) and restart"));
                assertEquals(200, tools(server, FIRST).statusCode(), "still accepted");
                assertEquals(201, admin(server, "POST", "/keys", "{\"name\":\"env-ci\"}").statusCode(), "only env-<number> is reserved");
                assertEquals("[\"env-ci\"]", Json.parse(admin(server, "GET", "/keys", null).body()).path("keys").findValues("name").toString());
            } finally {
                server.stop();
            }
        }
    }

    /**
     * While the control schema gives no connection, a request is 503 with {@code Retry-After} after its one bounded wait,
     * never 401 (a wrong key cannot be told from a right one then); only the metrics, served without the database, stay
     * readable, with the environment's keys checked in memory.
     */
    @Test
    void whileTheControlSchemaDoesNotAnswerOnlyTheEnvironmentsKeysReadTheMetrics() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            DementiaServer server = start(db, Map.of("DEMENTIA_API_KEY", FIRST, "DB_POOL_MAX_PER_SCHEMA", "2", "DB_POOL_ACQUIRE_TIMEOUT_MS", "300"));
            try {
                HttpResponse<String> created = admin(server, "POST", "/keys", "{\"name\":\"ci\"}");
                assertEquals(201, created.statusCode(), created.body());
                String operatorKey = Json.parse(created.body()).path("key").asText();
                assertEquals(200, get(server, "/tools", operatorKey).statusCode());

                try (AutoCloseable held = holdControlConnections(server, 2)) {
                    HttpResponse<String> metrics = get(server, "/metrics", FIRST);
                    assertEquals(200, metrics.statusCode(), "the environment's key reads the metrics in an outage");
                    assertThat(metrics.body(), containsString("db_pool_budget_connections"));
                    for (String key : List.of(FIRST, operatorKey, "not-a-key-0123456789")) {
                        HttpResponse<String> refused = get(server, "/tools", key);
                        assertEquals(503, refused.statusCode(), refused.body());
                        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
                        assertThat(refused.body(), containsString("no connection for schema `dementia_control` within"));
                    }
                    assertEquals(503, get(server, "/metrics", operatorKey).statusCode(), "a key only the database knows waits for it");
                }
                assertEquals(200, get(server, "/tools", operatorKey).statusCode(), "checked again once the database answers");
                assertEquals(401, get(server, "/tools", "not-a-key-0123456789").statusCode());
            } finally {
                server.stop();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static DementiaServer start(TestDatabase.Fresh db, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>();
        env.put("PORT", "0");
        env.put("DATABASE_URL", db.jdbcUrl());
        env.put("DB_APPLICATION_NAME", db.target().applicationName());
        env.put("DEMENTIA_ADMIN_PASSWORD", PASSWORD);
        env.put("DEMENTIA_EMBEDDINGS", "off");
        env.putAll(extra);
        return DementiaServer.start(Settings.load(env));
    }

    /** @return {@code name origin hint} of every row of {@code api_keys}, by name */
    private static List<String> rows(DementiaServer server) {
        return server.registry().inStatement(ControlSchema.NAME, tx -> tx.query(
                "SELECT name || ' ' || origin || ' ' || hint FROM {s}.api_keys ORDER BY name", r -> r.string(1)));
    }

    private HttpResponse<String> tools(DementiaServer server, String key) throws Exception {
        return get(server, "/tools", key);
    }

    private HttpResponse<String> get(DementiaServer server, String path, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Authorization", "Bearer " + key).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> admin(DementiaServer server, String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/admin/api" + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8)));
        if (json == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Holds {@code n} connections of the control schema, each inside a transaction, until closed. */
    private static AutoCloseable holdControlConnections(DementiaServer server, int n) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(n);
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> server.registry().inTransaction(ControlSchema.NAME, tx -> {
                tx.queryOne("SELECT 1", r -> r.integer(1));
                holding.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            })));
        }
        assertTrue(holding.await(10, TimeUnit.SECONDS), "the control schema's connections are held");
        return () -> {
            release.countDown();
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertFalse(threads.stream().anyMatch(Thread::isAlive));
        };
    }
}
