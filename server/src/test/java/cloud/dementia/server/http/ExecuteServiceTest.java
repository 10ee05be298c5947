package cloud.dementia.server.http;

import java.net.http.HttpResponse;
import java.util.List;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /execute} and {@code GET /tools} over HTTP against a real server and database. */
class ExecuteServiceTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), new TestTools()::catalog);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static JsonNode body(HttpResponse<String> response) {
        assertThat(response.headers().firstValue("Content-Type").orElse(""), containsString("application/json"));
        return Json.parse(response.body());
    }

    @Test
    void successAnswersTheResultAsAnObjectAndTheLatency() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"hi\"}}");
        assertEquals(200, res.statusCode(), res.body());
        JsonNode body = body(res);
        assertTrue(body.path("success").asBoolean());
        assertEquals("echo", body.path("tool").asText());
        assertTrue(body.path("result").isObject(), "the result is the object, not JSON inside a string: " + res.body());
        assertEquals("hi", body.path("result").path("text").asText());
        assertTrue(body.path("result").path("session").isNull(), "no session without Mcp-Session-Id");
        assertTrue(body.path("structured").isMissingNode(), "no second copy of the result");
        assertEquals("{\"success\":true,\"tool\":\"echo\",\"result\":{\"text\":\"hi\",\"session\":null},\"latency_ms\":",
                res.body().substring(0, res.body().indexOf(":", res.body().indexOf("latency_ms")) + 1), "one compact serialization");
        assertTrue(body.path("latency_ms").isIntegralNumber() && body.path("latency_ms").asLong() >= 0, res.body());
    }

    @Test
    void anMcpSessionIdHeaderIsPassedToTheTool() throws Exception {
        HttpResponse<String> res = server.send(server.request("/execute").header("Mcp-Session-Id", "session-from-header")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"tool\":\"echo\",\"arguments\":{\"text\":\"x\"}}")));
        assertEquals(200, res.statusCode(), res.body());
        // in the key's own namespace (#9): <owner>/<id>, the owner of an environment key being env:<its hash's first characters>
        assertTrue(body(res).path("result").path("session").asText().matches("env:[0-9a-f]{12}/session-from-header"), res.body());
    }

    @Test
    void argumentsMayBeLeftOut() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"echo\"}");
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("", body(res).path("result").path("text").asText());
    }

    @Test
    void toolErrorIs200WithSuccessFalseAndTheMessage() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"fail\",\"arguments\":{}}");
        assertEquals(200, res.statusCode(), res.body());
        JsonNode body = body(res);
        assertFalse(body.path("success").asBoolean());
        assertEquals("fail", body.path("tool").asText());
        assertEquals("fail always fails: nothing to do here", body.path("result").asText());
        assertTrue(body.has("latency_ms"));
    }

    @Test
    void badArgumentIs400NamingTheArgument() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"needs_argument\",\"arguments\":{}}");
        assertEquals(400, res.statusCode(), res.body());
        JsonNode body = body(res);
        assertFalse(body.path("success").asBoolean());
        assertEquals("argument `missing` is required (a non-empty string)", body.path("result").asText());
    }

    @Test
    void malformedBodiesAre400() throws Exception {
        for (String bad : List.of("not json", "", "[1,2]", "{}", "{\"tool\":5}", "{\"tool\":\"  \"}",
                "{\"tool\":\"echo\",\"arguments\":[1]}", "{\"tool\":\"echo\",\"arguments\":\"text\"}")) {
            HttpResponse<String> res = server.post("/execute", bad);
            assertEquals(400, res.statusCode(), bad + " -> " + res.body());
            JsonNode body = body(res);
            assertFalse(body.path("success").asBoolean(), bad);
            assertFalse(body.path("error").asText().isBlank(), bad);
        }
    }

    @Test
    void trailingDataAndDuplicateKeysAreRefusedBeforeAnyToolRuns() throws Exception {
        // with duplicate keys the last one used to win: {"tool":"echo","tool":"fail"} ran `fail`
        for (String bad : List.of("{\"tool\":\"echo\",\"tool\":\"fail\",\"arguments\":{}}",
                "{\"tool\":\"echo\",\"arguments\":{\"text\":\"a\",\"text\":\"b\"}}",
                "{\"tool\":\"echo\",\"arguments\":{}} {\"tool\":\"fail\"}",
                "{\"tool\":\"echo\",\"arguments\":{}}garbage")) {
            HttpResponse<String> res = server.post("/execute", bad);
            assertEquals(400, res.statusCode(), bad + " -> " + res.body());
            JsonNode body = body(res);
            assertFalse(body.path("success").asBoolean(), bad);
            assertThat(bad, body.path("error").asText(), containsString("not valid JSON"));
            assertTrue(body.path("result").isMissingNode(), "no tool ran: " + res.body());
        }
    }

    /** #9 defect 4: a backend terminated mid-transaction answered 500, where the caller should retry. */
    @Test
    void aConnectionLostMidTransactionIs503WithRetryAfter() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"db_lost\",\"arguments\":{}}");
        assertEquals(503, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("Retry-After").isPresent(), "Retry-After");
        JsonNode body = body(res);
        assertFalse(body.path("success").asBoolean());
        assertThat(body.path("result").asText(), containsString("lost its database connection"));
        assertThat(body.path("result").asText(), containsString("57P01"));
        assertEquals(200, server.post("/execute", "{\"tool\":\"db_probe\",\"arguments\":{\"schema\":\"lost\"}}").statusCode(),
                "the next call on the schema gets a live connection");
    }

    /**
     * #9 defect 8 saw invalid UTF-8 stored as U+FFFD without a word; {@code /execute}'s reader refuses it (malformed
     * sequences, a lone byte, an encoded surrogate), and this keeps it so.
     */
    @Test
    void invalidUtf8IsRefusedNotReplaced() throws Exception {
        byte[] head = "{\"tool\":\"echo\",\"arguments\":{\"text\":\"a".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] tail = "b\"}}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (byte[] bad : List.of(new byte[] {(byte) 0xC3, (byte) 0x28}, new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})) {
            byte[] body = new byte[head.length + bad.length + tail.length];
            System.arraycopy(head, 0, body, 0, head.length);
            System.arraycopy(bad, 0, body, head.length, bad.length);
            System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
            HttpResponse<String> res = server.send(server.request("/execute").POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)));
            assertEquals(400, res.statusCode(), java.util.HexFormat.of().formatHex(bad) + " -> " + res.body());
            assertThat(res.body(), containsString("UTF-8"));
            assertThat("the message names the argument", res.body(), containsString("argument `text`"));
        }
    }

    @Test
    void unknownToolIs404() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"nope\",\"arguments\":{}}");
        assertEquals(404, res.statusCode());
        assertEquals(Json.parse("{\"success\":false,\"error\":\"unknown tool `nope`\"}"), body(res));
    }

    @Test
    void aToolRunsItsTransactionOnTheDatabase() throws Exception {
        HttpResponse<String> res = server.post("/execute", "{\"tool\":\"db_probe\",\"arguments\":{\"schema\":\"http_probe\"}}");
        assertEquals(200, res.statusCode(), res.body());
        assertThat(body(res).path("result").asText(), containsString("schema http_probe: backend "));
    }

    @Test
    void toolsListsNameTitleDescriptionSchemaAndAnnotations() throws Exception {
        HttpResponse<String> res = server.get("/tools");
        assertEquals(200, res.statusCode());
        JsonNode body = body(res);
        assertEquals(7, body.path("count").asInt());
        List<String> names = new java.util.ArrayList<>();
        body.path("tools").forEach(t -> names.add(t.path("name").asText()));
        assertEquals(List.of("echo", "fail", "needs_argument", "db_probe", "db_sleep", "db_lost", "hold"), names);
        JsonNode echo = body.path("tools").path(0);
        assertEquals("Echo", echo.path("title").asText());
        assertEquals("Returns the text it was given and the MCP session it saw.", echo.path("description").asText());
        assertEquals(Json.parse("{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}"),
                echo.path("inputSchema"));
        assertEquals(Json.parse("{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}"),
                echo.path("annotations"));
        assertTrue(body.path("tools").path(2).path("annotations").path("destructiveHint").asBoolean());
    }

    @Test
    void toolMetersReachPrometheus() throws Exception {
        assertEquals(200, server.post("/execute", "{\"tool\":\"echo\",\"arguments\":{\"text\":\"m\"}}").statusCode());
        assertEquals(200, server.post("/execute", "{\"tool\":\"fail\"}").statusCode());
        String metrics = server.get("/metrics").body();
        assertTrue(hasLine(metrics, "dementia_tool_invocations_total\\{application=\"dementia-cloud\",status=\"ok\",tool=\"echo\",?} [1-9][0-9]*\\.0"), metrics);
        assertTrue(hasLine(metrics, "dementia_tool_latency_seconds_count\\{application=\"dementia-cloud\",tool=\"echo\",?} [1-9][0-9]*(\\.0)?"), metrics);
        assertTrue(hasLine(metrics, "dementia_tool_invocations_total\\{application=\"dementia-cloud\",status=\"error\",tool=\"fail\",?} .*"), metrics);
    }

    private static boolean hasLine(String text, String regex) {
        return text.lines().anyMatch(line -> line.matches(regex));
    }
}
