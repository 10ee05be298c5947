package cloud.dementia.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server as a process: bad configuration, the embedded default across restarts, graceful stop. */
class ProcessLifecycleTest {

    static final Duration START = Duration.ofSeconds(90);
    static final Duration STOP = Duration.ofSeconds(30);

    /** Each kind of bad configuration: non-zero exit, one clear line naming the variable, no stack trace. */
    @Test
    void badConfigurationStopsWithOneClearLine() throws Exception {
        record Case(Map<String, String> env, String variable, String says) {
        }
        List<Case> cases = List.of(
                new Case(Map.of("DB_POOL_BUDGET", "abc"), "DB_POOL_BUDGET", "is not a whole number"),
                new Case(Map.of("DB_POOL_BUDGET", "1"), "DB_POOL_BUDGET", "at least 2"),
                new Case(Map.of("DB_POOL_MAX_PER_SCHEMA", "50"), "DB_POOL_MAX_PER_SCHEMA", "exceeds DB_POOL_BUDGET"),
                new Case(Map.of("PORT", "http"), "PORT", "is not a whole number"),
                new Case(Map.of("DATABASE_URL", "mysql://root@localhost/db"), "DATABASE_URL", "must start with postgres://"),
                new Case(Map.of("DATABASE_URL", "postgres://user:p%40ss@127.0.0.1:1/nowhere"), "DATABASE_URL", "cannot connect"),
                new Case(Map.of("DATABASE_URL", "postgres://user:p%40ss@127.0.0.1:1/nowhere"), "DATABASE_URL",
                        "nothing accepts connections on 127.0.0.1:1"),
                new Case(Map.of("DATABASE_URL", "postgres://u@no-such-host.invalid:5432/db"), "DATABASE_URL",
                        "the host of no-such-host.invalid:5432 is not known (no DNS entry for it): check the host name"));
        for (Case c : cases) {
            try (ServerProcess p = ServerProcess.start(c.env)) {
                int exit = p.awaitExit(START);
                String err = p.stderr().strip();
                assertNotEquals(0, exit, c.toString());
                assertEquals(1, err.lines().count(), "one line for " + c + ", got:\n" + err);
                assertThat(err, startsWith("dementia: " + c.variable));
                assertThat(err, containsString(c.says));
                assertThat(err + p.stdout(), not(containsString("\tat ")));
                assertThat(p.stdout(), not(containsString("Dementia Cloud is running")));
                assertThat("no password echoed", err, not(containsString("p@ss")));
            }
        }
    }

