package cloud.dementia.db.pool;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.LogManager;

import org.HdrHistogram.Histogram;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.testing.TestDatabase;

/**
 * Measures what {@link PoolRegistry#inStatement} costs per unit of work compared with a bare {@link HikariDataSource}
 * running the same statement. Not a test: it asserts nothing and {@code mvn test} does not run it. It prints a
 * Markdown report to stdout (logging goes to stderr).
 * <p>
 * Variants, each a loop of units on N threads (platform or virtual):
 * <ul>
 *   <li>{@code bare}: borrow from a plain HikariDataSource, run {@code SELECT v FROM "bench".t WHERE id = ?} (auto-commit),
 *       read the row, close. The pool has the physical pool's own HikariCP settings ({@link PhysicalPool#hikariConfig})
 *       and the same driver properties ({@link PhysicalPool#driverProperties}: the read timeout, the statement timeout); the SQL is the registry's template
 *       expanded the way a unit of work expands it ({@link Tx#expand}).</li>
 *   <li>{@code bare+fifo}: bare behind a fair {@link Semaphore} of the pool's size, so callers get connections strictly in
 *       turn, as the registry's admission lets them in: the price of taking turns, apart from the rest of the registry.</li>
 *   <li>{@code registry}: {@code registry.inStatement("bench", tx -> tx.queryOne("SELECT v FROM {s}.t WHERE id = ?", ...))}:
 *       admission, the physical pool, leak tracking, the statement timeout, DB Client over the unit's connection.</li>
 * </ul>
 * For each thread count every variant is warmed up, then measured in rounds, every variant once per round, forward and
 * backward in turn (bare, bare+fifo, registry; registry, bare+fifo, bare; ...): the report's ratio is the median of
 * the rounds' ratios, so a burst of other load on the machine moves one round rather than the result.
 * <p>
 * System properties: {@code bench.threads} (default {@code 2,8,32}), {@code bench.warmupSeconds} (3),
 * {@code bench.measureSeconds} (4, per segment), {@code bench.rounds} (5: segments per variant), {@code bench.poolSize} (5),
 * {@code bench.rows} (1000), {@code bench.connection} ({@code direct}, or {@code pooled} to run as behind a pooler),
 * {@code bench.virtual} ({@code false}: platform threads; {@code true}: virtual threads, as the server runs its work),
 * {@code bench.threadPerUnit} ({@code false}; {@code true}: each unit on a new virtual thread, as the server runs a request),
 * {@code bench.alternatives} ({@code false}; {@code true} adds the other ways of choosing schema and timeout, see
 * {@link #alternatives}).
 * The database comes from {@link TestDatabase} (set {@code TEST_DATABASE_URL} to use a given server).
 * <p>
 * Run from the repository root, in a JVM of its own (see {@code ops/BENCHMARKS.md}):
 * <pre>
 * mvn -B -q -pl db test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
 *   &amp;&amp; "$JAVA_HOME/bin/java" -cp "db/target/test-classes:db/target/classes:$(cat db/target/bench.classpath)" \
 *      cloud.dementia.db.pool.RegistryOverheadBenchmark
 * </pre>
 */
public final class RegistryOverheadBenchmark {

    private static final String SCHEMA = "bench";
    /** Workers on virtual threads, as the server's request handlers are ({@code -Dbench.virtual=true}), or platform threads. */
    private static final boolean VIRTUAL = Boolean.parseBoolean(System.getProperty("bench.virtual", "false"));
    /**
     * Each unit on a virtual thread of its own, which the worker starts and waits for ({@code -Dbench.threadPerUnit=true}):
     * as the server runs a request, one new virtual thread per request that ends with it, so no thread takes a connection
     * again the moment it gave it back. The workers are then the clients, one request at a time each.
     */
    private static final boolean THREAD_PER_UNIT = Boolean.parseBoolean(System.getProperty("bench.threadPerUnit", "false"));
    /** The statement both variants run: the registry's template, and the same expanded as a unit of work does. */
    private static final String REGISTRY_SQL = "SELECT v FROM {s}.t WHERE id = ?";
    private static final String BARE_SQL = Tx.expand(REGISTRY_SQL, Tx.identifier(SCHEMA));

