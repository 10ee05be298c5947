package cloud.dementia.server.mcp.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;

import cloud.dementia.server.tools.Json;

/**
 * Runs the official MCP conformance suite ({@code @modelcontextprotocol/conformance}, pinned in {@code ops/clients})
 * with the Node pinned beside it, against a URL, and reads its per-scenario results ({@code -o DIR}).
 */
final class ConformanceSuite {

    static final Path CLIENTS = cloud.dementia.server.mcp.NodeClients.DIR;
    static final Path NODE = cloud.dementia.server.mcp.NodeClients.PINNED_NODE;
    static final Path CLI = CLIENTS.resolve("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    static final String INSTALL = "the MCP conformance suite and its Node are not installed: " + cloud.dementia.server.mcp.NodeClients.INSTALL
            + " (.ci/run does)";

    /** The three runs the issue names: the active suite at 2025-06-18, and the frozen requirement sets. */
    static final List<List<String>> MODES = List.of(List.of("--spec-version", "2025-06-18"), List.of("--requirements", "2025-11-25"),
            List.of("--requirements", "2026-07-28"));

    /**
     * @param scenarios each scenario run, by name: its checks that failed (id: message), empty when it passed
     * @param output    what the suite printed
     */
    record Run(String mode, Map<String, List<String>> scenarios, List<String> warnings, String output) {

        /** @return the suite's own last line ({@code Total: N passed, M failed}) */
        String total() {
            return output.lines().filter(l -> l.startsWith("Total:")).reduce((a, b) -> b).orElse("(no total)");
        }

        List<String> failed() {
            return scenarios.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey).toList();
        }
    }

    private ConformanceSuite() {
    }

    static boolean installed() {
        return Files.isExecutable(NODE) && Files.isRegularFile(CLI);
    }

    static Run run(String url, List<String> mode, Path work) throws IOException, InterruptedException {
        Path out = Files.createTempDirectory(work, "conformance-");
        List<String> cmd = new ArrayList<>(List.of(NODE.toString(), CLI.toString(), "server", "--url", url));
        cmd.addAll(mode);
        cmd.addAll(List.of("-o", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the conformance suite did not finish in 5 minutes:\n" + output);
        }
        Map<String, List<String>> scenarios = new TreeMap<>();
        List<String> warnings = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(out)) {
            for (Path dir : dirs.toList()) {
                Path checks = dir.resolve("checks.json");
                if (!Files.isRegularFile(checks)) {
                    continue;
                }
                String name = scenario(dir.getFileName().toString());
                List<String> failures = scenarios.computeIfAbsent(name, n -> new ArrayList<>());
                for (JsonNode check : Json.parse(Files.readString(checks))) {
                    String what = check.path("id").asText() + ": " + check.path("errorMessage").asText(check.path("description").asText());
                    if ("FAILURE".equals(check.path("status").asText())) {
                        failures.add(what);
                    } else if ("WARNING".equals(check.path("status").asText())) {
                        warnings.add(name + " " + what);
                    }
                }
            }
        }
        if (scenarios.isEmpty()) {
            throw new AssertionError("the conformance suite wrote no results for " + mode + ":\n" + output);
        }
        return new Run(String.join(" ", mode), scenarios, warnings, output);
    }

    /** @return the scenario of a result directory: {@code server-<scenario>-<timestamp>} */
    static String scenario(String dir) {
        String rest = dir.startsWith("server-") ? dir.substring("server-".length()) : dir;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(.*?)-\\d{4}-\\d{2}-\\d{2}T.*$").matcher(rest);
        return m.matches() ? m.group(1) : rest;
    }

}
