package cloud.dementia.server.mcp;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.modelcontextprotocol.spec.McpSchema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #10, "done means": the whole loop of an assistant with the MCP Java SDK, over two sessions: initialize (instructions),
 * the start-session prompt, wake_up within its budget, lock, search in plain words, check before a change, read a rule
 * as a resource, sleep with a handover — and a new session whose wake_up shows it first.
 */
class AssistantLoopTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode json(McpSchema.CallToolResult r) {
        assertFalse(Boolean.TRUE.equals(r.isError()), TestMcpClient.text(r));
        return Json.parse(TestMcpClient.text(r));
    }

    @Test
    void twoSessionsOfAnAssistantCarryTheWorkOver() {
        String project = "loop";
        try (TestMcpClient first = new TestMcpClient(server)) {
            McpSchema.InitializeResult init = first.initialize();
            assertThat(init.instructions(), containsString("Call wake_up first"));
            String opening = ((McpSchema.TextContent) first.sdk().getPrompt(new McpSchema.GetPromptRequest("start-session", Map.of("project", project)))
                    .messages().get(0).content()).text();
            assertThat(opening, containsString("We are starting a work session"));
            JsonNode woke = json(first.call("wake_up", Map.of("project", project)));
            assertTrue(Json.compact(woke).length() <= 4000, "within its budget");
            json(first.call("lock_context", Map.of("project", project, "topic", "api-errors",
                    "content", "ALWAYS answer API errors as application/problem+json with the request id.")));
            json(first.call("lock_context", Map.of("project", project, "topic", "time-zones",
                    "content", "Store timestamps in UTC as timestamptz; convert only in the UI.")));
            json(first.call("record_progress", Map.of("project", project, "note", "agreed on the error format")));
            // the question shares no word with the rule: it is found by meaning, once the background embedder has its vector
            server.awaitVectors(project);
            JsonNode found = json(first.call("search_contexts", Map.of("project", project, "query", "which timezone do we save dates in")));
            assertEquals("time-zones", found.get("results").get(0).get("topic").asText(), found.toString());
            JsonNode checked = json(first.call("check_contexts", Map.of("project", project, "text", "I will add an endpoint that can fail")));
            assertEquals("api-errors", checked.get("always_check").get(0).get("topic").asText());
            McpSchema.ReadResourceResult rule = first.sdk().readResource(new McpSchema.ReadResourceRequest("dementia://loop/context/api-errors"));
            assertThat(((McpSchema.TextResourceContents) rule.contents().get(0)).text(), containsString("problem+json"));
            JsonNode slept = json(first.call("sleep", Map.of("project", project, "summary", "Agreed the API error format and UTC storage.",
                    "open_items", List.of("the export endpoint still returns HTML errors"), "next_steps", List.of("fix the export errors"))));
            assertEquals("Agreed the API error format and UTC storage.", slept.get("handover").get("summary").asText());
        }
        try (TestMcpClient second = new TestMcpClient(server)) {
            second.initialize();
            JsonNode woke = json(second.call("wake_up", Map.of("project", project)));
            JsonNode handover = woke.get("last_handover");
            assertEquals("Agreed the API error format and UTC storage.", handover.get("summary").asText());
            assertEquals("the export endpoint still returns HTML errors", handover.get("open_items").get(0).asText());
            assertEquals("agreed on the error format", handover.get("progress").get(0).asText());
            assertTrue(handover.get("contexts_locked").toString().contains("api-errors"), handover.toString());
            assertEquals("api-errors", woke.get("contexts").get("always_check").get(0).get("topic").asText());
        }
    }
}
