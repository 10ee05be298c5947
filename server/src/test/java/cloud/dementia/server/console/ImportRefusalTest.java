package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import cloud.dementia.db.schema.Projects;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #19 defects 7 and 8: a header whose {@code format} is not a whole number is a bad argument naming the line and the
 * field (it was 500 through the tool and 503 through {@code /admin/api}); a refused import leaves no project behind
 * (a refused {@code format 2} left an empty project), and a bad line is named with its field, never with PostgreSQL's
 * dump of the failing row.
 */
class ImportRefusalTest {

    static ConsoleServer s;

    @BeforeAll
    static void start() {
        s = new ConsoleServer(Map.of("DEMENTIA_EMBEDDINGS", "off"));
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static String header(String format) {
        return "{\"kind\":\"dementia-project\",\"format\":" + format + ",\"project\":\"src\"}\n";
    }

    static String context(String label, String version, int minor, String lockedAt) {
        return Json.compact(Json.object().put("kind", "context").put("label", label).put("version", version).put("minor", minor)
                .put("content", "Use tabs.").put("content_hash", "abc").put("preview", "Use tabs.").put("priority", "reference")
                .put("locked_at", lockedAt)) + "\n";
    }

    static HttpResponse<String> viaApi(String project, String jsonl) {
        return s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/" + project + "/import")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .POST(HttpRequest.BodyPublishers.ofString(jsonl)).build());
    }

    static HttpResponse<String> viaTool(String project, String jsonl) {
        return s.send(HttpRequest.newBuilder(URI.create(s.url("/execute"))).header("Authorization", "Bearer " + ConsoleServer.API_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.compact(Json.object().put("tool", "import_project")
                        .set("arguments", Json.object().put("project", project).put("jsonl", jsonl))))).build());
    }

    static boolean exists(String project) {
        return new Projects(s.registry()).find(project).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.0", "1.5", "99999999999", "true", "{\"a\":1}", "\"1\""})
    void aFormatThatIsNotOneIsABadArgumentNamingTheLineAndTheField(String format) {
        String jsonl = header(format) + context("style", "1.0", 0, "2026-12-01T10:00:00Z");
        HttpResponse<String> tool = viaTool("fmt-tool", jsonl);
        assertEquals(400, tool.statusCode(), tool.body());
        assertThat(Json.parse(tool.body()).path("result").asText(), allOf(containsString("argument `jsonl`"), containsString("line 1 (header)"),
                containsString("field `format`"), containsString("nothing was imported")));
        HttpResponse<String> api = viaApi("fmt-api", jsonl);
        assertEquals(400, api.statusCode(), api.body());
        assertThat(Json.parse(api.body()).path("error").asText(), allOf(containsString("line 1 (header)"), containsString("field `format`")));
        assertFalse(exists("fmt-tool"), "no project was created");
        assertFalse(exists("fmt-api"), "no project was created");
    }

    @Test
    void aRefusedFormatCreatesNoProject() {
        HttpResponse<String> res = viaApi("format-two", header("2") + context("style", "1.0", 0, "2026-12-01T10:00:00Z"));
        assertEquals(400, res.statusCode(), res.body());
        assertThat(res.body(), containsString("field `format` is 2, a format this server does not read (it reads format 1)"));
        assertFalse(exists("format-two"));
        assertTrue(s.api("GET", "/projects/format-two/export", null).statusCode() == 404);
        JsonNode listed = Json.parse(s.send(HttpRequest.newBuilder(URI.create(s.url("/execute")))
                .header("Authorization", "Bearer " + ConsoleServer.API_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"list_projects\",\"arguments\":{}}")).build()).body());
        assertThat(listed.toString(), not(containsString("format-two")));
    }

    @Test
    void aBadLineIsNamedWithItsFieldAndTheImportLeavesNoProject() {
        String good = header("1") + context("style", "1.0", 0, "2026-12-01T10:00:00Z") + context("style", "1.1", 1, "2026-12-02T10:00:00Z");
        String wrongType = good + context("naming", "1.0", 0, "2026-12-01T10:00:00Z").replace("\"minor\":0", "\"minor\":\"zero\"");
        HttpResponse<String> res = viaApi("bad-line", wrongType);
        assertEquals(400, res.statusCode(), res.body());
        assertThat(res.body(), containsString("line 4 (context): field `minor` must be a whole number, got \\\"zero\\\""));
        assertFalse(exists("bad-line"), "the lines before it were stored in a transaction that rolled back, and the project with them");

        // a value only PostgreSQL can judge: the line and the field, and PostgreSQL's reason without the failing row
        String badTime = good + context("naming", "1.0", 0, "the day after tomorrow");
        HttpResponse<String> time = viaTool("bad-line", badTime);
        assertEquals(400, time.statusCode(), time.body());
        String message = Json.parse(time.body()).path("result").asText();
        assertThat(message, allOf(containsString("line 4 (context): field `locked_at`"), containsString("timestamp"),
                not(containsString("Failing row")), not(containsString("INSERT"))));
        assertFalse(exists("bad-line"));

        HttpResponse<String> fine = viaApi("bad-line", good);
        assertEquals(200, fine.statusCode(), "the name is free to import into after refusals: " + fine.body());
        assertEquals(2, Json.parse(fine.body()).path("added").path("context").asInt(), fine.body());
        assertTrue(exists("bad-line"));
    }

    @Test
    void invalidUtf8IsRefusedNamingItsLineAndAByteOrderMarkIsNot() {
        byte[] good = (header("1") + context("style", "1.0", 0, "2026-12-01T10:00:00Z")).getBytes(StandardCharsets.UTF_8);
        byte[] bad = context("naming", "1.0", 0, "2026-12-01T10:00:00Z").replace("Use tabs.", "Use tabs\u0001.")
                .getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bad.length; i++) {
            if (bad[i] == 1) {
                bad[i] = (byte) 0xC3; // the first byte of a two-byte sequence, followed by `.`
            }
        }
        byte[] body = new byte[good.length + bad.length + good.length];
        System.arraycopy(good, 0, body, 0, good.length);
        System.arraycopy(bad, 0, body, good.length, bad.length);
        System.arraycopy(good, 0, body, good.length + bad.length, good.length);
        HttpResponse<String> res = s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/utf/import")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertEquals(400, res.statusCode(), res.body());
        assertThat(res.body(), containsString("line 3 is not valid UTF-8"));
        assertFalse(exists("utf"));

        HttpResponse<String> bom = viaApi("utf", "\uFEFF" + header("1") + context("style", "1.0", 0, "2026-12-01T10:00:00Z"));
        assertEquals(200, bom.statusCode(), "a byte order mark before the first line is not JSON, and not an error: " + bom.body());
    }

    @Test
    void aRefusedImportIntoAnExistingProjectKeepsItAsItWas() {
        String good = header("1") + context("style", "1.0", 0, "2026-12-01T10:00:00Z");
        assertEquals(200, viaApi("kept", good).statusCode());
        HttpResponse<String> res = viaApi("kept", good + context("more", "1.0", 0, "2026-12-01T10:00:00Z")
                + "{\"kind\":\"context\",\"label\":\"x\"}\n");
        assertEquals(400, res.statusCode(), res.body());
        assertThat(res.body(), containsString("line 4 (context): field `version` is required"));
        assertTrue(exists("kept"), "an existing project is not removed by a refused import");
        String exported = s.api("GET", "/projects/kept/export", null).body();
        assertThat(exported, allOf(containsString("\"label\": \"style\""), not(containsString("\"label\": \"more\""))));
    }
}
