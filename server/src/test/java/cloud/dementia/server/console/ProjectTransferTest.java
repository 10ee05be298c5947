package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #10 "your data is yours": a project out and in as JSON Lines, through the tools and through {@code /admin/api}; the
 * round trip gives the same lines, and importing twice adds nothing.
 */
class ProjectTransferTest {

    static ConsoleServer s;

    @BeforeAll
    static void start() {
        s = new ConsoleServer();
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    static JsonNode execute(String tool, String arguments) {
        HttpResponse<String> r = s.send(HttpRequest.newBuilder(URI.create(s.url("/execute"))).header("Authorization", "Bearer " + ConsoleServer.API_KEY)
                .header("Content-Type", "application/json").header("Mcp-Session-Id", "transfer")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"" + tool + "\",\"arguments\":" + arguments + "}")).build());
        assertEquals(200, r.statusCode(), r.body());
        return Json.parse(r.body());
    }

    /** The data lines (not the header, which names the project and the time). */
    static Set<String> data(String jsonl) {
        Set<String> lines = new TreeSet<>();
        jsonl.lines().filter(l -> !l.isBlank() && !l.contains("\"kind\": \"dementia-project\"") && !l.contains("\"kind\":\"dementia-project\""))
                .forEach(lines::add);
        return lines;
    }

    /**
     * The lines with each session's counters left out (its calls, the tools it used, when it was last active): exporting
     * is itself a call of the session that exports, so the copy's session has counted one more call when it is exported.
     */
    static Set<String> withoutSessionCounters(Set<String> lines) {
        Set<String> out = new TreeSet<>();
        for (String line : lines) {
            ObjectNode o = (ObjectNode) Json.parse(line);
            if (o.path("kind").asText().equals("session")) {
                o.remove(List.of("calls", "tools_used", "last_active"));
            }
            out.add(Json.compact(o));
        }
        return out;
    }

    static JsonNode sessionLine(Set<String> lines) {
        return lines.stream().map(Json::parse).filter(o -> o.path("kind").asText().equals("session")).findFirst().orElseThrow();
    }

    @Test
    void aProjectRoundTripsThroughJsonLinesAndImportingTwiceAddsNothing() {
        execute("lock_context", "{\"project\":\"src\",\"topic\":\"style\",\"content\":\"Tabs.\",\"tags\":[\"format\"]}");
        execute("lock_context", "{\"project\":\"src\",\"topic\":\"style\",\"content\":\"Four spaces.\"}");
        execute("lock_context", "{\"project\":\"src\",\"topic\":\"old\",\"content\":\"Gone soon.\"}");
        execute("unlock_context", "{\"project\":\"src\",\"topic\":\"old\",\"force\":true}");
        execute("record_progress", "{\"project\":\"src\",\"note\":\"moved the style rule\"}");
        execute("sleep", "{\"project\":\"src\",\"summary\":\"style settled\",\"next_steps\":[\"lint\"]}");
        String exported = execute("export_project", "{\"project\":\"src\"}").path("result").asText();
        assertThat(exported.lines().findFirst().orElseThrow(), containsString("\"kind\": \"dementia-project\""));
        Set<String> original = data(exported);
        assertEquals(2, original.stream().filter(l -> l.contains("\"kind\": \"context\"")).count(), "two versions of style; old was unlocked: " + exported);
        assertEquals(1, original.stream().filter(l -> l.contains("\"kind\": \"archive\"")).count(), exported);

        JsonNode first = execute("import_project", "{\"project\":\"copy\",\"jsonl\":" + Json.compact(exported) + "}").path("result");
        assertEquals(2, first.path("added").path("context").asInt(), first.toString());
        assertEquals(1, first.path("added").path("archive").asInt());
        assertTrue(first.path("added").path("entry").asInt() >= 2, first.toString());
        JsonNode again = execute("import_project", "{\"project\":\"copy\",\"jsonl\":" + Json.compact(exported) + "}").path("result");
        assertEquals(0, again.path("added").path("context").asInt() + again.path("added").path("archive").asInt()
                + again.path("added").path("entry").asInt() + again.path("added").path("session").asInt(), "importing twice adds nothing: " + again);
        String copied = execute("export_project", "{\"project\":\"copy\"}").path("result").asText();
        assertEquals(withoutSessionCounters(original), withoutSessionCounters(data(copied)), "the round trip gives the same lines");
        assertEquals(sessionLine(original).path("calls").asInt() + 1, sessionLine(data(copied)).path("calls").asInt(),
                "the copy's session has its calls, and the export of the copy: " + copied);
        assertEquals(sessionLine(original).path("tools_used").path("export_project").asInt() + 1,
                sessionLine(data(copied)).path("tools_used").path("export_project").asInt(), copied);
        assertEquals("Four spaces.", execute("recall_context", "{\"project\":\"copy\",\"topic\":\"style\"}").path("result").path("content").asText());
        JsonNode woke = execute("wake_up", "{\"project\":\"copy\"}").path("result");
        assertEquals("style settled", woke.path("last_handover").path("summary").asText());
        // "indentation" is no word of the rule: found by meaning, once the background embedder has the copy's vectors
        cloud.dementia.server.TestServer.awaitVectors(s.server, "copy");
        JsonNode found = execute("search_contexts", "{\"project\":\"copy\",\"query\":\"indentation\"}").path("result");
        assertEquals("style", found.path("results").get(0).path("topic").asText(), "searchable after the import: " + found);
    }

    @Test
    void theConsoleApiStreamsAnExportAndImportsItAudited() {
        execute("lock_context", "{\"project\":\"api-src\",\"topic\":\"naming\",\"content\":\"snake_case in SQL.\"}");
        HttpResponse<String> out = s.api("GET", "/projects/api-src/export", null);
        assertEquals(200, out.statusCode(), out.body());
        assertThat(out.headers().firstValue("Content-Type").orElse(""), startsWith("application/x-ndjson"));
        assertThat(out.body(), containsString("snake_case in SQL."));
        HttpResponse<String> in = s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/api-copy/import")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD)).header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(out.body())).build());
        assertEquals(200, in.statusCode(), in.body());
        assertEquals(1, Json.parse(in.body()).path("added").path("context").asInt(), in.body());
        assertThat(s.api("GET", "/audit?limit=20", null).body(), containsString("import project"));
        HttpResponse<String> bad = s.send(HttpRequest.newBuilder(URI.create(s.url("/admin/api/projects/api-copy/import")))
                .header("Authorization", ConsoleServer.basic(ConsoleServer.USER, ConsoleServer.PASSWORD))
                .POST(HttpRequest.BodyPublishers.ofString(out.body() + "{\"kind\":\"mystery\"}\n")).build());
        assertEquals(400, bad.statusCode(), bad.body());
        assertThat(bad.body(), containsString("unknown kind `mystery`"));
        assertEquals(404, s.api("GET", "/projects/nothing-here/export", null).statusCode());
        List<String> lines = out.body().lines().toList();
        assertTrue(lines.size() >= 2, out.body());
    }
}
