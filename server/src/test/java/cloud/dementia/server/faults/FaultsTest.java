package cloud.dementia.server.faults;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.PgBouncer;
import cloud.dementia.db.testing.PrivatePostgres;
import cloud.dementia.db.testing.TcpProxy;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #9 faults, under concurrent writers through {@code /execute}: PostgreSQL stopped and started again, backends
 * terminated, PgBouncer restarted, a slow and then a silent network. The promises each time: no 500 (every failure is
 * 503 with {@code Retry-After}), failures come within the acquire timeout and a second while the database is away,
 * every call succeeds again soon after it is back without a restart, and every acknowledged write is there afterwards.
 */
class FaultsTest {

    private static final String PROJECT = "faults";
    private static final long ACQUIRE_MS = 1000;
    private static final Map<String, String> ENV = Map.of("DB_POOL_ACQUIRE_TIMEOUT_MS", String.valueOf(ACQUIRE_MS), "DB_POOL_BUDGET", "6",
            "DB_STATEMENT_TIMEOUT_MS", "2000");

    @Test
    void postgresStoppedUnderLoad() throws Exception {
        try (PrivatePostgres pg = PrivatePostgres.start();
             TestServer server = TestServer.startOn(pg.jdbcUrl(), "dementia-fault-stop", ENV, MemoryTools::create)) {
            Load load = new Load(server.url(""), PROJECT, 6);
            Thread.sleep(2000);
            pg.stop();
            long stopped = load.now();
            Thread.sleep(4000);
            long restarting = load.now();
            pg.restart();
            long up = load.now();
            Thread.sleep(8000);
            load.close();
            List<Load.Call> calls = load.snapshot();
            String summary = "stopped at " + stopped + " ms, restarting at " + restarting + " ms, up at " + up + " ms; " + load.summary();
            noServerErrors(calls, summary);
            List<Load.Call> whileDown = calls.stream().filter(c -> c.startMs() > stopped + 200 && c.endMs() < restarting).toList();
            assertTrue(whileDown.size() >= 6, "calls while PostgreSQL was down: " + whileDown.size() + "; " + summary);
            for (Load.Call c : whileDown) {
                assertEquals(503, c.status(), "while down: " + c + "; " + summary);
                assertTrue(c.tookMs() <= ACQUIRE_MS + 1000, "a call while down took " + c.tookMs() + " ms (acquire timeout " + ACQUIRE_MS
                        + " ms + 1 s at most): " + c + "; " + summary);
            }
            List<Load.Call> recovered = calls.stream().filter(c -> c.startMs() > up + 5000).toList();
            assertTrue(recovered.size() >= 6, "calls 5 s after PostgreSQL was back: " + recovered.size() + "; " + summary);
            recovered.forEach(c -> assertEquals(200, c.status(), "5 s after recovery every call succeeds: " + c + "; " + summary));
            assertAllPresent(pg.connect(PrivatePostgres.DATABASE), load.acknowledged, summary);
            System.out.println("FaultsTest.postgresStoppedUnderLoad: " + summary + "; slowest failure while down "
                    + whileDown.stream().mapToLong(Load.Call::tookMs).max().orElse(0) + " ms");
        }
    }

