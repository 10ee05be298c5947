package cloud.dementia.server;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** #10: {@code import-original} as a command — its report, its exit codes, and a second run that adds nothing. */
class ImportOriginalCommandTest {

    @Test
    void theCommandImportsReportsAndExits() throws Exception {
        try (TestDatabase.Fresh original = TestDatabase.get().freshDatabase(); TestDatabase.Fresh target = TestDatabase.get().freshDatabase()) {
            Properties p = new Properties();
            String user = original.target().user() == null ? System.getProperty("user.name") : original.target().user();
            p.setProperty("user", user);
            if (original.target().password() != null) {
                p.setProperty("password", original.target().password());
            }
            try (Connection c = DriverManager.getConnection(original.jdbcUrl(), p); Statement st = c.createStatement()) {
                st.execute("""
                        CREATE SCHEMA my_app;
                        CREATE TABLE my_app.sessions (id TEXT PRIMARY KEY, started_at DOUBLE PRECISION, last_active DOUBLE PRECISION);
                        CREATE TABLE my_app.context_locks (id SERIAL PRIMARY KEY, session_id TEXT, label TEXT NOT NULL, version TEXT, content TEXT,
                            content_hash TEXT, metadata TEXT, locked_at DOUBLE PRECISION, access_count INTEGER, preview TEXT, key_concepts TEXT);
                        INSERT INTO my_app.sessions VALUES ('s', 1700000000, 1700000000);
                        INSERT INTO my_app.context_locks (session_id, label, version, content, metadata, locked_at)
                          VALUES ('s', 'db', '1.0', 'PostgreSQL, one schema per project.', '{"priority": "important"}', 1700000001);
                        """);
            }
            Map<String, String> env = new HashMap<>();
            env.put("DATABASE_URL", target.jdbcUrl());
            env.put("DB_APPLICATION_NAME", target.target().applicationName());
            env.put("DEMENTIA_API_KEY", TestServer.KEY);
            env.put("DEMENTIA_ADMIN_PASSWORD", "a-good-password");
            env.put("DEMENTIA_EMBEDDINGS", "off");
            String from = original.jdbcUrl() + (original.jdbcUrl().contains("?") ? "&" : "?") + "user=" + user;
            String[] args = {"import-original", "--from", from, "--schema", "my_app", "--project", "my-app"};
            try (ServerProcess first = ServerProcess.start(env, args)) {
                assertEquals(0, first.awaitExit(Duration.ofSeconds(90)), first.stdout() + first.stderr());
                assertThat(first.stdout(), containsString("imported schema my_app into project my-app:"));
                assertThat(first.stdout(), containsString("context   read      1, added      1"));
            }
            try (ServerProcess second = ServerProcess.start(env, args)) {
                assertEquals(0, second.awaitExit(Duration.ofSeconds(90)), second.stdout() + second.stderr());
                assertThat(second.stdout(), containsString("context   read      1, added      0, already there or duplicate      1"));
            }
            try (ServerProcess bad = ServerProcess.start(env, "import-original", "--from", from, "--schema", "my_app")) {
                assertEquals(2, bad.awaitExit(Duration.ofSeconds(30)));
                assertThat(bad.stderr(), containsString("--project is required"));
            }
        }
    }
}
