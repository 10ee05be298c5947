package cloud.dementia.server.importer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;
import cloud.dementia.server.tools.Json;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * #10: the importer for the original Python server, against a schema this test builds with the original's layout
 * (../shared/reference/original-schema.md): epoch-second times, priority and tags in a JSON metadata text, key concepts
 * as a JSON array text, a duplicated (label, version), tables this product does not carry. Running it twice adds
 * nothing.
 */
class OriginalImporterTest {

    private static final String LAYOUT = """
            CREATE SCHEMA linkedin_posts;
            CREATE TABLE linkedin_posts.sessions (id TEXT PRIMARY KEY, started_at DOUBLE PRECISION, last_active DOUBLE PRECISION,
                project_fingerprint TEXT, project_path TEXT, project_name TEXT, summary TEXT);
            CREATE TABLE linkedin_posts.context_locks (id SERIAL PRIMARY KEY, session_id TEXT NOT NULL REFERENCES linkedin_posts.sessions,
                label TEXT NOT NULL, version TEXT, content TEXT, content_hash TEXT, metadata TEXT, tags TEXT, locked_at DOUBLE PRECISION,
                last_accessed DOUBLE PRECISION, access_count INTEGER, preview TEXT, key_concepts TEXT, embedding BYTEA, embedding_model TEXT);
            CREATE TABLE linkedin_posts.context_archives (id SERIAL, original_id INTEGER, session_id TEXT, label TEXT, version TEXT, content TEXT,
                preview TEXT, key_concepts TEXT, metadata TEXT, deleted_at DOUBLE PRECISION, delete_reason TEXT);
            CREATE TABLE linkedin_posts.memory_entries (id SERIAL, session_id TEXT, timestamp DOUBLE PRECISION, category TEXT, content TEXT, metadata TEXT);
            CREATE TABLE linkedin_posts.audit_trail (id SERIAL, timestamp DOUBLE PRECISION, session_id TEXT, action TEXT, target_type TEXT,
                target_id TEXT, details TEXT, user_id TEXT);
            CREATE TABLE linkedin_posts.todos (id SERIAL, text TEXT);
            INSERT INTO linkedin_posts.sessions VALUES ('s1', 1700000000.5, 1700000600, 'fp', '/home/me/linkedin-posts', 'linkedin-posts', NULL);
            INSERT INTO linkedin_posts.context_locks (session_id, label, version, content, content_hash, metadata, tags, locked_at, last_accessed,
                access_count, preview, key_concepts) VALUES
              ('s1', 'api_spec', '1.0', 'API v1.0: REST with basic auth', 'h1', '{"tags": ["api"], "priority": "important"}', NULL, 1700000100,
                NULL, 0, 'API v1.0', '["rest", "auth"]'),
              ('s1', 'api_spec', '1.1', 'API v1.1: REST with OAuth', 'h2', '{"tags": ["api", "auth"], "priority": "important"}', NULL, 1700000200,
                1700000300, 4, NULL, '[]'),
              ('s1', 'api_spec', '1.1', 'API v1.1 stored twice', 'h3', '{}', NULL, 1700000250, NULL, 0, NULL, NULL),
              ('s1', 'style', '1.0', 'Never commit secrets.', 'h4', 'invalid{json}', 'security, git', 1700000400, NULL, 0, NULL, NULL);
            INSERT INTO linkedin_posts.context_archives (original_id, session_id, label, version, content, preview, key_concepts, metadata,
                deleted_at, delete_reason) VALUES (9, 's1', 'old_rule', '1.0', 'Use tabs.', 'Use tabs.', '[]', '{"priority": "reference"}',
                1700000500, 'replaced');
            INSERT INTO linkedin_posts.memory_entries (session_id, timestamp, category, content, metadata) VALUES
              ('s1', 1700000600, 'handover', 'Moved the API to OAuth.', '{"open_items": ["refresh tokens"]}'),
              ('s1', 1700000550, 'progress', 'wrote the OAuth client', NULL);
            INSERT INTO linkedin_posts.audit_trail (timestamp, action) VALUES (1700000100, 'lock_context');
            INSERT INTO linkedin_posts.todos (text) VALUES ('a'), ('b');
            """;

