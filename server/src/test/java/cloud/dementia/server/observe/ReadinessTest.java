package cloud.dementia.server.observe;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Readiness while the database is busy, against a real server and database. */
class ReadinessTest {

    /**
     * #9 defect 1: four long statements on a budget of four made {@code /health} wait in line behind them and report
     * "no answer from the database within 2000 ms", so any key holder could make a load balancer drop the replica.
     */
    @Test
    void statementsHoldingEveryConnectionLeaveTheServiceReady() throws Exception {
        try (TestServer server = TestServer.start(Map.of("DB_POOL_BUDGET", "4", "DB_POOL_MAX_PER_SCHEMA", "4"), new TestTools()::catalog)) {
            assertEquals(200, server.get("/health").statusCode(), "ready before the load");
            List<CompletableFuture<HttpResponse<String>>> sleepers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                sleepers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return server.post("/execute", "{\"tool\":\"db_sleep\",\"arguments\":{\"seconds\":8}}");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (server.server().registry().liveness().inFlight() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(4, server.server().registry().liveness().inFlight(), "the four statements hold every connection");

            HttpResponse<String> health = server.get("/health");
            boolean sleepersStillRunning = sleepers.stream().noneMatch(CompletableFuture::isDone);
            assertEquals(200, health.statusCode(), health.body());
            JsonNode body = Json.parse(health.body());
            assertEquals("UP", body.path("status").asText(), health.body());
            assertThat(health.body(), containsString("every connection is in use: 4 unit(s) of work in flight"));
            assertTrue(sleepersStillRunning, "readiness answered while the statements still ran, not after them");

            for (CompletableFuture<HttpResponse<String>> s : sleepers) {
                HttpResponse<String> done = s.join();
                assertEquals(200, done.statusCode(), done.body());
            }
            HttpResponse<String> after = server.get("/health");
            assertEquals(200, after.statusCode(), after.body());
            assertThat(after.body(), containsString("roundTripMs"));
            assertFalse(after.body().contains("busy"), "a free connection means a real round trip: " + after.body());
        }
    }
}
