package cloud.dementia.server.mcp;

import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import cloud.dementia.server.auth.Caller;

/**
 * What a request is served with besides its params: the version it speaks, who sent it, its session (versions with
 * sessions) and what the client said it can do (in {@code initialize}, or in each 2026-07-28 request's {@code _meta}).
 *
 * @param version            the version the request speaks
 * @param caller             the key or token that sent it
 * @param sessionId          the MCP session, for versions that have one
 * @param clientCapabilities the client's capabilities ({@code MissingNode} when unknown)
 */
public record McpRequest(McpVersion version, Caller caller, Optional<String> sessionId, JsonNode clientCapabilities) {

    public McpRequest {
        clientCapabilities = clientCapabilities == null ? MissingNode.getInstance() : clientCapabilities;
    }

    /** @return whether the client said it answers {@code elicitation/create} (form mode) */
    public boolean elicits() {
        JsonNode e = clientCapabilities.path("elicitation");
        return e.isObject() && (e.isEmpty() || e.has("form"));
    }
}
