package cloud.dementia.server.mcp;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.store.McpSessions;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.SessionGuard;
import cloud.dementia.server.http.BearerAuth;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;

/**
 * MCP's Streamable HTTP transport at {@code /mcp}, on Helidon's WebServer: it reads a request, decides the version it
 * speaks, its caller and its session, and hands each JSON-RPC message to the protocol core ({@link McpProtocol}),
 * which knows nothing of HTTP.
 * <p>
 * Two eras share the endpoint. A request whose {@code MCP-Protocol-Version} header (or, without one, whose
 * {@code _meta}) names 2026-07-28 is stateless: its headers must agree with its body ({@code -32020}), it is served
 * without a session, and nothing is written for it. Otherwise the 2024-11-05 to 2025-11-25 rules hold: {@code initialize}
 * opens a session, kept in the control schema so every replica serves it ({@link SessionGuard}); every later request
 * names it in {@code Mcp-Session-Id} (another key's: 403; unknown or forgotten: 404) and {@code DELETE} ends it. An
 * unknown version is 400 in both eras, and every error answers the request's own id when it could be read.
 */
public final class McpEndpoint implements HttpService {

    public static final String PATH = "/mcp";
    public static final String SERVER_NAME = McpProtocol.SERVER_NAME;
    public static final HeaderName SESSION_ID_HEADER = HeaderNames.create("Mcp-Session-Id");
    public static final HeaderName VERSION_HEADER = HeaderNames.create("MCP-Protocol-Version");
    static final HeaderName METHOD_HEADER = HeaderNames.create("Mcp-Method");
    static final HeaderName NAME_HEADER = HeaderNames.create("Mcp-Name");
    static final String META_VERSION = "io.modelcontextprotocol/protocolVersion";
    static final String META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
    static final String META_SERVER_INFO = "io.modelcontextprotocol/serverInfo";
    static final String META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

