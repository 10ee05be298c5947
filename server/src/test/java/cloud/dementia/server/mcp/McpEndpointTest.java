package cloud.dementia.server.mcp;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;

import cloud.dementia.server.ProjectVersion;
import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;
import cloud.dementia.server.tools.Json;

import static cloud.dementia.server.TestMcpClient.text;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /mcp} seen through the official MCP Java SDK client, against a real server and database. */
class McpEndpointTest {

    static TestServer server;
    static TestMcpClient client;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), new TestTools()::catalog);
        client = new TestMcpClient(server);
        client.initialize();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    @Test
    void initializeNegotiatesTheVersionTheClientAsksForAndNamesTheServer() {
        try (TestMcpClient fresh = new TestMcpClient(server)) {
            McpSchema.InitializeResult init = fresh.initialize();
            assertEquals("2025-11-25", init.protocolVersion(), "the MCP Java SDK 2.1.0 asks for 2025-11-25, which is spoken now");
            assertEquals("dementia-cloud", init.serverInfo().name());
            assertEquals(ProjectVersion.get(), init.serverInfo().version());
            assertFalse(init.serverInfo().version().equals("unknown"), "the build filled in the project version");
            assertNotNull(init.capabilities().tools(), "tools capability announced");
            assertTrue(fresh.sessionId().isPresent(), "the server assigned a session id");
        }
    }

    @Test
    void listsEveryToolWithItsSchemaTitleAndAnnotations() {
        List<McpSchema.Tool> tools = client.tools();
        assertEquals(List.of("echo", "fail", "needs_argument", "db_probe", "db_sleep", "db_lost", "hold"), tools.stream().map(McpSchema.Tool::name).toList());

        McpSchema.Tool echo = tools.get(0);
        assertEquals("Echo", echo.title());
        assertEquals("Returns the text it was given and the MCP session it saw.", echo.description());
        assertEquals("object", echo.inputSchema().get("type"));
        assertEquals(Map.of("text", Map.of("type", "string")), echo.inputSchema().get("properties"));
        assertEquals(List.of("text"), echo.inputSchema().get("required"));
        assertEquals(Boolean.TRUE, echo.annotations().readOnlyHint());
        assertEquals(Boolean.FALSE, echo.annotations().destructiveHint());
        assertEquals(Boolean.TRUE, echo.annotations().idempotentHint());
        assertEquals(Boolean.FALSE, echo.annotations().openWorldHint());

        McpSchema.Tool destructive = tools.get(2);
        assertEquals(Boolean.FALSE, destructive.annotations().readOnlyHint());
        assertEquals(Boolean.TRUE, destructive.annotations().destructiveHint());
        assertEquals(Boolean.FALSE, destructive.annotations().idempotentHint());
        assertEquals(Boolean.FALSE, destructive.annotations().openWorldHint());
    }

    @Test
    void successCarriesTheResultOnceAsCompactJsonText() {
        McpSchema.CallToolResult result = client.call("echo", Map.of("text", "hello"));
        assertFalse(result.isError());
        assertEquals(1, result.content().size());
        assertTrue(text(result).startsWith("{\"text\":\"hello\",\"session\":\""), "compact JSON, no pretty printing: " + text(result));
        assertEquals("hello", Json.parse(text(result)).path("text").asText());
        assertNull(result.structuredContent(), "no second copy of the same data");
    }

    @Test
    void noArgumentsAreAnEmptyObject() {
        McpSchema.CallToolResult result = client.call("echo", Map.of());
        assertFalse(result.isError());
        assertEquals("", Json.parse(text(result)).path("text").asText());
    }

    @Test
    void toolErrorIsAResultWithIsError() {
        McpSchema.CallToolResult result = client.call("fail", Map.of());
        assertTrue(result.isError());
        assertEquals("fail always fails: nothing to do here", text(result));
    }

    @Test
    void badArgumentIsAResultWithIsErrorNamingTheArgument() {
        McpSchema.CallToolResult result = client.call("needs_argument", Map.of("other", 1));
        assertTrue(result.isError());
        assertEquals("argument `missing` is required (a non-empty string)", text(result));
    }

    @Test
    void toolRunsARealTransactionOnItsSchema() {
        McpSchema.CallToolResult result = client.call("db_probe", Map.of("schema", "mcp_probe"));
        assertFalse(result.isError(), () -> text(result));
        assertThat(text(result), containsString("schema mcp_probe: backend "));
        assertThat(text(result), containsString("mcp_probe"));
        assertTrue(server.server().registry().currentStats("mcp_probe").isPresent(), "the schema's pool was opened");
    }

    @Test
    void unknownToolIsAProtocolError() {
        McpError error = assertThrows(McpError.class, () -> client.call("no_such_tool", Map.of()));
        assertEquals(-32602, error.getJsonRpcError().code());
        assertThat(error.getJsonRpcError().message(), containsString("no_such_tool"));
    }

    @Test
    void toolsSeeTheProtocolSessionIdOfTheirClient() {
        String first = session(client.call("echo", Map.of("text", "one")));
        String second = session(client.call("echo", Map.of("text", "two")));
        assertEquals(client.sessionId().orElseThrow(), first, "the Mcp-Session-Id the client sends");
        assertEquals(first, second, "the same session across calls");

        try (TestMcpClient other = new TestMcpClient(server)) {
            other.initialize();
            String theirs = session(other.call("echo", Map.of("text", "three")));
            assertEquals(other.sessionId().orElseThrow(), theirs);
            assertNotEquals(first, theirs, "another client, another session");
        }
    }

    /**
     * Assistants keep their connection open. A response that stalls until the client's delayed ACK (about 40 ms: Nagle's
     * algorithm on a chunked response) would cost every call that much; the median of 20 pings on one kept-alive
     * connection stays well below it.
     */
    @Test
    void pingsOnAKeptAliveConnectionDoNotWaitForDelayedAcks() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> init = http.send(server.request("/mcp")
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)).build(),
                HttpResponse.BodyHandlers.ofString());
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        long[] millis = new long[20];
        for (int i = 0; i < 25; i++) {
            long start = System.nanoTime();
            HttpResponse<String> pong = http.send(server.request("/mcp")
                    .header("Mcp-Session-Id", session)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":" + (100 + i)
                            + ",\"method\":\"ping\"}")).build(), HttpResponse.BodyHandlers.ofString());
            long took = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, pong.statusCode(), pong.body());
            assertThat(pong.body(), containsString("\"id\":" + (100 + i)));
            if (i >= 5) {
                millis[i - 5] = took; // the first five warm the path up
            }
        }
        java.util.Arrays.sort(millis);
        long median = millis[millis.length / 2];
        assertTrue(median < 20, "median of 20 pings on one kept-alive connection: " + median + " ms (all: "
                + java.util.Arrays.toString(millis) + ")");
    }

    @Test
    void argumentsThatAreNotAnObjectAreAToolError() throws Exception {
        HttpResponse<String> init = server.initializeMcp(server.request("/mcp"));
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        HttpResponse<String> call = server.send(server.request("/mcp")
                .header("Mcp-Session-Id", session)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":\"hello\"}}")));
        assertEquals(200, call.statusCode(), call.body());
        var result = Json.parse(call.body()).path("result");
        assertTrue(result.path("isError").asBoolean(), call.body());
        assertEquals("arguments of echo must be a JSON object", result.path("content").path(0).path("text").asText());
    }

    /** One path for every call: a call that asks for progress is answered as one that does not, for a success and a failure. */
    @Test
    void aCallAskingForProgressIsAnsweredAsOneThatDoesNot() throws Exception {
        HttpResponse<String> init = server.initializeMcp(server.request("/mcp"));
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        for (String tool : List.of("echo", "fail")) {
            String args = "\"name\":\"" + tool + "\",\"arguments\":{\"text\":\"same\"}";
            JsonNode plain = Json.parse(callRaw(session, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{" + args + "}}"));
            JsonNode withProgress = Json.parse(callRaw(session, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{" + args
                    + ",\"_meta\":{\"progressToken\":\"p1\"}}}"));
            assertEquals(plain, withProgress, tool);
            assertEquals(tool.equals("fail"), plain.path("result").path("isError").asBoolean());
        }
    }

    private String callRaw(String session, String body) throws Exception {
        HttpResponse<String> r = server.send(server.request("/mcp")
                .header("Mcp-Session-Id", session)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static String session(McpSchema.CallToolResult echo) {
        assertFalse(echo.isError(), () -> text(echo));
        JsonNode session = Json.parse(text(echo)).path("session");
        assertTrue(session.isTextual(), "echo saw a session id: " + text(echo));
        return session.asText();
    }
}
