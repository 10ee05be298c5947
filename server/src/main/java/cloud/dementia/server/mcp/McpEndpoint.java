package cloud.dementia.server.mcp;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
 * which knows nothing of HTTP. A request's answer is one JSON object, or, when the request sends something first
 * (progress, a log message, a question to the client), an event stream that ends with the answer.
 * <p>
 * Two eras share the endpoint, chosen per request. A request whose {@code MCP-Protocol-Version} header names
 * 2026-07-28, or whose {@code _meta} names a version, is stateless: its headers must agree with its body, it is
 * served without a session, and nothing is written for it. Otherwise the 2024-11-05 to 2025-11-25 rules hold:
 * {@code initialize} opens a session, kept in the control schema so every replica serves it ({@link SessionGuard});
 * every later request names it in {@code Mcp-Session-Id} (another key's: 403; unknown or forgotten: 404); {@code GET}
 * is its stream of resource updates and {@code DELETE} ends it. An unknown version is 400 in both eras, and every
 * error answers the request's own id when it could be read.
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
    /** How long a request waits for the client's answer to a question of the server's (2025 versions). */
    static final Duration ASK_WAIT = Duration.ofMinutes(5);

    private final McpProtocol protocol;
    private final SessionGuard sessions;
    private final AutoCloseable onClose;
    /** Requests in progress, by session and JSON-RPC id: an id must be unique while its request is outstanding. */
    private final java.util.Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /** Questions of the server's waiting for the client's answer, by session and the question's id. */
    private final Map<String, CompletableFuture<JsonNode>> asked = new ConcurrentHashMap<>();
    /** The server's name and version, as each 2026-07-28 result carries them. */
    private final ObjectNode identity;
    /** Per tool, its arguments that a 2026-07-28 request mirrors in headers ({@code x-mcp-header}): argument to header name. */
    private final Map<String, Map<String, HeaderName>> mirrored = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param features what the server offers
     * @param sessions the sessions of the 2025 versions
     * @param onClose  closed with the endpoint (the features' watches), or {@code null}
     */
    public McpEndpoint(McpFeatures features, SessionGuard sessions, AutoCloseable onClose) {
        this.protocol = new McpProtocol(features);
        this.sessions = sessions;
        this.onClose = onClose;
        ObjectNode info = features.serverInfo(McpVersion.V2026_07_28);
        this.identity = Json.object().put("name", info.path("name").asText()).put("version", info.path("version").asText());
    }

    /** The memory server's endpoint: every tool, its prompts, contexts as resources (when there are projects and contexts). */
    public McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions, Projects projects, Contexts contexts, McpSessions mcpSessions) {
        this(new MemoryFeatures(tools, version, projects, contexts, mcpSessions), sessions);
    }

    private McpEndpoint(MemoryFeatures features, SessionGuard sessions) {
        this(features, sessions, features);
    }

    /** Ends the event streams (each is told, where its version can be) and stops watching. */
    public void close() {
        closed = true;
        asked.values().forEach(f -> f.completeExceptionally(new McpError(McpError.INTERNAL_ERROR, "the server is stopping")));
        if (onClose != null) {
            try {
                onClose.close();
            } catch (Exception e) {
                // nothing more to stop
            }
        }
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
        if (sessionId.isEmpty() || !protocol.features().subscriptions() || isModern(req.headers().first(VERSION_HEADER))
                || !req.headers().isAccepted(MediaTypes.TEXT_EVENT_STREAM)) {
            res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST, DELETE").send();
            return;
        }
        if (!ownSession(req, res, sessionId.get(), null)) {
            return;
        }
        McpVersion version = req.headers().first(VERSION_HEADER).flatMap(McpVersion::of).orElse(McpVersion.ASSUMED_WITHOUT_HEADER);
        McpRequest request = new McpRequest(version, callerOf(req), sessionId, MissingNode.getInstance());
        try (McpFeatures.McpWatch watch = protocol.features().watch(request, null); McpStream stream = McpStream.open(res)) {
            while (!closed && watch.open() && stream.open()) {
                Optional<ObjectNode> n = watch.next(Duration.ofMillis(500));
                if (n.isPresent()) {
                    stream.send(n.get());
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

    private void delete(ServerRequest req, ServerResponse res) {
        Optional<String> sessionId = sessionIdOf(req);
        if (sessionId.isEmpty() || isModern(req.headers().first(VERSION_HEADER))) {
            res.status(Status.METHOD_NOT_ALLOWED_405).header(HeaderNames.ALLOW, "POST").send();
            return;
        }
        if (!ownSession(req, res, sessionId.get(), null)) {
            return;
        }
        // forgotten in the control schema, so every replica answers 404 from now on
        try {
            sessions.ended(sessionId.get());
        } catch (PoolException e) {
            McpRequestGate.refuse(res, "the session could not be ended", e);
            return;
        }
        protocol.ended(sessionId.get());
        res.status(Status.ACCEPTED_202).send();
    }

    // ---------------------------------------------------------------- POST

    private void post(ServerRequest req, ServerResponse res) {
        JsonNode body = McpRequestGate.admit(req, res);
        if (body == McpRequestGate.REFUSED) {
            return;
        }
        Caller caller = callerOf(req);
        JsonNode id = body.isObject() ? body.get("id") : null;
        Optional<String> header = req.headers().first(VERSION_HEADER).map(String::strip);
        JsonNode meta = body.path("params").path("_meta");
        if (isModern(header) || (body.isObject() && meta.has(META_VERSION))) {
            stateless(req, res, body, header, caller);
            return;
        }
        if (header.isPresent() && McpVersion.of(header.get()).isEmpty()) {
            unsupported(res, header.get(), id, McpVersion.ids());
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
            initialize(req, res, body, caller);
            return;
        }
        if (!ownSession(req, res, sessionId.get(), id)) {
            return;
        }
        McpRequest request = new McpRequest(version, caller, sessionId, () -> capabilitiesOf(sessionId.get()));
        if (body.isArray()) {
            if (!version.batches()) {
                McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.INVALID_REQUEST,
                        "protocol " + version + " has no batches: send one JSON-RPC message per request"), null);
                return;
            }
            ArrayNode answers = Json.array();
            for (JsonNode message : body) {
                answered(sessionId.get(), message);
                protocol.handle(message, request).ifPresent(answers::add);
            }
            if (answers.isEmpty()) {
                res.status(Status.ACCEPTED_202).send();
            } else {
                sendJson(req, res, Status.OK_200, answers);
            }
            return;
        }
        if (id == null || !body.has("method")) {
            // a notification, or the client's answer to a question of ours
            answered(sessionId.get(), body);
            res.status(Status.ACCEPTED_202).send();
            return;
        }
        if ("initialize".equals(body.path("method").asText(""))) {
            // initialized again within its session: the same session, answered afresh
            res.header(SESSION_ID_HEADER, sessionId.get());
        }
        String key = sessionId.get() + '\u0000' + id;
        if (!inFlight.add(key)) {
            McpRequestGate.refuse(res, Status.CONFLICT_409, new McpError(McpError.INVALID_REQUEST, "request id " + id
                    + " is already in progress in this session: an id must be unique while its request is outstanding"), id);
            return;
        }
        try (Answer answer = new Answer(req, res, sessionId)) {
            answer.finish(Status.OK_200, protocol.handle(body, request, answer).orElseThrow());
        } finally {
            inFlight.remove(key);
        }
    }

    /**
     * A client's answer to a question of ours: handed to the request waiting for it on this replica, or kept in the
     * control schema for the replica that asked.
     */
    private void answered(String sessionId, JsonNode message) {
        if (message.isObject() && !message.has("method") && message.has("id") && (message.has("result") || message.has("error"))) {
            String id = message.get("id").asText();
            CompletableFuture<JsonNode> waiting = asked.remove(sessionId + '\u0000' + id);
            if (waiting != null) {
                waiting.complete(message);
            } else if (id.startsWith(ASK_PREFIX)) {
                try {
                    sessions.keepAnswer(sessionId, id, Json.compact(message));
                } catch (PoolException e) {
                    // the asking replica waits and then says no answer came
                }
            }
        }
    }

    /** Questions of the server's carry ids of this form, unique across replicas (so an answer finds its question anywhere). */
    static final String ASK_PREFIX = "dementia-ask-";

    /** {@code initialize} without a session: a new session, kept in the control schema, and the protocol's answer. */
    private void initialize(ServerRequest req, ServerResponse res, JsonNode body, Caller caller) {
        String sessionId = java.util.UUID.randomUUID().toString();
        JsonNode capabilities = body.path("params").path("capabilities");
        try {
            sessions.opened(sessionId, caller, capabilities.isObject() ? Json.compact(capabilities) : null);
        } catch (PoolException e) {
            McpRequestGate.refuse(res, "the session could not be opened", e);
            return;
        }
        McpVersion asked = McpVersion.of(body.path("params").path("protocolVersion").asText("")).orElse(McpVersion.NEWEST_WITH_SESSIONS);
        McpRequest request = new McpRequest(asked.stateless() ? McpVersion.NEWEST_WITH_SESSIONS : asked, caller, Optional.of(sessionId),
                body.path("params").path("capabilities"));
        ObjectNode answer = protocol.handle(body, request).orElseThrow();
        res.header(SESSION_ID_HEADER, sessionId);
        sendJson(req, res, Status.OK_200, answer);
    }

    /** @return what the session's client said it can do in its initialize (none when the database cannot say now) */
    private JsonNode capabilitiesOf(String sessionId) {
        try {
            return sessions.clientCapabilities(sessionId).map(Json::parse).orElse(MissingNode.getInstance());
        } catch (PoolException e) {
            return MissingNode.getInstance();
        }
    }

    /** A session id must be one this key opened: another key's is 403, an unknown or forgotten one 404. */
    private boolean ownSession(ServerRequest req, ServerResponse res, String sessionId, JsonNode id) {
        SessionGuard.Verdict verdict;
        try {
            verdict = sessions.mcp(sessionId, callerOf(req));
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

    /**
     * A request of the stateless era, checked in the order the specification's errors are told apart: the version
     * header, the request's own {@code _meta}, the two against each other, the version, the mirrored headers; then the
     * method (unknown or removed: 404).
     */
    private void stateless(ServerRequest req, ServerResponse res, JsonNode body, Optional<String> header, Caller caller) {
        if (!body.isObject()) {
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.INVALID_REQUEST,
                    "protocol 2026-07-28 has no batches: send one JSON-RPC message per request"), null);
            return;
        }
        JsonNode id = body.get("id");
        JsonNode meta = body.path("params").path("_meta");
        if (header.isEmpty()) {
            headerMismatch(res, "the MCP-Protocol-Version header is missing (the request's _meta names " + meta.path(META_VERSION).asText() + ")", id);
            return;
        }
        if (!meta.isObject() || !meta.path(META_VERSION).isTextual() || !meta.path(META_CAPABILITIES).isObject()) {
            McpRequestGate.refuse(res, Status.BAD_REQUEST_400, McpError.invalidParams("a 2026-07-28 request carries params._meta with "
                    + META_VERSION + " (a string) and " + META_CAPABILITIES + " (an object)"), id);
            return;
        }
        String metaVersion = meta.path(META_VERSION).asText();
        if (!header.get().equals(metaVersion)) {
            headerMismatch(res, "MCP-Protocol-Version header value '" + header.get() + "' does not match body value '" + metaVersion + "'", id);
            return;
        }
        Optional<McpVersion> version = McpVersion.of(metaVersion).filter(McpVersion::stateless);
        if (version.isEmpty()) {
            unsupported(res, metaVersion, id, McpVersion.of(metaVersion).isPresent()
                    ? McpVersion.ids().stream().filter(v -> McpVersion.of(v).orElseThrow().stateless()).toList() : McpVersion.ids());
            return;
        }
        Optional<String> mismatch = mirroredHeaders(req, body);
        if (mismatch.isPresent()) {
            headerMismatch(res, mismatch.get(), id);
            return;
        }
        McpRequest request = new McpRequest(version.get(), caller, Optional.empty(), meta.path(META_CAPABILITIES));
        if (id == null || !body.has("method")) {
            res.status(Status.ACCEPTED_202).send();
            return;
        }
        if ("subscriptions/listen".equals(body.path("method").asText())) {
            listen(req, res, body, request);
            return;
        }
        try (Answer answer = new Answer(req, res, Optional.empty())) {
            ObjectNode out = protocol.handle(body, request, answer).orElseThrow();
            if (out.get("result") instanceof ObjectNode r) {
                // who answered, in each result: its name and version (server/discover gives the rest)
                r.withObject("_meta").set(META_SERVER_INFO, identity);
            }
            int code = out.path("error").path("code").asInt(0);
            Status status = code == McpError.METHOD_NOT_FOUND ? Status.NOT_FOUND_404
                    : code == McpError.HEADER_MISMATCH || code == McpError.UNSUPPORTED_VERSION || code == McpError.MISSING_CLIENT_CAPABILITY
                    || code == McpError.INVALID_REQUEST ? Status.BAD_REQUEST_400 : Status.OK_200;
            answer.finish(status, out);
        }
    }

    private static void headerMismatch(ServerResponse res, String what, JsonNode id) {
        McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.HEADER_MISMATCH, "Header mismatch: " + what), id);
    }

    /** @return what disagrees between the mirrored headers ({@code Mcp-Method}, {@code Mcp-Name}, {@code Mcp-Param-*}) and the body */
    private Optional<String> mirroredHeaders(ServerRequest req, JsonNode body) {
        String method = body.path("method").asText("");
        Optional<String> methodHeader = req.headers().first(METHOD_HEADER).map(String::strip);
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
        if (nameField == null) {
            return Optional.empty();
        }
        JsonNode value = body.path("params").path(nameField);
        Optional<String> name = req.headers().first(NAME_HEADER).map(String::strip);
        if (name.isEmpty()) {
            return value.isMissingNode() || value.isNull() ? Optional.empty() : Optional.of("the Mcp-Name header is missing");
        }
        String decoded = decodeHeader(name.get());
        if (decoded == null) {
            return Optional.of("the Mcp-Name header is not valid Base64 between =?base64? and ?=");
        }
        if (!value.isTextual() || !value.asText().equals(decoded)) {
            return Optional.of("Mcp-Name header value '" + decoded + "' does not match body value '" + value.asText("") + "'");
        }
        if (method.equals("tools/call")) {
            return customHeaders(req, value.asText(), body.path("params").path("arguments"));
        }
        return Optional.empty();
    }

    /** The arguments a tool's schema marks {@code x-mcp-header} must be mirrored in {@code Mcp-Param-<Name>}, and agree. */
    private Optional<String> customHeaders(ServerRequest req, String tool, JsonNode arguments) {
        Map<String, HeaderName> headers = mirrored.computeIfAbsent(tool, t -> {
            Map<String, HeaderName> found = new java.util.LinkedHashMap<>();
            protocol.features().toolSchema(t).ifPresent(schema -> schema.path("properties").fields().forEachRemaining(p -> {
                if (p.getValue().path("x-mcp-header").isTextual()) {
                    found.put(p.getKey(), HeaderNames.create("Mcp-Param-" + p.getValue().path("x-mcp-header").asText()));
                }
            }));
            return Map.copyOf(found);
        });
        for (Map.Entry<String, HeaderName> h : headers.entrySet()) {
            JsonNode argument = arguments.path(h.getKey());
            if (argument.isMissingNode() || argument.isNull()) {
                continue;
            }
            String header = h.getValue().defaultCase();
            Optional<String> sent = req.headers().first(h.getValue()).map(String::strip);
            if (sent.isEmpty()) {
                return Optional.of("the " + header + " header is missing (argument `" + h.getKey() + "` is given)");
            }
            String decoded = decodeHeader(sent.get());
            if (decoded == null) {
                return Optional.of("the " + header + " header is not valid Base64 between =?base64? and ?=");
            }
            boolean same = argument.isNumber() ? sameNumber(decoded, argument) : decoded.equals(argument.asText());
            if (!same) {
                return Optional.of(header + " header value '" + decoded + "' does not match body value '" + argument.asText() + "'");
            }
        }
        return Optional.empty();
    }

    private static boolean sameNumber(String header, JsonNode argument) {
        try {
            return new java.math.BigDecimal(header).compareTo(argument.decimalValue()) == 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** @return a header value as sent, or decoded from {@code =?base64?...?=}; {@code null} when that is not Base64 */
    static String decodeHeader(String value) {
        if (value.startsWith("=?base64?") && value.endsWith("?=") && value.length() >= "=?base64??=".length()) {
            String encoded = value.substring("=?base64?".length(), value.length() - 2);
            if (encoded.length() % 4 != 0) {
                return null;
            }
            try {
                return new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return value;
    }

    private static void unsupported(ServerResponse res, String requested, JsonNode id, List<String> supported) {
        ObjectNode data = Json.object();
        supported.reversed().forEach(data.putArray("supported")::add);
        data.put("requested", requested);
        McpRequestGate.refuse(res, Status.BAD_REQUEST_400, new McpError(McpError.UNSUPPORTED_VERSION, "Unsupported protocol version: " + requested
                + " (this server speaks " + String.join(", ", supported) + ")", data, 400), id);
    }

    private static boolean isModern(Optional<String> header) {
        return header.map(String::strip).flatMap(McpVersion::of).map(McpVersion::stateless).orElse(false);
    }

    /**
     * {@code subscriptions/listen} (2026-07-28): the acknowledgement, then the notifications the client opted in to
     * and the server honours, until the client closes the stream or the server stops (then the request's result ends it).
     */
    private void listen(ServerRequest req, ServerResponse res, JsonNode body, McpRequest request) {
        JsonNode id = body.get("id");
        JsonNode wanted = body.path("params").path("notifications");
        McpFeatures.McpWatch watch;
        try {
            if (!wanted.isObject() || (wanted.has("resourceSubscriptions") && !wanted.path("resourceSubscriptions").isArray())) {
                throw McpError.invalidParams("subscriptions/listen needs `notifications`, an object; `resourceSubscriptions` is a list of URIs");
            }
            List<String> uris = new ArrayList<>();
            wanted.path("resourceSubscriptions").forEach(u -> uris.add(u.asText()));
            watch = protocol.features().watch(request, new McpFeatures.Filter(wanted.path("toolsListChanged").asBoolean(false),
                    wanted.path("promptsListChanged").asBoolean(false), wanted.path("resourcesListChanged").asBoolean(false), uris));
        } catch (McpError e) {
            McpRequestGate.refuse(res, e.code() == McpError.METHOD_NOT_FOUND ? Status.NOT_FOUND_404 : Status.BAD_REQUEST_400, e, id);
            return;
        }
        try (watch; McpStream stream = McpStream.open(res)) {
            ObjectNode ack = Json.object().put("jsonrpc", "2.0").put("method", "notifications/subscriptions/acknowledged");
            ObjectNode params = ack.putObject("params");
            params.putObject("_meta").set(META_SUBSCRIPTION_ID, id);
            params.set("notifications", watch.honoured());
            stream.send(ack);
            while (!closed && stream.open() && watch.open()) {
                Optional<ObjectNode> n = watch.next(Duration.ofMillis(500));
                if (n.isPresent()) {
                    n.get().withObject("params").withObject("_meta").set(META_SUBSCRIPTION_ID, id);
                    stream.send(n.get());
                } else {
                    stream.keepAlive();
                }
            }
            if (stream.open()) {
                // the server ends it (stopping): the request's result says it ended cleanly
                ObjectNode result = Json.object().put("resultType", "complete");
                result.putObject("_meta").set(META_SUBSCRIPTION_ID, id);
                stream.send(McpProtocol.answer(id, result));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- sending

    /**
     * The answer to one request: plain JSON, unless the request sends something first; then an event stream, with the
     * answer as its last event. Also the channel the protocol's features use to notify and ask.
     */
    private final class Answer implements McpCall.Channel, AutoCloseable {
        private final ServerRequest req;
        private final ServerResponse res;
        private final Optional<String> sessionId;
        private McpStream stream;

        Answer(ServerRequest req, ServerResponse res, Optional<String> sessionId) {
            this.req = req;
            this.res = res;
            this.sessionId = sessionId;
        }

        private synchronized McpStream stream() {
            if (stream == null) {
                stream = McpStream.open(res);
            }
            return stream;
        }

        @Override
        public void notify(ObjectNode notification) {
            stream().send(notification);
        }

        @Override
        public JsonNode ask(String method, ObjectNode params, Duration timeout) {
            if (sessionId.isEmpty()) {
                throw new McpError(McpError.INTERNAL_ERROR, "a question needs a session to answer in");
            }
            String id = ASK_PREFIX + java.util.UUID.randomUUID();
            String key = sessionId.get() + '\u0000' + id;
            CompletableFuture<JsonNode> answer = new CompletableFuture<>();
            asked.put(key, answer);
            try {
                ObjectNode request = Json.object().put("jsonrpc", "2.0").put("id", id).put("method", method);
                request.set("params", params);
                stream().send(request);
                JsonNode response = await(answer, sessionId.get(), id, Duration.ofMillis(Math.min(timeout.toMillis(), ASK_WAIT.toMillis())));
                if (response.has("error")) {
                    throw new McpError(McpError.INTERNAL_ERROR, "the client refused " + method + ": " + response.path("error").path("message").asText());
                }
                return response.path("result");
            } catch (TimeoutException e) {
                throw new McpError(McpError.INTERNAL_ERROR, "no answer to " + method + " within " + timeout.toSeconds() + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new McpError(McpError.INTERNAL_ERROR, "interrupted while waiting for " + method);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof McpError m ? m : new McpError(McpError.INTERNAL_ERROR, String.valueOf(e.getCause()));
            } finally {
                asked.remove(key);
            }
        }

        /** Waits for the answer: here, or kept by another replica that took the client's POST (looked for every 200 ms). */
        private JsonNode await(CompletableFuture<JsonNode> answer, String session, String id, Duration timeout)
                throws InterruptedException, ExecutionException, TimeoutException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                try {
                    return answer.get(200, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    Optional<String> kept;
                    try {
                        kept = sessions.takeAnswer(session, id);
                    } catch (PoolException p) {
                        kept = Optional.empty();
                    }
                    if (kept.isPresent()) {
                        return Json.parse(kept.get());
                    }
                    if (System.nanoTime() > deadline || closed) {
                        throw e;
                    }
                }
            }
        }

        void finish(Status status, ObjectNode answer) {
            McpStream s;
            synchronized (this) {
                s = stream;
            }
            if (s == null) {
                sendJson(req, res, status, answer);
            } else {
                s.send(answer);
            }
        }

        @Override
        public void close() {
            McpStream s;
            synchronized (this) {
                s = stream;
            }
            if (s != null) {
                s.close();
            }
        }
    }

    /** One JSON answer, or one SSE event holding it when the client takes only an event stream. */
    private static void sendJson(ServerRequest req, ServerResponse res, Status status, JsonNode answer) {
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

    private static Caller callerOf(ServerRequest req) {
        return BearerAuth.caller(req.context());
    }
}
