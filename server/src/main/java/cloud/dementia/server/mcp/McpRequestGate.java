package cloud.dementia.server.mcp;

import java.io.IOException;
import java.io.InputStream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.admin.StrictJson;
import cloud.dementia.db.store.Failure;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.StorableText;
import cloud.dementia.server.tools.ToolArgumentException;

/**
 * What a {@code POST /mcp} must be before the protocol reads it, answered at once and plainly when it is not:
 * <ul>
 * <li>{@code Content-Type: application/json}, else 415;</li>
 * <li>an {@code Accept} that takes JSON or an event stream (or no {@code Accept}), else 406;</li>
 * <li>a body that is one JSON object or a batch of at most {@value #MAX_BATCH}, in valid UTF-8, nested at most
 * {@value #MAX_DEPTH} deep, with each key once and nothing after it, else 400 with JSON-RPC's parse error -32700 or
 * invalid request -32600 and a message that says what is wrong;</li>
 * <li>no string (or key) holds an unpaired surrogate, which no string stored can hold, else -32602 "invalid
 * params" naming the argument, as the answer to that request (the session goes on).</li>
 * </ul>
 * The body was already limited in size ({@code DEMENTIA_MAX_BODY_BYTES}).
 */
final class McpRequestGate {

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(McpRequestGate.class.getName());

    static final int MAX_DEPTH = 64;
    static final int MAX_BATCH = 50;

    private static final int PARSE_ERROR = -32700;
    private static final int INVALID_REQUEST = -32600;
    private static final int METHOD_NOT_FOUND = -32601;
    private static final int INVALID_PARAMS = -32602;

    private static final ObjectMapper STRICT = StrictJson.builder(MAX_DEPTH).build();

    private McpRequestGate() {
    }

    /** What was refused: the answer has been sent. */
    static final JsonNode REFUSED = com.fasterxml.jackson.databind.node.NullNode.getInstance();

    /** A chunked body went past DEMENTIA_MAX_BODY_BYTES as it was buffered; the rest of it is not read. */
    private static JsonNode tooLarge(ServerResponse res) {
        res.header(HeaderValues.CONNECTION_CLOSE);
        refuse(res, Status.REQUEST_ENTITY_TOO_LARGE_413, INVALID_REQUEST, "the body is larger than the server takes (DEMENTIA_MAX_BODY_BYTES)");
        return REFUSED;
    }

