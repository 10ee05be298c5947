package cloud.dementia.server.mcp;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.McpSessions;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;

/**
 * The protocol core: one JSON-RPC message in, its answer out, for every version in {@link McpVersion}. It knows
 * nothing of HTTP: the transport ({@link McpEndpoint}) reads the request, decides its version, caller and session, and
 * sends what comes back. Here: the JSON-RPC rules (ids, errors, notifications), the lifecycle methods
 * ({@code initialize}, {@code server/discover}, {@code ping}), the capabilities, and the dispatch to tools, prompts,
 * resources and completions, each defined once and served alike through every version.
 */
public final class McpProtocol {

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(McpProtocol.class.getName());

    public static final String SERVER_NAME = "dementia-cloud";
    static final String SERVER_TITLE = "Dementia Cloud";
    static final String SERVER_DESCRIPTION = "Versioned rules and decisions an assistant keeps across conversations, one PostgreSQL schema per project";

    private final String serverVersion;
    private final McpTools tools;
    private final McpPrompts prompts;
    private final McpResources resources;
    private final McpCompletions completions;
    private final ArrayNode icons;
    private final ContextWatch watch;
    private final McpSessions sessions;
    /** The most resources one session or one listen may watch. */
    static final int MAX_WATCHED = 100;

    /**
     * @param tools     the tools (and through them the prompts)
     * @param projects  the project registry (resources and completions), or {@code null} for a server without contexts
     * @param contexts  the contexts (resources and completions), or {@code null}
     */
    public McpProtocol(ToolInvoker tools, String serverVersion, Projects projects, Contexts contexts, McpSessions sessions) {
        this.serverVersion = serverVersion;
        this.icons = McpIcon.icons();
        this.tools = new McpTools(tools, icons);
        this.prompts = new McpPrompts(tools, icons);
        boolean withContexts = projects != null && contexts != null && tools.find("recall_context").isPresent();
        this.resources = withContexts ? new McpResources(tools, projects, contexts).withIcons(icons) : null;
        this.completions = withContexts ? new McpCompletions(projects, contexts, prompts) : null;
        this.watch = withContexts ? new ContextWatch(projects, contexts) : null;
        this.sessions = withContexts ? sessions : null;
    }

    /** @return the watch over contexts, when this server has resources */
    Optional<ContextWatch> watch() {
        return Optional.ofNullable(watch);
    }

    /** @return the resources an MCP session (2025 versions) subscribed to, as watch targets */
    List<ContextWatch.Target> subscribedBy(String sessionId, McpRequest request) {
        if (sessions == null) {
            return List.of();
        }
        List<ContextWatch.Target> targets = new java.util.ArrayList<>();
        for (String uri : sessions.subscriptions(sessionId)) {
            try {
                targets.addAll(targets(List.of(uri), request));
            } catch (McpError e) {
                // a subscription the key may no longer see, or no longer a context URI: not watched
            }
        }
        return targets;
    }

    /**
     * @return the URIs as watch targets: each must be a context URI of a project the caller's key reaches; a URI of
     *         one version is accepted and never changes
     * @throws McpError -32602 naming the first URI that is not
     */
    List<ContextWatch.Target> targets(List<String> uris, McpRequest request) {
        if (resources == null) {
            throw new McpError(McpError.METHOD_NOT_FOUND, "this server has no resources to watch");
        }
        if (uris.size() > MAX_WATCHED) {
            throw McpError.invalidParams("at most " + MAX_WATCHED + " resources may be watched at once (got " + uris.size() + ")");
        }
        List<ContextWatch.Target> targets = new java.util.ArrayList<>();
        for (String uri : uris) {
            String[] parsed;
            try {
                parsed = McpResources.parse(uri);
            } catch (McpResources.Refusal e) {
                throw McpError.invalidParams(e.getMessage());
            }
            if (!request.caller().mayReach(parsed[0])) {
                throw McpError.invalidParams("`" + uri + "`: " + request.caller().credential() + " does not reach project `" + parsed[0] + "`");
            }
            if (parsed[2] == null) {
                targets.add(new ContextWatch.Target(parsed[0], parsed[1], uri));
            }
        }
        return targets;
    }

