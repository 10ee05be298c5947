package cloud.dementia.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP load with wrk: kept-alive connections, requests built by a Lua script written here. The script checks every
 * answer (status 200 and no tool failure in the body) and reports the failures it saw, with wrk's own percentiles.
 */
final class Wrk {

    /** What one wrk run measured. */
    record Result(long requests, double perSecond, double meanMs, double p50Ms, double p99Ms, long failures, String firstFailure) {
    }

    private Wrk() {
    }

    /** Lua for {@code POST /execute} calling {@code recall_context} on a random project and topic. */
    static String executeRecall(List<String> projects, int topics) {
        return common(projects, topics, "\"success\":false", """
                request = function()
                  local body = '{"tool":"recall_context","arguments":{"project":"' .. pick_project() .. '","topic":"topic-' .. math.random(1, TOPICS) .. '"}}'
                  return wrk.format("POST", "/execute", headers, body)
                end
                """, List.of());
    }

    /** Lua for MCP {@code tools/call recall_context} over the given sessions (round robin), JSON-RPC by hand. */
    static String mcpRecall(List<String> projects, int topics, List<String> sessions) {
        return common(projects, topics, "\"isError\":true", """
                local calls = 0
                request = function()
                  calls = calls + 1
                  local body = '{"jsonrpc":"2.0","id":' .. (calls * 64 + id) .. ',"method":"tools/call","params":{"name":"recall_context","arguments":{"project":"'
                    .. pick_project() .. '","topic":"topic-' .. math.random(1, TOPICS) .. '"}}}'
                  return mcp_post(SESSIONS[(calls %% #SESSIONS) + 1], body)
                end
                """.replace("%%", "%"), sessions);
    }

    /**
     * Lua for {@code tools/call recall_context} in MCP 2026-07-28: stateless, no session; the version in the header and
     * in {@code _meta}, the method and tool name in {@code Mcp-Method} and {@code Mcp-Name}, as a 2026-07-28 client sends them.
     */
    static String mcpStatelessRecall(List<String> projects, int topics) {
        return common(projects, topics, "\"isError\":true", """
                local calls = 0
                request = function()
                  calls = calls + 1
                  local body = '{"jsonrpc":"2.0","id":' .. (calls * 64 + id) .. ',"method":"tools/call","params":{"name":"recall_context","arguments":{"project":"'
                    .. pick_project() .. '","topic":"topic-' .. math.random(1, TOPICS) .. '"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
                    .. '"io.modelcontextprotocol/clientInfo":{"name":"dementia-bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}'
                  local h = {}
                  for k, v in pairs(headers) do h[k] = v end
                  h["Accept"] = "application/json, text/event-stream"
                  h["MCP-Protocol-Version"] = "2026-07-28"
                  h["Mcp-Method"] = "tools/call"
                  h["Mcp-Name"] = "recall_context"
                  return wrk.format("POST", "/mcp", h, body)
                end
                """.replace("%%", "%"), List.of());
    }

    /** Lua for MCP {@code ping} on one session: the cheapest MCP request, no tool and no database. */
    static String mcpPing(String session) {
        return common(List.of("none"), 1, "\"error\"", """
                local calls = 0
                request = function()
                  calls = calls + 1
                  return mcp_post(SESSIONS[1], '{"jsonrpc":"2.0","id":' .. (calls * 64 + id) .. ',"method":"ping"}')
                end
                """, List.of(session));
    }

    private static String common(List<String> projects, int topics, String failure, String request, List<String> sessions) {
        return """
                -- written by ops/bench (cloud.dementia.bench.Wrk)
                local threads = {}
                local next_id = 0
                PROJECTS = {%s}
                TOPICS = %d
                SESSIONS = {%s}
                headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %s"}
                function setup(thread)
                  next_id = next_id + 1
                  thread:set("id", next_id)
                  table.insert(threads, thread)
                end
                function init(args)
                  failures = 0
                  first_failure = ""
                  math.randomseed(id * 7919 + os.time())
                end
                function pick_project()
                  return PROJECTS[math.random(1, #PROJECTS)]
                end
                function mcp_post(session, body)
                  local h = {}
                  for k, v in pairs(headers) do h[k] = v end
                  h["Accept"] = "application/json, text/event-stream"
                  h["MCP-Protocol-Version"] = "2025-06-18"
                  h["Mcp-Session-Id"] = session
                  return wrk.format("POST", "/mcp", h, body)
                end
                %s
                function response(status, hdrs, body)
                  if status ~= 200 or string.find(body, '%s', 1, true) then
                    failures = failures + 1
                    if first_failure == "" then first_failure = status .. " " .. string.sub(body, 1, 300) end
                  end
                end
                function done(summary, latency, requests)
                  local f = 0
                  local first = ""
                  for _, t in ipairs(threads) do
                    f = f + t:get("failures")
                    if first == "" then first = t:get("first_failure") end
                  end
                  io.write(string.format("BENCH failures=%%d mean_us=%%d p50_us=%%d p99_us=%%d\\n", f, math.floor(latency.mean), latency:percentile(50), latency:percentile(99)))
                  io.write("BENCH first_failure=" .. string.gsub(first, "\\n", " ") .. "\\n")
                end
                """.formatted(quoted(projects), topics, quoted(sessions), Server.KEY, request, failure);
    }

    private static String quoted(List<String> values) {
        return String.join(",", values.stream().map(v -> "\"" + v + "\"").toList());
    }

    /** Runs wrk against the server with the script for {@code seconds}, {@code connections} kept-alive connections. */
    static Result run(Server server, String script, int connections, int seconds, Path dir) throws Exception {
        Path lua = dir.resolve("wrk-" + Integer.toHexString(script.hashCode()) + ".lua");
        Files.writeString(lua, script);
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t", Integer.toString(Math.min(2, connections)), "-c", Integer.toString(connections),
                "-d", seconds + "s", "--timeout", "30s", "-s", lua.toString(), server.url("/")));
        Bench.log("running: " + String.join(" ", cmd));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int exit = p.waitFor();
        if (exit != 0) {
            throw new IllegalStateException("wrk exited with " + exit + ":\n" + out);
        }
        long requests = Long.parseLong(group(out, "(\\d+) requests in"));
        long failures = Long.parseLong(group(out, "BENCH failures=(\\d+)"));
        Matcher socket = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
        if (socket.find()) {
            for (int i = 1; i <= 4; i++) {
                failures += Long.parseLong(socket.group(i));
            }
        }
        Matcher first = Pattern.compile("BENCH first_failure=(.*)").matcher(out);
        return new Result(requests, Double.parseDouble(group(out, "Requests/sec:\\s+([0-9.]+)")),
                Long.parseLong(group(out, "mean_us=(\\d+)")) / 1000.0,
                Long.parseLong(group(out, "p50_us=(\\d+)")) / 1000.0, Long.parseLong(group(out, "p99_us=(\\d+)")) / 1000.0,
                failures, first.find() ? first.group(1).strip() : "");
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no `" + regex + "` in wrk's output:\n" + text);
        }
        return m.group(1);
    }
}
