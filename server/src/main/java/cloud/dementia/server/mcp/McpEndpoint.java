package cloud.dementia.server.mcp;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.helidon.extensions.mcp.server.McpServerConfig;
import io.helidon.extensions.mcp.server.McpServerFeature;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpFeature;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.SessionGuard;
import cloud.dementia.server.http.BearerAuth;
import cloud.dementia.server.tools.ToolInvoker;

/**
 * MCP at {@code /mcp}: Streamable HTTP ({@code POST/GET/DELETE /mcp}) through Helidon's MCP extension, every tool of
 * the {@link ToolInvoker} registered as an MCP tool. A filter runs around the extension: it checks the request
 * ({@link McpRequestGate}) and its session (the {@code Mcp-Session-Id} header, or the {@code sessionId} query parameter
 * of {@code /mcp/message}) against the control schema, puts the session id into the request context, where
 * {@link McpSpecTool} reads it, and refuses a second request with an id already in progress in the session. Sessions
 * are this endpoint's, not the extension's: it opens them ({@link McpInitialize}) and ends them, so any replica serves
 * any session. It also answers {@code tools/list} ({@link McpToolList}), {@code tools/call} ({@link McpToolCalls}) and
 * {@code resources/*} ({@link McpResources});
 * the extension, run stateless, answers the rest.
 */
public final class McpEndpoint implements HttpFeature {

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(McpEndpoint.class.getName());

    public static final String PATH = "/mcp";
    public static final String SERVER_NAME = "dementia-cloud";
    /** The header the extension assigns the session id in (it reads it back from the same header). */
    public static final HeaderName SESSION_ID_HEADER = HeaderNames.create("Mcp-Session-Id");
    /** Classifier of the session id in the request context. */
    static final Object SESSION_ID = new Object() {
        @Override
        public String toString() {
            return "mcp-session-id";
        }
    };

