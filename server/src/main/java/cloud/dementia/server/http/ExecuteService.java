package cloud.dementia.server.http;

import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.db.store.Failure;
import cloud.dementia.server.auth.Caller;
import cloud.dementia.server.auth.SessionGuard;
import cloud.dementia.server.mcp.McpEndpoint;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;
import cloud.dementia.server.tools.ToolOutput;
import cloud.dementia.server.tools.ToolSpec;

/**
 * {@code POST /execute}: {@code {"tool": "...", "arguments": {...}}} runs one tool and answers
 * {@code {"success", "tool", "result", "latency_ms"}} (and {@code "structured"} when the output has it). An optional
 * {@code Mcp-Session-Id} header is passed to the tool as its session. The status follows the outcome
 * ({@link ToolOutcome.Kind#httpStatus()}): 200 on success and on a tool error, 400 for a bad argument or body, 404 for
 * an unknown tool, 503 with {@code Retry-After} when no connection could be had in time, 500 for a bug.
 */
public final class ExecuteService implements HttpService {

    public static final String PATH = "/execute";
    private static final Logger LOG = Logger.getLogger(ExecuteService.class.getName());

    private final ToolInvoker tools;
    private final SessionGuard sessions;

    public ExecuteService(ToolInvoker tools, SessionGuard sessions) {
        this.tools = tools;
        this.sessions = sessions;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post(PATH, this::execute);
    }

    private void execute(ServerRequest req, ServerResponse res) {
        try {
            run(req, res);
        } catch (HttpException | RequestException | java.io.UncheckedIOException e) {
            // the web server's own answers (a body too large or too slow) and a broken connection are its to handle
            throw e;
        } catch (RuntimeException e) {
            fail(res, e);
        }
    }

    private void run(ServerRequest req, ServerResponse res) {
        JsonNode body;
        try {
            body = req.content().hasEntity() ? Json.parse(req.content().inputStream()) : Json.parse("");
        } catch (IllegalArgumentException e) {
            refuse(res, Status.BAD_REQUEST_400, "the body must be a JSON object {\"tool\": \"...\", \"arguments\": {...}}: " + e.getMessage());
            return;
        }
        JsonNode tool = body.path("tool");
        JsonNode arguments = body.path("arguments");
        if (!body.isObject() || !tool.isTextual() || tool.asText().isBlank()) {
            refuse(res, Status.BAD_REQUEST_400, "the body must be a JSON object with a `tool` name (a string)");
            return;
        }
        if (!arguments.isMissingNode() && !arguments.isNull() && !arguments.isObject()) {
            refuse(res, Status.BAD_REQUEST_400, "`arguments` must be a JSON object");
            return;
        }
        Optional<ToolSpec> spec = tools.find(tool.asText());
        if (spec.isEmpty()) {
            refuse(res, Status.NOT_FOUND_404, "unknown tool `" + tool.asText() + "`");
            return;
        }
        Optional<String> sessionId = req.headers().first(McpEndpoint.SESSION_ID_HEADER).filter(id -> !id.isBlank());
        Caller caller = BearerAuth.caller(req.context());
        if (sessionId.isPresent()) {
            sessionId = Optional.of(sessions.execute(sessionId.get(), caller));
        }
        long start = System.nanoTime();
        ToolOutcome outcome = tools.invoke(spec.get(), arguments.isObject() ? (ObjectNode) arguments : Json.object(), sessionId, caller);
        long latencyMs = (System.nanoTime() - start) / 1_000_000;

        ObjectNode answer = Json.object();
        answer.put("success", outcome instanceof ToolOutcome.Success);
        answer.put("tool", spec.get().name());
        switch (outcome) {
            case ToolOutcome.Success success -> {
                // the data itself, not JSON inside a string; a text result stays a string
                ToolOutput output = success.output();
                output.json().ifPresentOrElse(data -> answer.set("result", data), () -> answer.put("result", output.text()));
            }
            case ToolOutcome.Failure failure -> {
                answer.put("result", failure.message());
                if (failure.kind() == ToolOutcome.Kind.UNAVAILABLE) {
                    res.header(HeaderNames.RETRY_AFTER, String.valueOf(Math.max(1, failure.retryAfterSeconds())));
                }
            }
        }
        answer.put("latency_ms", latencyMs);
        send(res, Status.create(httpStatus(outcome)), answer);
    }

    /** The one place an outcome becomes an HTTP status. */
    static int httpStatus(ToolOutcome outcome) {
        return outcome instanceof ToolOutcome.Failure failure ? failure.kind().httpStatus() : Status.OK_200.code();
    }

    /**
     * The one place a failure outside the tool (checking the session, reading the body) becomes an answer, as
     * {@link Failure} classifies it: 503 with {@code Retry-After}, 400, 404, or 500 logged here once. The tool's own
     * failures are outcomes, mapped by {@link #httpStatus}.
     */
    private static void fail(ServerResponse res, RuntimeException e) {
        Failure failure = Failure.of(e);
        if (failure.unavailable()) {
            res.header(HeaderNames.RETRY_AFTER, Integer.toString(failure.retryAfterSeconds()));
        } else if (failure.kind() == Failure.Kind.INTERNAL) {
            LOG.log(Level.WARNING, PATH + ": " + failure.message(), e);
        }
        refuse(res, Status.create(failure.kind().httpStatus()), failure.message());
    }

    private static void refuse(ServerResponse res, Status status, String error) {
        ObjectNode answer = Json.object();
        answer.put("success", false);
        answer.put("error", error);
        send(res, status, answer);
    }

    private static void send(ServerResponse res, Status status, ObjectNode body) {
        res.status(status)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .send(Json.bytes(body));
    }
}
