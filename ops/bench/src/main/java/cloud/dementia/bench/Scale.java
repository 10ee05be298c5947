package cloud.dementia.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.HdrHistogram.Histogram;

import tools.jackson.databind.JsonNode;

/**
 * The {@code scale} scenario (#17): how the tools behave as a project grows and as projects multiply, each project
 * built through the console's import endpoint ({@code POST /admin/api/projects/{name}/import}) from generated,
 * realistic contexts ({@link TeamRules}) with the 30 rules of the search evaluation among them ({@link EvaluationSet}).
 * <ol>
 * <li>One server, one project per size (100, 1,000, 10,000 contexts by default): the first {@code search_contexts} right
 * after the import, the embedding backlog's drain (the gauge {@code dementia_embedding_backlog} in {@code /metrics},
 * when the server has it), then the median of 10 searches asked in other words and their hit@3, the medians of
 * {@code check_contexts}, {@code wake_up} and {@code recall_context}, and the server's RSS.</li>
 * <li>The lock ratio: the median of sequential {@code lock_context} calls on a server with embeddings on, then on one
 * with {@code DEMENTIA_EMBEDDINGS=off}.</li>
 * <li>Many projects (1,000 of 100 contexts by default), imported four at a time, then searched in random order by
 * four callers for a minute, against one hot project searched the same way.</li>
 * </ol>
 */
final class Scale {

    /** The gauge of contexts whose embedding is not computed yet (the server's background filling after an import). */
    static final String BACKLOG_METER = "dementia_embedding_backlog";
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration IMPORT_TIMEOUT = Duration.ofMinutes(30);
    private static final int STEADY_SEARCHES = 10;
    private static final int CALLERS = 4;
    private static final int IMPORTERS = 4;
    private static final int LOCK_WARM_UP = 20;
    private static final long SEED = 17;

    /** Texts like a planned code change, for check_contexts. */
    private static final List<String> PLANS = List.of(
            "Plan: add a GET /v2/orders endpoint that lists a customer's orders with a cursor, stores the order total in cents, "
                    + "adds a Flyway migration for the new status column and logs each request with its request id.",
            "Change: move the nightly invoice export to a Kafka consumer that retries failed deliveries, reads the API token "
                    + "from the vault and writes its timestamps in UTC; the integration test uses Testcontainers.",
            "Refactoring: split the checkout service's payment client into its own module, bump the HTTP client library to "
                    + "the next major version, add a feature flag for the new flow and a Grafana dashboard with RED metrics.");

    private final Bench bench;
    private final List<Integer> sizes;
    private final int projects;
    private final int searchSeconds;
    private final int locks;
    /** The longest wait for the embedding backlog to drain after an import. */
    private final Duration backlogWait;

    Scale(Bench bench, List<Integer> sizes, int projects, int searchSeconds, int locks, int backlogMinutes) {
        this.bench = bench;
        this.sizes = sizes;
        this.projects = projects;
        this.searchSeconds = searchSeconds;
        this.locks = locks;
        this.backlogWait = Duration.ofMinutes(backlogMinutes);
    }

    void run() throws Exception {
        sizes();
        lockRatio();
        manyProjects();
    }

    // ---------------------------------------------------------------- 6a. one project of 100, 1,000, 10,000 contexts

    /** What one size measured; NaN where nothing was measured. */
    private record SizeResult(int size, double importSeconds, int bodyKib, double firstMs, double steadyMs, int hits, int asked,
                              double duringBacklogMs, int duringHits, int duringAsked, String backlog, double checkMs, double wakeMs,
                              double recallMs, long rssKib) {
    }

    private void sizes() throws Exception {
        List<ImportLines.Project> built = new ArrayList<>();
        for (int size : sizes) {
            built.add(ImportLines.project("scale-" + size, size, SEED + size));
        }
        int largest = built.stream().mapToInt(p -> p.jsonl().length()).max().orElse(0);
        // the import is one body: room for the largest (the server's default is 4 MiB)
        long maxBody = Math.max(4L << 20, Math.min(1L << 30, 2L * largest));
        List<SizeResult> results = new ArrayList<>();
        try (Server server = Server.start(bench.jar, bench.pg.jdbcUrl(), bench.with(Map.of("DEMENTIA_ADMIN_PASSWORD", Server.ADMIN_PASSWORD,
                "DEMENTIA_MAX_BODY_BYTES", Long.toString(maxBody))), List.of(), bench.work, "scale")) {
            // the same calls on a small project first, not reported: the first size is not measured on a cold JIT
            Bench.log("warming up on a project of 100 contexts (not reported)");
            size(server, ImportLines.project("scale-warm-up", 100, SEED));
            for (ImportLines.Project p : built) {
                results.add(size(server, p));
            }
        }
        printSizes(results);
    }

