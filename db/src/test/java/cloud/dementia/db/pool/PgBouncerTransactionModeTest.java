package cloud.dementia.db.pool;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.DatabaseProbe;
import cloud.dementia.db.testing.PgBouncer;
import cloud.dementia.db.testing.TestDatabase;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry behind a real PgBouncer in transaction mode: many client connections share a couple of server
 * backends, one transaction at a time, so the registry must keep everything it sets inside the transaction and
 * must not rely on named server-side prepared statements.
 */
class PgBouncerTransactionModeTest {

    private static final Logger LOG = Logger.getLogger(PgBouncerTransactionModeTest.class.getName());

    private static final String SERVER_DEFAULT_SEARCH_PATH = "\"$user\", public";
    private static final int ROWS_PER_SCHEMA = 5;

    @Test
    void twoSchemasInterleavedThroughTransactionPoolerNeverSeeEachOthersRows() throws Exception {
        int serverPool = 2;
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PgBouncer bouncer = PgBouncer.start(serverPool);
             PoolRegistry registry = registryThrough(bouncer, db)) {
            seed(db, registry, "alpha", "beta");
            awaitNoDirectBackends(db);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger maxServerBackends = new AtomicInteger();
            AtomicInteger maxClientConnections = new AtomicInteger();
            AtomicInteger samples = new AtomicInteger();
            Thread sampler = Thread.ofPlatform().name("pg_stat_activity-sampler").start(() -> {
                while (running.get()) {
                    maxServerBackends.accumulateAndGet(serverBackends(db), Math::max);
                    maxClientConnections.accumulateAndGet(registry.budget().allocated(), Math::max);
                    samples.incrementAndGet();
                }
            });

            int workers = 16;
            int unitsPerWorker = 25;
            ExecutorService pool = Executors.newFixedThreadPool(workers);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<Seen>>> results = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int worker = w;
                results.add(pool.submit(() -> {
                    start.await();
                    List<Seen> seen = new ArrayList<>();
                    for (int i = 0; i < unitsPerWorker; i++) {
                        String schema = (worker + i) % 2 == 0 ? "alpha" : "beta";
                        seen.add(registry.inTransaction(schema, tx -> {
                            int pidFirst = tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow();
                            List<String> rows = tx.query("SELECT v FROM {s}.t", r -> r.string(1));
                            // hold the server backend a moment so the other schema's transactions queue behind it
                            tx.queryOne("SELECT pg_sleep(0.002)", r -> 1);
                            return tx.queryOne("SELECT current_setting('search_path'), pg_backend_pid()",
                                    r -> new Seen(schema, rows, r.string(1), pidFirst, r.integer(2))).orElseThrow();
                        }));
                    }
                    return seen;
                }));
            }
            start.countDown();
            List<Seen> all = new ArrayList<>();
            for (Future<List<Seen>> r : results) {
                all.addAll(r.get(120, TimeUnit.SECONDS));
            }
            running.set(false);
            sampler.join();
            pool.shutdown();

            LOG.info("interleaving: units=" + all.size() + " client_connections_max=" + maxClientConnections.get()
                    + " server_backends_max=" + maxServerBackends.get() + " samples=" + samples.get() + " backends_by_schema=" + backendsBySchema(all));
            assertEquals(workers * unitsPerWorker, all.size());
            Map<String, Set<Integer>> pidsBySchema = backendsBySchema(all);
            for (Seen s : all) {
                assertThat("rows seen by a unit on `" + s.schema + "` (search_path " + s.searchPath + ", backend " + s.pid + ")",
                        s.rows, hasSize(ROWS_PER_SCHEMA));
                assertThat("rows seen by a unit on `" + s.schema + "` (backend " + s.pid + ")", s.rows, everyItem(is(s.schema)));
                assertEquals(SERVER_DEFAULT_SEARCH_PATH, s.searchPath, "the schema is named in the SQL, never set on the session");
                assertEquals(s.pidFirst, s.pid, "one transaction stays on one server backend");
            }
            Set<Integer> shared = new HashSet<>(pidsBySchema.get("alpha"));
            shared.retainAll(pidsBySchema.get("beta"));
            assertThat("server backends that ran transactions of both schemas " + pidsBySchema, shared, not(empty()));
            Set<Integer> allPids = new HashSet<>(pidsBySchema.get("alpha"));
            allPids.addAll(pidsBySchema.get("beta"));
            assertThat("distinct server backends behind " + maxClientConnections.get() + " client connections", allPids.size(),
                    lessThanOrEqualTo(serverPool));