    /** Stops watching contexts. */
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }

    /**
     * Answers one message.
     *
     * @return the answer to a request; empty for a notification or a client's response
     */
    public Optional<ObjectNode> handle(JsonNode message, McpRequest request) {
        JsonNode id = message.get("id");
        try {
            if (!message.isObject()) {
                throw new McpError(McpError.INVALID_REQUEST, "a JSON-RPC message must be an object");
            }
            JsonNode method = message.get("method");
            if (method == null) {
                if (message.has("result") || message.has("error")) {
                    return Optional.empty(); // a client's answer to a request of ours: nothing waits for one here
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
                notification(method.textValue());
                return Optional.empty();
            }
            if (!(id.isTextual() || id.isIntegralNumber())) {
                id = NullNode.getInstance();
                throw new McpError(McpError.INVALID_REQUEST, "`id` must be a string or an integer");
            }
            JsonNode params = message.path("params");
            if (!params.isMissingNode() && !params.isObject()) {
                throw McpError.invalidParams("`params` must be an object");
            }
            ObjectNode result = dispatch(method.textValue(), params, request);
            return Optional.of(answer(id, result));
        } catch (McpError e) {
            return Optional.of(error(id, e));
        } catch (PoolException e) {
            return Optional.of(error(id, new McpError(McpError.INTERNAL_ERROR, McpRequestGate.describe("the request could not be served", e))));
        } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.WARNING, "MCP: " + message.path("method").asText("?") + " failed", e);
            return Optional.of(error(id, new McpError(McpError.INTERNAL_ERROR, "internal error: " + e.getMessage())));
        }
    }

    private void notification(String method) {
        // notifications/initialized, notifications/cancelled (a request here is answered before another arrives),
        // notifications/roots/list_changed: nothing to do; an unknown notification is ignored, as JSON-RPC says
    }

    private ObjectNode dispatch(String method, JsonNode params, McpRequest request) {
        McpVersion version = request.version();
        return switch (method) {
            case "initialize" -> {
                if (version.stateless()) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: initialize (protocol " + version
                            + " has no initialize: send server/discover, and each request's version and capabilities in _meta)");
                }
                yield initializeResult(params);
            }
            case "server/discover" -> discover();
            case "ping" -> {
                if (version.stateless()) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: ping (removed in protocol " + version + ")");
                }
                yield Json.object();
            }
            case "logging/setLevel" -> {
                if (version.stateless()) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: logging/setLevel (removed in protocol " + version + ")");
                }
                checkLevel(params);
                yield Json.object();
            }
            case "tools/list" -> typed(tools.list(request), version, true);
            case "tools/call" -> typed(tools.call(params, request), version, false);
            case "prompts/list" -> typed(prompts.list(request), version, true);
            case "prompts/get" -> typed(prompts.get(params, request), version, false);
            case "resources/list", "resources/templates/list", "resources/read" -> {
                if (resources == null) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method + " (this server has no resources)");
                }
                yield typed(resources.answer(method, params, request), version, true);
            }
            case "resources/subscribe", "resources/unsubscribe" -> {
                if (version.stateless()) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method + " (removed in protocol " + version
                            + ": send subscriptions/listen with resourceSubscriptions)");
                }
                if (resources == null || sessions == null) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method);
                }
                if (!params.path("uri").isTextual()) {
                    throw McpError.invalidParams(method + " needs `uri`, a string");
                }
                String uri = params.path("uri").asText();
                String session = request.sessionId().orElseThrow(() -> new McpError(McpError.INVALID_REQUEST, method + " needs a session"));
                if (method.equals("resources/unsubscribe")) {
                    sessions.unsubscribe(session, uri);
                } else {
                    targets(List.of(uri), request);
                    if (!sessions.subscribe(session, uri, MAX_WATCHED)) {
                        throw McpError.invalidParams("this session watches " + MAX_WATCHED + " resources already: unsubscribe from one first");
                    }
                }
                yield Json.object();
            }
            case "completion/complete" -> {
                if (completions == null) {
                    throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: completion/complete");
                }
                yield typed(completions.complete(params, request), version, false);
            }
            default -> throw new McpError(McpError.METHOD_NOT_FOUND, "Method not found: " + method);
        };
    }

    private static final java.util.Set<String> LEVELS = java.util.Set.of("debug", "info", "notice", "warning", "error", "critical", "alert",
            "emergency");

    private static void checkLevel(JsonNode params) {
        if (!LEVELS.contains(params.path("level").asText(""))) {
            throw McpError.invalidParams("`level` must be one of " + new java.util.TreeSet<>(LEVELS));
        }
    }

    /** What 2026-07-28 adds to every result: its type, and on lists and reads how long it may be kept and by whom. */
    private static ObjectNode typed(ObjectNode result, McpVersion version, boolean cacheable) {
        if (version.typedResults()) {
            result.put("resultType", "complete");
            if (cacheable) {
                result.put("ttlMs", 0);
                result.put("cacheScope", "private");
            }
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
        result.set("serverInfo", serverInfo(version));
        result.put("instructions", McpPrompts.INSTRUCTIONS);
        return result;
    }

    /** @return the result of {@code server/discover}: every version spoken, the capabilities, who this server is */
    ObjectNode discover() {
        ObjectNode result = Json.object();
        ArrayNode versions = result.putArray("supportedVersions");
        McpVersion.ids().forEach(versions::add);
        result.set("capabilities", capabilities(McpVersion.V2026_07_28));
        result.set("serverInfo", serverInfo(McpVersion.V2026_07_28));
        result.put("instructions", McpPrompts.INSTRUCTIONS);
        result.put("resultType", "complete");
        return result;
    }

    private ObjectNode capabilities(McpVersion version) {
        ObjectNode c = Json.object();
        if (!version.stateless()) {
            c.putObject("logging");
        }
        if (tools.any()) {
            c.putObject("tools").put("listChanged", false);
        }
        if (prompts.any()) {
            c.putObject("prompts").put("listChanged", false);
        }
        if (resources != null) {
            c.putObject("resources").put("listChanged", false).put("subscribe", watch != null && (version.stateless() || sessions != null));
            if (version.atLeast(McpVersion.V2025_03_26)) {
                c.putObject("completions");
            }
        }
        return c;
    }

    private ObjectNode serverInfo(McpVersion version) {
        ObjectNode info = Json.object().put("name", SERVER_NAME).put("version", serverVersion);
        if (version.titlesAndStructuredContent()) {
            info.put("title", SERVER_TITLE);
        }
        if (version.icons()) {
            info.put("description", SERVER_DESCRIPTION);
            info.set("icons", icons);
        }
        return info;
    }

    static ObjectNode answer(JsonNode id, ObjectNode result) {
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", id);
        answer.set("result", result);
        return answer;
    }

    /** @return a JSON-RPC error answer; the request's id when it could be read, else {@code null} */
    static ObjectNode error(JsonNode id, McpError e) {
        ObjectNode answer = Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", id == null || !(id.isTextual() || id.isIntegralNumber()) ? NullNode.getInstance() : id);
        ObjectNode error = answer.putObject("error").put("code", e.code()).put("message", e.getMessage());
        if (e.data() != null) {
            error.set("data", e.data());
        }
        return answer;
    }
}