    @Test
    void aProjectOfTheOriginalServerIsImportedOnceWhateverTheRuns() throws Exception {
        try (TestDatabase.Fresh original = TestDatabase.get().freshDatabase(); TestServer server = TestServer.start(Map.of(), MemoryTools::create)) {
            Properties p = new Properties();
            p.setProperty("user", original.target().user() == null ? System.getProperty("user.name") : original.target().user());
            if (original.target().password() != null) {
                p.setProperty("password", original.target().password());
            }
            try (Connection c = DriverManager.getConnection(original.jdbcUrl(), p); Statement st = c.createStatement()) {
                st.execute(LAYOUT);
            }
            String from = original.jdbcUrl() + (original.jdbcUrl().contains("?") ? "&" : "?") + "user=" + p.getProperty("user");
            OriginalImporter.Report first = OriginalImporter.run(server.server().registry(), from, "linkedin_posts", "linkedin-posts");
            assertEquals(4, first.read().get("context"));
            assertEquals(3, first.added().get("context"), "the duplicated api_spec 1.1 is kept once: " + first.describe());
            assertEquals(1, first.skipped().get("context"));
            assertEquals(1, first.added().get("session"));
            assertEquals(1, first.added().get("archive"));
            assertEquals(2, first.added().get("entry"));
            assertEquals(Map.of("audit_trail", 1L, "todos", 2L), first.notCarried());
            assertThat(first.describe(), containsString("rows not carried"));

            OriginalImporter.Report second = OriginalImporter.run(server.server().registry(), from, "linkedin_posts", "linkedin-posts");
            assertEquals(0, second.added().values().stream().mapToInt(Integer::intValue).sum(), "twice adds nothing: " + second.describe());

            JsonNode api = result(server, "recall_context", "{\"project\":\"linkedin-posts\",\"topic\":\"api_spec\"}");
            assertEquals("API v1.1: REST with OAuth", api.path("content").asText());
            assertEquals("important", api.path("priority").asText());
            assertEquals("[\"api\",\"auth\"]", api.path("tags").toString());
            assertEquals(4, api.path("access_count").asInt() - 1, "its reads are kept (and this recall counts one more)");
            JsonNode style = result(server, "recall_context", "{\"project\":\"linkedin-posts\",\"topic\":\"style\"}");
            assertEquals("always_check", style.path("priority").asText(), "bad metadata: priority detected from the text");
            assertEquals("[\"security\",\"git\"]", style.path("tags").toString());
            JsonNode v1 = result(server, "recall_context", "{\"project\":\"linkedin-posts\",\"topic\":\"api_spec\",\"version\":\"1.0\"}");
            assertEquals("API v1.0: REST with basic auth", v1.path("content").asText());
            JsonNode locked = result(server, "lock_context", "{\"project\":\"linkedin-posts\",\"topic\":\"api_spec\",\"content\":\"API v1.2\"}");
            assertEquals("1.2", locked.path("version").asText(), "new versions continue after the imported ones");
            JsonNode woke = result(server, "wake_up", "{\"project\":\"linkedin-posts\",\"max_chars\":20000}");
            assertEquals("Moved the API to OAuth.", woke.path("last_handover").path("summary").asText());

            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> OriginalImporter.run(server.server().registry(), from, "no_such_schema", "x"));
            assertThat(missing.getMessage(), containsString("no schema `no_such_schema`"));
        }
    }

    private static JsonNode result(TestServer server, String tool, String arguments) throws Exception {
        return Json.parse(server.post("/execute", "{\"tool\":\"" + tool + "\",\"arguments\":" + arguments + "}").body()).path("result");
    }
}
