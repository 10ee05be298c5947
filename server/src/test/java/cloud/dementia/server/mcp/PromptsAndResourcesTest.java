package cloud.dementia.server.mcp;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #10, the protocol does its part, with the MCP Java SDK as the client: {@code initialize} teaches the loop, the
 * announced prompts and resources work (every context is a resource; reading one counts as a recall).
 */
class PromptsAndResourcesTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A cursor this server did not give (negative, not a number) is invalid params with the request's id, not a 500. */
    @Test
    void aCursorTheServerDidNotGiveIsInvalidParams() throws Exception {
        String session = server.initializeMcp(server.request("/mcp")).headers().firstValue("Mcp-Session-Id").orElseThrow();
        for (String cursor : List.of("-1", "x")) {
            HttpResponse<String> res = server.send(server.request("/mcp").header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream").header("Mcp-Session-Id", session)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":\"c-1\",\"method\":\"resources/list\","
                            + "\"params\":{\"cursor\":\"" + cursor + "\"}}")));
            assertEquals(200, res.statusCode(), res.body());
            JsonNode answer = Json.parse(res.body());
            assertEquals(-32602, answer.path("error").path("code").asInt(), res.body());
            assertThat(answer.path("error").path("message").asText(), containsString("cursor `" + cursor + "` is not one this server gave"));
            assertEquals("c-1", answer.path("id").asText(), res.body());
        }
    }

    @Test
    void initializeTeachesTheLoop() {
        try (TestMcpClient client = new TestMcpClient(server)) {
            McpSchema.InitializeResult init = client.initialize();
            assertThat(init.instructions(), containsString("Call wake_up first"));
            assertThat(init.instructions(), containsString("check_contexts"));
            assertThat(init.instructions(), containsString("lock_context"));
            assertThat(init.instructions(), containsString("sleep"));
            assertThat(init.instructions(), containsString("switch_project"));
            assertTrue(init.capabilities().prompts() != null && init.capabilities().resources() != null, init.capabilities().toString());
            // completions: the prompts' project and the context URIs' project, topic and version
            assertTrue(init.capabilities().completions() != null, init.capabilities().toString());
        }
    }

    @Test
    void thePromptsStartAndEndASession() {
        try (TestMcpClient client = new TestMcpClient(server)) {
            client.initialize();
            client.call("lock_context", Map.of("topic", "api-errors", "content", "ALWAYS answer errors as problem+json", "project", "prompted"));
            List<String> names = client.sdk().listPrompts().prompts().stream().map(McpSchema.Prompt::name).toList();
            assertEquals(List.of("start-session", "end-session"), names.stream().sorted((a, b) -> b.compareTo(a)).toList());
            McpSchema.GetPromptResult start = client.sdk().getPrompt(new McpSchema.GetPromptRequest("start-session", Map.of("project", "prompted")));
            String text = ((McpSchema.TextContent) start.messages().get(0).content()).text();
            assertEquals(McpSchema.Role.USER, start.messages().get(0).role());
            assertThat(text, containsString("We are starting a work session"));
            assertThat(text, containsString("api-errors"));
            McpSchema.GetPromptResult end = client.sdk().getPrompt(new McpSchema.GetPromptRequest("end-session", Map.of()));
            assertThat(((McpSchema.TextContent) end.messages().get(0).content()).text(), containsString("call sleep"));
        }
    }

    @Test
    void everyContextIsAResourceAndReadingOneCountsAsARecall() {
        try (TestMcpClient client = new TestMcpClient(server)) {
            client.initialize();
            client.call("lock_context", Map.of("topic", "style guide", "content", "Use four spaces.", "project", "resourced"));
            client.call("lock_context", Map.of("topic", "style guide", "content", "Use four spaces; no tabs.", "project", "resourced"));
            List<McpSchema.Resource> listed = client.sdk().listResources().resources();
            McpSchema.Resource style = listed.stream().filter(r -> r.uri().equals("dementia://resourced/context/style%20guide")).findFirst()
                    .orElseThrow(() -> new AssertionError(listed.toString()));
            assertEquals("style guide", style.name());
            assertThat(style.title(), containsString("v1.1"));
            assertEquals("text/markdown", style.mimeType());
            assertEquals((long) "Use four spaces; no tabs.".length(), style.size());
            List<String> templates = client.sdk().listResourceTemplates().resourceTemplates().stream().map(McpSchema.ResourceTemplate::uriTemplate)
                    .toList();
            assertEquals(List.of("dementia://{project}/context/{topic}", "dementia://{project}/context/{topic}@{version}"), templates);
            McpSchema.ReadResourceResult latest = client.sdk().readResource(new McpSchema.ReadResourceRequest(style.uri()));
            assertEquals("Use four spaces; no tabs.", ((McpSchema.TextResourceContents) latest.contents().get(0)).text());
            McpSchema.ReadResourceResult first = client.sdk().readResource(new McpSchema.ReadResourceRequest(style.uri() + "@1.0"));
            assertEquals("Use four spaces.", ((McpSchema.TextResourceContents) first.contents().get(0)).text());
            String recalled = TestMcpClient.text(client.call("recall_context", Map.of("topic", "style guide", "project", "resourced")));
            assertThat("the two reads counted", recalled, containsString("\"access_count\":2"));
            Exception missing = assertThrows(Exception.class,
                    () -> client.sdk().readResource(new McpSchema.ReadResourceRequest("dementia://resourced/context/nothing")));
            assertThat(missing.getMessage(), containsString("no context `nothing`"));
            Exception bad = assertThrows(Exception.class, () -> client.sdk().readResource(new McpSchema.ReadResourceRequest("file:///etc/passwd")));
            assertThat(bad.getMessage(), containsString("is not a context URI"));
            assertFalse(listed.isEmpty());
        }
    }
}