    private SizeResult size(Server server, ImportLines.Project p) throws Exception {
        int size = p.contexts().size();
        List<EvaluationSet.Case> cases = EvaluationSet.CASES;
        boolean evaluated = size >= cases.size();
        Bench.log(String.format(Locale.ROOT, "importing %s: %,d contexts, %,d KiB of JSON Lines", p.name(), size, p.jsonl().length() / 1024));
        long t0 = System.nanoTime();
        String imported = server.importProject(p.name(), p.jsonl(), IMPORT_TIMEOUT);
        long importedAt = System.nanoTime();
        double importSeconds = (importedAt - t0) / 1e9;
        int added = ImportLines.JSON.readTree(imported).path("added").path("context").asInt(-1);
        if (added != size) {
            bench.failed(1);
            Bench.log("import of " + p.name() + " added " + added + " contexts, not " + size + ": " + imported);
        }
        Bench.log(String.format(Locale.ROOT, "imported %s in %.1f s", p.name(), importSeconds));

        // the first search right after the import: what a user meets first
        String firstQuestion = evaluated ? cases.get(1).question() : "how do we deploy a hotfix";
        double firstMs = timed(() -> search(server, p.name(), firstQuestion, IMPORT_TIMEOUT));
        Bench.log(String.format(Locale.ROOT, "%s: first search %.1f ms", p.name(), firstMs));

        // the embedding backlog the import left, if the server tells
        double backlog = server.meter(BACKLOG_METER);
        double duringMs = Double.NaN;
        int[] during = {0, 0};
        String drained;
        if (backlog < 0) {
            drained = "not exposed";
            Bench.log(p.name() + ": no " + BACKLOG_METER + " in /metrics");
        } else {
            if (backlog > 0) {
                Bench.log(String.format(Locale.ROOT, "%s: embedding backlog %.0f; searching while it drains", p.name(), backlog));
                duringMs = searches(server, p.name(), questions(cases, 2), during);
            }
            drained = drain(server, p.name(), backlog, importedAt);
        }

        int[] steady = {0, 0};
        double steadyMs = searches(server, p.name(), questions(cases, 0), steady);
        List<Double> check = new ArrayList<>();
        for (String plan : PLANS) {
            check.add(timed(() -> server.execute("check_contexts", args(p.name()).put("text", plan).toString(), CALL_TIMEOUT)));
        }
        List<Double> wake = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            wake.add(timed(() -> server.execute("wake_up", args(p.name()).toString(), CALL_TIMEOUT)));
        }
        List<Double> recall = new ArrayList<>();
        Random random = new Random(SEED);
        for (int i = 0; i < 5; i++) {
            String topic = p.contexts().get(random.nextInt(size)).topic();
            recall.add(timed(() -> server.execute("recall_context", args(p.name()).put("topic", topic).toString(), CALL_TIMEOUT)));
        }
        long rss = server.rssKib();
        SizeResult r = new SizeResult(size, importSeconds, p.jsonl().length() / 1024, firstMs, steadyMs, steady[0], steady[1], duringMs,
                during[0], during[1], drained, median(check), median(wake), median(recall), rss);
        Bench.log(String.format(Locale.ROOT, "%s: search median %.1f ms (hit@3 %d/%d), check %.1f ms, wake_up %.1f ms, recall %.1f ms, RSS %d MiB",
                p.name(), r.steadyMs, r.hits, r.asked, r.checkMs, r.wakeMs, r.recallMs, rss / 1024));
        return r;
    }

    /**
     * Polls the backlog gauge every 500 ms until it is 0, at most {@link #backlogWait} after the import.
     *
     * @param backlog what the gauge said after the first search
     * @return how long it took from the end of the import, for the table
     */
    private String drain(Server server, String what, double backlog, long importedAt) throws Exception {
        double left = server.meter(BACKLOG_METER);
        long report = System.nanoTime() + 30_000_000_000L;
        while (left > 0 && System.nanoTime() - importedAt < backlogWait.toNanos()) {
            Thread.sleep(500);
            left = server.meter(BACKLOG_METER);
            if (System.nanoTime() > report) {
                report += 30_000_000_000L;
                Bench.log(String.format(Locale.ROOT, "%s: embedding backlog %.0f (%.0f s after the import)", what, left,
                        (System.nanoTime() - importedAt) / 1e9));
            }
        }
        double seconds = (System.nanoTime() - importedAt) / 1e9;
        String drained = left > 0 ? String.format(Locale.ROOT, "not within %d min (%,.0f of %,.0f left)", backlogWait.toMinutes(), left, backlog)
                : backlog == 0 ? "no backlog" : String.format(Locale.ROOT, "%.1f s (%,.0f at first)", seconds, backlog);
        Bench.log(what + ": embedding backlog drained: " + drained);
        return drained;
    }

    /** Ten questions of the evaluation set: every third from {@code from} (0: the steady ones, 2: those asked during the backlog). */
    private static List<EvaluationSet.Case> questions(List<EvaluationSet.Case> cases, int from) {
        List<EvaluationSet.Case> out = new ArrayList<>();
        for (int i = from; i < cases.size() && out.size() < STEADY_SEARCHES; i += 3) {
            out.add(cases.get(i));
        }
        return out;
    }

    /**
     * Asks each question once; counts in {@code score} the answers with the expected topic in the top 3, and the questions
     * asked. A project without the evaluation rules (fewer than 30 contexts) cannot score: the count stays for information.
     *
     * @return the median in ms (NaN when every call failed)
     */
    private double searches(Server server, String project, List<EvaluationSet.Case> cases, int[] score) {
        List<Double> ms = new ArrayList<>();
        for (EvaluationSet.Case c : cases) {
            AtomicReference<List<String>> topics = new AtomicReference<>(List.of());
            double t = timed(() -> {
                topics.set(search(server, project, c.question()));
                return null;
            });
            if (!Double.isNaN(t)) {
                ms.add(t);
                score[1]++;
                if (topics.get().stream().limit(3).anyMatch(c.topic()::equals)) {
                    score[0]++;
                }
            }
        }
        return median(ms);
    }

    /** @return the topics search_contexts answered, best first */
    private static List<String> search(Server server, String project, String question) throws Exception {
        return search(server, project, question, CALL_TIMEOUT);
    }

    private static List<String> search(Server server, String project, String question, Duration timeout) throws Exception {
        String body = server.execute("search_contexts", args(project).put("query", question).toString(), timeout);
        List<String> topics = new ArrayList<>();
        for (JsonNode hit : ImportLines.JSON.readTree(body).path("result").path("results")) {
            topics.add(hit.path("topic").asString());
        }
        return topics;
    }

    private static tools.jackson.databind.node.ObjectNode args(String project) {
        return ImportLines.JSON.createObjectNode().put("project", project);
    }

    private interface Call {
        Object call() throws Exception;
    }

    /** @return the call's time in ms, or NaN when it failed (counted, and logged) */
    private double timed(Call call) {
        long t0 = System.nanoTime();
        try {
            call.call();
            return (System.nanoTime() - t0) / 1e6;
        } catch (Exception e) {
            bench.failed(1);
            Bench.log("failed: " + e.getMessage());
            return Double.NaN;
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().filter(v -> !Double.isNaN(v)).sorted().toList();
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private void printSizes(List<SizeResult> results) {
        SizeResult first = results.get(0);
        SizeResult last = results.get(results.size() - 1);
        boolean ratio = results.size() > 1;
        System.out.println();
        System.out.println("## 6. Scale: one project of " + String.join(", ", results.stream().map(r -> count(r.size)).toList())
                + " contexts, each built through `POST /admin/api/projects/{name}/import`, on one server (`/execute`, one caller)");
        System.out.println();
        StringBuilder head = new StringBuilder("| |");
        StringBuilder rule = new StringBuilder("|:--|");
        for (int i = 0; i < results.size(); i++) {
            head.append(' ').append(count(results.get(i).size)).append(i == 0 ? " contexts |" : " |");
            rule.append("--:|");
        }
        if (ratio) {
            head.append(' ').append(count(last.size)).append(" ÷ ").append(count(first.size)).append(" |");
            rule.append("--:|");
        }
        System.out.println(head);
        System.out.println(rule);
        row(results, "`search_contexts` median (" + STEADY_SEARCHES + " questions in other words" + (results.stream()
                .anyMatch(r -> !Double.isNaN(r.duringBacklogMs)) ? ", after the embedding backlog drained)" : ")"), SizeResult::steadyMs, ratio);
        System.out.print("| hit@3 of those searches |");
        results.forEach(r -> System.out.print(r.size < EvaluationSet.CASES.size() ? " – |" : " " + r.hits + "/" + r.asked + " |"));
        System.out.println(ratio ? " |" : "");
        row(results, "first search after the import", SizeResult::firstMs, ratio);
        if (results.stream().anyMatch(r -> !Double.isNaN(r.duringBacklogMs))) {
            row(results, "`search_contexts` median while the embedding backlog drained (" + STEADY_SEARCHES + " other questions)",
                    SizeResult::duringBacklogMs, ratio);
            System.out.print("| hit@3 of those searches |");
            results.forEach(r -> System.out.print(r.duringAsked == 0 ? " – |" : " " + r.duringHits + "/" + r.duringAsked + " |"));
            System.out.println(ratio ? " |" : "");
        }
        row(results, "`check_contexts` median (3 planned changes)", SizeResult::checkMs, ratio);
        row(results, "`wake_up` median (3)", SizeResult::wakeMs, ratio);
        row(results, "`recall_context` median (5 topics)", SizeResult::recallMs, ratio);
        System.out.print("| server RSS afterwards |");
        results.forEach(r -> System.out.printf(Locale.ROOT, " %d MiB |", r.rssKib / 1024));
        System.out.println(ratio ? " |" : "");
        System.out.print("| import (one request) |");
        results.forEach(r -> System.out.printf(Locale.ROOT, " %.1f s (%,d KiB) |", r.importSeconds, r.bodyKib));
        System.out.println(ratio ? String.format(Locale.ROOT, " %.1f |", last.importSeconds / first.importSeconds) : "");
        System.out.print("| embedding backlog drained after the import |");
        results.forEach(r -> System.out.print(" " + r.backlog + " |"));
        System.out.println(ratio ? " |" : "");
        System.out.println();
        System.out.printf(Locale.ROOT, "First search ÷ steady search at %s: %.1f. Embedding backlog after the %s import: %s.%n", count(last.size),
                last.firstMs / last.steadyMs, count(last.size), last.backlog.equals("not exposed")
                        ? "not exposed (no `" + BACKLOG_METER + "` in /metrics)" : last.backlog);
    }

    private interface Value {
        double of(SizeResult r);
    }

    private static void row(List<SizeResult> results, String name, Value value, boolean ratio) {
        StringBuilder line = new StringBuilder("| " + name + " |");
        for (SizeResult r : results) {
            line.append(' ').append(ms(value.of(r))).append(" |");
        }
        if (ratio) {
            double a = value.of(results.get(0));
            double b = value.of(results.get(results.size() - 1));
            line.append(Double.isNaN(a) || Double.isNaN(b) ? " – |" : String.format(Locale.ROOT, " %.1f |", b / a));
        }
        System.out.println(line);
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "–" : v < 10 ? String.format(Locale.ROOT, "%.2f ms", v) : v < 1000 ? String.format(Locale.ROOT, "%.1f ms", v)
                : String.format(Locale.ROOT, "%,.0f ms", v);
    }

    private static String count(int n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    // ---------------------------------------------------------------- 6b. lock_context with embeddings on and off

    private void lockRatio() throws Exception {
        Map<String, double[]> medians = new LinkedHashMap<>();
        for (String embeddings : List.of("on", "off")) {
            Map<String, String> env = new LinkedHashMap<>();
            if (embeddings.equals("off")) {
                env.put("DEMENTIA_EMBEDDINGS", "off");
            }
            try (Server server = Server.start(bench.jar, bench.pg.jdbcUrl(), bench.with(env), List.of(), bench.work, "scale-lock-" + embeddings)) {
                String project = "locks-" + embeddings;
                List<TeamRules.Rule> rules = TeamRules.generate(LOCK_WARM_UP + locks, SEED);
                List<Double> ms = new ArrayList<>();
                Bench.log("lock_context, embeddings " + embeddings + ": " + LOCK_WARM_UP + " to warm up, then " + locks + " measured");
                for (int i = 0; i < rules.size(); i++) {
                    TeamRules.Rule r = rules.get(i);
                    String arguments = args(project).put("topic", r.topic()).put("content", r.content()).toString();
                    double t = timed(() -> server.execute("lock_context", arguments, CALL_TIMEOUT));
                    if (i >= LOCK_WARM_UP) {
                        ms.add(t);
                    }
                }
                long failed = ms.stream().filter(v -> Double.isNaN(v)).count();
                List<Double> sorted = ms.stream().filter(v -> !Double.isNaN(v)).sorted().toList();
                double p90 = sorted.isEmpty() ? Double.NaN : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.9) - 1));
                medians.put(embeddings, new double[] {median(ms), p90, failed});
            }
        }
        double[] on = medians.get("on");
        double[] off = medians.get("off");
        System.out.println();
        System.out.println("## 6b. The lock ratio: " + locks + " sequential `lock_context` calls (realistic contexts, after " + LOCK_WARM_UP
                + " to warm up), embeddings on (default) and `DEMENTIA_EMBEDDINGS=off`, back to back");
        System.out.println();
        System.out.println("| embeddings | median | p90 | failed |");
        System.out.println("|:--|--:|--:|--:|");
        medians.forEach((k, v) -> System.out.printf(Locale.ROOT, "| %s | %s | %s | %.0f |%n", k, ms(v[0]), ms(v[1]), v[2]));
        System.out.printf(Locale.ROOT, "%nLock ratio, median on ÷ off: %.1f.%n", on[0] / off[0]);
    }

    // ---------------------------------------------------------------- 6c. many projects

    private void manyProjects() throws Exception {
        int contexts = 100;
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= projects; i++) {
            names.add(String.format(Locale.ROOT, "team-%04d", i));
        }
        try (Server server = Server.start(bench.jar, bench.pg.jdbcUrl(), bench.with(Map.of("DEMENTIA_ADMIN_PASSWORD", Server.ADMIN_PASSWORD)),
                List.of(), bench.work, "scale-projects")) {
            // build: IMPORTERS imports at a time, progress on stderr every 10 s
            Bench.log(String.format(Locale.ROOT, "importing %,d projects of %d contexts, %d at a time", projects, contexts, IMPORTERS));
            ConcurrentLinkedQueue<Integer> todo = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < names.size(); i++) {
                todo.add(i);
            }
            AtomicInteger done = new AtomicInteger();
            AtomicInteger importFailures = new AtomicInteger();
            List<String> built = Collections.synchronizedList(new ArrayList<>());
            long start = System.nanoTime();
            try (ExecutorService pool = Executors.newFixedThreadPool(IMPORTERS)) {
                List<Future<?>> workers = new ArrayList<>();
                for (int w = 0; w < IMPORTERS; w++) {
                    workers.add(pool.submit(() -> {
                        for (Integer i = todo.poll(); i != null; i = todo.poll()) {
                            ImportLines.Project p = ImportLines.project(names.get(i), contexts, SEED * 1_000_003L + i);
                            try {
                                server.importProject(p.name(), p.jsonl(), IMPORT_TIMEOUT);
                                built.add(p.name());
                            } catch (Exception e) {
                                if (importFailures.getAndIncrement() == 0) {
                                    Bench.log("import failed: " + e.getMessage());
                                }
                            }
                            done.incrementAndGet();
                        }
                        return null;
                    }));
                }
                long next = System.nanoTime() + 10_000_000_000L;
                while (workers.stream().anyMatch(f -> !f.isDone())) {
                    Thread.sleep(200);
                    if (System.nanoTime() > next) {
                        next += 10_000_000_000L;
                        Bench.log(String.format(Locale.ROOT, "imported %,d of %,d projects (%.0f s)", done.get(), projects,
                                (System.nanoTime() - start) / 1e9));
                    }
                }
                for (Future<?> f : workers) {
                    f.get();
                }
            }
            double importSeconds = (System.nanoTime() - start) / 1e9;
            bench.failed(importFailures.get());
            Bench.log(String.format(Locale.ROOT, "imported %,d projects in %.0f s (%d failed)", built.size(), importSeconds, importFailures.get()));
            if (built.isEmpty()) {
                throw new IllegalStateException("no project could be imported");
            }
            List<String> all = List.copyOf(built);
            // the searches start once the embeddings the imports left are computed (if the server says so)
            double backlog = server.meter(BACKLOG_METER);
            String drained = backlog < 0 ? "not exposed" : drain(server, projects + " projects", backlog, System.nanoTime());
            Load random = load(server, all, searchSeconds, "random projects");
            int hotSeconds = Math.max(10, searchSeconds / 3);
            String hotProject = all.get(0);
            timed(() -> search(server, hotProject, EvaluationSet.CASES.get(0).question(), IMPORT_TIMEOUT));
            Load hot = load(server, List.of(hotProject), hotSeconds, "one hot project");
            long rss = server.rssKib();
            bench.failed(random.errors + hot.errors);
            System.out.println();
            System.out.printf(Locale.ROOT, "## 6c. %,d projects of %d contexts, built through the import endpoint (%d at a time, %.0f s), then "
                            + "`search_contexts` on random projects by %d callers for %d s; one hot project after it, %d s%n", projects, contexts,
                    IMPORTERS, importSeconds, CALLERS, searchSeconds, hotSeconds);
            System.out.println();
            System.out.println("| projects | searches | errors | median | p99 | hot project median | p99 | random ÷ hot (medians) | server RSS afterwards |");
            System.out.println("|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            System.out.printf(Locale.ROOT, "| %,d | %,d | %d | %s | %s | %s | %s | %.2f | %d MiB |%n", all.size(), random.searches, random.errors,
                    ms(random.p50), ms(random.p99), ms(hot.p50), ms(hot.p99), random.p50 / hot.p50, rss / 1024);
            System.out.println();
            System.out.println("Embedding backlog after the imports, before the searches: " + (drained.equals("not exposed")
                    ? "not exposed (no `" + BACKLOG_METER + "` in /metrics)" : "drained " + drained + " (waited from the end of the imports)")
                    + ". The hot project was searched once before its measurement.");
            if (!random.firstError.isEmpty() || !hot.firstError.isEmpty()) {
                System.out.println("\nFirst failure: " + (random.firstError.isEmpty() ? hot.firstError : random.firstError));
            }
        }
    }

    private record Load(long searches, int errors, double p50, double p99, String firstError) {
    }

    /** CALLERS callers, each searching a random project of {@code projects} with a random question, for {@code seconds}. */
    private Load load(Server server, List<String> projects, int seconds, String what) throws Exception {
        Histogram latency = new Histogram(3);
        AtomicInteger errors = new AtomicInteger();
        AtomicReference<String> first = new AtomicReference<>("");
        Bench.log(String.format(Locale.ROOT, "searching %s (%,d) with %d callers for %d s", what, projects.size(), CALLERS, seconds));
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newFixedThreadPool(CALLERS)) {
            List<Future<?>> callers = new ArrayList<>();
            for (int c = 0; c < CALLERS; c++) {
                callers.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        String project = projects.get(random.nextInt(projects.size()));
                        String question = EvaluationSet.CASES.get(random.nextInt(EvaluationSet.CASES.size())).question();
                        long t0 = System.nanoTime();
                        try {
                            search(server, project, question);
                            synchronized (latency) {
                                latency.recordValue((System.nanoTime() - t0) / 1000);
                            }
                        } catch (Exception e) {
                            errors.incrementAndGet();
                            first.compareAndSet("", e.getMessage());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : callers) {
                f.get();
            }
        }
        Load l = new Load(latency.getTotalCount(), errors.get(), latency.getValueAtPercentile(50) / 1000.0,
                latency.getValueAtPercentile(99) / 1000.0, first.get());
        Bench.log(String.format(Locale.ROOT, "%s: %,d searches, %d errors, median %.1f ms, p99 %.1f ms", what, l.searches, l.errors, l.p50, l.p99));
        return l;
    }
}
