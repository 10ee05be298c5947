package cloud.dementia.server.mcp;

import java.time.Duration;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.server.tools.Json;

/**
 * One request being served: its params and what it may do while it runs besides answering: tell the client of its
 * progress or log to it (on the request's own stream), ask the client something (2025 versions: a request of the
 * server's on that stream; 2026-07-28: the feature answers {@code input_required} and reads the
 * {@link #inputResponse answers} of the retry).
 */
public final class McpCall {

    /** Where the request's answer goes: the transport's stream for it. */
    interface Channel {
        /** Sends a notification on the request's stream (switching its answer to an event stream). */
        void notify(ObjectNode notification);

        /** Sends a request to the client on the request's stream and waits for the client's answer. */
        JsonNode ask(String method, ObjectNode params, Duration timeout);
    }

    static final Channel NONE = new Channel() {
        @Override
        public void notify(ObjectNode notification) {
        }

        @Override
        public JsonNode ask(String method, ObjectNode params, Duration timeout) {
            throw new McpError(McpError.INTERNAL_ERROR, "this transport cannot ask the client anything");
        }
    };

    private static final java.util.List<String> LEVELS = java.util.List.of("debug", "info", "notice", "warning", "error", "critical", "alert",
            "emergency");

    private final McpRequest request;
    private final JsonNode params;
    private final Channel channel;
    private final Optional<String> logLevel;

    McpCall(McpRequest request, JsonNode params, Channel channel, Optional<String> logLevel) {
        this.request = request;
        this.params = params;
        this.channel = channel;
        this.logLevel = logLevel;
    }

    public McpRequest request() {
        return request;
    }

    public McpVersion version() {
        return request.version();
    }

    /** @return the request's params ({@code MissingNode} when it had none) */
    public JsonNode params() {
        return params;
    }

    /** @return whether the client declared the capability (in {@code initialize}, or in this 2026-07-28 request's {@code _meta}) */
    public boolean clientCan(String capability) {
        return request.clientCapabilities().has(capability);
    }

    /** Tells the client how far the request is, when it asked ({@code _meta.progressToken}). */
    public void progress(double progress, Double total, String message) {
        JsonNode token = params.path("_meta").path("progressToken");
        if (token.isMissingNode() || token.isNull()) {
            return;
        }
        ObjectNode n = Json.object().put("jsonrpc", "2.0").put("method", "notifications/progress");
        ObjectNode p = n.putObject("params");
        p.set("progressToken", token);
        p.put("progress", progress);
        if (total != null) {
            p.put("total", total);
        }
        if (message != null) {
            p.put("message", message);
        }
        channel.notify(n);
    }

    /** Logs to the client, when it asked for this level or a lower one (2025: {@code logging/setLevel}; 2026-07-28: {@code _meta}). */
    public void log(String level, JsonNode data) {
        if (logLevel.isEmpty() || LEVELS.indexOf(level) < LEVELS.indexOf(logLevel.get())) {
            return;
        }
        ObjectNode n = Json.object().put("jsonrpc", "2.0").put("method", "notifications/message");
        n.putObject("params").put("level", level).set("data", data);
        channel.notify(n);
    }

    /**
     * Asks the client (2025 versions, a client that declared the capability) and waits for its answer.
     *
     * @throws McpError when the version or the client cannot be asked, or no answer came in time
     */
    public JsonNode ask(String method, ObjectNode askParams, Duration timeout) {
        if (version().stateless()) {
            throw new McpError(McpError.INTERNAL_ERROR, "protocol " + version() + " asks through input_required results, not requests");
        }
        return channel.ask(method, askParams, timeout);
    }

    /** @return the client's answer to the input asked under {@code key} (2026-07-28 retries: {@code inputResponses}) */
    public Optional<JsonNode> inputResponse(String key) {
        JsonNode r = params.path("inputResponses").path(key);
        return r.isMissingNode() || r.isNull() ? Optional.empty() : Optional.of(r);
    }

    /** @return the {@code requestState} the retry carries back, if any */
    public Optional<String> requestState() {
        JsonNode s = params.path("requestState");
        return s.isTextual() ? Optional.of(s.asText()) : Optional.empty();
    }

    static boolean validLevel(String level) {
        return LEVELS.contains(level);
    }
}
