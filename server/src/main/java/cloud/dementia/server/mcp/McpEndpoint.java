package cloud.dementia.server.mcp;

import java.util.Optional;

import io.helidon.extensions.mcp.server.McpServerConfig;
import io.helidon.extensions.mcp.server.McpServerFeature;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpFeature;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.db.pool.PoolException;
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
 * plainly ({@link McpRequestGate}).
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

    public McpEndpoint(ToolInvoker tools, String version, SessionGuard sessions) {
        this.sessions = sessions;
        McpServerConfig.Builder config = McpServerFeature.builder()
                .path(PATH)
                .name(SERVER_NAME)
                .version(version);
        tools.tools().forEach(spec -> config.addTool(new McpSpecTool(spec, tools)));
        this.mcp = config.build();
    }

    @Override
    public void setup(HttpRouting.Builder routing) {
        // routes run in the order they were added: these two come before the extension's own and pass on with next()
        routing.any(PATH, this::beforeMcp)
                .any(PATH + "/message", this::beforeMcp)
                .addFeature(mcp);
    }

    /**
     * Checks the request ({@link McpRequestGate}) and its session: a session id must be one this key opened (another
     * key's: 403; unknown or forgotten: 404, so the client opens a new one, as Streamable HTTP says). A request without
     * a session id that opens one ({@code initialize}) records the new id as this key's once the extension answered.
     */
    private void beforeMcp(ServerRequest req, ServerResponse res) {
        if (!McpRequestGate.admit(req, res)) {
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
            res.next();
            return;
        }
        // the extension is about to answer: a new session's id is in its response headers
        res.beforeSend(() -> res.headers().first(SESSION_ID_HEADER).ifPresent(id -> {
            try {
                sessions.opened(id, caller);
            } catch (PoolException e) {
                LOG.warning("session " + id + " could not be recorded as its key's: " + e.getMessage());
            }
        }));
        res.next();
    }

    private static Optional<String> sessionIdOf(ServerRequest req) {
        Optional<String> header = req.headers().first(SESSION_ID_HEADER);
        if (header.isPresent()) {
            return header.filter(id -> !id.isBlank());
        }
        return req.query().first("sessionId").asOptional().filter(id -> !id.isBlank());
    }
}
