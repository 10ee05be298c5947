package cloud.dementia.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** #11: a newcomer's first minutes — the paste-ready client line, and {@code reset-credentials} for a lost key. */
class ResetCredentialsCommandTest {

    static final Duration START = Duration.ofSeconds(90);

    @Test
    void aLostKeyIsReplacedByResetCredentialsAndTheOldOneStopsWorking() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            Map<String, String> env = ServerProcess.envFor(db, Map.of("DEMENTIA_EMBEDDINGS", "off"));
            String lost;
            try (ServerProcess first = ServerProcess.start(env)) {
                first.awaitReady(START);
                String out = first.stdout();
                lost = first.printed("API key:").orElseThrow(() -> new AssertionError(out));
                assertThat("a ready-to-paste line for Claude Code", first.stdout(), containsString(
                        "claude mcp add --transport http dementia " + first.url() + "/mcp --header \"Authorization: Bearer " + lost + "\""));
                assertEquals(0, first.terminate(START));
            }
            String key;
            String password;
            try (ServerProcess reset = ServerProcess.start(env, "reset-credentials")) {
                assertEquals(0, reset.awaitExit(START), reset.stdout() + reset.stderr());
                String out = reset.stdout();
                key = reset.printed("API key:").orElseThrow(() -> new AssertionError(out));
                password = reset.printed("Console login: admin /").orElseThrow(() -> new AssertionError(out));
                assertNotEquals(lost, key);
                assertThat(reset.stdout(), containsString("restart every replica"));
            }
            try (ServerProcess again = ServerProcess.start(env)) {
                again.awaitReady(START);
                assertThat("nothing printed twice", again.stdout(), not(containsString(key)));
                assertEquals(401, again.get("/tools", Optional.of(lost)).statusCode(), "the lost key opens nothing");
                assertEquals(200, again.get("/tools", Optional.of(key)).statusCode(), "the new key works");
                assertEquals(200, again.get("/admin/api/pools", Optional.empty(), "admin", password).statusCode(), "the new console password works");
                assertEquals(0, again.terminate(START));
            }
            try (ServerProcess bad = ServerProcess.start(env, "reset-credentials", "--all")) {
                assertEquals(2, bad.awaitExit(START));
                assertThat(bad.stderr(), containsString("reset-credentials takes no arguments"));
            }
        }
    }

    /**
     * The embedded database's data directory is held by the server running on it: reset-credentials says, in one line,
     * to stop that server first, and changes nothing. Once it is stopped, the command opens the database alone: no HTTP
     * server, no embedding model, nothing alarming before the secrets.
     */
    @Test
    void resetCredentialsOpensOnlyTheDatabaseAndAsksToStopARunningServerFirst() throws Exception {
        Path dataDir = Files.createTempDirectory("dementia-reset");
        Map<String, String> env = Map.of("PORT", "0", "DEMENTIA_DATA_DIR", dataDir.toString());
        try (ServerProcess server = ServerProcess.start(env)) {
            server.awaitReady(START);
            String key = server.printed("API key:").orElseThrow(() -> new AssertionError("first start prints the key"));
            try (ServerProcess reset = ServerProcess.start(env, "reset-credentials")) {
                assertEquals(3, reset.awaitExit(START), reset.stdout() + reset.stderr());
                String err = reset.stderr().strip();
                assertEquals(1, err.lines().count(), "one line, got:\n" + err);
                assertThat(err, containsString("dementia: DEMENTIA_DATA_DIR=" + dataDir + ": a server is running on this data directory"));
                assertThat(err, containsString("stop it first"));
                assertTrue(reset.printed("API key:").isEmpty(), reset.stdout());
            }
            assertEquals(200, server.get("/tools", Optional.of(key)).statusCode(), "the running server's key still opens it");
            assertEquals(0, server.terminate(START));
        }
        try (ServerProcess reset = ServerProcess.start(env, "reset-credentials")) {
            assertEquals(0, reset.awaitExit(START), reset.stdout() + reset.stderr());
            String all = reset.stdout() + reset.stderr();
            assertTrue(reset.printed("API key:").isPresent(), all);
            assertThat("no HTTP server", all, not(containsString("LoomServer")));
            assertThat("no HTTP server", all, not(containsString("started: port=")));
            assertThat(all, not(containsString("CUDA")));
            assertThat(all, not(containsString("WARNING")));
        }
    }

    /**
     * Every request looks its key up in the control schema: a reset run while a server keeps running is in force there at
     * once, with no restart (the old key refused, the new one accepted).
     */
    @Test
    void aResetIsSeenAtOnceByAServerThatKeepsRunning() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase()) {
            Map<String, String> env = ServerProcess.envFor(db, Map.of("DEMENTIA_EMBEDDINGS", "off"));
            try (ServerProcess running = ServerProcess.start(env)) {
                running.awaitReady(START);
                String out = running.stdout();
                String lost = running.printed("API key:").orElseThrow(() -> new AssertionError(out));
                assertEquals(200, running.get("/tools", Optional.of(lost)).statusCode(), "the generated key works before the reset");
                String key;
                try (ServerProcess reset = ServerProcess.start(env, "reset-credentials")) {
                    assertEquals(0, reset.awaitExit(START), reset.stdout() + reset.stderr());
                    String printed = reset.stdout();
                    key = reset.printed("API key:").orElseThrow(() -> new AssertionError(printed));
                    assertThat(printed, containsString("The old API key is refused from the next request on, by every running server"));
                }
                assertEquals(401, running.get("/tools", Optional.of(lost)).statusCode(), "the old key is refused by the server that kept running");
                assertEquals(200, running.get("/tools", Optional.of(key)).statusCode(), "the new key opens it, without a restart");
                assertEquals(0, running.terminate(START));
            }
        }
    }
}
