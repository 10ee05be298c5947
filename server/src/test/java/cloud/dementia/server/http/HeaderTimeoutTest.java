package cloud.dementia.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
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

/**
 * Read time: a client that sends its request line and headers, or its body, too slowly (slowloris) gets 408 and its
 * connection closed, while a kept-alive connection may idle between requests and a call may run as long as it needs.
 */
class HeaderTimeoutTest {

    static TestServer server;
    static int port;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("DEMENTIA_HEADER_TIMEOUT_MS", "600", "DEMENTIA_BODY_TIMEOUT_MS", "1500"), new TestTools()::catalog);
        port = URI.create(server.url("/")).getPort();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String request(String body) {
        return "POST /execute HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestServer.KEY + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    /** Reads one response (headers, then Content-Length bytes). */
    private static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.US_ASCII);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(h);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return h + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    void headersThatDoNotArriveInTimeAre408AndTheConnectionCloses() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /execute HTTP/1.1\r\nHost: localhost\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            String answer = readResponse(s.getInputStream());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(answer, startsWith("HTTP/1.1 408"));
            assertThat(answer, containsString("did not arrive within 600 ms"));
            assertTrue(tookMs < 5000, "answered after " + tookMs + " ms");
            assertEquals(-1, s.getInputStream().read(), "the connection is closed");
        }
    }

    @Test
    void aSlowDripOfHeaderBytesIsCutToo() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            String partial = "POST /execute HTTP/1.1\r\nHost: localhost\r\nX-Drip: ";
            out.write(partial.getBytes(StandardCharsets.US_ASCII));
            boolean cut = false;
            for (int i = 0; i < 30 && !cut; i++) {
                Thread.sleep(100);
                try {
                    out.write('a');
                    out.flush();
                } catch (IOException closed) {
                    cut = true;
                }
            }
            String answer = readResponse(s.getInputStream());
            assertThat(answer, startsWith("HTTP/1.1 408"));
        }
    }

    @Test
    void aKeptAliveConnectionMayIdleBetweenRequests() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            String echo = "{\"tool\":\"echo\",\"arguments\":{\"text\":\"hi\"}}";
            out.write(request(echo).getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(readResponse(s.getInputStream()), startsWith("HTTP/1.1 200"));
            Thread.sleep(1500);
            out.write(request(echo).getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(readResponse(s.getInputStream()), startsWith("HTTP/1.1 200"));
        }
    }

    @Test
    void aBodyThatDoesNotArriveInTimeIs408AndTheConnectionCloses() throws Exception {
        java.util.List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(RequestDeadline.class.getName());
        log.addHandler(handler);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /execute HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestServer.KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"tool\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            boolean cut = false;
            for (int i = 0; i < 60 && !cut; i++) {
                Thread.sleep(100);
                try {
                    out.write(' ');
                    out.flush();
                } catch (IOException closed) {
                    cut = true;
                }
            }
            String answer = readResponse(s.getInputStream());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(answer, startsWith("HTTP/1.1 408"));
            assertThat(answer, containsString("the request body did not arrive within 1500 ms"));
            assertTrue(tookMs < 5000, "answered after " + tookMs + " ms");
            assertEquals(-1, s.getInputStream().read(), "the connection is closed");
            String line = "408: the request body from 127.0.0.1:" + s.getLocalPort() + " did not arrive within 1500 ms";
            assertTrue(logged.contains(line), "logged " + logged);
        } finally {
            log.removeHandler(handler);
        }
    }

    @Test
    void aBodyInPartsWithinTheLimitIsServedAndTheCallMayRunLonger() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            String body = "{\"tool\":\"db_sleep\",\"arguments\":{\"seconds\":3}}";
            String whole = request(body);
            int split = whole.length() - 10;
            out.write(whole.substring(0, split).getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(500);
            out.write(whole.substring(split).getBytes(StandardCharsets.UTF_8));
            out.flush();
            String answer = readResponse(s.getInputStream());
            assertThat(answer, startsWith("HTTP/1.1 200"));
            assertThat(answer, containsString("slept 3 s"));
            // and the connection serves the next request
            out.write(request("{\"tool\":\"echo\",\"arguments\":{\"text\":\"hi\"}}").getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(readResponse(s.getInputStream()), startsWith("HTTP/1.1 200"));
        }
    }
}
