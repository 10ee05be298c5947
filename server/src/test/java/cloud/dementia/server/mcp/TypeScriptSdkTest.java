package cloud.dementia.server.mcp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Assumptions;
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
 * #10: every method the server announces, with the official TypeScript SDK as the client ({@code ops/clients}, the SDK
 * pinned in its package.json; .ci/run installs it). Without node or the installed SDK the test is aborted, never
 * faked; on CI it fails saying what to install.
 */
class TypeScriptSdkTest {

    static final Path CLIENTS = Path.of("..", "ops", "clients").toAbsolutePath().normalize();

    @Test
    void everyAnnouncedMethodWorksFromTheTypeScriptSdk() throws Exception {
        boolean ready = Files.isDirectory(CLIENTS.resolve("node_modules/@modelcontextprotocol/sdk")) && node() != null;
        if (!ready) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("node and the TypeScript SDK must be installed on CI: cd ops/clients && npm install");
            }
            Assumptions.abort("the TypeScript SDK is not installed: cd ops/clients && npm install");
        }
        try (TestServer server = TestServer.start(Map.of(), MemoryTools::create)) {
            ProcessBuilder pb = new ProcessBuilder(List.of(node(), "ts-sdk-check.mjs")).directory(CLIENTS.toFile()).redirectErrorStream(true);
            pb.environment().put("DEMENTIA_URL", server.url("/mcp"));
            pb.environment().put("DEMENTIA_API_KEY", TestServer.KEY);
            pb.environment().put("DEMENTIA_PROJECT", "ts check");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
            assertEquals(0, p.exitValue(), out);
            String line = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow(() -> new AssertionError(out));
            JsonNode r = Json.parse(line.substring("RESULT ".length()));
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

    private static String node() {
        for (String candidate : List.of("/usr/bin/node", "/usr/local/bin/node")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return null;
    }
}