    /**
     * @return the request's body when it goes on to the extension ({@code MissingNode} for a request without one, a
     *         GET or DELETE), or {@link #REFUSED} when the answer has been sent
     */
    static JsonNode admit(ServerRequest req, ServerResponse res) {
        if (req.prologue().method() != Method.POST) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
        if (!req.headers().testContentType(MediaTypes.APPLICATION_JSON)) {
            String given = req.headers().contentType().map(Object::toString).orElse("none");
            refuse(res, Status.UNSUPPORTED_MEDIA_TYPE_415, INVALID_REQUEST,
                    "Content-Type must be application/json (got " + given + ")");
            return REFUSED;
        }
        if (!req.headers().isAccepted(MediaTypes.APPLICATION_JSON) && !req.headers().isAccepted(MediaTypes.TEXT_EVENT_STREAM)) {
            refuse(res, Status.NOT_ACCEPTABLE_406, INVALID_REQUEST, "Accept must include application/json and text/event-stream (got "
                    + req.headers().first(io.helidon.http.HeaderNames.ACCEPT).orElse("") + ")");
            return REFUSED;
        }
        if (!req.content().hasEntity()) {
            refuse(res, Status.BAD_REQUEST_400, PARSE_ERROR, "the body is empty: send one JSON-RPC request");
            return REFUSED;
        }
        try {
            req.content().buffer();
        } catch (IllegalStateException e) {
            // past maxBufferedEntitySize (the entity is read here for the first time, so that is the one reason)
            return tooLarge(res);
        } catch (RequestException e) {
            if (e.status() != Status.REQUEST_ENTITY_TOO_LARGE_413) {
                throw e;
            }
            return tooLarge(res);
        }
        JsonNode body;
        try {
            try (InputStream in = req.content().inputStream()) {
                body = STRICT.readTree(in);
            }
        } catch (JsonProcessingException e) {
            refuse(res, Status.BAD_REQUEST_400, PARSE_ERROR, "the body: " + Json.problem(e));
            return REFUSED;
        } catch (IOException | RuntimeException e) {
            refuse(res, Status.BAD_REQUEST_400, PARSE_ERROR, "the body could not be read: " + e.getMessage());
            return REFUSED;
        }
        if (body == null || body.isMissingNode()) {
            refuse(res, Status.BAD_REQUEST_400, PARSE_ERROR, "the body is empty: send one JSON-RPC request");
            return REFUSED;
        }
        if (body.isObject()) {
            // an unpaired surrogate escape is no text PostgreSQL can store: answer the request itself, naming the
            // argument, and the session goes on
            JsonNode params = body.path("params");
            try {
                if ("tools/call".equals(body.path("method").asText()) && params.path("arguments").isObject()) {
                    StorableText.checkSurrogates("", params.path("arguments"));
                }
                StorableText.checkSurrogates("params", params);
            } catch (ToolArgumentException e) {
                ObjectNode answer = error(INVALID_PARAMS, e.getMessage());
                answer.set("id", body.has("id") ? body.get("id") : com.fasterxml.jackson.databind.node.NullNode.getInstance());
                res.status(body.has("id") ? Status.OK_200 : Status.BAD_REQUEST_400).header(HeaderValues.CONTENT_TYPE_JSON).send(Json.bytes(answer));
                return REFUSED;
            }
        }
        if (body.isArray()) {
            if (body.isEmpty() || body.size() > MAX_BATCH) {
                refuse(res, Status.BAD_REQUEST_400, INVALID_REQUEST, "a batch holds 1 to " + MAX_BATCH + " messages (got " + body.size() + ")");
                return REFUSED;
            }
            return body;
        }
        if (!body.isObject()) {
            refuse(res, Status.BAD_REQUEST_400, INVALID_REQUEST, "the body must be a JSON-RPC object (got " + body.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + ")");
            return REFUSED;
        }
        return body;
    }

    /**
     * The one place a failure of the endpoint's own work (opening, checking or ending a session, reading a resource)
     * becomes an answer: JSON-RPC {@code -32603}, with 503 and {@code Retry-After} when the same request may succeed
     * later, else the status {@link Failure} gives (a bug: 500, logged here once).
     */
    static void refuse(ServerResponse res, String what, RuntimeException e) {
        Failure failure = Failure.of(e);
        if (failure.unavailable()) {
            res.header(io.helidon.http.HeaderNames.RETRY_AFTER, Integer.toString(failure.retryAfterSeconds()));
        }
        refuse(res, Status.create(failure.kind().httpStatus()), -32603, describe(what, e));
    }

    /** @return what failed and why, for a JSON-RPC error; a failure that is a bug is logged */
    static String describe(String what, RuntimeException e) {
        Failure failure = Failure.of(e);
        if (failure.kind() == Failure.Kind.INTERNAL) {
            LOG.log(java.util.logging.Level.WARNING, "MCP: " + what + ": " + failure.message(), e);
        }
        return what + ": " + failure.message() + (failure.unavailable() ? "; retry" : "");
    }

    static void refuse(ServerResponse res, Status status, int code, String message) {
        res.status(status).header(HeaderValues.CONTENT_TYPE_JSON).send(Json.bytes(error(code, message)));
    }

    /** Refuses a request whose id is known: the error answers that id. */
    static void refuse(ServerResponse res, Status status, McpError error, JsonNode id) {
        res.status(status).header(HeaderValues.CONTENT_TYPE_JSON).send(Json.bytes(McpProtocol.error(id, error)));
    }

    private static ObjectNode error(int code, String message) {
        ObjectNode o = Json.object();
        o.put("jsonrpc", "2.0");
        o.putNull("id");
        o.putObject("error").put("code", code).put("message", message);
        return o;
    }
}