    private final McpServerFeature mcp;
    private final SessionGuard sessions;
    private final McpResources resources;
    private final McpToolCalls toolCalls;
    private final McpToolList toolList;
    private final McpInitialize initialize;
    /** Requests in progress, by session and JSON-RPC id. */
    private final java.util.Set<String> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions) {
        this(tools, version, sessions, null);
    }

    /**
     * @param resources the contexts as resources, or {@code null} when the tools have none to recall
     */
    public McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions, Projects projects, Contexts contexts) {
        this(tools, version, sessions, tools.find("recall_context").isPresent() ? new McpResources(tools, projects, contexts) : null);
    }

    private McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions, McpResources resources) {
        this.sessions = sessions;
        this.resources = resources;
        this.toolCalls = new McpToolCalls(tools);
        this.toolList = new McpToolList(tools);
        List<cloud.dementia.server.tools.ToolSpec> specs = tools.tools();
        List<io.helidon.extensions.mcp.server.McpPrompt> prompts = McpPrompts.create(tools);
        this.initialize = new McpInitialize(version, !specs.isEmpty(), !prompts.isEmpty());
        McpServerConfig.Builder config = McpServerFeature.builder()
                .path(PATH)
                .name(SERVER_NAME)
                .version(version)
                .instructions(McpPrompts.INSTRUCTIONS)
                // sessions are opened by this endpoint (McpInitialize) and kept in the control schema, which every replica
                // shares (SessionGuard): the extension serves each request with a session that ends with it
                .stateless(true);
        specs.forEach(spec -> config.addTool(new McpSpecTool(spec, tools)));
        prompts.forEach(config::addPrompt);
        this.mcp = config.build();
    }

    @Override
    public void setup(HttpRouting.Builder routing) {
        routing.addFeature(mcp);
    }

    /**
     * What runs before the extension on {@code /mcp}: a filter, not a route, so it runs around the extension's handling
     * and knows when a request is done. Register it after the API key's filter, which finds the caller it checks.
     * <p>
     * It checks the request ({@link McpRequestGate}) and its session: a session id must be one this key opened (another
     * key's: 403; unknown or forgotten: 404, so the client opens a new one, as Streamable HTTP says). It opens sessions
     * itself ({@code initialize}: {@link McpInitialize}), ends them ({@code DELETE}), and answers {@code tools/call} and
     * {@code resources/*}; the rest goes on to the extension.
     */
    public Filter filter() {
        return this::filter;
    }

    private void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (!path.equals(PATH) && !path.equals(PATH + "/message")) {
            chain.proceed();
            return;
        }
        JsonNode body = McpRequestGate.admit(req, res);
        if (body == McpRequestGate.REFUSED) {
            return;
        }
        Caller caller = BearerAuth.caller(req.context());
        Optional<String> sessionId = sessionIdOf(req);
        if (sessionId.isPresent()) {
            SessionGuard.Verdict verdict;
            try {
                verdict = sessions.mcp(sessionId.get(), caller);
            } catch (PoolException e) {
                McpRequestGate.refuse(res, "the session could not be checked", e);
                return;
            }
            switch (verdict) {
                case OTHERS -> {
                    McpRequestGate.refuse(res, Status.FORBIDDEN_403, -32600, "this session belongs to another API key");
                    return;
                }
                case UNKNOWN -> {
                    McpRequestGate.refuse(res, Status.NOT_FOUND_404, -32600, "Session not found: it ended or was forgotten after "
                            + sessions.idle().toSeconds() + " s unused; send initialize for a new one");
                    return;
                }
                case OWN -> req.context().register(SESSION_ID, sessionId.get());
            }
            Method method = req.prologue().method();
            if (method == Method.DELETE) {
                // the client ends its session: forgotten in the control schema, so every replica answers 404 from now on
                // (202, as the extension answered it)
                try {
                    sessions.ended(sessionId.get());
                } catch (PoolException e) {
                    McpRequestGate.refuse(res, "the session could not be ended", e);
                    return;
                }
                res.status(Status.ACCEPTED_202).send();
                return;
            }
            // MCP-Protocol-Version is not checked: the MCP Java SDK 2.1.0 sends the version it asked for (2025-11-25), not
            // the one it was answered (2025-06-18), and the extension, which served these sessions before, accepted it
            if (method == Method.GET) {
                // no server-initiated stream on Streamable HTTP: the same answer on every replica
                res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST, DELETE").send();
                return;
            }
            String rpcMethod = body.path("method").asText("");
            if ("initialize".equals(rpcMethod) && body.isObject() && body.hasNonNull("id")) {
                // initialized again within its session: the same session, answered afresh
                res.status(Status.OK_200).header(SESSION_ID_HEADER, sessionId.get()).header(io.helidon.http.HeaderValues.CONTENT_TYPE_JSON)
                        .send(cloud.dementia.server.tools.Json.bytes(initialize.answer(body)));
                return;
            }
            if (McpResources.METHODS.contains(rpcMethod) && body.hasNonNull("id")) {
                answerResources(res, body, rpcMethod, caller, sessionId);
                return;
            }
            if (body.isObject() && body.hasNonNull("id") && body.has("method")) {
                // the extension keys a session's requests by their id: two at once with one id answer each other's
                // connection (500 "OutputStream already obtained"); JSON-RPC wants ids unique while outstanding
                String key = sessionId.get() + '\u0000' + body.get("id");
                if (!inFlight.add(key)) {
                    McpRequestGate.refuse(res, Status.CONFLICT_409, -32600, "request id " + body.get("id")
                            + " is already in progress in this session: an id must be unique while its request is outstanding");
                    return;
                }
                // free the id as the answer goes out: a client may reuse it as soon as it has the answer
                res.beforeSend(() -> inFlight.remove(key));
                try {
                    Optional<com.fasterxml.jackson.databind.node.ObjectNode> answered = "tools/call".equals(rpcMethod) && takesJson(req)
                            ? toolCalls.answer(body, sessionId.get(), caller)
                            // the tools this caller may call; a plain JSON answer, which every Streamable HTTP client accepts
                            : "tools/list".equals(rpcMethod) ? Optional.of(toolList.answer(body, caller)) : Optional.empty();
                    if (answered.isPresent()) {
                        res.status(Status.OK_200).header(io.helidon.http.HeaderValues.CONTENT_TYPE_JSON)
                                .send(cloud.dementia.server.tools.Json.bytes(answered.get()));
                    } else {
                        chain.proceed();
                    }
                } finally {
                    inFlight.remove(key);
                }
                return;
            }
            chain.proceed();
            return;
        }
        Method method = req.prologue().method();
        if (method != Method.POST) {
            // Streamable HTTP has no stream without a session, and this server opens none for the older HTTP+SSE transport
            res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST").send();
            return;
        }
        if (!body.isObject() || !"initialize".equals(body.path("method").asText("")) || !body.hasNonNull("id")) {
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, -32600, body.isArray()
                    ? "without an Mcp-Session-Id, send initialize alone (not in a batch) first"
                    : "the Mcp-Session-Id header is missing: send initialize first and then the id it returns with every request");
            return;
        }
        String id = McpInitialize.newSessionId();
        try {
            sessions.opened(id, caller);
        } catch (PoolException e) {
            McpRequestGate.refuse(res, "the session could not be opened", e);
            return;
        }
        res.status(Status.OK_200).header(SESSION_ID_HEADER, id).header(io.helidon.http.HeaderValues.CONTENT_TYPE_JSON)
                .send(cloud.dementia.server.tools.Json.bytes(initialize.answer(body)));
    }

    /** Answers {@code resources/*} itself: the extension has no resources of its own (see {@link McpResources}). */
    private void answerResources(RoutingResponse res, JsonNode body, String method, Caller caller, Optional<String> sessionId) {
        com.fasterxml.jackson.databind.node.ObjectNode answer = cloud.dementia.server.tools.Json.object();
        answer.put("jsonrpc", "2.0");
        answer.set("id", body.get("id"));
        if (resources == null) {
            answer.putObject("error").put("code", -32601).put("message", "Method not found: " + method);
        } else {
            try {
                answer.set("result", resources.answer(method, body.path("params"), caller, sessionId));
            } catch (McpResources.Refusal e) {
                answer.putObject("error").put("code", e.code).put("message", e.getMessage());
            } catch (PoolException e) {
                answer.putObject("error").put("code", -32603).put("message", McpRequestGate.describe("the resource could not be read", e));
            }
        }
        res.status(Status.OK_200).header(io.helidon.http.HeaderValues.CONTENT_TYPE_JSON).send(cloud.dementia.server.tools.Json.bytes(answer));
    }

    /** @return whether the client takes a plain JSON answer (no {@code Accept}, or one that names JSON or any type) */
    private static boolean takesJson(ServerRequest req) {
        return req.headers().acceptedTypes().isEmpty() || req.headers().isAccepted(io.helidon.common.media.type.MediaTypes.APPLICATION_JSON);
    }

    private static Optional<String> sessionIdOf(ServerRequest req) {
        Optional<String> header = req.headers().first(SESSION_ID_HEADER);
        if (header.isPresent()) {
            return header.filter(id -> !id.isBlank());
        }
        return req.query().first("sessionId").asOptional().filter(id -> !id.isBlank());
    }
}
