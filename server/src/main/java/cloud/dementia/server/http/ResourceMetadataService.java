package cloud.dementia.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerResponse;

import cloud.dementia.server.auth.ProtectedResource;
import cloud.dementia.server.mcp.McpEndpoint;
import cloud.dementia.server.tools.Json;

/**
 * {@code GET /.well-known/oauth-protected-resource} (the server, resource = the public URL) and
 * {@code GET /.well-known/oauth-protected-resource/mcp} (the MCP endpoint, resource = {@code <public url>/mcp}): RFC
 * 9728 metadata that tells an MCP client which authorization server to get a token from. Registered only with OAuth
 * on, public (a client reads it before it has a token), and readable from a browser-based client's origin.
 */
public final class ResourceMetadataService implements HttpService {

    private final String server;
    private final String mcp;

    public ResourceMetadataService(ProtectedResource resource) {
        this.server = Json.compact(resource.metadata(""));
        this.mcp = Json.compact(resource.metadata(McpEndpoint.PATH));
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get(ProtectedResource.METADATA_PATH, (req, res) -> send(res, server))
                .get(ProtectedResource.METADATA_PATH + McpEndpoint.PATH, (req, res) -> send(res, mcp));
    }

    private static void send(ServerResponse res, String body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json")
                // public facts, no credentials: any origin may read them (MCP Inspector and other browser clients)
                .header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .header(HeaderNames.CACHE_CONTROL, "max-age=3600")
                .send(body);
    }
}
