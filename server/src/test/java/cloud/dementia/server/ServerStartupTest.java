package cloud.dementia.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.observe.Scrape;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server started in-process on a random port against a real database. */
class ServerStartupTest {

    static final String KEY = "test-key-0123456789abcdef";
    static TestDatabase.Fresh db;
    static DementiaServer server;
    static HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        db = TestDatabase.get().freshDatabase();
        Map<String, String> env = new HashMap<>();
        env.put("PORT", "0");
        env.put("DATABASE_URL", db.jdbcUrl());
        env.put("DB_APPLICATION_NAME", db.target().applicationName());
        env.put("DEMENTIA_API_KEY", KEY);
        env.put("DEMENTIA_ADMIN_PASSWORD", "a-good-password");
        server = DementiaServer.start(Settings.load(env));
    }

    @AfterAll
    static void stop() {
        server.stop();
        db.close();
    }

    static HttpResponse<String> get(String path, String bearer) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + server.port() + path));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void reportsReadyAgainstTheRealDatabase() throws Exception {
        HttpResponse<String> ready = get("/observe/health/ready", null);
        assertEquals(200, ready.statusCode());
        assertThat(ready.body(), containsString("\"status\":\"UP\""));
        assertThat(ready.body(), containsString("database"));
        assertEquals(200, get("/observe/health/live", null).statusCode());
        assertEquals(200, get("/observe/health", null).statusCode());
        HttpResponse<String> health = get("/health", null);
        assertEquals(200, health.statusCode());
        assertThat(health.body(), containsString("\"status\":\"UP\""));
        assertThat(health.body(), containsString("roundTripMs"));
        assertTrue(db.backends() >= 1, "the readiness round trip used a pooled connection carrying our application name");
    }

    @Test
    void servesPrometheusTextWithJvmAndPoolMeters() throws Exception {
        assertEquals(200, get("/observe/health/ready", null).statusCode(), "the readiness round trip opens the control schema's pool");
        for (String path : new String[] {"/metrics", "/observe/metrics"}) {
            HttpResponse<String> metrics = get(path, KEY);
            assertEquals(200, metrics.statusCode(), path);
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.headers().firstValue("Content-Type").orElse(""), path);
            assertThat(metrics.body(), containsString("jvm_memory_used_bytes"));
            Scrape scrape = Scrape.parse(metrics.body());
            assertEquals(20.0, scrape.value("hikaricp_connections_max", Map.of("application", "dementia-cloud", "pool", "physical")), path);
            assertEquals(5.0, scrape.value("db_pool_connections_max", Map.of("application", "dementia-cloud", "schema", "dementia_control")), path);
            assertEquals(20.0, scrape.value("db_pool_budget_connections", Map.of("application", "dementia-cloud")), path);
        }
    }

    @Test
    void metricsNeedTheApiKey() throws Exception {
        HttpResponse<String> none = get("/metrics", null);
        assertEquals(401, none.statusCode());
        assertThat(none.headers().firstValue("WWW-Authenticate").orElse(""), containsString("Bearer"));
        assertEquals(401, get("/metrics", "wrong-key-0123456789").statusCode());
        assertEquals(401, get("/observe/metrics", null).statusCode());
    }
}
