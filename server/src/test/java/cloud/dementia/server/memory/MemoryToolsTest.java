package cloud.dementia.server.memory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.tools.Json;
import cloud.dementia.server.tools.ToolInvoker;
import cloud.dementia.server.tools.ToolOutcome;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tools' behaviour through the invoker every transport uses, against a real database. */
class MemoryToolsTest {

    static TestDatabase.Fresh db;
    static PoolRegistry registry;
    static ToolInvoker tools;

    @BeforeAll
    static void start() {
        db = TestDatabase.get().freshDatabase();
        registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry());
        ControlSchema.migrate(registry);
        tools = new ToolInvoker(MemoryTools.create(registry), new SimpleMeterRegistry());
    }

    @AfterAll
    static void stop() {
        ToolOutcome o = call("list_projects", "{}", null);
        for (JsonNode p : structured(o).get("projects")) {
            call("delete_project", "{\"name\":\"" + p.get("name").asText() + "\",\"confirm\":true}", null);
        }
        registry.close();
        db.close();
    }

    static ToolOutcome call(String tool, String argsJson, String session) {
        return tools.invoke(tools.find(tool).orElseThrow(), (ObjectNode) Json.parse(argsJson), Optional.ofNullable(session));
    }

    static JsonNode structured(ToolOutcome o) {
        if (o instanceof ToolOutcome.Success s) {
            return s.output().json().orElseThrow();
        }
        throw new AssertionError("expected success, got " + o);
    }

    static String text(ToolOutcome o) {
        if (o instanceof ToolOutcome.Success s) {
            return s.output().text();
        }
        throw new AssertionError("expected success, got " + o);
    }

    static ToolOutcome.Failure failure(ToolOutcome o) {
        if (o instanceof ToolOutcome.Failure f) {
            return f;
        }
        throw new AssertionError("expected failure, got " + o);
    }

    @Test
    void everyContractToolIsThere() {
        List<String> names = tools.tools().stream().map(t -> t.name()).toList();
        for (String name : List.of("create_project", "list_projects", "get_project_info", "delete_project", "switch_project",
                "get_active_project", "wake_up", "sleep", "get_last_handover", "memory_status", "lock_context", "recall_context",
                "unlock_context", "batch_lock_contexts", "batch_recall_contexts", "explore_context_tree", "search_contexts",
                "check_contexts", "context_dashboard", "query_database", "inspect_database")) {
            assertTrue(names.contains(name), name);
        }
        assertTrue(tools.find("unlock_context").orElseThrow().destructive());
        assertTrue(tools.find("recall_context").map(t -> !t.readOnly()).orElseThrow(), "recall counts accesses");
        assertTrue(tools.find("search_contexts").orElseThrow().readOnly());
    }

    @Test
    void lockRecallUnlockRoundTripInItsOwnProject() {
        String p = "\"project\":\"roundtrip\"";
        JsonNode locked = structured(call("lock_context", "{\"topic\":\"api\",\"content\":\"Endpoints return JSON.\",\"tags\":\"http, json\"," + p + "}", "s1"));
        assertEquals("1.0", locked.get("version").asText());
        assertEquals("reference", locked.get("priority").asText());
        assertEquals(2, structured(call("recall_context", "{\"topic\":\"api\"," + p + "}", "s1")).get("tags").size());
        structured(call("lock_context", "{\"topic\":\"api\",\"content\":\"Endpoints must always return JSON.\"," + p + "}", "s1"));
        assertEquals("Endpoints must always return JSON.", structured(call("recall_context", "{\"topic\":\"api\"," + p + "}", "s1")).get("content").asText());
        assertEquals("Endpoints return JSON.", structured(call("recall_context", "{\"topic\":\"api\",\"version\":\"v1.0\"," + p + "}", "s1"))
                .get("content").asText());
        ToolOutcome.Failure missing = failure(call("recall_context", "{\"topic\":\"api\",\"version\":\"1.7\"," + p + "}", "s1"));
        assertEquals(ToolOutcome.Kind.TOOL_ERROR, missing.kind());
        assertThat(missing.message(), containsString("versions: 1.1, 1.0"));
        ToolOutcome.Failure needsForce = failure(call("unlock_context", "{\"topic\":\"api\"," + p + "}", "s1"));
        assertThat(needsForce.message(), containsString("force=true"));
        JsonNode unlocked = structured(call("unlock_context", "{\"topic\":\"api\",\"force\":true," + p + "}", "s1"));
        assertEquals(2, unlocked.get("versions_deleted").size());
        assertThat(text(call("inspect_database", "{\"mode\":\"archives\"," + p + "}", "s1")), containsString("unlock_context"));
    }

    @Test
    void badArgumentsNameTheArgument() {
        ToolOutcome.Failure f = failure(call("lock_context", "{\"topic\":\"x\"}", null));
        assertEquals(ToolOutcome.Kind.BAD_ARGUMENT, f.kind());
        assertThat(f.message(), containsString("argument `content` is required"));
        assertThat(failure(call("lock_context", "{\"topic\":\"x\",\"content\":\"y\",\"priority\":\"urgent\"}", null)).message(),
                containsString("must be one of always_check, important, reference"));
        assertThat(failure(call("search_contexts", "{\"query\":\"x\",\"limit\":1000}", null)).message(),
                containsString("between 1 and 100"));
        assertThat(failure(call("wake_up", "{\"project\":\"bad;name\"}", null)).message(), containsString("not a valid name"));
    }

    @Test
    void wakeUpAfterSleepShowsTheHandover() {
        String p = "\"project\":\"handover\"";
        structured(call("wake_up", "{" + p + "}", "conv-1"));
        call("lock_context", "{\"topic\":\"decision\",\"content\":\"We chose PostgreSQL.\"," + p + "}", "conv-1");
        JsonNode slept = structured(call("sleep", "{" + p + "}", "conv-1"));
        assertThat("without a summary the server writes one", slept.get("handover").get("summary").asText(), containsString("decision v1.0"));
        JsonNode woke = structured(call("wake_up", "{" + p + "}", "conv-2"));
        assertEquals("decision v1.0", woke.get("last_handover").get("contexts_locked").get(0).asText());
        assertThat(woke.get("contexts").get("reference").toString(), containsString("decision v1.0"));
        assertFalse(structured(call("get_last_handover", "{" + p + "}", "conv-2")).get("handover").isNull());
    }

    /** #10: wake_up returned 27 KB and check_contexts 22.7 KB in a 60-context project; both have a budget now. */
    @Test
    void wakeUpAndCheckContextsStayWithinTheirBudgetAndSayWhatTheyLeftOut() {
        String p = "\"project\":\"budgeted\"";
        for (int i = 0; i < 60; i++) {
            String content = (i % 3 == 0 ? "ALWAYS " : "") + "rule number " + i + " about errors and endpoints: " + "details ".repeat(60);
            call("lock_context", "{\"topic\":\"rule-" + i + "\",\"content\":\"" + content + "\"," + p + "}", "s");
        }
        JsonNode woke = structured(call("wake_up", "{" + p + "}", "s"));
        assertTrue(Json.compact(woke).length() <= 4000, Json.compact(woke).length() + " characters");
        assertThat(woke.get("left_out").asText(), containsString("to stay within max_chars=4000"));
        assertTrue(woke.get("contexts").get("always_check").size() > 0, "rules come first and stay");
        JsonNode roomy = structured(call("wake_up", "{\"max_chars\":200000," + p + "}", "s"));
        assertFalse(roomy.has("left_out"), "everything fits in 200,000");
        assertEquals(20, roomy.get("contexts").get("always_check").size());
        JsonNode checked = structured(call("check_contexts", "{\"text\":\"a new endpoint that returns errors\"," + p + "}", "s"));
        assertTrue(Json.compact(checked).length() <= 4000, Json.compact(checked).length() + " characters");
        assertThat(checked.get("left_out").asText(), containsString("recall_context(topic) reads one whole"));
        JsonNode small = structured(call("check_contexts", "{\"text\":\"errors\",\"max_chars\":1500," + p + "}", "s"));
        assertTrue(Json.compact(small).length() <= 1500, Json.compact(small).length() + " characters");
        assertThat(failure(call("wake_up", "{\"max_chars\":10," + p + "}", "s")).message(), containsString("max_chars"));
    }

    /** #19: wake_up(max_chars=1500) kept a long handover and answered "always_check": [] with a vague note. */
    @Test
    void aTightWakeUpKeepsTheRulesBeforeTheHandoverAndSaysWhereTheRestIs() {
        String p = "\"project\":\"tight\"";
        for (int i = 0; i < 4; i++) {
            call("lock_context", "{\"topic\":\"rule-" + i + "\",\"content\":\"ALWAYS check rule " + i + " before changing the billing code.\"," + p + "}", "s");
        }
        String longText = "We refactored the billing module and moved the invoice code. ".repeat(30);
        call("sleep", "{\"summary\":\"" + longText + "\",\"open_items\":[\"" + longText + "\"],\"next_steps\":[\"" + longText + "\"]," + p + "}", "s");
        JsonNode woke = structured(call("wake_up", "{\"max_chars\":1500," + p + "}", "s2"));
        assertTrue(Json.compact(woke).length() <= 1500, Json.compact(woke).length() + " characters");
        assertEquals(4, woke.get("contexts").get("always_check").size(), Json.compact(woke));
        assertTrue(woke.has("last_handover"), "the handover is shortened, not dropped");
        assertThat(woke.get("left_out").asText(), containsString("get_last_handover reads it whole"));
    }

    /** #10: outputs repeated themselves (content and preview, hashes, key concepts, nulls). */
    @Test
    void resultsAreCompact() {
        String p = "\"project\":\"compact\"";
        JsonNode locked = structured(call("lock_context", "{\"topic\":\"short\",\"content\":\"Use UTC.\"," + p + "}", "s"));
        assertEquals(List.of("project", "topic", "version", "priority", "message"), iterate(locked.fieldNames()));
        JsonNode recalled = structured(call("recall_context", "{\"topic\":\"short\"," + p + "}", "s"));
        assertEquals("Use UTC.", recalled.get("content").asText());
        assertFalse(recalled.has("preview") || recalled.has("content_hash") || recalled.has("key_concepts") || recalled.has("tags"), recalled.toString());
        assertFalse(recalled.toString().contains("null"), recalled.toString());
        JsonNode hashed = structured(call("recall_context", "{\"topic\":\"short\",\"include_hash\":true," + p + "}", "s"));
        assertTrue(hashed.has("content_hash") && hashed.has("key_concepts"), "hashes where asked");
        for (String tool : List.of("list_projects", "get_last_handover", "wake_up", "get_project_info", "memory_status", "context_dashboard",
                "explore_context_tree", "get_active_project")) {
            ToolOutcome o = call(tool, "{" + p + "}", "s");
            String answer = o instanceof ToolOutcome.Success ok ? ok.output().json().map(Json::compact).orElseGet(ok.output()::text) : o.toString();
            assertFalse(answer.contains(":null"), tool + " answers no nulls: " + answer);
        }
    }

    private static List<String> iterate(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    /** #10: the handover was thin (a mechanical summary; open_items and recent_progress always empty). */
    @Test
    void theAssistantWritesTheHandoverAndTheNextWakeUpShowsItFirst() {
        String p = "\"project\":\"handover2\"";
        structured(call("wake_up", "{" + p + "}", "conv-a"));
        call("lock_context", "{\"topic\":\"db\",\"content\":\"PostgreSQL 17.\"," + p + "}", "conv-a");
        structured(call("record_progress", "{\"note\":\"migrated the users table\"," + p + "}", "conv-a"));
        JsonNode slept = structured(call("sleep", "{\"summary\":\"Moved users to PostgreSQL, tests green.\",\"open_items\":\"the export still reads MySQL, "
                + "which is slow\",\"next_steps\":[\"port the export\",\"drop MySQL\"],\"decisions\":[\"PostgreSQL 17 everywhere\"]," + p + "}", "conv-a"));
        JsonNode h = slept.get("handover");
        assertEquals("Moved users to PostgreSQL, tests green.", h.get("summary").asText());
        assertEquals(List.of("the export still reads MySQL, which is slow"), List.of(h.get("open_items").get(0).asText()), "one string is one item");
        assertEquals(2, h.get("next_steps").size());
        assertEquals("migrated the users table", h.get("progress").get(0).asText());
        assertEquals("db v1.0", h.get("contexts_locked").get(0).asText());
        assertTrue(h.get("tools_used").get("lock_context").asInt() >= 1, h.toString());
        assertTrue(h.has("duration_s"));
        assertFalse(h.has("session_id") || h.has("project") || h.has("details"), "nothing repeated: " + h);
        JsonNode woke = structured(call("wake_up", "{" + p + "}", "conv-b"));
        assertEquals("last_handover", woke.fieldNames().hasNext() ? java.util.stream.StreamSupport.stream(
                java.util.Spliterators.spliteratorUnknownSize(woke.fieldNames(), 0), false).skip(1).findFirst().orElse("") : "",
                "the handover comes first, right after the project");
        assertEquals("Moved users to PostgreSQL, tests green.", woke.get("last_handover").get("summary").asText());
        ToolOutcome.Failure tooMany = failure(call("sleep", "{\"next_steps\":" + Json.compact(java.util.Collections.nCopies(51, "x")) + "," + p + "}", "conv-b"));
        assertThat(tooMany.message(), containsString("argument `next_steps` holds 51 items; at most 50"));
    }

    @Test
    void switchProjectAppliesToItsOwnSessionOnly() {
        assertEquals("session", structured(call("switch_project", "{\"name\":\"blue\"}", "sess-a")).has("session") ? "session" : "");
        assertEquals("blue", structured(call("get_active_project", "{}", "sess-a")).get("project").asText());
        assertEquals("session", structured(call("get_active_project", "{}", "sess-a")).get("source").asText());
        assertEquals("default", structured(call("get_active_project", "{}", "sess-b")).get("project").asText());
        assertEquals("green", structured(call("get_active_project", "{\"project\":\"green\"}", "sess-a")).get("project").asText());
        assertThat(failure(call("switch_project", "{\"name\":\"blue\"}", null)).message(), containsString("has none"));
    }

    @Test
    void queryDatabaseFormatsAndBindsParameters() {
        String p = "\"project\":\"querying\"";
        call("lock_context", "{\"topic\":\"t1\",\"content\":\"one\"," + p + "}", "s");
        call("lock_context", "{\"topic\":\"t2\",\"content\":\"two\"," + p + "}", "s");
        String table = text(call("query_database", "{\"query\":\"SELECT label, version FROM context_locks WHERE label = $1\",\"params\":[\"t2\"]," + p + "}", "s"));
        assertThat(table, containsString("t2"));
        assertFalse(table.contains("t1"));
        assertThat(text(call("query_database", "{\"query\":\"SELECT label FROM context_locks ORDER BY label\",\"format\":\"csv\"," + p + "}", "s")),
                containsString("label\nt1\nt2"));
        assertThat(text(call("query_database", "{\"query\":\"SELECT 1 AS a\",\"format\":\"markdown\"," + p + "}", "s")), containsString("| a |"));
        assertThat(failure(call("query_database", "{\"query\":\"DROP TABLE context_locks\"," + p + "}", "s")).message(),
                containsString("only read-only queries"));
        // #9 defect 4: a placeholder beyond int answered 500 "For input string"
        ToolOutcome.Failure huge = failure(call("query_database", "{\"query\":\"SELECT $99999999999\",\"params\":[\"x\"]," + p + "}", "s"));
        assertEquals(ToolOutcome.Kind.TOOL_ERROR, huge.kind(), huge.message());
        assertThat(huge.message(), containsString("query uses $99999999999 but 1 parameter(s) were given"));
    }

    /**
     * #9 defect 4: an SQL error in the caller's query answered 500, counted as internal_error, and showed the wrapper
     * function's SQL. It is the caller's error: a tool error with PostgreSQL's own message and where in the query.
     */
    @Test
    void queryDatabaseErrorsAreToolErrorsWithPostgresqlsOwnMessage() {
        String p = "\"project\":\"sqlerrors\"";
        call("lock_context", "{\"topic\":\"t1\",\"content\":\"one\"," + p + "}", "s");
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("SELECT nope FROM context_locks", "column \"nope\" does not exist (SQLSTATE 42703) at character 8");
        expected.put("SELECT label FROM context_locks WHERE", "syntax error at end of input (SQLSTATE 42601)");
        expected.put("SELECT 1/0", "division by zero (SQLSTATE 22012)");
        expected.put("SELECT * FROM no_such_table", "relation \"no_such_table\" does not exist (SQLSTATE 42P01) at character 15");
        expected.put("SELECT * FROM dementia_control.credentials", "permission denied for schema dementia_control (SQLSTATE 42501)");
        expected.put("SELECT 'x'::int", "invalid input syntax for type integer: \"x\" (SQLSTATE 22P02) at character 8");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            ToolOutcome.Failure f = failure(call("query_database", "{\"query\":" + Json.compact(e.getKey()) + "," + p + "}", "s"));
            assertEquals(ToolOutcome.Kind.TOOL_ERROR, f.kind(), e.getKey() + " -> " + f.message());
            assertThat(e.getKey(), f.message(), containsString(e.getValue()));
            assertFalse(f.message().contains("run_readonly_query") || f.message().contains("to_json"), "no wrapper SQL: " + f.message());
        }
    }

    /** A join's two {@code id} columns (or {@code select 1 as a, 1 as a}) are a result, every column kept. */
    @Test
    void queryDatabaseReturnsEveryColumnWhenTwoHaveTheSameName() {
        String p = "\"project\":\"dupcolumns\"";
        call("lock_context", "{\"topic\":\"t1\",\"content\":\"one\"," + p + "}", "s");
        JsonNode r = structured(call("query_database", "{\"query\":\"select 1 as a, 2 as a, 3 as a_2\",\"format\":\"json\"," + p + "}", "s"));
        assertEquals("[\"a\",\"a_3\",\"a_2\"]", Json.compact(r.get("columns")));
        assertEquals("[{\"a\":1,\"a_3\":2,\"a_2\":3}]", Json.compact(r.get("rows")));
        String table = text(call("query_database", "{\"query\":\"select a.id, a.label, b.id from context_locks a join context_locks b using (label)\","
                + p + "}", "s"));
        assertThat(table, containsString("id | label | id_2"));
        assertThat(table, containsString("(1 row)"));
    }

    /** Whatever PostgreSQL refuses in the caller's SQL is the caller's to fix: a tool error, not a database failure. */
    @Test
    void queryDatabaseSqlThePostgresqlRefusesIsAToolErrorWhateverItsClass() {
        String p = "\"project\":\"sqlerrors\"";
        ToolOutcome.Failure f = failure(call("query_database", "{\"query\":\"select cursor_to_xml('c',1,true,true,'')\"," + p + "}", "s"));
        assertEquals(ToolOutcome.Kind.TOOL_ERROR, f.kind(), f.message());
        assertThat(f.message(), containsString("the query failed: cursor \"c\" does not exist (SQLSTATE 34000)"));
    }

    /** #10: `select topic from context_locks` failed (the column is `label`) and the error did not say where to look. */
    @Test
    void queryDatabaseKnowsTopicsAndPointsToTheSchemaWhenANameIsWrong() {
        String p = "\"project\":\"topics\"";
        call("lock_context", "{\"topic\":\"naming\",\"content\":\"snake_case\"," + p + "}", "s");
        assertThat(text(call("query_database", "{\"query\":\"select topic, version from context_locks\"," + p + "}", "s")),
                containsString("naming"));
        ToolOutcome.Failure f = failure(call("query_database", "{\"query\":\"select title from context_locks\"," + p + "}", "s"));
        assertThat(f.message(), containsString("column \"title\" does not exist"));
        assertThat(f.message(), containsString("inspect_database(mode=\"schema\")"));
        assertThat(failure(call("query_database", "{\"query\":\"select * from contexts\"," + p + "}", "s")).message(),
                containsString("inspect_database(mode=\"schema\")"));
    }

    @Test
    void aQueryCancelledByTheStatementTimeoutIsAToolErrorThatSaysSo() {
        try (PoolRegistry quick = new PoolRegistry(db.target(), RegistrySettings.defaults().withStatementTimeout(java.time.Duration.ofMillis(300)),
                new SimpleMeterRegistry())) {
            ToolInvoker quickTools = new ToolInvoker(MemoryTools.create(quick), new SimpleMeterRegistry());
            ToolOutcome o = quickTools.invoke(quickTools.find("query_database").orElseThrow(),
                    (ObjectNode) Json.parse("{\"query\":\"SELECT pg_sleep(5)\",\"project\":\"sqlerrors\"}"), Optional.empty());
            ToolOutcome.Failure f = failure(o);
            assertEquals(ToolOutcome.Kind.TOOL_ERROR, f.kind(), f.message());
            assertThat(f.message(), containsString("ran longer than the statement timeout (300 ms) and was cancelled"));
        }
    }

    /**
     * A huge value is cut as it is read, so it costs what making it costs and no more: {@code repeat('x', 100000000)}
     * comes back cut well within a 6 s statement timeout, where whole-row JSON passes over it (which PostgreSQL cannot
     * cancel) took about 10 s.
     */
    @Test
    void aHugeValueIsCutWithoutPassesOverTheWholeOfIt() {
        try (PoolRegistry patient = new PoolRegistry(db.target(), RegistrySettings.defaults().withStatementTimeout(java.time.Duration.ofSeconds(6)),
                new SimpleMeterRegistry())) {
            ToolInvoker patientTools = new ToolInvoker(MemoryTools.create(patient), new SimpleMeterRegistry());
            ObjectNode args = (ObjectNode) Json.parse("{\"query\":\"select repeat('x', 100000000) as a, 1 as b\",\"format\":\"json\",\"project\":\"huge\"}");
            long start = System.nanoTime();
            JsonNode r = structured(patientTools.invoke(patientTools.find("query_database").orElseThrow(), args, Optional.empty()));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(65_536, r.get("rows").get(0).get("a").asText().length());
            assertEquals(1, r.get("rows").get(0).get("b").asInt());
            assertTrue(r.get("values_cut").asBoolean());
            assertTrue(tookMs < 6_000, "took " + tookMs + " ms");
        }
    }

    /** #9 defect 2: 10,000 items ran in one 6 s transaction. */
    @Test
    void batchesHoldAtMostTwoHundredItems() {
        StringBuilder contexts = new StringBuilder("[");
        StringBuilder topics = new StringBuilder("[");
        for (int i = 0; i < 201; i++) {
            contexts.append(i == 0 ? "" : ",").append("{\"topic\":\"t").append(i).append("\",\"content\":\"c\"}");
            topics.append(i == 0 ? "" : ",").append("\"t").append(i).append('"');
        }
        ToolOutcome.Failure lock = failure(call("batch_lock_contexts", "{\"contexts\":" + contexts + "],\"project\":\"batches\"}", null));
        assertEquals(ToolOutcome.Kind.BAD_ARGUMENT, lock.kind(), lock.message());
        assertEquals("argument `contexts` holds 201 items: at most 200 per call (send several batches)", lock.message());
        ToolOutcome.Failure recall = failure(call("batch_recall_contexts", "{\"topics\":" + topics + "],\"project\":\"batches\"}", null));
        assertEquals("argument `topics` holds 201 items: at most 200 per call (send several batches)", recall.message());
        assertFalse(structured(call("list_projects", "{}", null)).toString().contains("\"batches\""), "nothing was created");
    }

    @Test
    void projectsAreListedDescribedAndDeletedOnlyWhenConfirmed() {
        structured(call("create_project", "{\"name\":\"Life Cycle\"}", null));
        assertFalse(structured(call("create_project", "{\"name\":\"Life Cycle\"}", null)).get("created").asBoolean());
        assertThat(failure(call("create_project", "{\"name\":\"life_cycle\"}", null)).message(), containsString("is project `Life Cycle`"));
        call("lock_context", "{\"topic\":\"x\",\"content\":\"y\",\"project\":\"Life Cycle\"}", null);
        assertThat(structured(call("list_projects", "{}", null)).toString(), containsString("\"Life Cycle\""));
        assertEquals(1, structured(call("get_project_info", "{\"name\":\"Life Cycle\"}", null)).get("stats").get("contexts").asInt());
        JsonNode asked = structured(call("delete_project", "{\"name\":\"Life Cycle\"}", null));
        assertFalse(asked.get("deleted").asBoolean());
        assertThat(asked.get("message").asText(), containsString("confirm=true"));
        assertTrue(structured(call("delete_project", "{\"name\":\"Life Cycle\",\"confirm\":true}", null)).get("deleted").asBoolean());
        assertThat(failure(call("get_project_info", "{\"name\":\"Life Cycle\"}", null)).message(), containsString("no project"));
    }
}
