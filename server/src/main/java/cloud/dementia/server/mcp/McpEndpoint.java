package cloud.dementia.server.mcp;

import java.util.Optional;

import io.helidon.extensions.mcp.server.McpServerConfig;
import io.helidon.extensions.mcp.server.McpServerFeature;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpFeature;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

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

    public McpEndpoint(ToolInvoker tools, String version) {
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
        routing.any(PATH, McpEndpoint::rememberSessionId)
                .any(PATH + "/message", McpEndpoint::rememberSessionId)
                .addFeature(mcp);
    }

    private static void rememberSessionId(ServerRequest req, ServerResponse res) {
        if (!McpRequestGate.admit(req, res)) {
            return;
        }
        sessionIdOf(req).ifPresent(id -> req.context().register(SESSION_ID, id));
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
