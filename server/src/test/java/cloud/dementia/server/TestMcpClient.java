package cloud.dementia.server;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

/**
 * The official MCP Java SDK client over Streamable HTTP, with the API key (or an access token) on every request. It remembers the
 * {@code Mcp-Session-Id} it sends, that is the session id the server assigned it.
 */
public final class TestMcpClient implements AutoCloseable {

    private final McpSyncClient client;
    private final AtomicReference<String> sessionId = new AtomicReference<>();

    public TestMcpClient(TestServer server) {
        this(server, TestServer.KEY);
    }

    /** @param bearer the API key or OAuth access token sent on every request */
    public TestMcpClient(TestServer server, String bearer) {
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(server.url(""))
                .endpoint("/mcp")
                .httpRequestCustomizer((request, method, uri, body, context) -> {
                    request.header("Authorization", "Bearer " + bearer);
                    // the transport has set its session header before it asks us; read it off a copy
                    request.copy().build().headers().firstValue("Mcp-Session-Id").ifPresent(sessionId::set);
                })
                .build();
        this.client = McpClient.sync(transport)
                .clientInfo(new McpSchema.Implementation("dementia-transport-test", "1"))
                .requestTimeout(Duration.ofSeconds(30))
                .build();
    }

    public McpSchema.InitializeResult initialize() {
        return client.initialize();
    }

    public List<McpSchema.Tool> tools() {
        return client.listTools().tools();
    }

    public McpSchema.CallToolResult call(String tool, Map<String, Object> arguments) {
        return client.callTool(new McpSchema.CallToolRequest(tool, arguments));
    }

    /** The SDK client itself, for prompts and resources. */
    public McpSyncClient sdk() {
        return client;
    }

    /** The text of the result's single text content. */
    public static String text(McpSchema.CallToolResult result) {
        return result.content().stream()
                .filter(McpSchema.TextContent.class::isInstance)
                .map(c -> ((McpSchema.TextContent) c).text())
                .reduce((a, b) -> a + "\n" + b)
                .orElseThrow(() -> new AssertionError("no text content in " + result));
    }

    /** The session id this client sends (set once it has initialized). */
    public Optional<String> sessionId() {
        return Optional.ofNullable(sessionId.get());
    }

    @Override
    public void close() {
        client.closeGracefully();
    }
}
