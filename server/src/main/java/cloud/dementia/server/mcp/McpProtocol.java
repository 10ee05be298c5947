package cloud.dementia.server.mcp;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.server.tools.Json;

/**
 * The protocol core: one JSON-RPC message in, its answer out, for every version in {@link McpVersion}. It knows
 * nothing of HTTP: a transport ({@link McpEndpoint}) reads the request, decides its version, caller and session, and
 * sends what comes back. Here: the JSON-RPC rules (ids, errors, notifications), the lifecycle ({@code initialize},
 * {@code server/discover}, {@code ping}), the capabilities, what each version adds to results ({@code resultType},
 * caching hints), and the dispatch to the server's {@link McpFeatures}.
 */
public final class McpProtocol {

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(McpProtocol.class.getName());

    public static final String SERVER_NAME = "dementia-cloud";
    /** How long a client may keep a list that does not change while the server runs (the tools, the prompts, the templates). */
    static final long STABLE_TTL_MS = 300_000;
    private static final int LOG_LEVELS_MAX = 100_000;

    private final McpFeatures features;
    /** The log level each session of the 2025 versions asked for ({@code logging/setLevel}), on this replica. */
    private final Map<String, String> logLevels = new ConcurrentHashMap<>();

    public McpProtocol(McpFeatures features) {
        this.features = features;
    }

    public McpFeatures features() {
        return features;
    }

    /** Answers one message that expects no stream: see {@link #handle(JsonNode, McpRequest, McpCall.Channel)}. */
    public Optional<ObjectNode> handle(JsonNode message, McpRequest request) {
        return handle(message, request, McpCall.NONE);
    }

