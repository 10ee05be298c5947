package cloud.dementia.server.mcp;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * #9 defect 5: an empty body, {@code Content-Type: text/plain}, {@code Accept: text/html} and 10,000-deep nesting each
 * answered 500 on {@code /mcp} ("OutputStream already obtained"), and an unknown method was -32600. Each is now a plain
 * answer: 400/415/406 with a JSON-RPC error that says what is wrong, or -32601.
 */
class McpTransportTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), new TestTools()::catalog);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> post(String contentType, String accept, HttpRequest.BodyPublisher body) throws Exception {
        HttpRequest.Builder r = server.request("/mcp").POST(body);
        if (contentType != null) {
            r.header("Content-Type", contentType);
        }
        if (accept != null) {
            r.header("Accept", accept);
        }
        return server.send(r);
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return post("application/json", "application/json, text/event-stream", HttpRequest.BodyPublishers.ofString(body));
    }

    private static void assertError(HttpResponse<String> res, int status, int code, String message) {
        assertEquals(status, res.statusCode(), res.body());
        JsonNode error = Json.parse(res.body()).path("error");
        assertEquals(code, error.path("code").asInt(), res.body());
        assertThat(error.path("message").asText(), containsString(message));
    }

    @Test
    void anEmptyBodyIs400() throws Exception {
        assertError(post(""), 400, -32700, "the body is empty");
        assertError(post("   "), 400, -32700, "the body is empty");
    }

    @Test
    void aBodyThatIsNotJsonIs415() throws Exception {
        assertError(post("text/plain", "application/json, text/event-stream", HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)), 415,
                -32600, "Content-Type must be application/json (got text/plain)");
        assertError(post(null, "application/json, text/event-stream", HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)), 415,
                -32600, "Content-Type must be application/json");
    }

    @Test
    void anAcceptWithoutJsonOrEventStreamIs406() throws Exception {
        assertError(post("application/json", "text/html", HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)), 406, -32600,
                "Accept must include application/json and text/event-stream (got text/html)");
        // a wildcard takes either
        assertEquals(200, post("application/json", "*/*", HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)).statusCode());
    }

    @Test
    void deepNestingIs400NotAStackOverflow() throws Exception {
        String deep = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}}";
        assertError(post(deep), 400, -32700, "nesting depth");
        // what an assistant sends is far shallower and passes
        String shallow = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"},\"x\":" + "[".repeat(40) + "]".repeat(40) + "}}";
        HttpResponse<String> ok = post(shallow);
        assertEquals(200, ok.statusCode(), ok.body());
        assertThat(ok.body(), containsString("\"serverInfo\""));
    }

    @Test
    void invalidUtf8AndDuplicateKeysAndTrailingDataAre400() throws Exception {
        byte[] prefix = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[prefix.length + 5];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xff;
        body[prefix.length + 1] = (byte) 0xfe;
        body[prefix.length + 2] = '"';
        body[prefix.length + 3] = '}';
        body[prefix.length + 4] = '}';
        assertError(post("application/json", "application/json, text/event-stream", HttpRequest.BodyPublishers.ofByteArray(body)), 400, -32700,
                "Invalid UTF-8");
        // inside a tool's arguments, the message names the argument
        byte[] call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"\u00ff\"}}}"
                .getBytes(StandardCharsets.ISO_8859_1);
        assertError(post("application/json", "application/json, text/event-stream", HttpRequest.BodyPublishers.ofByteArray(call)), 400, -32700,
                "argument `text`: not valid JSON: Invalid UTF-8");
        assertError(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"tools/call\"}"), 400, -32700, "Duplicate field 'method'");
        assertError(post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing"), 400, -32700, "not valid JSON");
        assertError(post("[]"), 400, -32600, "a batch holds 1 to " + McpRequestGate.MAX_BATCH);
        assertError(post("42"), 400, -32600, "must be a JSON-RPC object");
    }

    @Test
    void anUnknownMethodIsMethodNotFound() throws Exception {
        HttpResponse<String> init = server.initializeMcp(server.request("/mcp"));
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        HttpResponse<String> res = post(session, "{\"jsonrpc\":\"2.0\",\"id\":\"a-7\",\"method\":\"nothing/here\"}");
        assertError(res, 200, -32601, "Method not found: nothing/here");
        assertEquals("a-7", Json.parse(res.body()).path("id").asText(), "the answer carries the request's id");
        // the session serves on
        HttpResponse<String> ping = post(session, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
        assertEquals(200, ping.statusCode(), ping.body());
        assertThat(ping.body(), containsString("\"result\""));
    }

    /** #9 defect 8: an unpaired surrogate escape made the MCP library's parser fail with -32603; it is -32602 naming the argument. */
    @Test
    void anUnpairedSurrogateIsInvalidParamsNamingTheArgument() throws Exception {
        HttpResponse<String> init = server.initializeMcp(server.request("/mcp"));
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        HttpResponse<String> res = post(session, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
                        + "\"arguments\":{\"text\":\"a\\ud800b\"}}}");
        assertError(res, 200, -32602, "argument `text` contains an unpaired surrogate (\\ud800)");
        assertEquals(5, Json.parse(res.body()).path("id").asInt());
    }

    /**
     * Two requests with one id in one session at once made the extension answer on the wrong connection (a socket
     * closed, 500 "OutputStream already obtained" in the log); the second is now refused while the first is in progress.
     */
    @Test
    void aRequestIdInProgressIsNotTakenTwice() throws Exception {
        HttpResponse<String> init = server.initializeMcp(server.request("/mcp"));
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        String slow = "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"tools/call\",\"params\":{\"name\":\"db_sleep\",\"arguments\":{\"seconds\":1}}}";
        java.util.concurrent.CompletableFuture<HttpResponse<String>> first = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return post(session, slow);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        HttpResponse<String> second = post(session, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"ping\"}");
        assertError(second, 409, -32600, "request id 77 is already in progress in this session");
        HttpResponse<String> done = first.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, done.statusCode(), done.body());
        assertThat(done.body(), containsString("\"id\":77"));
        // once answered, the id may be used again
        assertEquals(200, post(session, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"ping\"}").statusCode());
    }

    /** A JSON-RPC message on the session, sent as Streamable HTTP wants it. */
    private static HttpResponse<String> post(String session, String body) throws Exception {
        return server.send(server.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("Mcp-Session-Id", session)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /**
     * #11: sessions are the endpoint's, not the MCP library's (so every replica serves them): initialize opens one and
     * negotiates the version as the library did, GET has no stream, and DELETE ends the session.
     */
    @Test
    void theEndpointOpensNegotiatesAndEndsSessions() throws Exception {
        String older = TestServer.INITIALIZE.replace("2025-06-18", "2024-11-05");
        HttpResponse<String> init = post(older);
        assertEquals(200, init.statusCode(), init.body());
        String session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
        assertEquals(36, session.length(), "a UUID: " + session);
        JsonNode result = Json.parse(init.body()).path("result");
        assertEquals("2024-11-05", result.path("protocolVersion").asText(), "a version the server speaks is kept");
        assertEquals(java.util.List.of("logging", "tools"), iterable(result.path("capabilities").fieldNames()),
                "what this server has: tools, and no prompts or resources (its tools recall nothing)");
        assertEquals("dementia-cloud", result.path("serverInfo").path("name").asText());
        assertEquals("2025-11-25", Json.parse(post(TestServer.INITIALIZE.replace("2025-06-18", "2099-01-01")).body())
                .path("result").path("protocolVersion").asText(), "another version gets the newest with sessions");
        assertEquals("2025-11-25", Json.parse(post(TestServer.INITIALIZE.replace("2025-06-18", "2026-07-28")).body())
                .path("result").path("protocolVersion").asText(), "2026-07-28 has no initialize: the newest with sessions");

        HttpResponse<String> again = post(session, TestServer.INITIALIZE);
        assertEquals(session, again.headers().firstValue("Mcp-Session-Id").orElseThrow(), "initialize within a session keeps it");
        assertEquals(405, server.send(server.request("/mcp").GET()).statusCode(), "no stream without a session");
        assertEquals(405, server.send(server.request("/mcp").header("Mcp-Session-Id", session).GET()).statusCode());
        assertError(post("[" + TestServer.INITIALIZE + "]"), 400, -32600, "send initialize alone");
        HttpResponse<String> noSession = post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
        assertError(noSession, 400, -32600, "the Mcp-Session-Id header is missing");
        assertEquals(3, Json.parse(noSession.body()).path("id").asInt(), "the error answers the request's id");

        assertEquals(200, post(session, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}").statusCode());
        assertEquals(202, server.send(server.request("/mcp").header("Mcp-Session-Id", session).DELETE()).statusCode());
        assertError(post(session, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}"), 404, -32600, "Session not found");
    }

    private static java.util.List<String> iterable(java.util.Iterator<String> names) {
        java.util.List<String> list = new java.util.ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }
}
