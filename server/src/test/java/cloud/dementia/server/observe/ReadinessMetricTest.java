package cloud.dementia.server.observe;

import java.util.Map;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.TestServer;
import cloud.dementia.server.TestTools;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * #11: readiness as a meter, so an alert sees what the load balancer's probe sees: {@code dementia_ready} is 1 while
 * the database answers and 0 while it refuses connections, though the process still answers {@code /metrics}.
 */
class ReadinessMetricTest {

    @Test
    void readinessIsExportedAsTheProbeDecidesIt() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             TestServer server = TestServer.startOn(db.jdbcUrl(), db.target().applicationName(),
                     Map.of("DB_POOL_ACQUIRE_TIMEOUT_MS", "500"), new TestTools()::catalog)) {
            assertEquals(1.0, ready(server), "ready while the database answers");
            TestDatabase.get().execute("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
            try {
                TestDatabase.get().terminate(db.target().applicationName());
                assertEquals(503, server.get("/observe/health/ready").statusCode(), "the probe says not ready");
                assertEquals(0.0, ready(server), "and so does the meter, on a scrape that still works");
            } finally {
                TestDatabase.get().execute("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true");
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            double again;
            do {
                again = ready(server);
            } while (again != 1.0 && System.nanoTime() < deadline);
            assertEquals(1.0, again, "ready again once the database answers");
        }
    }

    private static double ready(TestServer server) throws Exception {
        var res = server.get("/metrics");
        assertEquals(200, res.statusCode(), res.body());
        var samples = Scrape.parse(res.body()).find("dementia_ready", Map.of());
        assertEquals(1, samples.size(), "one dementia_ready sample: " + samples);
        return samples.getFirst().value();
    }
}