    /**
     * Answers one message.
     *
     * @param channel where the request may send notifications and requests of its own before its answer
     * @return the answer to a request; empty for a notification or a client's response
     */
    public Optional<ObjectNode> handle(JsonNode message, McpRequest request, McpCall.Channel channel) {
        JsonNode id = message.get("id");
        try {
            if (!message.isObject()) {
                throw new McpError(McpError.INVALID_REQUEST, "a JSON-RPC message must be an object");
            }
            JsonNode method = message.get("method");
            if (method == null) {
                if (message.has("result") || message.has("error")) {
                    return Optional.empty(); // a client's answer: the transport hands it to whoever asked
                }
                throw new McpError(McpError.INVALID_REQUEST, "a JSON-RPC request needs `method`");
            }
            if (!"2.0".equals(message.path("jsonrpc").asText(null))) {
                throw new McpError(McpError.INVALID_REQUEST, "`jsonrpc` must be \"2.0\"");
            }
            if (!method.isTextual()) {
                throw new McpError(McpError.INVALID_REQUEST, "`method` must be a string");
            }
            if (id == null) {
                return Optional.empty(); // notifications: initialized, cancelled, roots/list_changed; nothing to do
            }
            if (!(id.isTextual() || id.isIntegralNumber())) {
                id = null;
                throw new McpError(McpError.INVALID_REQUEST, "`id` must be a string or an integer");
            }
            JsonNode params = message.path("params");
            if (!params.isMissingNode() && !params.isObject()) {
                throw McpError.invalidParams("`params` must be an object");
            }
            McpCall call = new McpCall(request, params, channel, logLevel(request, params));
            return Optional.of(answer(id, dispatch(method.textValue(), call)));
        } catch (McpError e) {
            return Optional.of(error(id, e));
        } catch (PoolException e) {
            return Optional.of(error(id, new McpError(McpError.INTERNAL_ERROR, McpRequestGate.describe("the request could not be served", e))));
        } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.WARNING, "MCP: " + message.path("method").asText("?") + " failed", e);
            return Optional.of(error(id, new McpError(McpError.INTERNAL_ERROR, "internal error: " + e.getMessage())));
        }
    }

    private Optional<String> logLevel(McpRequest request, JsonNode params) {
        if (request.version().stateless()) {
            JsonNode level = params.path("_meta").path("io.modelcontextprotocol/logLevel");
            return level.isTextual() && McpCall.validLevel(level.asText()) ? Optional.of(level.asText()) : Optional.empty();
        }
        return request.sessionId().map(logLevels::get);
    }

    private ObjectNode dispatch(String method, McpCall call) {
        McpVersion version = call.version();
        JsonNode params = call.params();
        return switch (method) {
            case "initialize" -> {
                if (version.stateless()) {
                    throw removed(method, version, "send server/discover, and each request's version and capabilities in _meta");
                }
                yield initializeResult(params);
            }
            case "server/discover" -> discover();
            case "ping" -> {
                if (version.stateless()) {
                    throw removed(method, version, null);
                }
                yield Json.object();
            }
            case "logging/setLevel" -> {
                if (version.stateless()) {
                    throw removed(method, version, "name the level in each request's _meta (io.modelcontextprotocol/logLevel)");
                }
                String level = params.path("level").asText("");
                if (!McpCall.validLevel(level)) {
                    throw McpError.invalidParams("`level` must be one of debug, info, notice, warning, error, critical, alert, emergency");
                }
                call.request().sessionId().ifPresent(s -> {
                    if (logLevels.size() > LOG_LEVELS_MAX) {
                        logLevels.clear();
                    }
                    logLevels.put(s, level);
                });
                yield Json.object();
            }
            case "tools/list" -> {
                offered(features.tools(), method);
                ObjectNode result = Json.object();
                ArrayNode list = result.putArray("tools");
                features.listTools(call.request()).forEach(list::add);
                yield typed(result, call, STABLE_TTL_MS, "private");
            }
            case "tools/call" -> {
                offered(features.tools(), method);
                yield typed(features.callTool(name(params, "name", method), call), call, -1, null);
            }
            case "prompts/list" -> {
                offered(features.prompts(), method);
                ObjectNode result = Json.object();
                ArrayNode list = result.putArray("prompts");
                features.listPrompts(call.request()).forEach(list::add);
                yield typed(result, call, STABLE_TTL_MS, "private");
            }
            case "prompts/get" -> {
                offered(features.prompts(), method);
                yield typed(features.getPrompt(name(params, "name", method), call), call, -1, null);
            }
            case "resources/list" -> {
                offered(features.resources(), method);
                yield typed(features.listResources(call), call, 0, "private");
            }
            case "resources/templates/list" -> {
                offered(features.resources(), method);
                yield typed(features.listResourceTemplates(call), call, STABLE_TTL_MS, "public");
            }
            case "resources/read" -> {
                offered(features.resources(), method);
                yield typed(features.readResource(name(params, "uri", method), call), call, 0, "private");
            }
            case "resources/subscribe", "resources/unsubscribe" -> {
                if (version.stateless()) {
                    throw removed(method, version, "send subscriptions/listen with resourceSubscriptions");
                }
                offered(features.resources() && features.subscriptions(), method);
                features.subscribe(name(params, "uri", method), method.endsWith("/subscribe"), call.request());
                yield Json.object();
            }
            case "completion/complete" -> {
                offered(features.completions(), method);
                yield typed(features.complete(call), call, -1, null);
            }
            default -> throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method);
        };
    }

    private static McpError removed(String method, McpVersion version, String instead) {
        return new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method + " (not in protocol " + version + ")"
                + (instead == null ? "" : ": " + instead));
    }

    private static void offered(boolean offered, String method) {
        if (!offered) {
            throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method + " (this server does not offer it)");
        }
    }

    private static String name(JsonNode params, String field, String method) {
        JsonNode value = params.path(field);
        if (!value.isTextual()) {
            throw McpError.invalidParams(method + " needs `" + field + "`, a string");
        }
        return value.asText();
    }

    /**
     * What 2026-07-28 adds to every result: its type, and on complete lists and reads (not on a retry that carries
     * answers) how long they may be kept and by whom.
     *
     * @param ttlMs the freshness hint, or negative for a result that is not cached
     */
    private static ObjectNode typed(ObjectNode result, McpCall call, long ttlMs, String scope) {
        if (!call.version().typedResults()) {
            result.remove("resultType");
            return result;
        }
        if (!result.has("resultType")) {
            result.put("resultType", "complete");
        }
        boolean retry = call.params().has("inputResponses") || call.params().has("requestState");
        if (ttlMs >= 0 && "complete".equals(result.path("resultType").asText()) && !retry) {
            result.put("ttlMs", ttlMs);
            result.put("cacheScope", scope);
        }
        return result;
    }

    /** @return the result of {@code initialize}: the version agreed, what this server offers, who it is */
    ObjectNode initializeResult(JsonNode params) {
        String asked = params.path("protocolVersion").asText("");
        McpVersion version = McpVersion.of(asked).filter(v -> !v.stateless()).orElse(McpVersion.NEWEST_WITH_SESSIONS);
        ObjectNode result = Json.object();
        result.put("protocolVersion", version.id());
        result.set("capabilities", capabilities(version));
        result.set("serverInfo", features.serverInfo(version));
        features.instructions().ifPresent(i -> result.put("instructions", i));
        return result;
    }

    /** @return the result of {@code server/discover}: every version spoken, the capabilities, who this server is */
    ObjectNode discover() {
        ObjectNode result = Json.object();
        result.put("resultType", "complete");
        ArrayNode versions = result.putArray("supportedVersions");
        McpVersion.ids().reversed().forEach(versions::add);
        result.set("capabilities", capabilities(McpVersion.V2026_07_28));
        result.putObject("_meta").set(McpEndpoint.META_SERVER_INFO, features.serverInfo(McpVersion.V2026_07_28));
        features.instructions().ifPresent(i -> result.put("instructions", i));
        result.put("ttlMs", STABLE_TTL_MS);
        result.put("cacheScope", "public");
        return result;
    }

    ObjectNode capabilities(McpVersion version) {
        ObjectNode c = Json.object();
        if (!version.stateless()) {
            c.putObject("logging");
        }
        if (features.tools()) {
            c.putObject("tools").put("listChanged", features.listChanges());
        }
        if (features.prompts()) {
            c.putObject("prompts").put("listChanged", features.listChanges());
        }
        if (features.resources()) {
            c.putObject("resources").put("listChanged", false).put("subscribe", features.subscriptions());
        }
        if (features.completions() && version.atLeast(McpVersion.V2025_03_26)) {
            c.putObject("completions");
        }
        return c;
    }

    /** Forgets what this replica keeps of a session (its log level). */
    void ended(String sessionId) {
        logLevels.remove(sessionId);
    }

    static ObjectNode answer(JsonNode id, ObjectNode result) {
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", id);
        answer.set("result", result);
        return answer;
    }

    /** @return a JSON-RPC error answer: the request's id when it could be read, else none (MCP never sends a null id) */
    static ObjectNode error(JsonNode id, McpError e) {
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        if (id != null && (id.isTextual() || id.isIntegralNumber())) {
            answer.set("id", id);
        }
        ObjectNode error = answer.putObject("error").put("code", e.code()).put("message", e.getMessage());
        if (e.data() != null) {
            error.set("data", e.data());
        }
        return answer;
    }
}
