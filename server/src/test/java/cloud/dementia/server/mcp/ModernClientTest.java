package cloud.dementia.server.mcp;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.spec.McpSchema;

import cloud.dementia.server.TestMcpClient;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The current clients, each through the same loop (list tools, lock, recall, read the context as a resource):
 * <ul>
 * <li>the MCP TypeScript v2 client ({@code @modelcontextprotocol/client}, pinned in {@code ops/clients/package.json},
 * {@code ops/clients/v2-client-check.mjs}) run by the pinned node, in each of its version-negotiation modes: its
 * default (legacy {@code initialize}, 2025-11-25 with a session), {@code auto} (probes {@code server/discover} and
 * picks 2026-07-28, stateless) and pinned to 2026-07-28;</li>
 * <li>the MCP Java SDK 2.1.0 client ({@link TestMcpClient}).</li>
 * </ul>
 * Without the pinned node or the installed client the node tests fail (never skip) saying what to run:
 * {@code cd ops/clients && npm install} (.ci/run does it).
 */
class ModernClientTest {

    static final String V2_CLIENT = "@modelcontextprotocol/client";

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), MemoryTools::create);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void v2ClientByDefaultInitializesAt20251125() throws Exception {
        JsonNode r = v2("default", "v2 default");
        assertEquals("2025-11-25", r.path("protocol").asText(), r.toString());
        assertEquals("legacy", r.path("era").asText(), r.toString());
        assertTrue(r.path("session").isTextual(), "a 2025 session has an Mcp-Session-Id: " + r);
    }

    @Test
    void v2ClientInAutoModeChooses20260728() throws Exception {
        JsonNode r = v2("auto", "v2 auto");
        assertEquals("2026-07-28", r.path("protocol").asText(), r.toString());
        assertEquals("modern", r.path("era").asText(), r.toString());
        assertTrue(r.path("session").isNull(), "2026-07-28 is stateless: no Mcp-Session-Id: " + r);
        assertThat(list(r.path("supportedVersions")), hasItems("2025-11-25", "2026-07-28"));
    }

    @Test
    void v2ClientPinnedTo20260728() throws Exception {
        JsonNode r = v2("pin2026", "v2 pinned");
        assertEquals("2026-07-28", r.path("protocol").asText(), r.toString());
        assertEquals("modern", r.path("era").asText(), r.toString());
        assertTrue(r.path("session").isNull(), "2026-07-28 is stateless: no Mcp-Session-Id: " + r);
    }

    @Test
    void javaSdkClientListsLocksRecallsAndReadsAResource() {
        String project = "java sdk";
        String topic = "java rule";
        String content = "Checked from the Java SDK.";
        try (TestMcpClient client = new TestMcpClient(server)) {
            assertEquals("2025-11-25", client.initialize().protocolVersion());
            assertThat(client.tools().stream().map(McpSchema.Tool::name).toList(), hasItems("lock_context", "recall_context"));

            McpSchema.CallToolResult locked = client.call("lock_context", Map.of("project", project, "topic", topic, "content", content));
            assertTrue(locked.isError() == null || !locked.isError(), TestMcpClient.text(locked));
            assertEquals("1.0", Json.parse(TestMcpClient.text(locked)).path("version").asText());

            McpSchema.CallToolResult recalled = client.call("recall_context", Map.of("project", project, "topic", topic));
            assertTrue(recalled.isError() == null || !recalled.isError(), TestMcpClient.text(recalled));
            assertEquals(content, Json.parse(TestMcpClient.text(recalled)).path("content").asText());

            String uri = uri(project, topic);
            McpSchema.ReadResourceResult read = client.sdk().readResource(new McpSchema.ReadResourceRequest(uri));
            assertEquals(1, read.contents().size(), read.toString());
            McpSchema.TextResourceContents text = assertInstanceOf(McpSchema.TextResourceContents.class, read.contents().getFirst());
            assertEquals(uri, text.uri());
            assertEquals(content, text.text());
        }
    }

    /**
     * Runs v2-client-check.mjs in a mode against the server and checks the loop every mode shares.
     *
     * @return the script's RESULT, for the mode's own checks
     */
    private static JsonNode v2(String mode, String project) throws Exception {
        String node = NodeClients.requirePinnedNode(V2_CLIENT);
        NodeClients.Run run = NodeClients.run(node, "v2-client-check.mjs", Map.of(
                "DEMENTIA_URL", server.url("/mcp"),
                "DEMENTIA_API_KEY", TestServer.KEY,
                "DEMENTIA_PROJECT", project,
                "MODE", mode), Duration.ofSeconds(90));
        JsonNode r = run.requireResult();
        String out = run.output();
        assertEquals(List.of(), list(r.path("errors")), out);
        assertEquals(0, run.exit(), out);
        assertThat(out, list(r.path("tools")), hasItems("lock_context", "recall_context"));
        assertEquals("1.0", r.path("locked").asText(), out);
        String content = "Checked from the v2 client (" + mode + ").";
        assertEquals(content, r.path("recalled").asText(), out);
        assertEquals(uri(project, "v2 rule"), r.path("readUri").asText(), out);
        assertEquals(content, r.path("read").asText(), out);
        return r;
    }

    /** The context's resource URI, encoded as encodeURIComponent does (a space is %20). */
    private static String uri(String project, String topic) {
        return "dementia://" + encode(project) + "/context/" + encode(topic);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static List<String> list(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