    private final McpProtocol protocol;
    private final SessionGuard sessions;
    private final ObjectNode serverInfo;
    /** Requests in progress, by session and JSON-RPC id: an id must be unique while its request is outstanding. */
    private final java.util.Set<String> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions) {
        this(tools, version, sessions, null, null, null);
    }

    /**
     * @param projects    the project registry, or {@code null} for a server without contexts (no resources)
     * @param contexts    the contexts, or {@code null}
     * @param mcpSessions where sessions of the 2025 versions keep their subscriptions, or {@code null}
     */
    public McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions, Projects projects, Contexts contexts, McpSessions mcpSessions) {
        this.protocol = new McpProtocol(tools, version, projects, contexts, mcpSessions);
        this.sessions = sessions;
        this.serverInfo = Json.object().put("name", SERVER_NAME).put("version", version);
    }

    /** Ends the event streams (each is told, where its version can be) and stops watching contexts. */
    public void close() {
        protocol.close();
    }

    /** @return the protocol core this endpoint serves */
    public McpProtocol protocol() {
        return protocol;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post(PATH, this::post).get(PATH, this::get).delete(PATH, this::delete);
    }

    // ---------------------------------------------------------------- GET and DELETE (sessions of the 2025 versions)

    /**
     * A session's event stream (2025 versions): the {@code notifications/resources/updated} of the resources it
     * subscribed to, on whichever replica they were subscribed and changed. Without a session, or for 2026-07-28 (which
     * has {@code subscriptions/listen} instead), there is none.
     */
    private void get(ServerRequest req, ServerResponse res) {
        Optional<String> sessionId = sessionIdOf(req);
        Optional<ContextWatch> watch = protocol.watch();
        if (sessionId.isEmpty() || watch.isEmpty() || isModern(req.headers().first(VERSION_HEADER))
                || !req.headers().isAccepted(MediaTypes.TEXT_EVENT_STREAM)) {
            res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST, DELETE").send();
            return;
        }
        if (!ownSession(req, res, sessionId.get(), MissingNode.getInstance())) {
            return;
        }
        Caller caller = BearerAuth.caller(req.context());
        McpVersion version = req.headers().first(VERSION_HEADER).flatMap(McpVersion::of).orElse(McpVersion.ASSUMED_WITHOUT_HEADER);
        McpRequest request = new McpRequest(version, caller, sessionId, MissingNode.getInstance());
        try (ContextWatch.Subscription subscription = watch.get().subscribe(); McpStream stream = McpStream.open(res)) {
            long refreshed = 0;
            while (subscription.open() && stream.open()) {
                if (System.nanoTime() - refreshed > STREAM_REFRESH.toNanos()) {
                    // what the session watches, as subscribed through any replica; a session ended or forgotten ends its stream
                    if (sessions.mcp(sessionId.get(), caller) != SessionGuard.Verdict.OWN) {
                        return;
                    }
                    subscription.watch(protocol.subscribedBy(sessionId.get(), request));
                    refreshed = System.nanoTime();
                }
                Optional<String> uri = subscription.next(Duration.ofMillis(500));
                if (uri.isPresent()) {
                    stream.send(updated(uri.get(), null));
                } else {
                    stream.keepAlive();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (PoolException e) {
            // the stream ends; the client opens another
        }
    }

    private static final Duration STREAM_REFRESH = Duration.ofSeconds(1);

    private static ObjectNode updated(String uri, JsonNode subscriptionId) {
        ObjectNode n = Json.object().put("jsonrpc", "2.0").put("method", "notifications/resources/updated");
        ObjectNode params = n.putObject("params");
        if (subscriptionId != null) {
            params.putObject("_meta").set(META_SUBSCRIPTION_ID, subscriptionId);
        }
        params.put("uri", uri);
        return n;
    }

    /**
     * {@code subscriptions/listen} (2026-07-28): the acknowledgement, then a {@code notifications/resources/updated}
     * for each watched context that changes, until the client closes the stream or the server stops (then the
     * request's result ends it).
     */
    private void listen(ServerResponse res, JsonNode body, McpRequest request) {
        JsonNode id = body.get("id");
        JsonNode wanted = body.path("params").path("notifications");
        List<String> uris = new java.util.ArrayList<>();
        wanted.path("resourceSubscriptions").forEach(u -> uris.add(u.asText()));
        List<ContextWatch.Target> targets;
        try {
            if (!wanted.isObject() || (wanted.has("resourceSubscriptions") && !wanted.path("resourceSubscriptions").isArray())) {
                throw McpError.invalidParams("subscriptions/listen needs `notifications`, an object; `resourceSubscriptions` is a list of URIs");
            }
            targets = uris.isEmpty() ? List.of() : protocol.targets(uris, request);
        } catch (McpError e) {
            McpRequestGate.refuse(res, e.code() == McpError.METHOD_NOT_FOUND ? Status.NOT_FOUND_404 : Status.OK_200, e, id);
            return;
        }
        ContextWatch watch = protocol.watch().orElse(null);
        try (ContextWatch.Subscription subscription = watch == null ? null : watch.subscribe(); McpStream stream = McpStream.open(res)) {
            ObjectNode ack = Json.object().put("jsonrpc", "2.0").put("method", "notifications/subscriptions/acknowledged");
            ObjectNode params = ack.putObject("params");
            params.putObject("_meta").set(META_SUBSCRIPTION_ID, id);
            ObjectNode honoured = params.putObject("notifications");
            if (subscription != null && !uris.isEmpty()) {
                subscription.watch(targets);
                uris.forEach(honoured.putArray("resourceSubscriptions")::add);
            }
            stream.send(ack);
            while (stream.open() && (subscription == null || subscription.open())) {
                Optional<String> uri = subscription == null ? Optional.empty() : subscription.next(Duration.ofMillis(500));
                if (uri.isPresent()) {
                    stream.send(updated(uri.get(), id));
                } else {
                    if (subscription == null) {
                        Thread.sleep(500);
                    }
                    stream.keepAlive();
                }
            }
            if (stream.open()) {
                // the server ends it (shutting down): the request's result says it ended cleanly
                ObjectNode result = Json.object().put("resultType", "complete");
                result.putObject("_meta").set(META_SUBSCRIPTION_ID, id);
                stream.send(McpProtocol.answer(id, result));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void delete(ServerRequest req, ServerResponse res) {
        Optional<String> sessionId = sessionIdOf(req);
        if (sessionId.isEmpty() || isModern(req.headers().first(VERSION_HEADER))) {
            res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST").send();
            return;
        }
        if (!ownSession(req, res, sessionId.get(), MissingNode.getInstance())) {
            return;
        }
        // forgotten in the control schema, so every replica answers 404 from now on
        try {
            sessions.ended(sessionId.get());
        } catch (PoolException e) {
            McpRequestGate.refuse(res, "the session could not be ended", e);
            return;
        }
        res.status(Status.ACCEPTED_202).send();
    }

    // ---------------------------------------------------------------- POST

    private void post(ServerRequest req, ServerResponse res) {
        JsonNode body = McpRequestGate.admit(req, res);
        if (body == McpRequestGate.REFUSED) {
            return;
        }
        Caller caller = BearerAuth.caller(req.context());
        JsonNode id = body.isObject() ? body.get("id") : null;
        Optional<String> header = req.headers().first(VERSION_HEADER);
        JsonNode metaVersion = body.path("params").path("_meta").path(META_VERSION);
        if (header.isPresent() && McpVersion.of(header.get()).isEmpty()) {
            unsupported(res, header.get(), id);
            return;
        }
        if (isModern(header) || (header.isEmpty() && !metaVersion.isMissingNode())) {
            stateless(req, res, body, header, caller);
            return;
        }
        McpVersion version = header.flatMap(McpVersion::of).orElse(McpVersion.ASSUMED_WITHOUT_HEADER);
        Optional<String> sessionId = sessionIdOf(req);
        if (sessionId.isEmpty()) {
            if (!body.isObject() || !"initialize".equals(body.path("method").asText("")) || id == null) {
                McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.INVALID_REQUEST, body.isArray()
                        ? "without an Mcp-Session-Id, send initialize alone (not in a batch) first"
                        : "the Mcp-Session-Id header is missing: send initialize first and then the id it returns with every request "
                        + "(or speak protocol 2026-07-28, which has no sessions: MCP-Protocol-Version and _meta on every request)"), id);
                return;
            }
            initialize(res, body, caller);
            return;
        }
        if (!ownSession(req, res, sessionId.get(), id)) {
            return;
        }
        McpRequest request = new McpRequest(version, caller, sessionId, MissingNode.getInstance());
        if (body.isArray()) {
            if (!version.batches()) {
                McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.INVALID_REQUEST,
                        "protocol " + version + " has no batches: send one JSON-RPC message per request"), null);
                return;
            }
            ArrayNode answers = Json.array();
            for (JsonNode message : body) {
                protocol.handle(message, request).ifPresent(answers::add);
            }
            if (answers.isEmpty()) {
                res.status(Status.ACCEPTED_202).send();
            } else {
                send(req, res, Status.OK_200, answers);
            }
            return;
        }
        if ("initialize".equals(body.path("method").asText("")) && id != null) {
            // initialized again within its session: the same session, answered afresh
            res.header(SESSION_ID_HEADER, sessionId.get());
        }
        if (id == null || !body.has("method")) {
            protocol.handle(body, request);
            res.status(Status.ACCEPTED_202).send();
            return;
        }
        String key = sessionId.get() + '\u0000' + id;
        if (!inFlight.add(key)) {
            McpRequestGate.refuse(res, Status.CONFLICT_409, new McpError(McpError.INVALID_REQUEST, "request id " + id
                    + " is already in progress in this session: an id must be unique while its request is outstanding"), id);
            return;
        }
        try {
            ObjectNode answer = protocol.handle(body, request).orElseThrow();
            send(req, res, Status.OK_200, answer);
        } finally {
            inFlight.remove(key);
        }
    }

    /** {@code initialize} without a session: a new session, kept in the control schema, and the protocol's answer. */
    private void initialize(ServerResponse res, JsonNode body, Caller caller) {
        String sessionId = java.util.UUID.randomUUID().toString();
        try {
            sessions.opened(sessionId, caller);
        } catch (PoolException e) {
            McpRequestGate.refuse(res, "the session could not be opened", e);
            return;
        }
        McpVersion asked = McpVersion.of(body.path("params").path("protocolVersion").asText("")).orElse(McpVersion.NEWEST_WITH_SESSIONS);
        McpRequest request = new McpRequest(asked.stateless() ? McpVersion.NEWEST_WITH_SESSIONS : asked, caller, Optional.of(sessionId),
                body.path("params").path("capabilities"));
        ObjectNode answer = protocol.handle(body, request).orElseThrow();
        res.status(Status.OK_200).header(SESSION_ID_HEADER, sessionId).header(HeaderValues.CONTENT_TYPE_JSON).send(Json.bytes(answer));
    }

    /** A session id must be one this key opened: another key's is 403, an unknown or forgotten one 404. */
    private boolean ownSession(ServerRequest req, ServerResponse res, String sessionId, JsonNode id) {
        SessionGuard.Verdict verdict;
        try {
            verdict = sessions.mcp(sessionId, BearerAuth.caller(req.context()));
        } catch (PoolException e) {
            McpRequestGate.refuse(res, "the session could not be checked", e);
            return false;
        }
        return switch (verdict) {
            case OWN -> true;
            case OTHERS -> {
                McpRequestGate.refuse(res, Status.FORBIDDEN_403, new McpError(McpError.INVALID_REQUEST, "this session belongs to another API key"), id);
                yield false;
            }
            case UNKNOWN -> {
                McpRequestGate.refuse(res, Status.NOT_FOUND_404, new McpError(McpError.INVALID_REQUEST, "Session not found: it ended or was forgotten after "
                        + sessions.idle().toSeconds() + " s unused; send initialize for a new one"), id);
                yield false;
            }
        };
    }

    // ---------------------------------------------------------------- 2026-07-28: stateless

    private void stateless(ServerRequest req, ServerResponse res, JsonNode body, Optional<String> header, Caller caller) {
        if (!body.isObject()) {
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.INVALID_REQUEST,
                    "protocol 2026-07-28 has no batches: send one JSON-RPC message per request"), null);
            return;
        }
        JsonNode id = body.get("id");
        JsonNode meta = body.path("params").path("_meta");
        JsonNode metaVersion = meta.path(META_VERSION);
        if (metaVersion.isTextual() && McpVersion.of(metaVersion.asText()).isEmpty()) {
            unsupported(res, metaVersion.asText(), id);
            return;
        }
        Optional<String> mismatch = headerMismatch(req, body, header, metaVersion);
        if (mismatch.isPresent()) {
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.HEADER_MISMATCH, "Header mismatch: " + mismatch.get()), id);
            return;
        }
        McpVersion version = McpVersion.of(metaVersion.asText()).orElseThrow();
        if (!version.stateless()) {
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.UNSUPPORTED_VERSION,
                    "protocol " + version + " is spoken through initialize and a session, not per request", supported(version.id()), 400), id);
            return;
        }
        McpRequest request = new McpRequest(version, caller, Optional.empty(), meta.path(META_CAPABILITIES));
        if (id != null && "subscriptions/listen".equals(body.path("method").asText())) {
            listen(res, body, request);
            return;
        }
        if (id == null || !body.has("method")) {
            protocol.handle(body, request);
            res.status(Status.ACCEPTED_202).send();
            return;
        }
        ObjectNode answer = protocol.handle(body, request).orElseThrow();
        JsonNode result = answer.get("result");
        if (result instanceof ObjectNode r) {
            r.withObject("_meta").set(META_SERVER_INFO, serverInfo);
        }
        int code = answer.path("error").path("code").asInt(0);
        Status status = code == McpError.METHOD_NOT_FOUND ? Status.NOT_FOUND_404
                : code == McpError.HEADER_MISMATCH || code == McpError.UNSUPPORTED_VERSION || code == McpError.INVALID_REQUEST ? Status.BAD_REQUEST_400
                : Status.OK_200;
        send(req, res, status, answer);
    }

    /** @return what disagrees between the headers and the body of a 2026-07-28 request, if anything */
    private static Optional<String> headerMismatch(ServerRequest req, JsonNode body, Optional<String> header, JsonNode metaVersion) {
        if (header.isEmpty()) {
            return Optional.of("the MCP-Protocol-Version header is missing");
        }
        if (!metaVersion.isTextual()) {
            return Optional.of("the request's _meta has no " + META_VERSION + " (the header says " + header.get() + ")");
        }
        if (!header.get().equals(metaVersion.asText())) {
            return Optional.of("MCP-Protocol-Version header value '" + header.get() + "' does not match body value '" + metaVersion.asText() + "'");
        }
        String method = body.path("method").asText("");
        Optional<String> methodHeader = req.headers().first(METHOD_HEADER);
        if (methodHeader.isEmpty()) {
            return Optional.of("the Mcp-Method header is missing");
        }
        if (!methodHeader.get().equals(method)) {
            return Optional.of("Mcp-Method header value '" + methodHeader.get() + "' does not match body value '" + method + "'");
        }
        String nameField = switch (method) {
            case "tools/call", "prompts/get" -> "name";
            case "resources/read" -> "uri";
            default -> null;
        };
        if (nameField != null) {
            JsonNode value = body.path("params").path(nameField);
            Optional<String> name = req.headers().first(NAME_HEADER).map(McpEndpoint::decodeHeader);
            if (name.isEmpty()) {
                return value.isMissingNode() || value.isNull() ? Optional.empty() : Optional.of("the Mcp-Name header is missing");
            }
            if (name.get() == null) {
                return Optional.of("the Mcp-Name header is not valid Base64 between =?base64? and ?=");
            }
            if (!value.isTextual() || !value.asText().equals(name.get())) {
                return Optional.of("Mcp-Name header value '" + name.get() + "' does not match body value '" + value.asText("") + "'");
            }
        }
        return Optional.empty();
    }

    /** @return a header value as sent, or decoded from {@code =?base64?...?=}; {@code null} when that is not Base64 */
    static String decodeHeader(String value) {
        if (value.startsWith("=?base64?") && value.endsWith("?=") && value.length() >= "=?base64??=".length()) {
            try {
                return new String(Base64.getDecoder().decode(value.substring("=?base64?".length(), value.length() - 2)), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return value;
    }

    private static void unsupported(ServerResponse res, String requested, JsonNode id) {
        McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.UNSUPPORTED_VERSION, "Unsupported protocol version: " + requested
                + " (this server speaks " + String.join(", ", McpVersion.ids()) + ")", supported(requested), 400), id);
    }

    private static ObjectNode supported(String requested) {
        ObjectNode data = Json.object();
        McpVersion.ids().reversed().forEach(data.putArray("supported")::add);
        data.put("requested", requested);
        return data;
    }

    private static boolean isModern(Optional<String> header) {
        return header.flatMap(McpVersion::of).map(McpVersion::stateless).orElse(false);
    }

    // ---------------------------------------------------------------- sending

    /** One JSON answer, or one SSE event holding it when the client takes only an event stream. */
    private static void send(ServerRequest req, ServerResponse res, Status status, JsonNode answer) {
        if (takesJson(req)) {
            res.status(status).header(HeaderValues.CONTENT_TYPE_JSON).send(Json.bytes(answer));
        } else {
            res.status(status).header(HeaderValues.CONTENT_TYPE_EVENT_STREAM).header(HeaderNames.CACHE_CONTROL, "no-cache")
                    .header(HeaderNames.create("X-Accel-Buffering"), "no")
                    .send(("event: message\ndata: " + Json.compact(answer) + "\n\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** @return whether the client takes a plain JSON answer (no {@code Accept}, or one that names JSON or any type) */
    private static boolean takesJson(ServerRequest req) {
        return req.headers().acceptedTypes().isEmpty() || req.headers().isAccepted(MediaTypes.APPLICATION_JSON);
    }

    private static Optional<String> sessionIdOf(ServerRequest req) {
        return req.headers().first(SESSION_ID_HEADER).filter(id -> !id.isBlank());
    }
}
