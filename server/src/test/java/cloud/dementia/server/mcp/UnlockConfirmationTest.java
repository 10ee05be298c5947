package cloud.dementia.server.mcp;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code unlock_context} archives and deletes: a client that can ask its user (elicitation) is asked to confirm first,
 * in the 2025 versions by a request on the call's stream, in 2026-07-28 by an {@code input_required} result; a client
 * that cannot goes ahead as before.
 */
class UnlockConfirmationTest {

    static TestServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void a2025ClientThatElicitsIsAskedAndItsAnswerDecides() throws Exception {
        lock("asked", "kept unless confirmed");
        String session = session("{\"elicitation\":{}}");
        // declined: nothing is unlocked
        JsonNode declined = unlockAnswering(session, "asked", "{\"action\":\"decline\"}");
        assertTrue(declined.path("result").path("isError").asBoolean(), declined.toString());
        assertThat(declined.path("result").path("content").path(0).path("text").asText(), containsString("did not confirm"));
        assertEquals(200, recall("asked").statusCode(), "still there");
        // confirmed: unlocked
        JsonNode confirmed = unlockAnswering(session, "asked", "{\"action\":\"accept\",\"content\":{\"confirm\":true}}");
        assertFalse(confirmed.path("result").path("isError").asBoolean(), confirmed.toString());
        assertThat(recall("asked").body(), containsString("no context"));
    }

    @Test
    void theAnswerMayReachAnotherReplicaThanTheOneAsking() throws Exception {
        try (cloud.dementia.db.testing.TestDatabase.Fresh db = cloud.dementia.db.testing.TestDatabase.get().freshDatabase();
             TestServer one = TestServer.startOn(db.jdbcUrl(), db.target().applicationName(), Map.of(), MemoryTools::create);
             TestServer two = TestServer.startOn(db.jdbcUrl(), db.target().applicationName(), Map.of(), MemoryTools::create)) {
            assertEquals(200, one.post("/execute", "{\"tool\":\"lock_context\",\"arguments\":{\"project\":\"confirm\",\"topic\":\"relayed\","
                    + "\"content\":\"answered elsewhere\"}}").statusCode());
            String init = TestServer.INITIALIZE.replace("\"capabilities\":{}", "\"capabilities\":{\"elicitation\":{}}");
            String session = one.send(one.request("/mcp").header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(init))).headers().firstValue("Mcp-Session-Id").orElseThrow();
            HttpResponse<InputStream> res = http.send(mcpOn(one, session).POST(HttpRequest.BodyPublishers.ofString(unlock("relayed"))).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                JsonNode question = next(in);
                assertEquals("elicitation/create", question.path("method").asText(), question.toString());
                HttpResponse<String> posted = http.send(mcpOn(two, session).POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":"
                        + question.get("id") + ",\"result\":{\"action\":\"accept\",\"content\":{\"confirm\":true}}}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(202, posted.statusCode(), posted.body());
                JsonNode done = next(in);
                assertFalse(done.path("result").path("isError").asBoolean(), done.toString());
            }
            assertThat(two.post("/execute", "{\"tool\":\"recall_context\",\"arguments\":{\"project\":\"confirm\",\"topic\":\"relayed\"}}").body(),
                    containsString("no context"));
        }
    }

