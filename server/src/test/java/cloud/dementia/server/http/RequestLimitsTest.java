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

    /**
     * The status line a server sends for a request whose headers declare a body over the limit, read before a byte of
     * the body is sent: the answer comes at once (sending the body first races the server closing the connection).
     */
    private static String statusForDeclaredLength(String path, int length, String... headers) throws Exception {
        int port = java.net.URI.create(server.url("/")).getPort();
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            StringBuilder request = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestServer.KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n");
            for (String h : headers) {
                request.append(h).append("\r\n");
            }
            s.getOutputStream().write(request.append("\r\n").toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII));
            return in.readLine();
        }
    }

    @Test
    void aBodyOverTheLimitIs413BeforeItIsParsed() throws Exception {
        HttpResponse<String> small = server.post("/execute", echoOf(60_000));
        assertEquals(200, small.statusCode(), "under the limit");
        org.hamcrest.MatcherAssert.assertThat(statusForDeclaredLength("/execute", 70_000), org.hamcrest.Matchers.startsWith("HTTP/1.1 413"));
        org.hamcrest.MatcherAssert.assertThat(statusForDeclaredLength("/mcp", 70_000, "Accept: application/json, text/event-stream"),
                org.hamcrest.Matchers.startsWith("HTTP/1.1 413"));
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