    private RegistryOverheadBenchmark() {
    }

    /** One kind of unit of work. */
    private interface Unit {
        void run(int id) throws Exception;
    }

    private record Variant(String name, Unit unit) {
    }

    /** What one measured segment produced. */
    private record Segment(Histogram histogram, long units, long errors, long elapsedNanos, long sumNanos, String firstError,
                           long cpuNanos, long allocatedBytes) {
        double unitsPerSecond() {
            return units * 1e9 / elapsedNanos;
        }
    }

    /** All segments of one variant at one thread count. */
    private static final class Result {
        final Histogram histogram = new Histogram(3);
        final List<Double> segmentThroughput = new ArrayList<>();
        long units;
        long errors;
        long elapsedNanos;
        long sumNanos;
        long cpuNanos;
        long allocatedBytes;
        String firstError;

        void add(Segment s) {
            histogram.add(s.histogram());
            segmentThroughput.add(s.unitsPerSecond());
            units += s.units();
            errors += s.errors();
            elapsedNanos += s.elapsedNanos();
            sumNanos += s.sumNanos();
            cpuNanos += s.cpuNanos();
            allocatedBytes += s.allocatedBytes();
            if (firstError == null) {
                firstError = s.firstError();
            }
        }

        double unitsPerSecond() {
            return units * 1e9 / elapsedNanos;
        }

        double meanMicros() {
            return units == 0 ? Double.NaN : sumNanos / 1e3 / units;
        }

        /** Client JVM CPU time (all threads: workers, HikariCP, GC, JIT) per unit. */
        double cpuMicrosPerUnit() {
            return units == 0 || cpuNanos < 0 ? Double.NaN : cpuNanos / 1e3 / units;
        }

        /** Bytes allocated by the worker threads per unit. */
        double bytesPerUnit() {
            return units == 0 || allocatedBytes < 0 ? Double.NaN : (double) allocatedBytes / units;
        }

        double p50Micros() {
            return histogram.getValueAtPercentile(50) / 1e3;
        }

        double p99Micros() {
            return histogram.getValueAtPercentile(99) / 1e3;
        }

        /** Difference between the highest and lowest segment throughput, relative to their mean: a rough noise indicator. */
        double spread() {
            if (segmentThroughput.size() < 2) {
                return Double.NaN;
            }
            double min = segmentThroughput.stream().mapToDouble(d -> d).min().orElseThrow();
            double max = segmentThroughput.stream().mapToDouble(d -> d).max().orElseThrow();
            double mean = segmentThroughput.stream().mapToDouble(d -> d).average().orElseThrow();
            return (max - min) / mean;
        }
    }