    @Test
    void a2025ClientThatCannotElicitUnlocksAtOnce() throws Exception {
        lock("direct", "unlocked without a question");
        String session = session("{}");
        HttpResponse<String> r = http.send(mcp(session).POST(HttpRequest.BodyPublishers.ofString(unlock("direct"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse("").split(";")[0], "a plain answer, no stream");
        assertFalse(Json.parse(r.body()).path("result").path("isError").asBoolean(), r.body());
        assertThat(recall("direct").body(), containsString("no context"));
    }

    @Test
    void a2026ClientIsAskedThroughInputRequiredAndRetriesWithItsAnswer() throws Exception {
        lock("stateless", "confirmed by a retry");
        JsonNode first = modern(unlockParams("stateless", ""));
        JsonNode result = first.path("result");
        assertEquals("input_required", result.path("resultType").asText(), first.toString());
        JsonNode ask = result.path("inputRequests").path("confirm");
        assertEquals("elicitation/create", ask.path("method").asText());
        assertThat(ask.path("params").path("message").asText(), containsString("stateless"));
        String state = result.path("requestState").asText();
        assertTrue(state.startsWith("confirm-v1."), state);
        assertEquals(200, recall("stateless").statusCode(), "nothing unlocked while asking");

        JsonNode tampered = modern(unlockParams("stateless", ",\"inputResponses\":{\"confirm\":{\"action\":\"accept\",\"content\":{\"confirm\":true}}},"
                + "\"requestState\":\"" + state + "x\""));
        assertEquals(-32602, tampered.path("error").path("code").asInt(), tampered.toString());
        JsonNode otherTopic = modern(unlockParams("elsewhere", ",\"inputResponses\":{\"confirm\":{\"action\":\"accept\",\"content\":{\"confirm\":true}}},"
                + "\"requestState\":\"" + state + "\""));
        assertEquals(-32602, otherTopic.path("error").path("code").asInt(), "an answer given for other arguments: " + otherTopic);

        JsonNode done = modern(unlockParams("stateless", ",\"inputResponses\":{\"confirm\":{\"action\":\"accept\",\"content\":{\"confirm\":true}}},"
                + "\"requestState\":\"" + state + "\""));
        assertEquals("complete", done.path("result").path("resultType").asText(), done.toString());
        assertFalse(done.path("result").path("isError").asBoolean(), done.toString());
        assertThat(recall("stateless").body(), containsString("no context"));
    }

    // ---------------------------------------------------------------- helpers

    private JsonNode unlockAnswering(String session, String topic, String answer) throws Exception {
        HttpResponse<InputStream> res = http.send(mcp(session).POST(HttpRequest.BodyPublishers.ofString(unlock(topic))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", res.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            JsonNode question = next(in);
            assertEquals("elicitation/create", question.path("method").asText(), question.toString());
            assertThat(question.path("params").path("message").asText(), containsString(topic));
            assertEquals("boolean", question.path("params").path("requestedSchema").path("properties").path("confirm").path("type").asText());
            HttpResponse<String> posted = http.send(mcp(session).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"jsonrpc\":\"2.0\",\"id\":" + question.get("id") + ",\"result\":" + answer + "}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, posted.statusCode(), posted.body());
            return next(in);
        }
    }

    private static JsonNode next(BufferedReader in) throws Exception {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("data:")) {
                return Json.parse(line.substring("data:".length()).trim());
            }
        }
        throw new AssertionError("the stream ended");
    }

    private static String unlock(String topic) {
        return "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"unlock_context\",\"arguments\":{\"project\":\"confirm\","
                + "\"topic\":\"" + topic + "\"}}}";
    }

    private static String unlockParams(String topic, String more) {
        return "{\"name\":\"unlock_context\",\"arguments\":{\"project\":\"confirm\",\"topic\":\"" + topic + "\"}" + more
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{\"elicitation\":{}}}}";
    }

    private JsonNode modern(String params) throws Exception {
        HttpResponse<String> r = http.send(server.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2026-07-28")
                .header("Mcp-Method", "tools/call").header("Mcp-Name", "unlock_context")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":" + params + "}")).build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.parse(r.body());
    }

    private HttpRequest.Builder mcp(String session) {
        return mcpOn(server, session);
    }

    private static HttpRequest.Builder mcpOn(TestServer server, String session) {
        return server.request("/mcp").header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-06-18")
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream");
    }

    private String session(String capabilities) throws Exception {
        String init = TestServer.INITIALIZE.replace("\"capabilities\":{}", "\"capabilities\":" + capabilities);
        HttpResponse<String> r = server.send(server.request("/mcp").header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(init)));
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("Mcp-Session-Id").orElseThrow();
    }

    private static void lock(String topic, String content) throws Exception {
        HttpResponse<String> r = server.post("/execute", "{\"tool\":\"lock_context\",\"arguments\":{\"project\":\"confirm\",\"topic\":\"" + topic
                + "\",\"content\":\"" + content + "\"}}");
        assertEquals(200, r.statusCode(), r.body());
    }

    private static HttpResponse<String> recall(String topic) throws Exception {
        return server.post("/execute", "{\"tool\":\"recall_context\",\"arguments\":{\"project\":\"confirm\",\"topic\":\"" + topic + "\"}}");
    }
}
