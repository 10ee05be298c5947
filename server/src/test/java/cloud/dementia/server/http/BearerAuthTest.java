package cloud.dementia.server.http;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API key on {@code /mcp}, {@code /execute} and {@code /tools}, over HTTP. */
class BearerAuthTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of(), new TestTools()::catalog);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The three routes, each as a request a client would send, without any key yet. */
    static List<HttpRequest.Builder> requests() {
        return List.of(
                server.bare("/mcp").header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                        .POST(HttpRequest.BodyPublishers.ofString(TestServer.INITIALIZE)),
                server.bare("/execute").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"echo\",\"arguments\":{\"text\":\"k\"}}")),
                server.bare("/tools").GET());
    }

    @Test
    void noKeyIs401WithABearerChallenge() throws Exception {
        for (HttpRequest.Builder request : requests()) {
            HttpResponse<String> res = server.send(request);
            assertEquals(401, res.statusCode(), res.request().uri().toString());
            assertThat(res.headers().firstValue("WWW-Authenticate").orElse(""), startsWith("Bearer"));
            assertThat(res.body(), containsString("an API key is required"));
        }
        assertEquals(401, server.send(server.bare("/mcp").GET()).statusCode(), "GET /mcp");
        assertEquals(401, server.send(server.bare("/mcp").DELETE()).statusCode(), "DELETE /mcp");
    }

    @Test
    void wrongKeyIs401() throws Exception {
        for (HttpRequest.Builder request : requests()) {
            HttpResponse<String> res = server.send(request.header("Authorization", "Bearer wrong-key-0123456789abcdef"));
            assertEquals(401, res.statusCode(), res.request().uri().toString());
            assertThat(res.headers().firstValue("WWW-Authenticate").orElse(""), startsWith("Bearer"));
            assertThat(res.body(), containsString("not valid"));
        }
    }

    @Test
    void rightKeyIsServed() throws Exception {
        for (HttpRequest.Builder request : requests()) {
            HttpResponse<String> res = server.send(request.header("Authorization", "Bearer " + TestServer.KEY));
            assertEquals(200, res.statusCode(), res.request().uri() + " -> " + res.body());
        }
        HttpResponse<String> init = server.initializeMcp(server.request("/mcp"));
        assertTrue(init.headers().firstValue("Mcp-Session-Id").isPresent(), "initialize opened a session");
        assertThat(init.body(), containsString("\"protocolVersion\":\"2025-06-18\""));
    }

    /** #9: route protection is deny-by-default; only health, the console (its own login) and, when allowed, metrics are public. */
    @Test
    void everyPathNeedsAKeyUnlessListedAsPublic() throws Exception {
        for (String path : new String[] {"/", "/nothing-here", "/observe/config", "/executes", "/mcp-other", "/administrator", "/healthz"}) {
            HttpResponse<String> res = server.send(server.bare(path).GET());
            assertEquals(401, res.statusCode(), path + " -> " + res.body());
        }
        assertEquals(404, server.send(server.request("/nothing-here").GET()).statusCode(), "with a key an unknown path is 404");
        assertEquals(200, server.send(server.bare("/health").GET()).statusCode());
        assertEquals(200, server.send(server.bare("/observe/health/live").GET()).statusCode());
        assertEquals(303, server.send(server.bare("/admin").GET()).statusCode(), "the console's own login");
        assertEquals(401, server.send(server.bare("/metrics").GET()).statusCode(), "metrics need the key by default");
    }

    /** #11: without DEMENTIA_OAUTH_ISSUER there is no OAuth metadata, so a client knows to use an API key; the challenge names none. */
    @Test
    void withOAuthOffTheResourceMetadataIs404AndTheChallengeIsPlain() throws Exception {
        for (String path : new String[] {"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"}) {
            assertEquals(404, server.send(server.bare(path).GET()).statusCode(), path);
        }
        HttpResponse<String> res = server.send(requests().get(0));
        assertEquals("Bearer realm=\"dementia\"", res.headers().firstValue("WWW-Authenticate").orElse(""));
    }
}