    public static void main(String[] args) throws Exception {
        // positional arguments are ignored; every setting is a -D system property
        configureLogging();
        int[] threadCounts = Arrays.stream(System.getProperty("bench.threads", "2,8,32").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
        Duration warmup = Duration.ofMillis((long) (Double.parseDouble(System.getProperty("bench.warmupSeconds", "3")) * 1000));
        Duration measure = Duration.ofMillis((long) (Double.parseDouble(System.getProperty("bench.measureSeconds", "4")) * 1000));
        int rounds = Integer.parseInt(System.getProperty("bench.rounds", "5"));
        int poolSize = Integer.parseInt(System.getProperty("bench.poolSize", "5"));
        int rows = Integer.parseInt(System.getProperty("bench.rows", "1000"));
        boolean direct = !System.getProperty("bench.connection", "direct").equals("pooled");
        boolean alternatives = Boolean.parseBoolean(System.getProperty("bench.alternatives", "false"));

        // the same connections on both sides, all kept open (min idle = max), and the schema may use all of them
        RegistrySettings settings = RegistrySettings.defaults().withBudget(Math.max(2, poolSize)).withPoolSize(poolSize, poolSize);

        TestDatabase server = TestDatabase.get();
        TestDatabase.Fresh db = server.freshDatabase();
        String serverVersion;
        try {
            serverVersion = setUp(db, rows);
            // as the server connects with DB_PREPARED_STATEMENTS=auto: directly (prepared statements, the statement timeout as
            // the session default), or behind a pooler (neither: the driver times each statement)
            ConnectionTarget base = db.target().withDirect(direct).withServerPrepared(direct);
            ConnectionTarget bareTarget = base.withApplicationName("dementia-bench-bare");
            ConnectionTarget registryTarget = base.withApplicationName("dementia-bench-registry");

            try (HikariDataSource bare = bareDataSource(bareTarget, settings);
                 HikariDataSource plain = alternatives ? plainDataSource(base.withApplicationName("dementia-bench-plain"), settings) : null;
                 PoolRegistry registry = new PoolRegistry(registryTarget, settings, new SimpleMeterRegistry())) {

                List<Variant> variants = new ArrayList<>();
                variants.add(new Variant("bare", id -> {
                    try (Connection c = bare.getConnection(); PreparedStatement ps = c.prepareStatement(BARE_SQL)) {
                        lookUp(ps, id);
                    }
                }));
                // the registry lets callers in strictly in turn (FIFO per schema) once every connection is taken; HikariCP
                // alone lets whoever runs first take a returned connection. bare+fifo is bare behind a fair semaphore of the
                // pool's size: the price of the turn-taking itself, without anything else of the registry
                Semaphore turns = new Semaphore(poolSize, true);
                long turnTimeoutMs = settings.acquireTimeout().toMillis();
                variants.add(new Variant("bare+fifo", id -> {
                    if (!turns.tryAcquire(turnTimeoutMs, TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException("no turn within " + turnTimeoutMs + " ms");
                    }
                    try (Connection c = bare.getConnection(); PreparedStatement ps = c.prepareStatement(BARE_SQL)) {
                        lookUp(ps, id);
                    } finally {
                        turns.release();
                    }
                }));
                if (alternatives) {
                    variants.add(new Variant("bare-plain", id -> {
                        try (Connection c = plain.getConnection(); PreparedStatement ps = c.prepareStatement(BARE_SQL)) {
                            lookUp(ps, id);
                        }
                    }));
                    variants.addAll(alternatives(bare, settings.statementTimeout().toMillis()));
                }
                variants.add(new Variant("registry", id -> registry.inStatement(SCHEMA,
                        tx -> tx.queryOne(REGISTRY_SQL, r -> r.string(1), id)
                                .orElseThrow(() -> new IllegalStateException("no row " + id)))));

                // rounds: every variant once per round, forward in odd rounds and backward in even ones (A B C, C B A, A B C ...),
                // so each round's segments are close in time and a burst of other load hits one round, not one variant
                List<Variant> reversed = new ArrayList<>(variants);
                Collections.reverse(reversed);

                String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
                String loadBefore = loadAverage();
                Map<Integer, Map<String, Result>> results = new LinkedHashMap<>();
                for (int threads : threadCounts) {
                    Map<String, Result> byVariant = new LinkedHashMap<>();
                    for (Variant v : variants) {
                        byVariant.put(v.name(), new Result());
                        log("warm-up: threads=" + threads + " variant=" + v.name() + " for " + warmup.toMillis() + " ms");
                        runSegment(v.unit(), threads, warmup, rows);
                    }
                    for (int round = 0; round < rounds; round++) {
                        for (Variant v : round % 2 == 0 ? variants : reversed) {
                            log("measure: threads=" + threads + " round=" + (round + 1) + " variant=" + v.name() + " for " + measure.toMillis() + " ms");
                            Segment s = runSegment(v.unit(), threads, measure, rows);
                            byVariant.get(v.name()).add(s);
                            log(String.format(Locale.ROOT, "  -> %.0f units/s, %d errors", s.unitsPerSecond(), s.errors()));
                        }
                    }
                    results.put(threads, byVariant);
                }
                String finished = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
                report(results, serverVersion, poolSize, rows, direct, warmup, measure, started, finished, settings, loadBefore, loadAverage());
            }
        } finally {
            db.close();
        }
    }

    /** Creates {@code bench.t(id int primary key, v text)} with {@code rows} rows; returns the server version. */
    private static String setUp(TestDatabase.Fresh db, int rows) throws SQLException {
        ConnectionTarget setup = db.target().withApplicationName("dementia-bench-setup");
        try (Connection c = DriverManager.getConnection(setup.jdbcUrl(), setup.driverProperties()); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + SCHEMA);
            st.execute("CREATE TABLE " + SCHEMA + ".t (id int PRIMARY KEY, v text NOT NULL)");
            st.execute("INSERT INTO " + SCHEMA + ".t SELECT i, 'value ' || i FROM generate_series(1, " + rows + ") i");
            st.execute("ANALYZE " + SCHEMA + ".t");
            try (ResultSet rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /**
     * The other ways a unit of work could choose its schema and statement timeout, on the bare pool, to compare with
     * what the registry does (named schema in the SQL; the timeout as the session default on a direct connection, set on
     * the statement by the driver behind a pooler):
     * <ul>
     *   <li>{@code bare-plain} (made by the caller): bare without the read timeout and the meters, as this benchmark had
     *       it before;</li>
     *   <li>{@code bare+timer}: bare plus the driver's per-statement timeout ({@code setQueryTimeoutMs}), what the
     *       registry does behind a pooler;</li>
     *   <li>{@code bare+unprepared}: bare with the statement sent unnamed every time ({@code prepareThreshold} 0 on it), as
 *       behind a pooler: what server-side prepared statements save on a direct connection;</li>
 *   <li>{@code bare+piggyback}: the settings sent with the work in the same round trip, one multi-statement string
     *       {@code SELECT set_config('search_path', ...true), set_config('statement_timeout', ...true); SELECT v FROM t ...}
     *       (one implicit transaction);</li>
     *   <li>{@code bare+prelude}: the settings in a statement of their own, then the query, then COMMIT: three round trips,
     *       what the registry did before.</li>
     * </ul>
     */
    private static List<Variant> alternatives(HikariDataSource bare, long timeoutMs) {
        String path = Tx.identifier(SCHEMA) + ", public";
        String timeout = Long.toString(timeoutMs);
        return List.of(
                new Variant("bare+timer", id -> {
                    try (Connection c = bare.getConnection(); PreparedStatement ps = c.prepareStatement(BARE_SQL)) {
                        ps.unwrap(org.postgresql.jdbc.PgStatement.class).setQueryTimeoutMs(timeoutMs);
                        lookUp(ps, id);
                    }
                }),
                new Variant("bare+unprepared", id -> {
                    try (Connection c = bare.getConnection(); PreparedStatement ps = c.prepareStatement(BARE_SQL)) {
                        ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
                        lookUp(ps, id);
                    }
                }),
                new Variant("bare+piggyback", id -> {
                    try (Connection c = bare.getConnection(); PreparedStatement ps = c.prepareStatement(
                            "SELECT set_config('search_path', ?, true), set_config('statement_timeout', ?, true); SELECT v FROM t WHERE id = ?")) {
                        ps.setString(1, path);
                        ps.setString(2, timeout);
                        ps.setObject(3, id);
                        ps.execute();
                        ps.getMoreResults();
                        try (ResultSet rs = ps.getResultSet()) {
                            if (!rs.next()) {
                                throw new IllegalStateException("no row " + id);
                            }
                            rs.getString(1);
                        }
                    }
                }),
                new Variant("bare+prelude", id -> {
                    try (Connection c = bare.getConnection()) {
                        c.setAutoCommit(false);
                        try (PreparedStatement p = c.prepareStatement(
                                "SELECT set_config('search_path', ?, true), set_config('statement_timeout', ?, true)")) {
                            p.setString(1, path);
                            p.setString(2, timeout);
                            p.execute();
                        }
                        try (PreparedStatement ps = c.prepareStatement("SELECT v FROM t WHERE id = ?")) {
                            lookUp(ps, id);
                        }
                        c.commit();
                    }
                }));
    }

    /** Runs the primary-key lookup on {@code ps} for {@code id} and reads the row, as every bare variant does. */
    private static void lookUp(PreparedStatement ps, int id) throws SQLException {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("no row " + id);
            }
            rs.getString(1);
        }
    }

    /**
     * A plain HikariCP pool with the physical pool's settings, minus the registry: its HikariCP settings, its driver
     * properties (the read timeout, and the statement timeout as the session default on a direct connection) and its
     * standard {@code hikaricp_*} meters. Those are HikariCP's and the driver's work, which any pool configured for
     * production does too, not the registry's.
     */
    private static HikariDataSource bareDataSource(ConnectionTarget target, RegistrySettings s) {
        HikariConfig config = PhysicalPool.hikariConfig(s.budget(), s.minIdle(), s.acquireTimeout().toMillis());
        config.setPoolName("bench-bare");
        config.setJdbcUrl(target.jdbcUrl());
        config.setDataSourceProperties(PhysicalPool.driverProperties(target, PoolRegistry.sessionStatementTimeoutMs(target, s),
                PoolRegistry.socketTimeoutSeconds(s)));
        config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(new SimpleMeterRegistry()));
        return new HikariDataSource(config);
    }

    /**
     * The bare pool as benchmark 3 had it before (for {@code bare-plain}): HikariCP's settings and the target's driver
     * properties only, no read timeout, no meters. What those two cost, next to what the registry costs.
     */
    private static HikariDataSource plainDataSource(ConnectionTarget target, RegistrySettings s) {
        HikariConfig config = PhysicalPool.hikariConfig(s.budget(), s.minIdle(), s.acquireTimeout().toMillis());
        config.setPoolName("bench-plain");
        config.setJdbcUrl(target.jdbcUrl());
        config.setDataSourceProperties(target.driverProperties());
        return new HikariDataSource(config);
    }

    /** Runs {@code unit} on {@code threads} threads for {@code duration}; one histogram per thread, merged. */
    /** Runs one unit on a new virtual thread and waits for it, as the server runs a request; its failure is the caller's. */
    private static void runOnItsOwnThread(Unit unit, int id) throws Exception {
        Exception[] failed = new Exception[1];
        Thread.ofVirtual().name("bench-unit").start(() -> {
            try {
                unit.run(id);
            } catch (Exception e) {
                failed[0] = e;
            }
        }).join();
        if (failed[0] != null) {
            throw failed[0];
        }
    }

    private static Segment runSegment(Unit unit, int threads, Duration duration, int rows) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        Histogram[] histograms = new Histogram[threads];
        long[] units = new long[threads];
        long[] errors = new long[threads];
        long[] sums = new long[threads];
        long[] allocated = new long[threads];
        AtomicReference<String> firstError = new AtomicReference<>();
        long[] endNanos = new long[1];
        Thread[] workers = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int me = i;
            histograms[i] = new Histogram(3);
            Thread.Builder builder = VIRTUAL ? Thread.ofVirtual() : Thread.ofPlatform();
            workers[i] = builder.name("bench-worker-" + i).start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                Histogram h = histograms[me];
                ThreadLocalRandom random = ThreadLocalRandom.current();
                long end = endNanos[0];
                long n = 0;
                long failed = 0;
                long sum = 0;
                long allocatedAtStart = allocatedBytes();
                while (true) {
                    long t0 = System.nanoTime();
                    if (t0 >= end) {
                        break;
                    }
                    try {
                        int id = random.nextInt(1, rows + 1);
                        if (THREAD_PER_UNIT) {
                            runOnItsOwnThread(unit, id);
                        } else {
                            unit.run(id);
                        }
                        long took = System.nanoTime() - t0;
                        h.recordValue(took);
                        sum += took;
                        n++;
                    } catch (Exception e) {
                        failed++;
                        firstError.compareAndSet(null, e.toString());
                    }
                }
                units[me] = n;
                errors[me] = failed;
                sums[me] = sum;
                long allocatedAtEnd = allocatedBytes();
                allocated[me] = allocatedAtStart < 0 || allocatedAtEnd < 0 ? -1 : allocatedAtEnd - allocatedAtStart;
            });
        }
        long cpuAtStart = processCpuNanos();
        long start = System.nanoTime();
        endNanos[0] = start + duration.toNanos();  // published to the workers by the latch
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        long elapsed = System.nanoTime() - start;
        long cpuAtEnd = processCpuNanos();
        Histogram all = new Histogram(3);
        long totalUnits = 0;
        long totalErrors = 0;
        long totalSum = 0;
        long totalAllocated = 0;
        for (int i = 0; i < threads; i++) {
            all.add(histograms[i]);
            totalUnits += units[i];
            totalErrors += errors[i];
            totalSum += sums[i];
            totalAllocated = totalAllocated < 0 || allocated[i] < 0 ? -1 : totalAllocated + allocated[i];
        }
        long cpu = cpuAtStart < 0 || cpuAtEnd < 0 ? -1 : cpuAtEnd - cpuAtStart;
        return new Segment(all, totalUnits, totalErrors, elapsed, totalSum, firstError.get(), cpu, totalAllocated);
    }

    private static void report(Map<Integer, Map<String, Result>> results, String serverVersion, int poolSize, int rows, boolean direct,
                               Duration warmup,
                               Duration measure, String started, String finished, RegistrySettings settings, String loadBefore,
                               String loadAfter) {
        StringBuilder out = new StringBuilder();
        out.append("## PoolRegistry overhead vs bare HikariCP\n\n");
        out.append("- run: ").append(started).append(" .. ").append(finished).append('\n');
        out.append("- machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", Java ").append(System.getProperty("java.version")).append(" (").append(System.getProperty("java.vm.name")).append(")\n");
        out.append("- load average (1/5/15 min) at start: ").append(loadBefore).append(", at end: ").append(loadAfter)
                .append(" (the client, the server and anything else on the machine share the cores)\n");
        out.append("- database: PostgreSQL ").append(serverVersion).append(" via ").append(TestDatabase.get().admin().describe()).append('\n');
        out.append("- pools: ").append(poolSize).append(" connections kept open on both sides (max = min idle), the physical pool's HikariCP ")
                .append("settings, the same driver properties (the read timeout; on a direct connection the statement timeout as the session default) ")
                .append("and the `hikaricp_*` meters on both; registry statement timeout ").append(settings.statementTimeout().toMillis())
                .append(" ms\n");
        out.append("- connection: ").append(direct ? "direct, as the server runs on one (`-Dbench.connection=direct`): server-side prepared "
                + "statements allowed on both sides, the registry's statement timeout is each connection's session default"
                : "as behind a pooler (`-Dbench.connection=pooled`): no server-side prepared statements on either side, the registry's "
                + "driver times each statement").append('\n');
        out.append("- workers: ").append(VIRTUAL ? "virtual threads (`-Dbench.virtual=true`), as the server's request handlers"
                : "platform threads").append(THREAD_PER_UNIT ? "; each unit on a new virtual thread the worker waits for "
                + "(`-Dbench.threadPerUnit=true`), as the server runs each request" : "").append('\n');
        out.append("- table: bench.t, ").append(rows).append(" rows, primary-key lookup of a random id, one statement in auto-commit\n");
        List<String> names = List.copyOf(results.values().iterator().next().keySet());
        int rounds = results.values().iterator().next().values().iterator().next().segmentThroughput.size();
        List<String> back = new ArrayList<>(names);
        Collections.reverse(back);
        out.append("- per thread count: warm-up ").append(warmup.toMillis()).append(" ms per variant, then ").append(rounds)
                .append(" rounds (`-Dbench.rounds`), each a segment of ").append(measure.toMillis())
                .append(" ms (`-Dbench.measureSeconds`) per variant, in the order ").append(String.join(", ", names))
                .append(" in odd rounds and ").append(String.join(", ", back)).append(" in even ones; each variant's numbers pool its ")
                .append(rounds).append(" segments. The ratio to read is the median of the rounds' ratios: both sides of a round ran ")
                .append("seconds apart, so a burst of other load on the machine moves one round, not the result\n");
        out.append("- latency = one whole unit as the caller sees it (admission/wait for a connection + statement + return); ")
                .append("with more threads than connections it includes queueing\n");
        out.append("- client CPU µs/unit = CPU time of the whole benchmark JVM during the segments / units (workers, HikariCP, GC, JIT; ")
                .append("not PostgreSQL); alloc B/unit = bytes allocated by the worker threads / units")
                .append(VIRTUAL ? " (the JVM does not count a virtual thread's allocations: shown as –)\n" : "\n");
        out.append("- segment spread = (max - min) / mean of the variant's segment throughputs: a rough noise indicator\n\n");

        out.append("| threads | variant | units/s | mean µs | p50 µs | p99 µs | client CPU µs/unit | alloc B/unit | units | errors | segment spread |\n");
        out.append("|--:|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (Map.Entry<Integer, Map<String, Result>> e : results.entrySet()) {
            for (Map.Entry<String, Result> v : e.getValue().entrySet()) {
                Result r = v.getValue();
                out.append(String.format(Locale.ROOT, "| %d | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %d | %d | %.1f%% |%n",
                        e.getKey(), v.getKey(), r.unitsPerSecond(), r.meanMicros(), r.p50Micros(), r.p99Micros(), r.cpuMicrosPerUnit(),
                        r.bytesPerUnit(), r.units, r.errors, r.spread() * 100));
            }
        }

        ratios(out, results, "bare");
        ratios(out, results, "bare+fifo");

        out.append("\n### What each unit does\n\n");
        out.append("- bare: borrow; `").append(BARE_SQL).append("` (auto-commit: one round trip); close.\n");
        out.append("- bare+fifo: bare behind a fair `java.util.concurrent.Semaphore` of the pool's size: callers get a connection strictly in ")
                .append("turn, as the registry lets them in, and nothing else of the registry; registry / bare+fifo is what the registry costs ")
                .append("besides taking turns.\n");
        out.append("- registry: `inStatement` = admission (one lock; in line, FIFO per schema, when every connection is taken), borrow ")
                .append("from the physical pool, a checkout record for leak tracking (thread and time, no stack), the statement through DB Client ")
                .append("over the unit's connection (")
                .append(direct ? "the statement timeout is the connection's session default" : "the driver sets the statement timeout on it")
                .append("), return, leave admission (the next caller in line is unparked). One round trip, like bare.\n");
        if (results.values().iterator().next().containsKey("bare+timer")) {
            out.append("- bare-plain: bare as this benchmark had it before: HikariCP's settings and the target's driver properties only, without ")
                    .append("the read timeout (`socketTimeout`, a timed read per response) and without the `hikaricp_*` meters.\n");
            out.append("- bare+timer: bare plus `setQueryTimeoutMs` on the statement (the driver's timer; what the registry does behind a pooler).\n");
            out.append("- bare+unprepared: bare with the statement sent unnamed each time (`prepareThreshold` 0 on it, as behind a pooler); ")
                    .append("on a direct connection bare prepares it on the server after 5 uses.\n");
            out.append("- bare+piggyback: `SELECT set_config('search_path', ?, true), set_config('statement_timeout', ?, true); SELECT v FROM t WHERE id = ?` ")
                    .append("as one string: the settings travel with the statement, one round trip, two statements for the server.\n");
            out.append("- bare+prelude: `SELECT set_config(...), set_config(...)`, then the query, then COMMIT: three round trips, what the ")
                    .append("registry did before this release.\n");
        }
        Map<String, String> errors = new LinkedHashMap<>();
        for (Map.Entry<Integer, Map<String, Result>> e : results.entrySet()) {
            for (Map.Entry<String, Result> v : e.getValue().entrySet()) {
                if (v.getValue().firstError != null) {
                    errors.putIfAbsent(v.getKey() + " @ " + e.getKey() + " threads", v.getValue().firstError);
                }
            }
        }
        if (!errors.isEmpty()) {
            out.append("\n### Errors (first of each)\n\n");
            errors.forEach((k, v) -> out.append("- ").append(k).append(": ").append(v).append('\n'));
        }
        System.out.print(out.toString().replace(" NaN |", " – |"));
        System.out.flush();
    }

    /** @return CPU time of this JVM so far, or -1 if the platform does not tell */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    private static void ratios(StringBuilder out, Map<Integer, Map<String, Result>> results, String against) {
        out.append("\n### Ratios (registry / " + against + ")\n\n");
        out.append("| threads | throughput, median of the rounds (lowest – highest) | throughput, all rounds together | mean latency | p50 latency "
                + "| p99 latency | mean Δ µs/unit | client CPU Δ µs/unit | alloc Δ B/unit |\n");
        out.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (Map.Entry<Integer, Map<String, Result>> e : results.entrySet()) {
            Result bare = e.getValue().get(against);
            Result reg = e.getValue().get("registry");
            List<Double> perRound = new ArrayList<>();
            for (int i = 0; i < Math.min(bare.segmentThroughput.size(), reg.segmentThroughput.size()); i++) {
                perRound.add(reg.segmentThroughput.get(i) / bare.segmentThroughput.get(i));
            }
            Collections.sort(perRound);
            double median = perRound.isEmpty() ? Double.NaN : perRound.size() % 2 == 1 ? perRound.get(perRound.size() / 2)
                    : (perRound.get(perRound.size() / 2 - 1) + perRound.get(perRound.size() / 2)) / 2;
            out.append(String.format(Locale.ROOT, "| %d | **%.3f** (%.2f – %.2f) | %.3f | %.3f | %.3f | %.3f | %+.1f | %+.1f | %+.0f |%n", e.getKey(),
                    median, perRound.isEmpty() ? Double.NaN : perRound.get(0), perRound.isEmpty() ? Double.NaN : perRound.get(perRound.size() - 1),
                    reg.unitsPerSecond() / bare.unitsPerSecond(), reg.meanMicros() / bare.meanMicros(),
                    reg.p50Micros() / bare.p50Micros(), reg.p99Micros() / bare.p99Micros(), reg.meanMicros() - bare.meanMicros(),
                    reg.cpuMicrosPerUnit() - bare.cpuMicrosPerUnit(), reg.bytesPerUnit() - bare.bytesPerUnit()));
        }
    }

    /** @return bytes allocated by the current thread so far, or -1 if the platform does not tell */
    private static long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemoryEnabled()) {
            return t.getCurrentThreadAllocatedBytes();
        }
        return -1;
    }

    /** @return the 1, 5 and 15 minute load averages, if the OS tells them */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (Exception e) {
            double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", l);
        }
    }

    private static void log(String message) {
        System.err.println("[bench] " + message);
    }

    /** One line per record, HikariCP at WARNING: the test logging configuration, unless one is given. */
    private static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") != null) {
            return;
        }
        try (InputStream in = RegistryOverheadBenchmark.class.getResourceAsStream("/test-logging.properties")) {
            if (in != null) {
                LogManager.getLogManager().readConfiguration(in);
            }
        } catch (Exception e) {
            log("logging configuration not applied: " + e);
        }
    }
}
