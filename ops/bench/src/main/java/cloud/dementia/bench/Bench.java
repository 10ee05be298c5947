package cloud.dementia.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import org.HdrHistogram.Histogram;

/**
 * The benchmarks of ops/BENCHMARKS.md, against a real server started from its jar and a real PostgreSQL, in one run.
 * <p>
 * It starts nothing hidden: each server it starts (and its variables), each wrk and pgbench command is printed on
 * stderr as it starts; the results are one Markdown table per scenario on stdout. It exits 1 when any call failed.
 * <pre>
 * java -jar ops/bench/target/dementia-bench.jar [recall] [ping] [projects] [firstuse] [clients] [wakeup] [scale]
 *      [--server-jar server/target/dementia-server.jar] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
 *      [--seconds 15] [--profile] [--server-env NAME=VALUE ...]
 *      [--sizes 100,1000,10000] [--projects 1000] [--search-seconds 60] [--locks 200] [--backlog-minutes 10]
 * </pre>
 * Without a scenario it runs all but {@code scale}, which takes long (it imports 11,200 contexts into one server and
 * 1,000 projects into another): name it. {@code clients} is the 1 → 256 clients sweep (called {@code scale} before
 * #17); {@code scale} is #17's: projects of 100, 1,000 and 10,000 contexts built through the import endpoint, the lock
 * ratio with embeddings on and off, and 1,000 projects searched at random (see {@link Scale}); {@code --sizes},
 * {@code --projects}, {@code --search-seconds}, {@code --locks} and {@code --backlog-minutes} (the longest wait for the
 * server's embedding backlog to drain after an import) are its options.
 */
public final class Bench {

    static final String APPLICATION_NAME = "dementia-bench";
    /** The one statement that does recall_context's work, as the server sends it (compare Contexts.RECALL_LATEST). */
    static final String RECALL_SQL = """
            \\set n random(1, %d)
            UPDATE %s.context_locks SET last_accessed = now(), access_count = access_count + 1 WHERE id = (SELECT id FROM %s.context_locks \
            WHERE label = 'topic-' || :n ORDER BY locked_at DESC, minor DESC LIMIT 1) RETURNING id, label, version, content, preview, \
            content_hash, key_concepts, tags, priority, locked_at, last_accessed, access_count, session_id;
            """;
    private static final int TOPICS = 100;

    final Path jar;
    private final Map<String, String> extraEnv;
    final Postgres pg;
    private final int seconds;
    private final boolean profile;
    final Path work;
    private int failedCalls;

    private Bench(Path jar, Map<String, String> extraEnv, Postgres pg, int seconds, boolean profile, Path work) {
        this.jar = jar;
        this.extraEnv = extraEnv;
        this.pg = pg;
        this.seconds = seconds;
        this.profile = profile;
        this.work = work;
    }

