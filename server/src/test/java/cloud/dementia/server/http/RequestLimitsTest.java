package cloud.dementia.server.http;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** #9 defect 2: a 16 MB body took 18.5 s to parse and 50 MB grew the process to about 5 GB; bodies have a limit. */
class RequestLimitsTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("DEMENTIA_MAX_BODY_BYTES", "65536"), new TestTools()::catalog);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String echoOf(int textLength) {
        return "{\"tool\":\"echo\",\"arguments\":{\"text\":\"" + "x".repeat(textLength) + "\"}}";
    }

    @Test
    void aBodyOverTheLimitIs413BeforeItIsParsed() throws Exception {
        HttpResponse<String> small = server.post("/execute", echoOf(60_000));
        assertEquals(200, small.statusCode(), "under the limit");
        HttpResponse<String> big = server.post("/execute", echoOf(70_000));
        assertEquals(413, big.statusCode(), big.body());
        HttpResponse<String> mcp = server.send(server.request("/mcp").header("Accept", "application/json, text/event-stream").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}")));
        assertEquals(413, mcp.statusCode(), mcp.body());
        assertEquals(200, server.post("/execute", echoOf(10)).statusCode(), "the server serves on after refusing");
    }

    @Test
    void aChunkedBodyOverTheLimitIsRefusedToo() throws Exception {
        // no Content-Length: the limit must hold while the body streams in
        HttpRequest.BodyPublisher chunked = HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(echoOf(200_000)));
        HttpResponse<String> res = server.send(server.request("/execute").POST(chunked));
        assertEquals(413, res.statusCode(), res.body());
    }

    /** Nesting deeper than the reader allows (1,000 levels on /execute, 64 on /mcp) is 400 at once, not a stack overflow. */
    @Test
    void deepNestingIs400() throws Exception {
        String deep = "{\"tool\":\"echo\",\"arguments\":{\"text\":" + "[".repeat(5000) + "]".repeat(5000) + "}}";
        HttpResponse<String> res = server.post("/execute", deep);
        assertEquals(400, res.statusCode(), res.body());
        org.hamcrest.MatcherAssert.assertThat(res.body(), org.hamcrest.Matchers.containsString("nesting depth"));
    }
}
