package cloud.dementia.server.console;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #17 "memory at scale": an import has its own body limit ({@code DEMENTIA_IMPORT_MAX_BYTES}) and streams its body,
 * while every other route keeps {@code DEMENTIA_MAX_BODY_BYTES}; a body past the import limit is refused with 413 and
 * leaves nothing behind.
 */
class ImportLimitTest {

    static final int MAX_BODY = 64 * 1024;
    static final int IMPORT_MAX = 512 * 1024;

    static ConsoleServer s;

    @BeforeAll
    static void start() {
        s = new ConsoleServer(Map.of("DEMENTIA_MAX_BODY_BYTES", Integer.toString(MAX_BODY), "DEMENTIA_IMPORT_MAX_BYTES",
                Integer.toString(IMPORT_MAX), "DEMENTIA_EMBEDDINGS", "off"));
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    /** An export's lines: the header, then {@code contexts} contexts of five sentences each (about 620 bytes a line). */
    static String export(int contexts) {
        StringBuilder out = new StringBuilder("{\"kind\":\"dementia-project\",\"format\":1,\"project\":\"big\",\"exported_at\":\"2026-12-04T10:00:00Z\"}\n");
        for (int i = 0; i < contexts; i++) {
            String content = ("Rule " + i + " keeps the pool inside its budget. ").repeat(1)
                    + "Every schema shares the physical connections. Imports stream their lines into one transaction. "
                    + "A version once locked never changes. Search finds it by words and by meaning.";
            out.append(Json.compact(Json.object().put("kind", "context").put("label", "topic_" + (i / 2)).put("version", "1." + (i % 2))
                    .put("minor", i % 2).put("content", content).put("content_hash", Integer.toHexString(content.hashCode()))
                    .put("preview", content).put("priority", "reference").put("locked_at", "2026-12-01T10:00:00Z")
                    .set("tags", Json.array().add("gen")))).append('\n');
        }
        return out.toString();
    }

    static HttpResponse<String> importBody(String project, String body) {
        return s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/" + project + "/import")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** The same body sent without a length (chunked), so the limit must hold while it streams. */
    static HttpResponse<String> importChunked(String project, String body) {
        return s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/" + project + "/import")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(body))).build());
    }

    /**
     * The status line answered to a request that declares a body of {@code length} bytes, read before a byte of the body
     * is sent: the answer must come from the headers alone.
     */
    static String statusForDeclaredLength(String path, String authorization, int length) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + authorization
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    static boolean registered(String project) {
        return new Projects(s.registry()).find(project).isPresent();
    }

    /** @return the contexts stored in the project's schema, or -1 when it has no schema */
    static int contexts(String project) {
        String schema = new Projects(s.registry()).named(project).schema();
        return s.registry().inTransaction(ControlSchema.NAME, tx -> {
            if (tx.queryOne("SELECT to_regclass(?) IS NULL", r -> r.bool(1), "\"" + schema + "\".context_locks").orElseThrow()) {
                return -1;
            }
            return tx.queryOne("SELECT count(*)::int FROM \"" + schema + "\".context_locks", r -> r.integer(1)).orElseThrow();
        });
    }

    @Test
    void anImportLargerThanTheBodyLimitSucceedsWhileOtherRoutesKeepIt() throws Exception {
        String big = export(500);
        assertTrue(big.length() > 4 * MAX_BODY && big.length() < IMPORT_MAX, "about 300 KiB: " + big.length());
        HttpResponse<String> in = importBody("large", big);
        assertEquals(200, in.statusCode(), in.body());
        assertEquals(500, Json.parse(in.body()).path("added").path("context").asInt(), in.body());
        HttpResponse<String> again = importChunked("large", big);
        assertEquals(200, again.statusCode(), again.body());
        JsonNode twice = Json.parse(again.body());
        assertEquals(0, twice.path("added").path("context").asInt(), "importing twice adds nothing: " + again.body());
        assertEquals(500, twice.path("skipped").path("context").asInt(), again.body());
        assertEquals(500, contexts("large"));

        String bearer = "Bearer " + ConsoleServer.API_KEY;
        assertThat("a declared body over DEMENTIA_MAX_BODY_BYTES on /execute", statusForDeclaredLength("/execute", bearer, MAX_BODY + 1),
                startsWith("HTTP/1.1 413"));
        assertThat("the same length is fine for an import", statusForDeclaredLength("/admin/api/projects/x/import",
                ConsoleServer.basic("nobody", "wrong"), MAX_BODY + 1), startsWith("HTTP/1.1 401"));
        String echo = "{\"tool\":\"recall_context\",\"arguments\":{\"topic\":\"" + "x".repeat(MAX_BODY) + "\"}}";
        HttpResponse<String> chunked = s.send(HttpRequest.newBuilder(URI.create(s.url("/execute"))).header("Authorization", bearer)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(echo))).build());
        assertEquals(413, chunked.statusCode(), "a chunked /execute body past DEMENTIA_MAX_BODY_BYTES: " + chunked.body());
        HttpResponse<String> console = s.api("POST", "/keys", "{\"name\":\"" + "k".repeat(MAX_BODY) + "\"}");
        assertEquals(413, console.statusCode(), "the console API's other routes keep the body limit: " + console.body());
        HttpResponse<String> mcp = s.send(HttpRequest.newBuilder(URI.create(s.url("/mcp"))).header("Authorization", bearer)
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" + "x".repeat(MAX_BODY) + "\"}}"))).build());
        assertEquals(413, mcp.statusCode(), "MCP buffers its body, bounded by DEMENTIA_MAX_BODY_BYTES: " + mcp.body());
    }

    @Test
    void anImportDeclaredOverTheImportLimitIs413BeforeAnythingIsCreated() throws Exception {
        assertThat(statusForDeclaredLength("/admin/api/projects/declared/import", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD),
                IMPORT_MAX + 1), startsWith("HTTP/1.1 413"));
        assertEquals(false, registered("declared"));
        assertEquals(-1, contexts("declared"), "not even a schema was created");
    }

    @Test
    void aChunkedImportPastTheImportLimitIs413AndKeepsNothing() {
        String tooBig = export(1000);
        assertTrue(tooBig.length() > IMPORT_MAX, "over the import limit: " + tooBig.length());
        HttpResponse<String> res = importChunked("streamed", tooBig);
        assertEquals(413, res.statusCode(), res.body());
        assertThat(res.body(), containsString("DEMENTIA_IMPORT_MAX_BYTES"));
        assertEquals(false, registered("streamed"), "an import that did not commit creates no project");
        assertTrue(contexts("streamed") <= 0, "no row was kept");
        assertEquals(200, s.api("GET", "/pools", null).statusCode(), "the server serves on");
    }

    /** With the import limit under the body limit, the import route is the one held to the smaller limit as it streams. */
    @Test
    void anImportLimitBelowTheBodyLimitHoldsTheImportToIt() {
        try (ConsoleServer small = new ConsoleServer(Map.of("DEMENTIA_MAX_BODY_BYTES", Integer.toString(1 << 20), "DEMENTIA_IMPORT_MAX_BYTES",
                Integer.toString(MAX_BODY), "DEMENTIA_EMBEDDINGS", "off"))) {
            String body = export(200);
            HttpResponse<String> res = small.send(HttpRequest.newBuilder(URI.create(small.url("/admin/api/projects/small/import")))
                    .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                    .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(body))).build());
            assertEquals(413, res.statusCode(), res.body());
            assertThat(res.body(), containsString("DEMENTIA_IMPORT_MAX_BYTES"));
            assertEquals(false, new Projects(small.registry()).find("small").isPresent());
            String echo = "{\"tool\":\"recall_context\",\"arguments\":{\"project\":\"other\",\"topic\":\"" + "x".repeat(2 * MAX_BODY) + "\"}}";
            HttpResponse<String> execute = small.send(HttpRequest.newBuilder(URI.create(small.url("/execute")))
                    .header("Authorization", "Bearer " + ConsoleServer.API_KEY).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(echo)).build());
            assertNotEquals(413, execute.statusCode(), "other routes keep their own, larger limit: " + execute.body());
        }
    }
}
