package cloud.dementia.server.http;

import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.spec.McpSchema;

import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;
import cloud.dementia.server.observe.Scrape;
import cloud.dementia.server.tools.Json;

import static cloud.dementia.server.TestMcpClient.text;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A schema whose only connection is held busy, seen from outside: {@code /execute} answers 503 with
 * {@code Retry-After} within a few seconds, MCP a result with {@code isError} naming the schema; other schemas are
 * served meanwhile, and the schema is served again once the connection is back.
 */
class PoolExhaustionTest {

    static final String SCHEMA = "busy";
    static TestServer server;
    static TestTools tools = new TestTools();

    @BeforeAll
    static void start() throws Exception {
        // the busy schema's pool is opened and then resized to one connection, the operation the console offers
        server = TestServer.start(Map.of("DB_POOL_MAX_PER_SCHEMA", "2", "DB_POOL_ACQUIRE_TIMEOUT_MS", "1000"), tools::catalog);
        assertEquals(200, server.post("/execute", "{\"tool\":\"db_probe\",\"arguments\":{\"schema\":\"" + SCHEMA + "\"}}").statusCode());
        assertEquals(1, server.server().registry().resize(SCHEMA, 1).max());
    }

    @AfterAll
    static void stop() {
        tools.release();
        server.close();
    }

    @Test
    void aBusySchemaIs503WithRetryAfterOverHttpAndIsErrorOverMcp() throws Exception {
        CompletableFuture<HttpResponse<String>> holder = CompletableFuture.supplyAsync(() -> {
            try {
                return server.post("/execute", "{\"tool\":\"hold\",\"arguments\":{\"schema\":\"" + SCHEMA + "\"}}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(tools.awaitHolding(10), "hold took the schema's only connection");
        try (TestMcpClient mcp = new TestMcpClient(server)) {
            mcp.initialize();

            long start = System.nanoTime();
            HttpResponse<String> refused = server.post("/execute", "{\"tool\":\"db_probe\",\"arguments\":{\"schema\":\"" + SCHEMA + "\"}}");
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(tookMs < 4000, "answered within the acquire timeout and a margin, took " + tookMs + " ms");
            int retryAfter = Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter >= 1 && retryAfter <= 5, "Retry-After " + retryAfter);
            JsonNode body = Json.parse(refused.body());
            assertFalse(body.path("success").asBoolean());
            assertEquals("db_probe", body.path("tool").asText());
            assertThat(body.path("result").asText(), containsString("no connection for schema `busy` within"));
            assertThat(body.path("result").asText(), containsString("1/1 in use"));

            McpSchema.CallToolResult overMcp = mcp.call("db_probe", Map.of("schema", SCHEMA));
            assertTrue(overMcp.isError());
            assertThat(text(overMcp), containsString("no connection for schema `busy` within"));

            McpSchema.CallToolResult otherSchema = mcp.call("db_probe", Map.of("schema", "not_busy"));
            assertFalse(otherSchema.isError(), () -> text(otherSchema));
        } finally {
            tools.release();
        }
        HttpResponse<String> held = holder.get();
        assertEquals(200, held.statusCode(), held.body());
        assertEquals("held busy", Json.parse(held.body()).path("result").asText());

        HttpResponse<String> again = server.post("/execute", "{\"tool\":\"db_probe\",\"arguments\":{\"schema\":\"" + SCHEMA + "\"}}");
        assertEquals(200, again.statusCode(), again.body());
        assertEquals(2.0, Scrape.parse(server.get("/metrics").body()).value("dementia_tool_invocations_total",
                Map.of("application", "dementia-cloud", "status", "unavailable", "tool", "db_probe")));
    }
}
