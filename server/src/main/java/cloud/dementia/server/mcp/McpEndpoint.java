package cloud.dementia.server.mcp;

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
 * the {@link ToolInvoker} registered as an MCP tool. Before the extension handles a request, the MCP session id it
 * belongs to (the {@code Mcp-Session-Id} header the extension assigned at {@code initialize}, or the {@code sessionId}
 * query parameter of the older SSE transport's {@code /mcp/message}) is put into the request context, where
 * {@link McpSpecTool} reads it, and a {@code POST} that is not a JSON-RPC request the extension can serve is answered
 * plainly ({@link McpRequestGate}). A filter does this around the extension's handling: it checks that the session is
 * the caller's key's, and that no other request with the same id is in progress in it.
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
        McpServerConfig.Builder config = McpServerFeature.builder()
                .path(PATH)
                .name(SERVER_NAME)
                .version(version)
                .instructions(McpPrompts.INSTRUCTIONS)
                // a session opened on another replica (or evicted from the extension's own cache) is still served: the
                // extension then answers with a per-request session, and this endpoint's filter has already checked the id
                // against the control schema, which every replica shares (SessionGuard)
                .stateless(true);
        tools.tools().forEach(spec -> config.addTool(new McpSpecTool(spec, tools)));
        McpPrompts.create(tools).forEach(config::addPrompt);
        this.mcp = config.build();
    }

    @Override
    public void setup(HttpRouting.Builder routing) {
        routing.addFeature(mcp);
    }

    /**
     * Checks the request ({@link McpRequestGate}) and its session: a session id must be one this key opened (another
     * key's: 403; unknown or forgotten: 404, so the client opens a new one, as Streamable HTTP says). A request without
     * a session id that opens one ({@code initialize}) records the new id as this key's once the extension answered.
     */
    /**
     * What runs before the extension on {@code /mcp}: a filter, not a route, so it runs around the extension's handling
     * and knows when a request is done. Register it after the API key's filter, which finds the caller it checks.
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
                McpRequestGate.refuse(res, Status.SERVICE_UNAVAILABLE_503, -32603, "the session could not be checked: " + e.getMessage());
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
                sessions.ended(sessionId.get());
                res.status(Status.OK_200).send();
                return;
            }
            if (method == Method.GET) {
                // no server-initiated stream on Streamable HTTP: the same answer on every replica
                res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST, DELETE").send();
                return;
            }
            String rpcMethod = body.path("method").asText("");
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
                            ? toolCalls.answer(body, sessionId.get(), caller) : Optional.empty();
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
        if (req.prologue().method() == Method.POST && !opensSession(body)) {
            // the extension, being stateless for replicas, would serve it with a throwaway session: Streamable HTTP wants 400
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, -32600,
                    "the Mcp-Session-Id header is missing: send initialize first and then the id it returns with every request");
            return;
        }
        if ("initialize".equals(body.path("method").asText(""))) {
            // announce only what works: the extension adds `elicitation` (a client's capability, not a server's) and
            // `completions` (there is nothing to complete) to every initialize answer
            res.streamFilter(AnnouncedCapabilities::new);
        }
        // the extension is about to answer: a new session's id is in its response headers
        res.beforeSend(() -> res.headers().first(SESSION_ID_HEADER).ifPresent(id -> {
            try {
                sessions.opened(id, caller);
            } catch (PoolException e) {
                LOG.warning("session " + id + " could not be recorded as its key's: " + e.getMessage());
            }
        }));
        chain.proceed();
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
                answer.putObject("error").put("code", -32603).put("message", "the database did not answer in time: " + e.getMessage() + "; retry");
            }
        }
        res.status(Status.OK_200).header(io.helidon.http.HeaderValues.CONTENT_TYPE_JSON).send(cloud.dementia.server.tools.Json.bytes(answer));
    }

    /** @return whether the client takes a plain JSON answer (no {@code Accept}, or one that names JSON or any type) */
    private static boolean takesJson(ServerRequest req) {
        return req.headers().acceptedTypes().isEmpty() || req.headers().isAccepted(io.helidon.common.media.type.MediaTypes.APPLICATION_JSON);
    }

    /** @return whether a body without a session id may go on: {@code initialize}, alone or in a batch */
    private static boolean opensSession(JsonNode body) {
        if (body.isArray()) {
            for (JsonNode message : body) {
                if ("initialize".equals(message.path("method").asText(""))) {
                    return true;
                }
            }
            return false;
        }
        return "initialize".equals(body.path("method").asText(""));
    }

    private static Optional<String> sessionIdOf(ServerRequest req) {
        Optional<String> header = req.headers().first(SESSION_ID_HEADER);
        if (header.isPresent()) {
            return header.filter(id -> !id.isBlank());
        }
        return req.query().first("sessionId").asOptional().filter(id -> !id.isBlank());
    }

    /** Rewrites an {@code initialize} answer as it is written: the capabilities this server does not have are taken out. */
    private static final class AnnouncedCapabilities extends java.io.FilterOutputStream {

        private final java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
        private boolean closed;

        AnnouncedCapabilities(java.io.OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) {
            buffer.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            buffer.write(b, off, len);
        }

        @Override
        public void flush() {
            // held until the answer is whole
        }

        @Override
        public void close() throws java.io.IOException {
            if (closed) {
                return;
            }
            closed = true;
            byte[] bytes = buffer.toByteArray();
            try {
                JsonNode answer = cloud.dementia.server.tools.Json.MAPPER.readTree(bytes);
                JsonNode capabilities = answer == null ? null : answer.path("result").get("capabilities");
                if (capabilities instanceof com.fasterxml.jackson.databind.node.ObjectNode c) {
                    c.remove("elicitation");
                    c.remove("completions");
                    bytes = cloud.dementia.server.tools.Json.bytes(answer);
                }
            } catch (java.io.IOException | RuntimeException e) {
                // not a JSON answer (an event stream): as it was
            }
            out.write(bytes);
            out.close();
        }
    }
}