    /**
     * A port another process listens on: the start ends at once, non-zero, with one line naming PORT, before the embedded
     * database is started, so nothing is left holding the data directory: the next start on it with a free port works.
     */
    @Test
    void aPortInUseEndsTheStartAtOnceWithOneLineNamingPort() throws Exception {
        Path dataDir = Files.createTempDirectory("dementia-port");
        Map<String, String> env = new HashMap<>();
        env.put("DEMENTIA_DATA_DIR", dataDir.toString());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0)) {
            env.put("PORT", String.valueOf(taken.getLocalPort()));
            try (ServerProcess p = ServerProcess.start(env)) {
                int exit = p.awaitExit(Duration.ofSeconds(30));
                String err = p.stderr().strip();
                assertEquals(2, exit, "exit code\nstdout:\n" + p.stdout() + "\nstderr:\n" + err);
                assertEquals(1, err.lines().count(), "one line, got:\n" + err);
                assertThat(err, startsWith("dementia: PORT=" + taken.getLocalPort() + ": port " + taken.getLocalPort() + " is in use"));
                assertThat(err + p.stdout(), not(containsString("\tat ")));
                assertThat(p.stdout(), not(containsString("Dementia Cloud is running")));
            }
        }
        env.put("PORT", "0");
        try (ServerProcess next = ServerProcess.start(env)) {
            next.awaitReady(START);
            assertEquals(0, next.terminate(STOP));
        }
    }

    /** No DATABASE_URL: embedded PostgreSQL under DEMENTIA_DATA_DIR; data and secrets survive a restart. */
    @Test
    void embeddedModeKeepsDataAndSecretsAcrossRestart() throws Exception {
        Path dataDir = Files.createTempDirectory("dementia-embedded");
        Map<String, String> env = new HashMap<>();
        env.put("PORT", "0");
        env.put("DEMENTIA_DATA_DIR", dataDir.toString());
        String apiKey;
        try (ServerProcess first = ServerProcess.start(env)) {
            first.awaitReady(START);
            apiKey = first.printed("API key:").orElseThrow(() -> new AssertionError("first start prints the API key"));
            assertTrue(first.printed("Console login:").isPresent(), "first start prints the console login");
            assertThat(first.stdout(), containsString("/mcp"));
            assertThat(first.stdout(), containsString("/admin"));
            assertThat(first.stdout(), containsString("embedded PostgreSQL 17"));
            assertThat("the first start says where the new database is", first.stdout(),
                    containsString("New database:  nothing was found in " + dataDir.toAbsolutePath()));
            assertEquals(200, first.get("/health", Optional.empty()).statusCode());
            assertEquals(200, first.get("/metrics", Optional.of(apiKey)).statusCode());
            assertEquals(0, first.terminate(STOP));
        }
        assertTrue(Files.exists(dataDir.resolve("pg/PG_VERSION")), "the cluster lives under DEMENTIA_DATA_DIR");
        try (ServerProcess second = ServerProcess.start(env)) {
            second.awaitReady(START);
            assertTrue(second.printed("API key:").isEmpty(), "the second start prints no secret:\n" + second.stdout());
            assertThat(second.stdout(), not(containsString(apiKey)));
            assertThat(second.stdout(), not(containsString("Console login:")));
            assertThat("an existing database is not new", second.stdout(), not(containsString("New database:")));
            assertEquals(200, second.get("/metrics", Optional.of(apiKey)).statusCode(), "the stored key still opens /metrics");
            assertEquals(401, second.get("/metrics", Optional.of(apiKey + "x")).statusCode());
            assertEquals(0, second.terminate(STOP));
        }
    }

    /** SIGTERM: stop accepting, finish, close pools, exit 0, and no backend of ours left in pg_stat_activity. */
    @Test
    void gracefulShutdownLeavesNoBackendBehind() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            Map<String, String> env = ServerProcess.envFor(db, Map.of("DEMENTIA_API_KEY", "shutdown-test-key-0123"));
            try (ServerProcess p = ServerProcess.start(env)) {
                p.awaitReady(START);
                for (int i = 0; i < 5; i++) {
                    assertEquals(200, p.get("/observe/health/ready", Optional.empty()).statusCode());
                }
                assertTrue(db.backends() >= 1, "the server holds pooled connections while running");
                assertEquals(0, p.terminate(STOP), "exit code after SIGTERM");
                assertThat(p.stdout(), containsString("pool registry closed"));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (db.backends() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(0, db.backends(), "no backend with our application name is left");
        }
    }

    /**
     * #9: SIGTERM while writers are busy: every call that got an answer got 200 or 503 (the ones after the stop are
     * refused at the door), the exit code is 0, no backend is left, and every acknowledged write is stored.
     */
    @Test
    void sigtermUnderLoadFinishesOrRefusesCleanlyAndExitsZero() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            Map<String, String> env = ServerProcess.envFor(db, Map.of("DEMENTIA_API_KEY", TestServer.KEY));
            java.util.List<cloud.dementia.server.faults.Load.Call> calls;
            java.util.Set<String> acknowledged;
            try (ServerProcess p = ServerProcess.start(env)) {
                p.awaitReady(START);
                cloud.dementia.server.faults.Load load = new cloud.dementia.server.faults.Load(p.url(), "shutdown", 6);
                // load first: the stop must meet writes in flight (the first locks also warm up the embedding model)
                long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (load.acknowledged.size() < 40 && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                assertEquals(0, p.terminate(STOP), "exit code after SIGTERM under load");
                load.close();
                calls = load.snapshot();
                acknowledged = load.acknowledged;
                assertThat(p.stdout(), containsString("pool registry closed"));
            }
            for (cloud.dementia.server.faults.Load.Call c : calls) {
                assertTrue(c.status() == 200 || c.status() == 503 || c.status() == 0, "an answer during shutdown: " + c);
                if (c.status() == 0) {
                    // no HTTP answer: the server had stopped listening; the call never started
                    assertThat(c.error(), not(containsString("HttpTimeoutException")));
                }
            }
            assertTrue(acknowledged.size() > 20, "writes before the stop: " + acknowledged.size());
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (db.backends() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(0, db.backends(), "no backend with our application name is left");
            java.util.Properties props = new java.util.Properties();
            props.setProperty("user", db.target().user() == null ? System.getProperty("user.name") : db.target().user());
            if (db.target().password() != null) {
                props.setProperty("password", db.target().password());
            }
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl(), props);
                 java.sql.Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT label FROM " + db.projectSchema("shutdown") + ".context_locks")) {
                java.util.Set<String> stored = new java.util.HashSet<>();
                while (rs.next()) {
                    stored.add(rs.getString(1));
                }
                java.util.Set<String> lost = new java.util.HashSet<>(acknowledged);
                lost.removeAll(stored);
                assertTrue(lost.isEmpty(), lost.size() + " acknowledged writes are missing after SIGTERM");
            }
            System.out.println("ProcessLifecycleTest.sigtermUnderLoad: " + calls.size() + " calls, " + acknowledged.size() + " acknowledged, "
                    + calls.stream().filter(c -> c.status() == 0).count() + " refused at the door after the stop");
        }
    }
}
