package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import cloud.dementia.server.tools.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code lock_context} racing an import of the same topic: the import adds versions out of order and settles which is
 * the latest, a lock mints the next version after the newest. Each waits for the other (the project's
 * {@code search_state} row), so no lock is refused for a version the import took, none is lost, and one version of the
 * topic is the latest, whether the project existed before or the race creates it.
 */
class LockDuringImportTest {

    private static final int ROUNDS = 4;
    private static final int LOCKS = 40;
    private static final int IMPORTED = 60;

    /** A lock the server acknowledged. */
    private record Locked(String version, String content) {
    }

    @Test
    void locksRacingAnImportOfTheirTopicAreAllKeptAndOneVersionIsTheLatest() throws Exception {
        try (ConsoleServer s = new ConsoleServer(Map.of("DB_POOL_ACQUIRE_TIMEOUT_MS", "5000"));
             ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int round = 0; round < ROUNDS; round++) {
                String project = "race-" + round;
                // odd rounds race on a project that does not exist yet: the import and the locks both create it
                List<Locked> acknowledged = new ArrayList<>();
                if (round % 2 == 0) {
                    acknowledged.add(lock(s, project, "before the race " + round));
                }
                CountDownLatch go = new CountDownLatch(1);
                Future<HttpResponse<String>> imported = callers.submit(() -> {
                    go.await();
                    return s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/" + project + "/import")))
                            .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                            .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(versions(project))).build());
                });
                List<Future<Locked>> locks = new ArrayList<>();
                for (int i = 0; i < LOCKS; i++) {
                    String content = "lock " + i + " of round " + round;
                    locks.add(callers.submit(() -> {
                        go.await();
                        return lock(s, project, content);
                    }));
                }
                go.countDown();
                HttpResponse<String> in = imported.get(60, TimeUnit.SECONDS);
                assertEquals(200, in.statusCode(), "round " + round + ": the import: " + in.body());
                int added = Json.parse(in.body()).path("added").path("context").asInt();

                for (Future<Locked> f : locks) {
                    acknowledged.add(f.get(60, TimeUnit.SECONDS));
                }
                for (Locked l : acknowledged) {
                    JsonNode recalled = execute(s, "recall_context",
                            "{\"project\":\"" + project + "\",\"topic\":\"t\",\"version\":\"" + l.version() + "\"}").path("result");
                    assertEquals(l.content(), recalled.path("content").asText(), "round " + round + ": the lock acknowledged as " + l.version());
                }
                JsonNode row = execute(s, "query_database", "{\"project\":\"" + project + "\",\"format\":\"json\",\"query\":"
                        + "\"SELECT count(*)::int AS versions, count(DISTINCT version)::int AS distinct_versions, "
                        + "(count(*) FILTER (WHERE is_latest))::int AS latest FROM context_locks WHERE label = 't'\"}")
                        .path("result").path("rows").get(0);
                assertEquals(acknowledged.size() + added, row.path("versions").asInt(), "round " + round + ": every lock and every version imported: " + row);
                assertEquals(row.path("versions").asInt(), row.path("distinct_versions").asInt(), "round " + round + ": versions unique: " + row);
                assertEquals(1, row.path("latest").asInt(), "round " + round + ": one latest version of the topic: " + row);
            }
        }
    }

    /**
     * Locks a version of topic {@code t}. A 503 with {@code Retry-After} (no connection in time) is asked again, as a
     * client would; any other answer than 200 fails the test.
     */
    private static Locked lock(ConsoleServer s, String project, String content) throws InterruptedException {
        while (true) {
            HttpResponse<String> r = post(s, "lock_context", "{\"project\":\"" + project + "\",\"topic\":\"t\",\"content\":\"" + content + "\"}");
            if (r.statusCode() == 503 && r.headers().firstValue("Retry-After").isPresent()) {
                Thread.sleep(50);
                continue;
            }
            assertEquals(200, r.statusCode(), "lock_context `" + content + "`: " + r.body());
            return new Locked(Json.parse(r.body()).path("result").path("version").asText(), content);
        }
    }

    private static JsonNode execute(ConsoleServer s, String tool, String arguments) {
        HttpResponse<String> r = post(s, tool, arguments);
        assertEquals(200, r.statusCode(), tool + ": " + r.body());
        return Json.parse(r.body());
    }

    private static HttpResponse<String> post(ConsoleServer s, String tool, String arguments) {
        return s.send(HttpRequest.newBuilder(URI.create(s.url("/execute"))).header("Authorization", "Bearer " + ConsoleServer.API_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"" + tool + "\",\"arguments\":" + arguments + "}")).build());
    }

    /** An export of {@value #IMPORTED} versions of topic {@code t}, 1.0 to 1.59, each locked a second after the one before. */
    private static String versions(String project) {
        StringBuilder out = new StringBuilder("{\"kind\":\"dementia-project\",\"format\":1,\"project\":\"" + project + "\"}\n");
        for (int minor = 0; minor < IMPORTED; minor++) {
            String content = "imported version " + minor;
            out.append("{\"kind\":\"context\",\"label\":\"t\",\"version\":\"1.").append(minor).append("\",\"minor\":").append(minor)
                    .append(",\"content\":\"").append(content).append("\",\"content_hash\":\"h").append(minor).append("\",\"preview\":\"")
                    .append(content).append("\",\"priority\":\"reference\",\"locked_at\":\"2026-01-01T00:")
                    .append(String.format("%02d:%02d", minor / 60, minor % 60)).append("Z\"}\n");
        }
        return out.toString();
    }
}
