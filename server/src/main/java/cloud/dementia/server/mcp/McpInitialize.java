package cloud.dementia.server.mcp;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.tools.Json;

/**
 * The answer to {@code initialize}: a new session id and what this server offers, in the shape the MCP extension gives
 * it, without the two capabilities it would add that this server does not have ({@code elicitation}, a client's
 * capability, and {@code completions}: there is nothing to complete).
 * <p>
 * Why here and not in the extension: the extension keeps every session it opens in memory (and adds its id to a list it
 * never trims), so a session opened on one replica would be unknown to the others. Opened here, a session is a row in
 * the control schema ({@code SessionGuard}), every replica serves it, and the extension, run stateless, serves each
 * request with a session of its own that ends with the request.
 */
final class McpInitialize {

    /** The protocol versions the extension speaks, newest first; a client asking for another gets the newest. */
    static final List<String> VERSIONS = List.of("2025-06-18", "2025-03-26", "2024-11-05");

    private final String version;
    private final boolean tools;
    private final boolean prompts;

    McpInitialize(String version, boolean tools, boolean prompts) {
        this.version = version;
        this.tools = tools;
        this.prompts = prompts;
    }

    /** @return a new session id: 122 random bits, as the extension makes them */
    static String newSessionId() {
        return UUID.randomUUID().toString();
    }

    /** @return the JSON-RPC answer to an {@code initialize} request */
    ObjectNode answer(JsonNode request) {
        String asked = request.path("params").path("protocolVersion").asText("");
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", request.get("id"));
        ObjectNode result = answer.putObject("result");
        result.put("protocolVersion", VERSIONS.contains(asked) ? asked : VERSIONS.getFirst());
        ObjectNode capabilities = result.putObject("capabilities");
        capabilities.putObject("logging");
        capabilities.putObject("prompts").put("listChanged", prompts);
        capabilities.putObject("tools").put("listChanged", tools);
        // resources are answered by McpResources, not announced to the extension: nothing to subscribe to
        capabilities.putObject("resources").put("listChanged", false).put("subscribe", false);
        result.putObject("serverInfo").put("name", McpEndpoint.SERVER_NAME).put("version", version);
        result.put("instructions", McpPrompts.INSTRUCTIONS);
        return answer;
    }
}