            assertThat("pg_stat_activity samples taken", samples.get(), greaterThanOrEqualTo(10));
            assertThat("server backends in pg_stat_activity for " + db.name(), maxServerBackends.get(), lessThanOrEqualTo(serverPool));
            assertThat(maxServerBackends.get(), greaterThanOrEqualTo(1));
            assertThat("client connections the registry held at once", maxClientConnections.get(), greaterThan(maxServerBackends.get()));
            assertThat(serverBackends(db), lessThanOrEqualTo(serverPool));
        }
    }

    @Test
    void unitOfWorkLeavesNoSessionStateOnTheSharedServerConnection() throws Exception {
        // one server backend: every client, the registry's and the plain one, lands on the very same backend
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PgBouncer bouncer = PgBouncer.start(1);
             PoolRegistry registry = registryThrough(bouncer, db)) {
            seed(db, registry, "alpha", "beta");
            Set<Integer> registryPids = new HashSet<>();
            for (String schema : List.of("alpha", "beta", "alpha")) {
                registryPids.add(registry.inTransaction(schema, tx -> {
                    assertEquals(schema, tx.queryOne("SELECT v FROM {s}.t LIMIT 1", r -> r.string(1)).orElseThrow());
                    assertEquals(SERVER_DEFAULT_SEARCH_PATH, tx.queryOne("SHOW search_path", r -> r.string(1)).orElseThrow());
                    return tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow();
                }));
                registryPids.add(registry.inStatement(schema, tx -> tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow()));
            }
            registryPids.add(registry.inReadOnlyTransaction("beta",
                    tx -> tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow()));
            assertEquals(1, registryPids.size(), "default_pool_size 1 gives one server backend: " + registryPids);

            ConnectionTarget plain = bouncer.target(db.name(), "dementia-test-plain-probe");
            try (Connection c = DriverManager.getConnection(plain.jdbcUrl(), plain.driverProperties())) {
                assertEquals(registryPids.iterator().next(), queryInt(c, "SELECT pg_backend_pid()"),
                        "the plain connection runs on the backend the registry used");
                assertEquals(SERVER_DEFAULT_SEARCH_PATH, show(c, "search_path"), "search_path left on the server connection");
                assertEquals(serverDefault("statement_timeout"), show(c, "statement_timeout"), "statement_timeout left on the server connection");
                assertEquals("off", show(c, "transaction_read_only"), "transaction_read_only left on the server connection");
            }

            // control: session-level state does leak through this pooler, so the probe above would have caught it
            try (Connection a = DriverManager.getConnection(plain.jdbcUrl(), plain.driverProperties());
                 Connection b = DriverManager.getConnection(plain.jdbcUrl(), plain.driverProperties())) {
                try (Statement st = a.createStatement()) {
                    st.execute("SET search_path TO beta");
                }
                assertEquals("beta", show(b, "search_path"), "another client sees the session SET on the shared backend");
                // and what another client left behind does not matter: the registry names the schema in every statement
                List<String> rows = registry.inTransaction("alpha", tx -> tx.query("SELECT v FROM {s}.t", r -> r.string(1)));
                assertThat(rows, everyItem(is("alpha")));
                try (Statement st = a.createStatement()) {
                    st.execute("RESET search_path");
                }
            }
        }
    }

    @Test
    void sameParameterizedStatementBeyondPrepareThresholdKeepsWorkingThroughPoolerWithoutPreparedStatements() throws Exception {
        int serverPool = 2;
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PgBouncer bouncer = PgBouncer.start(serverPool);
             PoolRegistry registry = registryThrough(bouncer, db)) {
            seed(db, registry, "alpha", "beta");
            String sql = "SELECT count(*) FROM {s}.t WHERE v = ?";

            // in a row on one client connection: 12 times in one transaction, then once in each of 12 transactions
            int inOne = registry.inTransaction("alpha", tx -> {
                int sum = 0;
                for (int i = 0; i < 12; i++) {
                    sum += tx.queryOne(sql, r -> r.integer(1), "alpha").orElseThrow();
                }
                return sum;
            });
            assertEquals(12 * ROWS_PER_SCHEMA, inOne);
            for (int i = 0; i < 12; i++) {
                int count = registry.inStatement("alpha", tx -> tx.queryOne(sql, r -> r.integer(1), "alpha").orElseThrow());
                assertEquals(ROWS_PER_SCHEMA, count);
            }

            // concurrently, so each client connection's transactions land on different server backends
            Map<Integer, Set<Integer>> backendsByClient = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<Integer>> results = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                String schema = w % 2 == 0 ? "alpha" : "beta";
                results.add(pool.submit(() -> {
                    int executions = 0;
                    for (int unit = 0; unit < 15; unit++) {
                        executions += registry.inTransaction(schema, tx -> {
                            int client = System.identityHashCode(tx.db().unwrap(Connection.class).unwrap(PGConnection.class));
                            int backend = tx.queryOne("SELECT pg_backend_pid()", r -> r.integer(1)).orElseThrow();
                            backendsByClient.computeIfAbsent(client, k -> ConcurrentHashMap.newKeySet()).add(backend);
                            int n = 0;
                            for (int i = 0; i < 8; i++) {
                                assertEquals(ROWS_PER_SCHEMA, tx.queryOne(sql, r -> r.integer(1), schema).orElseThrow());
                                assertEquals(0, tx.queryOne(sql, r -> r.integer(1), "someone-else").orElseThrow());
                                n += 2;
                            }
                            assertEquals(0, tx.queryOne("SELECT count(*) FROM pg_prepared_statements", r -> r.integer(1)).orElseThrow(),
                                    "named prepared statements on server backend " + backend);
                            return n;
                        });
                    }
                    return executions;
                }));
            }
            int executions = 0;
            for (Future<Integer> r : results) {
                executions += r.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            LOG.info("statement executions=" + executions + " server backends by client connection=" + backendsByClient);
            assertEquals(8 * 15 * 16, executions);
            assertTrue(backendsByClient.values().stream().anyMatch(b -> b.size() > 1),
                    "some client connection ran on more than one server backend (so a named statement would have been missing): "
                            + backendsByClient);
        }
    }

    /** The precondition of the test above: this pooler really does lose named prepared statements between transactions. */
    @Test
    void controlNamedServerPreparedStatementsBreakThroughThisPooler() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PgBouncer bouncer = PgBouncer.start(2)) {
            ConnectionTarget target = bouncer.target(db.name(), "dementia-test-named-statements");
            Properties named = target.driverProperties();
            named.setProperty("prepareThreshold", "1");
            try (Connection a = DriverManager.getConnection(target.jdbcUrl(), named);
                 Connection b = DriverManager.getConnection(target.jdbcUrl(), target.driverProperties())) {
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                int first;
                try (PreparedStatement ps = a.prepareStatement("SELECT ?::int + pg_backend_pid() * 0")) {
                    ps.setInt(1, 41);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(41, rs.getInt(1));
                    }
                    first = queryInt(a, "SELECT pg_backend_pid()");
                    a.commit();
                    // b now holds the backend a prepared its statement on; a's next transaction gets the other one
                    assertEquals(first, queryInt(b, "SELECT pg_backend_pid()"), "b took over a's idle server backend");
                    ps.setInt(1, 42);
                    SQLException e = assertThrows(SQLException.class, ps::executeQuery);
                    assertEquals("26000", e.getSQLState(), "expected: prepared statement does not exist; got " + e.getMessage());
                    a.rollback();
                } finally {
                    b.rollback();
                }
            }
        }
    }

    /** How the server decides about server-side prepared statements (DB_PREPARED_STATEMENTS=auto). */
    @Test
    void theProbeTellsAPoolerFromADirectConnection() throws Exception {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PgBouncer bouncer = PgBouncer.start(2)) {
            assertFalse(DatabaseProbe.check(db.target()).behindPooler(), "direct: the announced pid is the backend's own");
            assertTrue(DatabaseProbe.check(bouncer.target(db.name(), "dementia-test-probe")).behindPooler(),
                    "through PgBouncer: the announced pid is the pooler's");
        }
    }

    // ---------------------------------------------------------------- helpers

    private record Seen(String schema, List<String> rows, String searchPath, int pidFirst, int pid) {
    }

    private static Map<String, Set<Integer>> backendsBySchema(List<Seen> all) {
        Map<String, Set<Integer>> m = new HashMap<>();
        all.forEach(s -> m.computeIfAbsent(s.schema, k -> new HashSet<>()).add(s.pid));
        return m;
    }

    private static PoolRegistry registryThrough(PgBouncer bouncer, TestDatabase.Fresh db) {
        RegistrySettings settings = RegistrySettings.defaults()
                .withBudget(10)
                .withPoolSize(4, 0)
                // clients queue inside PgBouncer for one of its few server backends: allow for that wait
                .withAcquireTimeout(Duration.ofSeconds(20));
        return new PoolRegistry(bouncer.target(db.name(), db.target().applicationName()), settings, new SimpleMeterRegistry());
    }

    /** Each schema gets {@code t(v text)} with {@value #ROWS_PER_SCHEMA} rows naming it, the copies written through the pooler. */
    private static void seed(TestDatabase.Fresh db, PoolRegistry registry, String... schemas) {
        TestDatabaseSql.run(db, schemas);
        for (String schema : schemas) {
            registry.inStatement(schema, tx -> tx.update("INSERT INTO {s}.t SELECT v FROM {s}.t, generate_series(2, " + ROWS_PER_SCHEMA + ")"));
        }
    }

    /** Client backends in the test's database: only PgBouncer's server connections once the setup connection is gone. */
    private static int serverBackends(TestDatabase.Fresh db) {
        return TestDatabase.get().queryInt(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND backend_type = 'client backend'", db.name());
    }

    private static void awaitNoDirectBackends(TestDatabase.Fresh db) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (TestDatabase.get().queryInt("SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND application_name = ?",
                db.name(), "dementia-test-setup") > 0) {
            assertTrue(System.nanoTime() < deadline, "the setup connection's backend did not go away");
            Thread.sleep(20);
        }
    }

    private static String serverDefault(String setting) {
        ConnectionTarget admin = TestDatabase.get().admin();
        try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.driverProperties())) {
            return show(c, setting);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String show(Connection c, String setting) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
