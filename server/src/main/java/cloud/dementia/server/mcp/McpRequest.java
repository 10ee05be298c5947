package cloud.dementia.server.mcp;

import java.util.Optional;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import cloud.dementia.server.auth.Caller;

/**
 * What a request is served with besides its params: the version it speaks, who sent it, its session (versions with
 * sessions) and what the client said it can do (in each 2026-07-28 request's {@code _meta}; for a session, in its
 * {@code initialize}, read from the control schema only when a feature asks).
 */
public final class McpRequest {

    private final McpVersion version;
    private final Caller caller;
    private final Optional<String> sessionId;
    private Supplier<JsonNode> capabilities;
    private JsonNode known;

    /**
     * @param version            the version the request speaks
     * @param caller             the key or token that sent it
     * @param sessionId          the MCP session, for versions that have one
     * @param clientCapabilities the client's capabilities ({@code MissingNode} when unknown)
     */
    public McpRequest(McpVersion version, Caller caller, Optional<String> sessionId, JsonNode clientCapabilities) {
        this(version, caller, sessionId, () -> clientCapabilities);
    }

    /** @param clientCapabilities asked once, when a feature first needs them */
    public McpRequest(McpVersion version, Caller caller, Optional<String> sessionId, Supplier<JsonNode> clientCapabilities) {
        this.version = version;
        this.caller = caller;
        this.sessionId = sessionId;
        this.capabilities = clientCapabilities;
    }

    public McpVersion version() {
        return version;
    }

    public Caller caller() {
        return caller;
    }

    public Optional<String> sessionId() {
        return sessionId;
    }

    /** @return the client's capabilities ({@code MissingNode} when unknown) */
    public synchronized JsonNode clientCapabilities() {
        if (known == null) {
            JsonNode c = capabilities.get();
            known = c == null ? MissingNode.getInstance() : c;
            capabilities = null;
        }
        return known;
    }
}
