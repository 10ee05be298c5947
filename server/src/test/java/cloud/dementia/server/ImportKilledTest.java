package cloud.dementia.server;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.tools.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #19 defect 8: a process killed (SIGKILL) in the middle of an import left an empty project behind. The project of an
 * import exists only once the import commits; the name imports fine afterwards.
 */
class ImportKilledTest {

    static final Duration START = Duration.ofSeconds(90);
    static final String PASSWORD = "a-good-password";

    static String line(int i) {
        String content = "Rule " + i + " keeps the pool inside its budget. Every schema shares the physical connections.";
        return Json.compact(Json.object().put("kind", "context").put("label", "topic_" + i).put("version", "1.0").put("minor", 0)
                .put("content", content).put("content_hash", Integer.toHexString(content.hashCode())).put("preview", content)
                .put("priority", "reference")) + "\n";
    }

    static void chunk(OutputStream out, String text) throws java.io.IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    static int count(TestDatabase.Fresh db, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(100);
        }
    }

    @Test
    void anImportKilledHalfwayLeavesNoProjectAndTheNameImportsAfterwards() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            Map<String, String> env = ServerProcess.envFor(db, Map.of("DEMENTIA_EMBEDDINGS", "off", "DEMENTIA_ADMIN_PASSWORD", PASSWORD));
            String basic = "Basic " + Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
            try (ServerProcess first = ServerProcess.start(env); Socket socket = new Socket("127.0.0.1", first.awaitReady(START))) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /admin/api/projects/killed/import HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + basic
                        + "\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                chunk(out, "{\"kind\":\"dementia-project\",\"format\":1}\n");
                for (int i = 0; i < 1200; i++) {
                    chunk(out, line(i));
                }
                // the body is not finished: the import's transaction is open, with two batches of lines sent
                await("the import's transaction holds its rows", () -> db.backends() > 0
                        && TestDatabase.get().backends(db.target().applicationName(), "idle in transaction") == 1);
                first.kill(START);
            }
            await("PostgreSQL ends the killed server's sessions (and rolls back)", () -> db.backends() == 0);
            assertEquals(0, count(db, "SELECT count(*) FROM dementia_control.projects WHERE name = 'killed'"),
                    "the project of an import that never committed is not registered");

            try (ServerProcess again = ServerProcess.start(env)) {
                again.awaitReady(START);
                HttpResponse<String> listed = again.get("/admin/api/projects/killed/export", java.util.Optional.empty(), "admin", PASSWORD);
                assertEquals(404, listed.statusCode(), "no project `killed`: " + listed.body());
                StringBuilder body = new StringBuilder("{\"kind\":\"dementia-project\",\"format\":1}\n");
                for (int i = 0; i < 10; i++) {
                    body.append(line(i));
                }
                try (HttpClient client = HttpClient.newHttpClient()) {
                    HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create(again.url() + "/admin/api/projects/killed/import"))
                            .header("Authorization", basic).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, res.statusCode(), res.body());
                    assertEquals(10, Json.parse(res.body()).path("added").path("context").asInt(), res.body());
                }
                assertEquals(10, count(db, "SELECT count(*) FROM " + db.projectSchema("killed") + ".context_locks"), "exactly the rows of the import that committed");
                assertTrue(count(db, "SELECT count(*) FROM dementia_control.projects WHERE name = 'killed'") == 1);
            }
        }
    }
}