    @Test
    void backendsTerminatedUnderLoad() throws Exception {
        String app = "dementia-fault-kill";
        try (PrivatePostgres pg = PrivatePostgres.start();
             TestServer server = TestServer.startOn(pg.jdbcUrl(), app, ENV, MemoryTools::create)) {
            Load load = new Load(server.url(""), PROJECT, 6);
            Thread.sleep(1500);
            int terminated = 0;
            try (Connection killer = pg.connect("postgres"); Statement st = killer.createStatement()) {
                for (int round = 0; round < 16; round++) {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                            + "WHERE application_name = '" + app + "'")) {
                        rs.next();
                        terminated += rs.getInt(1);
                    }
                    Thread.sleep(250);
                }
            }
            long killed = load.now();
            Thread.sleep(3000);
            load.close();
            List<Load.Call> calls = load.snapshot();
            String summary = terminated + " backends terminated; " + load.summary();
            assertTrue(terminated >= 10, summary);
            noServerErrors(calls, summary);
            calls.stream().filter(c -> c.startMs() > killed + 1000)
                    .forEach(c -> assertEquals(200, c.status(), "after the terminations every call succeeds: " + c + "; " + summary));
            assertAllPresent(pg.connect(PrivatePostgres.DATABASE), load.acknowledged, summary);
            System.out.println("FaultsTest.backendsTerminatedUnderLoad: " + summary);
        }
    }

    @Test
    void pgbouncerRestartedUnderLoad() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase(); PgBouncer bouncer = PgBouncer.start(4)) {
            var through = bouncer.target(db.name(), db.target().applicationName());
            String url = through.jdbcUrl() + "?user=" + through.user();
            try (TestServer server = TestServer.startOn(url, db.target().applicationName(), ENV, MemoryTools::create)) {
                Load load = new Load(server.url(""), PROJECT, 6);
                Thread.sleep(2000);
                long stopping = load.now();
                bouncer.restart(Duration.ofSeconds(3));
                long up = load.now();
                Thread.sleep(8000);
                load.close();
                List<Load.Call> calls = load.snapshot();
                String summary = "PgBouncer down from " + stopping + " ms, up at " + up + " ms; " + load.summary();
                noServerErrors(calls, summary);
                calls.stream().filter(c -> c.startMs() > stopping + 300 && c.endMs() < up - 200)
                        .forEach(c -> {
                            assertEquals(503, c.status(), "while PgBouncer was down: " + c + "; " + summary);
                            assertTrue(c.tookMs() <= ACQUIRE_MS + 1000, "took " + c.tookMs() + " ms: " + c + "; " + summary);
                        });
                List<Load.Call> recovered = calls.stream().filter(c -> c.startMs() > up + 5000).toList();
                assertTrue(recovered.size() >= 6, summary);
                recovered.forEach(c -> assertEquals(200, c.status(), "5 s after PgBouncer was back: " + c + "; " + summary));
                Properties p = new Properties();
                p.setProperty("user", db.target().user() == null ? System.getProperty("user.name") : db.target().user());
                if (db.target().password() != null) {
                    p.setProperty("password", db.target().password());
                }
                assertAllPresent(DriverManager.getConnection(db.jdbcUrl(), p), load.acknowledged, summary);
                System.out.println("FaultsTest.pgbouncerRestartedUnderLoad: " + summary);
            }
        }
    }

    /**
     * A slow network makes calls slow, not failed; a silent one (packets dropped) fails them within the socket timeout
     * (the statement timeout + 5 s) and the acquire timeout, never holding a call for ever; then it recovers.
     */
    @Test
    void aSlowThenSilentNetworkMakesCallsSlowThenFailedButNeverHung() throws Exception {
        try (PrivatePostgres pg = PrivatePostgres.start(); TcpProxy proxy = new TcpProxy("127.0.0.1", pg.port())) {
            String url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + PrivatePostgres.DATABASE + "?user=postgres";
            try (TestServer server = TestServer.startOn(url, "dementia-fault-net", ENV, MemoryTools::create)) {
                Load load = new Load(server.url(""), PROJECT, 4);
                Thread.sleep(1000);
                proxy.delay(40);
                long slow = load.now();
                Thread.sleep(3000);
                long silent = load.now();
                proxy.silence(true);
                Thread.sleep(12_000);
                proxy.silence(false);
                proxy.delay(0);
                long back = load.now();
                Thread.sleep(10_000);
                load.close();
                List<Load.Call> calls = load.snapshot();
                String summary = "slow from " + slow + " ms, silent from " + silent + " ms, back at " + back + " ms; " + load.summary();
                noServerErrors(calls, summary);
                List<Load.Call> whileSlow = calls.stream().filter(c -> c.startMs() > slow + 200 && c.endMs() < silent).toList();
                assertTrue(!whileSlow.isEmpty(), summary);
                whileSlow.forEach(c -> assertEquals(200, c.status(), "a slow network is slow, not failed: " + c + "; " + summary));
                long socketTimeoutMs = 2000 + 5000;
                calls.stream().filter(c -> c.startMs() >= silent && c.startMs() < back).forEach(c -> assertTrue(
                        c.tookMs() <= socketTimeoutMs + ACQUIRE_MS + 1500,
                        "no call is held longer than the socket timeout and the acquire timeout: " + c + "; " + summary));
                assertTrue(calls.stream().anyMatch(c -> c.startMs() > silent + 500 && c.endMs() < back && c.status() == 503),
                        "calls fail (503) while the network is silent; " + summary);
                List<Load.Call> recovered = calls.stream().filter(c -> c.startMs() > back + socketTimeoutMs).toList();
                assertTrue(recovered.size() >= 4, summary);
                recovered.forEach(c -> assertEquals(200, c.status(), "after the network is back: " + c + "; " + summary));
                assertAllPresent(pg.connect(PrivatePostgres.DATABASE), load.acknowledged, summary);
                System.out.println("FaultsTest.aSlowThenSilentNetwork: " + summary + "; longest call while silent "
                        + calls.stream().filter(c -> c.startMs() >= silent && c.startMs() < back).mapToLong(Load.Call::tookMs).max().orElse(0) + " ms");
            }
        }
    }

    /** Every answer was an HTTP answer, 200 or 503 with Retry-After: never a 500, never a dropped call. */
    static void noServerErrors(List<Load.Call> calls, String summary) {
        List<String> wrong = new ArrayList<>();
        for (Load.Call c : calls) {
            if (c.status() == 503 && c.retryAfter() == null) {
                wrong.add("503 without Retry-After: " + c);
            } else if (c.status() != 200 && c.status() != 503) {
                wrong.add(c.toString());
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " answers were neither 200 nor 503 + Retry-After, e.g. "
                + wrong.subList(0, Math.min(5, wrong.size())) + "; " + summary);
    }

    /** Every write the service acknowledged is in the project's table. */
    /** @return the schema the project is registered with (new projects' schemas are opaque) */
    static String projectSchema(Connection c, String project) throws SQLException {
        try (java.sql.PreparedStatement st = c.prepareStatement("SELECT schema FROM dementia_control.projects WHERE name = ?")) {
            st.setString(1, project);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("project `" + project + "` is not registered");
                }
                return rs.getString(1);
            }
        }
    }

    static void assertAllPresent(Connection c, Set<String> acknowledged, String summary) throws SQLException {
        try (c; Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT label FROM " + projectSchema(c, PROJECT) + ".context_locks")) {
            Set<String> stored = new HashSet<>();
            while (rs.next()) {
                stored.add(rs.getString(1));
            }
            Set<String> lost = new HashSet<>(acknowledged);
            lost.removeAll(stored);
            assertTrue(acknowledged.size() > 20, "too few acknowledged writes to say anything: " + summary);
            assertTrue(lost.isEmpty(), lost.size() + " acknowledged writes are missing, e.g. " + lost.stream().limit(5).toList() + "; " + summary);
        }
    }
}
