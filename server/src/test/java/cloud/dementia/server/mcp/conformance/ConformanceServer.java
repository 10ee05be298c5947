package cloud.dementia.server.mcp.conformance;

import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.store.McpSessions;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.auth.SessionGuard;
import cloud.dementia.server.http.OriginCheck;
import cloud.dementia.server.mcp.McpEndpoint;

/**
 * Our MCP layer with the conformance suite's fixtures ({@link ConformanceFeatures}) on a web server of its own, without
 * API keys (the suite cannot send one): the same {@link McpEndpoint}, Origin check and session store (the control
 * schema of a fresh database) as the product.
 */
final class ConformanceServer implements AutoCloseable {

    private final TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
    private final PoolRegistry registry;
    private final McpEndpoint endpoint;
    private final WebServer server;

    ConformanceServer() {
        registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry());
        ControlSchema.migrate(registry);
        endpoint = new McpEndpoint(new ConformanceFeatures(), new SessionGuard(new McpSessions(registry), Duration.ofMinutes(30)), null);
        server = WebServer.builder().port(0)
                .connectionOptions(socket -> socket.tcpNoDelay(true))
                .routing(HttpRouting.builder().addFilter(new OriginCheck(List.of(), path -> path.startsWith(McpEndpoint.PATH))).register(endpoint))
                .build().start();
    }

    String url() {
        return "http://127.0.0.1:" + server.port() + McpEndpoint.PATH;
    }

    @Override
    public void close() {
        endpoint.close();
        server.stop();
        registry.close();
        db.close();
    }
}
