package cloud.dementia.server.http;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * DNS-rebinding protection on {@code /mcp}, over HTTP: the filter runs before the MCP feature's routes, so a refused
 * {@code Origin} never reaches the extension.
 */
class OriginCheckTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("DEMENTIA_ALLOWED_ORIGINS", "https://app.example.com, https://console.example.org:8443/"),
                new TestTools()::catalog);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> initializeFrom(String origin) throws Exception {
        return server.initializeMcp(server.request("/mcp").header("Origin", origin));
    }

    @Test
    void foreignOriginIs403() throws Exception {
        HttpResponse<String> res = initializeFrom("http://evil.example");
        assertEquals(403, res.statusCode());
        assertThat(res.headers().firstValue("Content-Type").orElse(""), containsString("application/json"));
        assertThat(Json.parse(res.body()).path("error").asText(), containsString("http://evil.example"));
        assertEquals(-1, res.headers().firstValue("Mcp-Session-Id").map(x -> 0).orElse(-1), "no session was opened");
    }

    @Test
    void originsThatOnlyLookLocalOrListedAre403() throws Exception {
        for (String origin : List.of("http://localhost.evil.example", "http://127.0.0.1.evil.example:3000", "null",
                "https://app.example.com:444", "http://app.example.com", "https://evil.example/?localhost")) {
            assertEquals(403, initializeFrom(origin).statusCode(), origin);
        }
    }

    @Test
    void refusedOriginIs403EvenBeforeTheKeyIsChecked() throws Exception {
        HttpResponse<String> res = server.initializeMcp(server.bare("/mcp").header("Origin", "http://evil.example"));
        assertEquals(403, res.statusCode());
    }

    @Test
    void localOriginsAreAcceptedOnAnySchemeAndPort() throws Exception {
        for (String origin : List.of("http://localhost:3000", "http://localhost", "https://localhost:8443", "http://127.0.0.1:6274",
                "http://[::1]:5173", "HTTP://LOCALHOST:3000")) {
            HttpResponse<String> res = initializeFrom(origin);
            assertEquals(200, res.statusCode(), origin + " -> " + res.body());
        }
    }

    @Test
    void noOriginIsAccepted() throws Exception {
        assertEquals(200, server.initializeMcp(server.request("/mcp")).statusCode());
    }

    @Test
    void originsListedInDementiaAllowedOriginsAreAccepted() throws Exception {
        assertEquals(200, initializeFrom("https://app.example.com").statusCode());
        assertEquals(200, initializeFrom("https://console.example.org:8443").statusCode(), "configured with a trailing slash");
    }

    @Test
    void theCheckIsOnMcpOnly() throws Exception {
        HttpResponse<String> res = server.send(server.request("/tools").header("Origin", "http://evil.example").GET());
        assertEquals(200, res.statusCode());
    }
}
