package cloud.dementia.db.store;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** An import in batches: every line of every kind once, in the order given, each failure named by its own line. */
class ProjectImportTest {

    static StoreFixture f;
    static ProjectTransfer transfer;

    @BeforeAll
    static void start() {
        f = new StoreFixture();
        transfer = new ProjectTransfer(f.registry, f.projects, f.contexts::wroteVersions, f.sessions::flush);
    }

    @AfterAll
    static void stop() {
        f.close();
    }

    static String context(int i, String lockedAt) {
        return "{\"kind\":\"context\",\"label\":\"topic_" + (i / 3) + "\",\"version\":\"1." + (i % 3) + "\",\"minor\":" + (i % 3)
                + ",\"content\":\"Rule " + i + ".\",\"content_hash\":\"h" + i + "\",\"preview\":\"Rule " + i + ".\",\"priority\":\"reference\""
                + ",\"locked_at\":\"" + lockedAt + "\"}";
    }

    static int count(String project, String table) {
        String schema = f.projects.named(project).schema();
        return f.registry.inStatement(schema, tx -> tx.queryOne("SELECT count(*)::int FROM {s}." + table, r -> r.integer(1)).orElseThrow());
    }

    @Test
    void linesOfEveryKindAcrossManyBatchesAreStoredOnceAndAgainAddNothing() {
        List<String> lines = new ArrayList<>();
        lines.add("{\"kind\":\"dementia-project\",\"format\":1}");
        lines.add("{\"kind\":\"session\",\"id\":\"s1\"}");
        for (int i = 0; i < 1_200; i++) {
            lines.add(context(i, "2026-12-01T10:00:00Z"));
        }
        lines.add("{\"kind\":\"archive\",\"original_id\":7,\"label\":\"old\",\"version\":\"1.0\",\"content\":\"Gone.\",\"content_hash\":\"g\","
                + "\"preview\":\"Gone.\",\"priority\":\"reference\",\"locked_at\":\"2026-11-01T10:00:00Z\",\"archived_at\":\"2026-11-02T10:00:00Z\","
                + "\"reason\":\"unlocked\"}");
        lines.add("{\"kind\":\"entry\",\"category\":\"progress\",\"content\":\"batched\",\"created_at\":\"2026-12-01T11:00:00Z\"}");
        lines.add("{\"kind\":\"session\",\"id\":\"s2\"}");
        lines.add("");
        lines.add(context(5, "2026-12-01T10:00:00Z"));

        ProjectTransfer.Imported first = transfer.importInto("batched", lines.iterator());
        assertEquals(2, first.added().get("session"));
        assertEquals(1_200, first.added().get("context"));
        assertEquals(1, first.skipped().get("context"), "a version given twice in one import is stored once");
        assertEquals(1, first.added().get("archive"));
        assertEquals(1, first.added().get("entry"));
        assertEquals(1_200, count("batched", "context_locks"));

        ProjectTransfer.Imported again = transfer.importInto("batched", lines.iterator());
        assertEquals(0, again.added().values().stream().mapToInt(Integer::intValue).sum(), "importing twice adds nothing: " + again);
        assertEquals(1_201, again.skipped().get("context"));
        assertEquals(1_200, count("batched", "context_locks"));
    }

    @Test
    void aLinePostgresqlRefusesDeepInABatchIsNamedByItsOwnNumberAndField() {
        List<String> lines = new ArrayList<>();
        lines.add("{\"kind\":\"dementia-project\",\"format\":1}");
        for (int i = 0; i < 700; i++) {
            lines.add(context(i, i == 650 ? "half past never" : "2026-12-01T10:00:00Z"));
        }
        StoreRuleException e = assertThrows(StoreRuleException.class, () -> transfer.importInto("refused", lines.iterator()));
        // the header is line 1, context i is line i + 2
        assertThat(e.getMessage(), allOf(containsString("line 652 (context): field `locked_at`: invalid input syntax for type timestamp"),
                containsString("half past never"), not(containsString("Failing row")), not(containsString("Batch entry"))));
        assertFalse(f.projects.find("refused").isPresent(), "a refused import creates no project");
    }
}