    public static void main(String[] args) throws Exception {
        List<String> scenarios = new ArrayList<>();
        Path jar = Path.of("server/target/dementia-server.jar");
        String postgres = "postgresql://postgres@127.0.0.1:5432/postgres";
        int seconds = 15;
        boolean profile = false;
        List<Integer> sizes = List.of(100, 1000, 10000);
        int projects = 1000;
        int searchSeconds = 60;
        int locks = 200;
        int backlogMinutes = 10;
        Map<String, String> extraEnv = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--server-env" -> {
                    String[] kv = args[++i].split("=", 2);
                    extraEnv.put(kv[0], kv.length > 1 ? kv[1] : "");
                }
                case "--server-jar" -> jar = Path.of(args[++i]);
                case "--postgres" -> postgres = args[++i];
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--profile" -> profile = true;
                case "--sizes" -> sizes = java.util.Arrays.stream(args[++i].split(",")).map(String::trim).map(Integer::parseInt).toList();
                case "--projects" -> projects = Integer.parseInt(args[++i]);
                case "--search-seconds" -> searchSeconds = Integer.parseInt(args[++i]);
                case "--locks" -> locks = Integer.parseInt(args[++i]);
                case "--backlog-minutes" -> backlogMinutes = Integer.parseInt(args[++i]);
                case "recall", "ping", "projects", "firstuse", "clients", "wakeup", "scale" -> scenarios.add(args[i]);
                default -> {
                    System.err.println("unknown argument " + args[i] + "; scenarios: recall ping projects firstuse clients wakeup scale; options: "
                            + "--server-jar, --postgres, --seconds, --profile, --server-env NAME=VALUE; for scale: --sizes 100,1000,10000, "
                            + "--projects 1000, --search-seconds 60, --locks 200, --backlog-minutes 10");
                    System.exit(2);
                }
            }
        }
        if (scenarios.isEmpty()) {
            scenarios.addAll(List.of("recall", "ping", "projects", "firstuse", "clients", "wakeup"));
        }
        if (sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 1) || projects < 1 || searchSeconds < 1 || locks < 1 || backlogMinutes < 0) {
            System.err.println("--sizes, --projects, --search-seconds and --locks take positive numbers, --backlog-minutes 0 or more");
            System.exit(2);
        }
        if (!Files.isRegularFile(jar)) {
            System.err.println(jar + " does not exist: build it first (mvn -B -q -DskipTests package)");
            System.exit(2);
        }
        Path work = Files.createDirectories(Path.of("ops/bench/target/run-" + System.currentTimeMillis()));
        System.out.println("# Benchmark run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        System.out.println();
        System.out.println("Machine: " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version") + "; load average at start "
                + loadAverage() + ". Command: `java -jar ops/bench/target/dementia-bench.jar " + String.join(" ", args) + "`");
        try (Postgres pg = new Postgres(postgres)) {
            Bench bench = new Bench(jar, extraEnv, pg, seconds, profile, work);
            for (String s : scenarios) {
                switch (s) {
                    case "recall" -> bench.recall();
                    case "ping" -> bench.ping();
                    case "projects" -> bench.projects();
                    case "firstuse" -> bench.firstUse();
                    case "clients" -> bench.clients();
                    case "scale" -> new Scale(bench, sizes, projects, searchSeconds, locks, backlogMinutes).run();
                    default -> bench.wakeup();
                }
            }
            System.out.println();
            System.out.println("Load average at the end " + loadAverage() + ". Failed calls: " + bench.failedCalls + ".");
            if (bench.failedCalls > 0) {
                System.exit(1);
            }
        }
    }

    // ---------------------------------------------------------------- 1. recall_context: /execute and /mcp against pgbench

    /** Warm-up of each path before the recall scenario measures it. */
    private static final int WARM_UP_SECONDS = 15;

    private void recall() throws Exception {
        Path jfr = work.resolve("recall.jfr");
        List<String> jvm = profile ? List.of("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile,jdk.ExecutionSample#period=1ms")
                : List.of();
        try (Server server = Server.start(jar, pg.jdbcUrl(), with(Map.of("DB_POOL_BUDGET", "4", "DB_POOL_MAX_PER_SCHEMA", "4")), jvm, work, "recall")) {
            seed(server, List.of("bench"), TOPICS);
            List<String> sessions = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                sessions.add(server.mcpSession());
            }
            String execute = Wrk.executeRecall(List.of("bench"), TOPICS);
            String mcp = Wrk.mcpRecall(List.of("bench"), TOPICS, sessions);
            String stateless = Wrk.mcpStatelessRecall(List.of("bench"), TOPICS);
            String sql = RECALL_SQL.formatted(TOPICS, pg.projectSchema("bench"), pg.projectSchema("bench"));
            // long enough for the JIT to finish with both paths: with 5 s each, one run's first /execute phase still spent
            // 615 µs of server CPU per call (273 µs in its second phase), compiling as it went
            log("warming up /execute and /mcp (" + WARM_UP_SECONDS + " s each)");
            Wrk.run(server, execute, 16, WARM_UP_SECONDS, work);
            Wrk.run(server, mcp, 16, WARM_UP_SECONDS, work);
            Wrk.run(server, stateless, 16, WARM_UP_SECONDS, work);
            pg.pgbench(sql, 4, 3, work);

            Map<String, Row> rows = new LinkedHashMap<>();
            // mirrored order, so that drift on this shared machine falls on both sides alike
            Row pgbench1 = pgbench(sql);
            Row execute1 = http(server, "/execute (wrk)", execute, 16);
            Row mcpWrk = http(server, "/mcp (wrk, JSON-RPC)", mcp, 16);
            Row mcpStateless = http(server, "/mcp 2026-07-28 (wrk, JSON-RPC)", stateless, 16);
            Row mcpSdk = sdk(server, List.of("bench"), 16);
            Row execute2 = http(server, "/execute (wrk)", execute, 16);
            Row pgbench2 = pgbench(sql);
            Row pgbenchRow = Row.mean("pgbench -M prepared, 4 connections, the one statement", pgbench1, pgbench2);
            Row executeRow = Row.mean("/execute (wrk, 16 connections)", execute1, execute2);
            rows.put("pgbench", pgbenchRow);
            rows.put("execute", executeRow);
            rows.put("mcp-wrk", mcpWrk.named("/mcp 2025-06-18 (wrk, 16 kept-alive connections, 16 sessions)"));
            rows.put("mcp-stateless", mcpStateless.named("/mcp 2026-07-28 (wrk, 16 kept-alive connections, no session)"));
            rows.put("mcp-sdk", mcpSdk.named("/mcp (MCP Java SDK 2.1.0, 16 sessions)"));

            System.out.println();
            System.out.println("## 1. recall_context on " + TOPICS + " topics, 4 connections (DB_POOL_BUDGET=4), against pgbench");
            System.out.println();
            System.out.println("| client | calls/s | p50 ms | p99 ms | failed | server CPU µs/call (user + kernel) | × pgbench | × /execute |");
            System.out.println("|:--|--:|--:|--:|--:|--:|--:|--:|");
            for (Row r : rows.values()) {
                System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %.2f | %d | %s | %.2f | %.2f |%n", r.name, r.perSecond, r.p50, r.p99,
                        r.failed, r.cpuMicros < 0 ? "–" : String.format(Locale.ROOT, "%.0f (%.0f + %.0f)", r.cpuMicros, r.userMicros,
                                r.cpuMicros - r.userMicros), r.perSecond / pgbenchRow.perSecond, r.perSecond / executeRow.perSecond);
            }
            System.out.printf(Locale.ROOT, "%nTargets: /execute ≥ 0.5× pgbench (%.2f); /mcp 2025-06-18 ≥ 0.9× /execute (wrk %.2f, SDK %.2f); "
                    + "/mcp 2026-07-28 ≥ 1.0× /execute (%.2f).%n",
                    executeRow.perSecond / pgbenchRow.perSecond, mcpWrk.perSecond / executeRow.perSecond,
                    mcpSdk.perSecond / executeRow.perSecond, mcpStateless.perSecond / executeRow.perSecond);
            if (profile) {
                server.close();
                printProfile(jfr, "/execute", execute1.from, execute1.to);
                printProfile(jfr, "/mcp (wrk)", mcpWrk.from, mcpWrk.to);
                printProfile(jfr, "/mcp 2026-07-28 (wrk)", mcpStateless.from, mcpStateless.to);
                printProfile(jfr, "/mcp (MCP Java SDK)", mcpSdk.from, mcpSdk.to);
            }
        }
    }

    private void printProfile(Path jfr, String phase, Instant from, Instant to) throws Exception {
        Profile.Frames f = Profile.of(jfr, from, to, 400);
        System.out.println();
        System.out.println("Server profile during " + phase + " (JFR, " + f.samples() + " samples, 1 ms): inclusive share of the frames of our "
                + "code and libraries, then the top self frames.");
        System.out.println();
        System.out.println("| inclusive % | frame |");
        System.out.println("|--:|:--|");
        f.inclusive().entrySet().stream()
                .filter(e -> e.getKey().matches("(cloud\\.dementia|io\\.helidon\\.dbclient|org\\.postgresql\\.jdbc\\.PgPreparedStatement\\.execute"
                        + "|com\\.zaxxer\\.hikari\\.pool\\.HikariPool\\.getConnection|com\\.fasterxml\\.jackson\\.databind\\.ObjectMapper"
                        + "|io\\.helidon\\.webserver\\.http1\\.Http1Connection\\.handle|io\\.micrometer).*"))
                .limit(22)
                .forEach(e -> System.out.printf(Locale.ROOT, "| %.1f | `%s` |%n", e.getValue(), e.getKey()));
        System.out.println();
        System.out.println("| self % | frame |");
        System.out.println("|--:|:--|");
        f.self().entrySet().stream().limit(12).forEach(e -> System.out.printf(Locale.ROOT, "| %.1f | `%s` |%n", e.getValue(), e.getKey()));
    }

    // ---------------------------------------------------------------- 1b. MCP ping on kept-alive connections

    /**
     * The third finding: every MCP response on a kept-alive connection waited about 40 ms (Nagle meeting delayed
     * ACKs), whatever the number of connections. {@code ping} needs no tool and no database, so what is left is the
     * transport: with the stall gone the mean is well under a millisecond and calls/s grow with the CPU, not with the
     * number of connections.
     */
    private void ping() throws Exception {
        int each = Math.max(5, seconds / 3);
        try (Server server = Server.start(jar, pg.jdbcUrl(), with(Map.of()), List.of(), work, "ping")) {
            String script = Wrk.mcpPing(server.mcpSession());
            Wrk.run(server, script, 4, 3, work);
            System.out.println();
            System.out.println("## 1b. MCP `ping` on kept-alive connections, one session (wrk, " + each + " s each)");
            System.out.println();
            System.out.println("| connections | calls/s | mean ms | p50 ms | p99 ms | failed |");
            System.out.println("|--:|--:|--:|--:|--:|--:|");
            for (int c : new int[] {1, 4, 16}) {
                Wrk.Result r = Wrk.run(server, script, c, each, work);
                failedCalls += (int) r.failures();
                System.out.printf(Locale.ROOT, "| %d | %.0f | %.2f | %.2f | %.2f | %d |%n", c, r.perSecond(), r.meanMs(), r.p50Ms(), r.p99Ms(),
                        r.failures());
            }
        }
    }

    // ---------------------------------------------------------------- 2. many projects over one budget

    private void projects() throws Exception {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            many.add(String.format(Locale.ROOT, "p%03d", i));
        }
        int topics = 10;
        try (Server server = Server.start(jar, pg.jdbcUrl(), with(Map.of("DB_POOL_BUDGET", "8")), List.of(), work, "projects")) {
            seed(server, many, topics);
            String one = Wrk.executeRecall(List.of(many.get(0)), topics);
            String all = Wrk.executeRecall(many, topics);
            // long enough that every project's statements are prepared on every connection (DB_PREPARED_STATEMENTS=auto on a
            // direct connection prepares a statement the fifth time a connection runs it)
            int warm = Math.max(15, seconds);
            log("warming up (" + warm + " s each)");
            Wrk.run(server, one, 16, warm, work);
            Wrk.run(server, all, 16, warm, work);
            ProjectsRow a = steady(server, "1 project", one);
            ProjectsRow b = steady(server, "120 projects", all);
            ProjectsRow c = steady(server, "1 project (again)", one);
            double single = (a.row.perSecond + c.row.perSecond) / 2;
            System.out.println();
            System.out.println("## 2. Many projects over one budget: DB_POOL_BUDGET=8, 16 connections of `recall_context` on random projects");
            System.out.println();
            System.out.println("| projects | calls/s | p50 ms | p99 ms | failed | × 1 project | new PostgreSQL sessions (pg_stat_database) | "
                    + "backends seen at once (max) | distinct backends seen |");
            System.out.println("|:--|--:|--:|--:|--:|--:|--:|--:|--:|");
            for (ProjectsRow r : List.of(a, b, c)) {
                System.out.printf(Locale.ROOT, "| %s | %.0f | %.2f | %.2f | %d | %.2f | %d | %d | %d |%n", r.row.name, r.row.perSecond, r.row.p50,
                        r.row.p99, r.row.failed, r.row.perSecond / single, r.newSessions, r.mostBackends, r.distinctBackends);
            }
            System.out.printf(Locale.ROOT, "%nTargets: 120 projects ≥ 0.9× one project (%.2f); new sessions during the steady run ≤ 8 (%d).%n",
                    b.row.perSecond / single, b.newSessions);
        }
    }

    private record ProjectsRow(Row row, long newSessions, int mostBackends, int distinctBackends) {
    }

    private ProjectsRow steady(Server server, String name, String script) throws Exception {
        long before = pg.sessions();
        Row row;
        int most;
        int distinct;
        try (Postgres.Sampler sampler = pg.new Sampler()) {
            row = http(server, name, script, 16);
            sampler.close();
            most = sampler.most.get();
            distinct = sampler.pids.size();
        }
        Thread.sleep(1500); // PostgreSQL publishes session counts with a short delay
        return new ProjectsRow(row, pg.sessions() - before, most, distinct);
    }

    // ---------------------------------------------------------------- 2b. first use of many projects at once

    /**
     * 120 new projects, DB_POOL_BUDGET=4, 16 callers at once, each first call creating (migrating) its project. A caller
     * that gets 503 waits for its Retry-After (at most 1 s here) and tries again; anything else but 200 is a failure.
     */
    private void firstUse() throws Exception {
        try (Server server = Server.start(jar, pg.jdbcUrl(), with(Map.of("DB_POOL_BUDGET", "4", "DB_POOL_MAX_PER_SCHEMA", "4")), List.of(), work, "firstuse")) {
            java.util.concurrent.ConcurrentLinkedQueue<String> names = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int i = 0; i < 120; i++) {
                names.add(String.format(Locale.ROOT, "new %03d", i));
            }
            Map<Integer, java.util.concurrent.atomic.AtomicInteger> statuses = new java.util.concurrent.ConcurrentHashMap<>();
            AtomicReference<String> first = new AtomicReference<>("");
            Histogram latency = new Histogram(3);
            long start = System.nanoTime();
            int most;
            try (Postgres.Sampler sampler = pg.new Sampler(); ExecutorService pool = Executors.newFixedThreadPool(16)) {
                List<Future<?>> callers = new ArrayList<>();
                for (int c = 0; c < 16; c++) {
                    callers.add(pool.submit(() -> {
                        for (String name = names.poll(); name != null; name = names.poll()) {
                            while (true) {
                                long t0 = System.nanoTime();
                                var r = server.post("/execute", "{\"tool\":\"lock_context\",\"arguments\":{\"project\":\"" + name
                                        + "\",\"topic\":\"first\",\"content\":\"The first rule of " + name + ".\"}}");
                                synchronized (latency) {
                                    latency.recordValue((System.nanoTime() - t0) / 1000);
                                }
                                statuses.computeIfAbsent(r.statusCode(), k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
                                if (r.statusCode() == 503) {
                                    long wait = r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L);
                                    Thread.sleep(Math.min(1000, wait * 1000));
                                    continue;
                                }
                                if (r.statusCode() != 200) {
                                    first.compareAndSet("", r.statusCode() + " " + r.body());
                                }
                                break;
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : callers) {
                    f.get();
                }
                sampler.close();
                most = sampler.most.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            String listed = server.execute("list_projects", "{}");
            int projects = (int) java.util.regex.Pattern.compile("\"name\":\"new \\d{3}\"").matcher(listed).results().count();
            int bad = statuses.entrySet().stream().filter(e -> e.getKey() != 200 && e.getKey() != 503).mapToInt(e -> e.getValue().get()).sum();
            failedCalls += bad + (projects == 120 ? 0 : 1);
            System.out.println();
            System.out.println("## 2b. First use of 120 new projects at once: DB_POOL_BUDGET=4, 16 callers, each 503 retried after its Retry-After");
            System.out.println();
            System.out.println("| calls | 200 | 503 (retried) | other | projects at the end | seconds | p50 ms | p99 ms | backends seen at once (max) |");
            System.out.println("|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            int total = statuses.values().stream().mapToInt(java.util.concurrent.atomic.AtomicInteger::get).sum();
            System.out.printf(Locale.ROOT, "| %d | %d | %d | %d | %d of 120 | %.1f | %.0f | %.0f | %d |%n", total,
                    statuses.getOrDefault(200, new java.util.concurrent.atomic.AtomicInteger()).get(),
                    statuses.getOrDefault(503, new java.util.concurrent.atomic.AtomicInteger()).get(), bad, projects, seconds,
                    latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0, most);
            if (!first.get().isEmpty()) {
                System.out.println("\nFirst failure: " + first.get());
            }
        }
    }

    // ---------------------------------------------------------------- 4. 1 to 256 clients, budgets 4, 8, 20

    private void clients() throws Exception {
        int[] clients = {1, 2, 4, 8, 16, 32, 64, 128, 256};
        int[] budgets = {4, 8, 20};
        int each = Math.max(4, seconds / 3);
        Map<Integer, List<Row>> byBudget = new LinkedHashMap<>();
        Map<Integer, List<Row[]>> passes = new LinkedHashMap<>();
        Map<Integer, List<Row[]>> pairs = new LinkedHashMap<>();
        int most = clients[clients.length - 1];
        for (int budget : budgets) {
            try (Server server = Server.start(jar, pg.jdbcUrl(), with(Map.of("DB_POOL_BUDGET", Integer.toString(budget),
                    "DB_POOL_MAX_PER_SCHEMA", Integer.toString(budget))), List.of(), work, "clients-" + budget)) {
                seed(server, List.of("bench"), TOPICS);
                String script = Wrk.executeRecall(List.of("bench"), TOPICS);
                Wrk.run(server, script, 16, 5, work);
                // two passes in mirrored order (1 → 256, then 256 → 1): a burst of other load on the machine, or drift, hits
                // each client count once on the way up and once on the way down instead of making one count look like a fall
                Row[] up = new Row[clients.length];
                Row[] down = new Row[clients.length];
                for (int i = 0; i < clients.length; i++) {
                    up[i] = http(server, Integer.toString(clients[i]), script, clients[i], each);
                }
                for (int i = clients.length - 1; i >= 0; i--) {
                    down[i] = http(server, Integer.toString(clients[i]), script, clients[i], each);
                }
                List<Row> rows = new ArrayList<>();
                for (int i = 0; i < clients.length; i++) {
                    rows.add(new Row(up[i].name, (up[i].perSecond + down[i].perSecond) / 2, Math.max(up[i].p50, down[i].p50),
                            Math.max(up[i].p99, down[i].p99), up[i].failed + down[i].failed, -1, -1, up[i].from, down[i].to));
                }
                byBudget.put(budget, rows);
                passes.put(budget, List.of(up, down));
                // the verdict's own measurement: the saturation point and the most clients, alternately, three times each, so
                // both are measured under the same drift (a sweep compares points a minute apart)
                int saturated = saturation(clients, budget);
                List<Row[]> alternated = new ArrayList<>();
                for (int round = 0; round < PAIRED_ROUNDS; round++) {
                    Row atSaturation = http(server, Integer.toString(saturated), script, saturated, each);
                    Row atMost = http(server, Integer.toString(most), script, most, each);
                    alternated.add(new Row[] {atSaturation, atMost});
                }
                pairs.put(budget, alternated);
            }
        }
        System.out.println();
        System.out.println("## 4. 1 → 256 clients (`recall_context` via /execute, wrk), DB_POOL_BUDGET 4, 8 and 20 (" + each
                + " s each, two passes: 1 → 256, then 256 → 1)");
        System.out.println();
        System.out.println("calls/s is the mean of the two passes, p99 the higher of the two.");
        System.out.println();
        StringBuilder head = new StringBuilder("| clients |");
        StringBuilder rule = new StringBuilder("|--:|");
        for (int b : budgets) {
            head.append(" budget ").append(b).append(" calls/s | p99 ms |");
            rule.append("--:|--:|");
        }
        System.out.println(head);
        System.out.println(rule);
        for (int i = 0; i < clients.length; i++) {
            StringBuilder line = new StringBuilder("| " + clients[i] + " |");
            for (int b : budgets) {
                Row r = byBudget.get(b).get(i);
                line.append(String.format(Locale.ROOT, " %.0f | %.1f |", r.perSecond, r.p99));
            }
            System.out.println(line);
        }
        StringBuilder verdict = new StringBuilder("\nOnce saturated (the first client count ≥ the budget), the lowest throughput with more "
                + "clients against the throughput there: ");
        for (int b : budgets) {
            List<Row[]> p = passes.get(b);
            verdict.append(String.format(Locale.ROOT, "budget %d %.2f (up %.2f, down %.2f); ", b,
                    saturationRatio(clients, b, byBudget.get(b).toArray(Row[]::new)), saturationRatio(clients, b, p.get(0)),
                    saturationRatio(clients, b, p.get(1))));
        }
        System.out.println(verdict);

        System.out.println();
        System.out.println("Paired: the saturation point and " + most + " clients measured alternately, " + PAIRED_ROUNDS + " times each ("
                + each + " s each), right after the sweep on the same server. This is the verdict: throughput must not fall once saturated.");
        System.out.println();
        System.out.println("| budget | saturated at | calls/s there, each round | calls/s at " + most + ", each round | p99 ms there / at " + most
                + " (highest) | server CPU µs/call there / at " + most + " | " + most + " ÷ saturated (means) |");
        System.out.println("|--:|--:|:--|:--|--:|--:|--:|");
        for (int b : budgets) {
            List<Row[]> p = pairs.get(b);
            double sat = p.stream().mapToDouble(r -> r[0].perSecond).average().orElse(Double.NaN);
            double at = p.stream().mapToDouble(r -> r[1].perSecond).average().orElse(Double.NaN);
            System.out.println(String.format(Locale.ROOT, "| %d | %d clients | %s | %s | %.1f / %.1f | %.0f / %.0f | **%.2f** |", b,
                    saturation(clients, b),
                    String.join(", ", p.stream().map(r -> String.format(Locale.ROOT, "%.0f", r[0].perSecond)).toList()),
                    String.join(", ", p.stream().map(r -> String.format(Locale.ROOT, "%.0f", r[1].perSecond)).toList()),
                    p.stream().mapToDouble(r -> r[0].p99).max().orElse(Double.NaN), p.stream().mapToDouble(r -> r[1].p99).max().orElse(Double.NaN),
                    p.stream().mapToDouble(r -> r[0].cpuMicros).average().orElse(Double.NaN),
                    p.stream().mapToDouble(r -> r[1].cpuMicros).average().orElse(Double.NaN), at / sat));
        }
    }

    /** Rounds of the paired measurement: the saturation point, then the most clients. */
    private static final int PAIRED_ROUNDS = 3;

    /** @return the first client count at or above the budget: where the pool is saturated */
    private static int saturation(int[] clients, int budget) {
        for (int c : clients) {
            if (c >= budget) {
                return c;
            }
        }
        return clients[clients.length - 1];
    }

    /** The lowest throughput beyond the first client count at or above the budget, against the throughput there. */
    private static double saturationRatio(int[] clients, int budget, Row[] rows) {
        int saturated = saturation(clients, budget);
        double atSaturation = -1;
        double lowestAfter = Double.MAX_VALUE;
        for (int i = 0; i < clients.length; i++) {
            if (clients[i] == saturated) {
                atSaturation = rows[i].perSecond;
            } else if (clients[i] > saturated) {
                lowestAfter = Math.min(lowestAfter, rows[i].perSecond);
            }
        }
        return lowestAfter / atSaturation;
    }

    // ---------------------------------------------------------------- 5. the write-up's scenario

    private void wakeup() throws Exception {
        try (Server server = Server.start(jar, pg.jdbcUrl(), with(Map.of("DB_POOL_MAX_PER_SCHEMA", "2")), List.of(), work, "wakeup")) {
            seed(server, List.of("deploy"), 30);
            server.execute("sleep", "{\"project\":\"deploy\"}");
            Histogram latency = new Histogram(3);
            int failed = 0;
            int most;
            int rounds = 5;
            AtomicReference<String> first = new AtomicReference<>("");
            try (Postgres.Sampler sampler = pg.new Sampler()) {
                for (int round = 0; round < rounds; round++) {
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<Long>> calls = new ArrayList<>();
                    try (ExecutorService pool = Executors.newFixedThreadPool(50)) {
                        for (int i = 0; i < 50; i++) {
                            calls.add(pool.submit(() -> {
                                go.await();
                                long t0 = System.nanoTime();
                                server.execute("wake_up", "{\"project\":\"deploy\"}");
                                return (System.nanoTime() - t0) / 1000;
                            }));
                        }
                        go.countDown();
                        for (Future<Long> f : calls) {
                            try {
                                latency.recordValue(f.get());
                            } catch (Exception e) {
                                failed++;
                                first.compareAndSet("", String.valueOf(e.getCause()));
                            }
                        }
                    }
                }
                sampler.close();
                most = sampler.most.get();
            }
            failedCalls += failed;
            System.out.println();
            System.out.println("## 5. The write-up's scenario: 50 concurrent `wake_up` on one project, DB_POOL_MAX_PER_SCHEMA=2 (" + rounds
                    + " rounds)");
            System.out.println();
            System.out.println("| calls | failed | p50 ms | p99 ms | max ms | backends seen at once (max) |");
            System.out.println("|--:|--:|--:|--:|--:|--:|");
            System.out.printf(Locale.ROOT, "| %d | %d | %.1f | %.1f | %.1f | %d |%n", latency.getTotalCount() + failed, failed,
                    latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0, latency.getMaxValue() / 1000.0, most);
            if (!first.get().isEmpty()) {
                System.out.println("\nFirst failure: " + first.get());
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Creates the projects and {@code topics} contexts in each, eight callers at a time. */
    private void seed(Server server, List<String> projects, int topics) throws Exception {
        log("seeding " + projects.size() + " project(s) with " + topics + " contexts each");
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> done = new ArrayList<>();
            for (String p : projects) {
                done.add(pool.submit(() -> {
                    for (int t = 1; t <= topics; t++) {
                        server.execute("lock_context", "{\"project\":\"" + p + "\",\"topic\":\"topic-" + t + "\",\"priority\":\"reference\","
                                + "\"content\":\"Rule " + t + " of " + p + ": keep functions short and name things for what they do; "
                                + "handlers validate their input at the edge and return errors a caller can act on.\"}");
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    /** One measured phase. */
    private static final class Row {
        final String name;
        final double perSecond;
        final double p50;
        final double p99;
        final long failed;
        final double cpuMicros;
        final double userMicros;
        final Instant from;
        final Instant to;

        Row(String name, double perSecond, double p50, double p99, long failed, double cpuMicros, double userMicros, Instant from,
            Instant to) {
            this.name = name;
            this.perSecond = perSecond;
            this.p50 = p50;
            this.p99 = p99;
            this.failed = failed;
            this.cpuMicros = cpuMicros;
            this.userMicros = userMicros;
            this.from = from;
            this.to = to;
        }

        Row named(String n) {
            return new Row(n, perSecond, p50, p99, failed, cpuMicros, userMicros, from, to);
        }

        static Row mean(String name, Row a, Row b) {
            return new Row(name, (a.perSecond + b.perSecond) / 2, (a.p50 + b.p50) / 2, (a.p99 + b.p99) / 2, a.failed + b.failed,
                    a.cpuMicros < 0 ? -1 : (a.cpuMicros + b.cpuMicros) / 2, (a.userMicros + b.userMicros) / 2, a.from, b.to);
        }
    }

    private Row http(Server server, String name, String script, int connections) throws Exception {
        return http(server, name, script, connections, seconds);
    }

    private Row http(Server server, String name, String script, int connections, int duration) throws Exception {
        long[] cpu0 = server.cpuNanos();
        Instant from = Instant.now();
        Wrk.Result r = Wrk.run(server, script, connections, duration, work);
        Instant to = Instant.now();
        return row(name, r, cpu0, server.cpuNanos(), from, to);
    }

    private Row sdk(Server server, List<String> projects, int sessions) throws Exception {
        long[] cpu0 = server.cpuNanos();
        Instant from = Instant.now();
        Wrk.Result r = McpSdkLoad.run(server, projects, TOPICS, sessions, seconds);
        Instant to = Instant.now();
        return row("/mcp (SDK)", r, cpu0, server.cpuNanos(), from, to);
    }

    private Row pgbench(String sql) throws Exception {
        Instant from = Instant.now();
        Postgres.PgbenchResult r = pg.pgbench(sql, 4, seconds, work);
        failedCalls += (int) r.failed();
        return new Row("pgbench", r.tps(), r.latencyMs(), Double.NaN, r.failed(), -1, -1, from, Instant.now());
    }

    private Row row(String name, Wrk.Result r, long[] cpu0, long[] cpu1, Instant from, Instant to) {
        double calls = Math.max(1, r.requests());
        double user = (cpu1[0] - cpu0[0]) / 1000.0 / calls;
        double cpu = user + (cpu1[1] - cpu0[1]) / 1000.0 / calls;
        if (r.failures() > 0) {
            failedCalls += (int) r.failures();
            log(name + ": " + r.failures() + " failed calls; first: " + r.firstFailure());
        }
        log(String.format(Locale.ROOT, "%s: %.0f calls/s, p99 %.2f ms, %d failed, server CPU %.0f µs/call", name, r.perSecond(), r.p99Ms(),
                r.failures(), cpu));
        return new Row(name, r.perSecond(), r.p50Ms(), r.p99Ms(), r.failures(), cpu, user, from, to);
    }

    /** Counts failed calls: the run exits 1 when there were any. */
    synchronized void failed(int calls) {
        failedCalls += calls;
    }

    /** The scenario's variables, then those given with --server-env (which win). */
    Map<String, String> with(Map<String, String> scenario) {
        Map<String, String> env = new LinkedHashMap<>(scenario);
        env.putAll(extraEnv);
        return env;
    }

    static void log(String line) {
        System.err.println("bench: " + line);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }
}
