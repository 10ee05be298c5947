package cloud.dementia.server.search;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.Test;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.db.schema.ControlSchema;
import cloud.dementia.db.schema.Projects;
import cloud.dementia.db.search.BackgroundEmbedder;
import cloud.dementia.db.search.CachedVectorIndex;
import cloud.dementia.db.search.Meaning;
import cloud.dementia.db.search.VectorIndex;
import cloud.dementia.db.search.Vectors;
import cloud.dementia.db.store.Context;
import cloud.dementia.db.store.Contexts;
import cloud.dementia.db.testing.TestDatabase;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #10: plain questions found nothing ("how do we report errors from the API" returned 0 results: every word had to
 * match). An evaluation set of 30 realistic rules and 30 questions a developer would ask, in other words than the
 * rule's; hit@1 and hit@3 for full-text alone, hybrid without embeddings, and hybrid with embeddings (printed; the
 * figures in ops/BENCHMARKS.md come from here). Target: hit@3 ≥ 0.9 with embeddings.
 */
class SearchEvaluationTest {

    /** topic, rule, and a question about it in other words. */
    record Case(String topic, String rule, String question) {
    }

    static final List<Case> CASES = List.of(
            new Case("api-errors", "Endpoints answer errors as application/problem+json with a type URI, a title and the request id; never a bare 500 page.",
                    "how do we report errors from the API"),
            new Case("db-migrations", "Schema changes go through Flyway migrations in db/migration; a migration is never edited after it is merged.",
                    "can I change an old migration file"),
            new Case("secrets", "Secrets come from the vault at start; they are never written to logs, configs in git or error messages.",
                    "where should passwords and tokens be stored"),
            new Case("logging", "Log one line per event in logfmt with the request id; use WARN only for things an operator must look at.",
                    "what format should log lines have"),
            new Case("time-zones", "Store timestamps in UTC as timestamptz; convert to the user's zone only in the UI.",
                    "which timezone do we save dates in"),
            new Case("feature-flags", "New behaviour ships behind a feature flag in LaunchDarkly and is removed within two releases after full rollout.",
                    "how do we roll out something risky gradually"),
            new Case("code-review", "Every pull request needs one approval and a green pipeline; the author merges with squash.",
                    "who is allowed to merge a PR and when"),
            new Case("testing-network", "Unit tests never call the network; use the fakes in test/support and record fixtures for HTTP clients.",
                    "may a test hit an external service"),
            new Case("dependency-updates", "Renovate opens dependency updates weekly; patch updates auto-merge, majors need a ticket.",
                    "how are library upgrades handled"),
            new Case("pagination", "List endpoints paginate with an opaque cursor and a limit of at most 100; never offset paging.",
                    "how should a list endpoint return many items"),
            new Case("naming", "Database columns are snake_case, JSON fields camelCase, URLs and file names kebab-case.",
                    "what case convention for field names"),
            new Case("release-process", "Releases are cut on Tuesdays from main with a semver tag; notes come from conventional commits.",
                    "which day do we ship a new version"),
            new Case("on-call", "On-call rotates weekly; database pages go to the platform team before the product team.",
                    "who gets woken up when postgres is down"),
            new Case("retries", "Clients retry idempotent requests with exponential backoff and jitter, at most 3 times; never retry a POST without an idempotency key.",
                    "what should happen when a call to another service fails"),
            new Case("caching", "Cache only GET responses with explicit Cache-Control; user-specific data is private, no-store.",
                    "can we put personal data in the CDN cache"),
            new Case("authz", "Authorization checks happen in the service layer with the policy engine, never only in the frontend.",
                    "where do we verify that a user may do something"),
            new Case("money", "Amounts are integers in minor units (cents) with an ISO currency code; never floating point.",
                    "how to represent prices"),
            new Case("i18n", "User-facing text goes through the translation catalog; no string literals in components.",
                    "how do I add a label the user sees in several languages"),
            new Case("accessibility", "Every interactive element is reachable by keyboard and has an accessible name; contrast meets WCAG AA.",
                    "what do buttons need for screen readers"),
            new Case("frontend-state", "Shared state lives in the store; components keep only local UI state in hooks.",
                    "where should data used by several screens be kept"),
            new Case("queue-consumers", "Queue consumers are idempotent and acknowledge a message only after the work is committed.",
                    "what if the same message is delivered twice"),
            new Case("api-versioning", "Breaking API changes get a new /v2 path; old versions live for six months after deprecation.",
                    "how do we change an endpoint without breaking clients"),
            new Case("data-retention", "Personal data is deleted 30 days after account closure; backups expire after 35 days.",
                    "how long do we keep a deleted user's information"),
            new Case("incident-postmortems", "Every sev1 or sev2 incident gets a blameless postmortem within five working days.",
                    "what do we write after a big outage"),
            new Case("performance-budget", "Pages load in under two seconds on a mid-range phone; the bundle stays under 200 KB gzipped.",
                    "how fast must the web app be"),
            new Case("sql-style", "Queries use bind parameters; building SQL by concatenating user input is forbidden.",
                    "how to avoid injection in database calls"),
            new Case("docker-images", "Images build from the distroless base, run as non-root, and are pinned by digest.",
                    "what base should our containers use"),
            new Case("branching", "Trunk-based development: short-lived branches off main, merged within two days.",
                    "how long can my feature branch live"),
            new Case("observability", "Every service exports RED metrics and traces with OpenTelemetry; dashboards live in Grafana.",
                    "how do we monitor a new microservice"),
            new Case("documentation", "Architecture decisions are recorded as ADRs in docs/adr; the README says how to run and test.",
                    "where do we write down why we chose something"));

    private record Score(String name, double hit1, double hit3) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-34s hit@1 %.2f  hit@3 %.2f", name, hit1, hit3);
        }
    }

    private interface Searcher {
        List<String> topics(String question);
    }

    private static Score score(String name, Searcher searcher) {
        int hit1 = 0;
        int hit3 = 0;
        List<String> misses = new ArrayList<>();
        for (Case c : CASES) {
            List<String> found = searcher.topics(c.question());
            if (!found.isEmpty() && found.get(0).equals(c.topic())) {
                hit1++;
            }
            if (found.stream().limit(3).anyMatch(c.topic()::equals)) {
                hit3++;
            } else {
                misses.add(c.question() + " -> " + found.stream().limit(3).toList());
            }
        }
        Score s = new Score(name, hit1 / (double) CASES.size(), hit3 / (double) CASES.size());
        System.out.println("SearchEvaluationTest " + s + (misses.isEmpty() ? "" : "; missed: " + misses));
        return s;
    }

    /** The model, loaded once for the class (about a second). */
    private static final MiniLmEmbedder MODEL = MiniLmEmbedder.create();

    @Test
    void plainQuestionsFindTheRightRule() {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry())) {
            ControlSchema.migrate(registry);
            Projects projects = new Projects(registry);
            String schema = projects.open("evaluation").schema();
            // the question's vector, and nothing to fill the stored ones: the backlog not drained yet
            Contexts waiting = new Contexts(registry, new Meaning(MODEL, new CachedVectorIndex(1 << 24), (s, n) -> { }));
            Contexts withoutModel = new Contexts(registry, null);
            long lockNanos = 0;
            for (Case c : CASES) {
                long start = System.nanoTime();
                waiting.lock(schema, new Contexts.NewContext(c.topic(), c.rule(), List.of(), Optional.empty()), "eval");
                lockNanos += System.nanoTime() - start;
            }
            Score fullText = score("full-text alone (every word)",
                    q -> withoutModel.searchFullText(schema, q, Optional.empty(), List.of(), 3).stream().map(h -> h.context().label()).toList());
            Score hybrid = score("hybrid, no embeddings",
                    q -> withoutModel.search(schema, q, Optional.empty(), List.of(), 3).stream().map(h -> h.context().label()).toList());
            Score undrained = score("hybrid, backlog not drained yet",
                    q -> waiting.search(schema, q, Optional.empty(), List.of(), 3).stream().map(h -> h.context().label()).toList());
            try (BackgroundEmbedder embedder = new BackgroundEmbedder(registry, projects, MODEL).start()) {
                awaitDrained(embedder);
            }
            long searchStart = System.nanoTime();
            Score semantic = score("hybrid with embeddings",
                    q -> waiting.search(schema, q, Optional.empty(), List.of(), 3).stream().map(h -> h.context().label()).toList());
            long searchNanos = System.nanoTime() - searchStart;
            System.out.printf(Locale.ROOT, "SearchEvaluationTest lock (no model in the request): %.1f ms mean; search with embeddings: %.1f ms mean%n",
                    lockNanos / 1e6 / CASES.size(), searchNanos / 1e6 / CASES.size());
            assertTrue(hybrid.hit3() >= fullText.hit3(), hybrid + " vs " + fullText);
            assertTrue(undrained.hit3() >= hybrid.hit3(), undrained + " vs " + hybrid);
            assertTrue(semantic.hit3() >= 0.93, "target hit@3 >= 0.93: " + semantic);
        }
    }

    /**
     * The evaluation set among 600 other contexts, so that each signal's candidate list is cut: the indexed search
     * gives the same top three as ranking every latest version of the project with the same formula.
     */
    @Test
    void indexedCandidatesGiveTheSameTopResultsAsAFullScan() {
        try (TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
             PoolRegistry registry = new PoolRegistry(db.target(), RegistrySettings.defaults(), new SimpleMeterRegistry())) {
            ControlSchema.migrate(registry);
            Projects projects = new Projects(registry);
            String schema = projects.open("crowded").schema();
            Contexts contexts = new Contexts(registry, new Meaning(MODEL, new CachedVectorIndex(1 << 24), (s, n) -> { }));
            List<Contexts.NewContext> all = new ArrayList<>();
            CASES.forEach(c -> all.add(new Contexts.NewContext(c.topic(), c.rule(), List.of(), Optional.empty())));
            all.addAll(Fillers.contexts(600, 17));
            contexts.lockAll(schema, all, "eval");
            try (BackgroundEmbedder embedder = new BackgroundEmbedder(registry, projects, MODEL).start()) {
                awaitDrained(embedder);
            }
            int same = 0;
            List<String> differ = new ArrayList<>();
            for (Case c : CASES) {
                List<String> indexed = contexts.search(schema, c.question(), Optional.empty(), List.of(), 3).stream()
                        .map(h -> h.context().label()).toList();
                List<String> scanned = fullScan(registry, schema, c.question()).stream().limit(3).map(h -> h.context().label()).toList();
                if (indexed.equals(scanned)) {
                    same++;
                } else {
                    differ.add(c.question() + ": " + indexed + " vs " + scanned);
                }
            }
            System.out.println("SearchEvaluationTest indexed = full scan for " + same + " of " + CASES.size() + " questions" + differ);
            assertTrue(differ.isEmpty(), "indexed search and full scan differ: " + differ);
        }
    }

    /** Every latest version's signals read and ranked in the server, as search did before it had indexes. */
    static List<Contexts.Hit> fullScan(PoolRegistry registry, String schema, String question) {
        float[] q = Vectors.unit(MODEL.embed(question));
        String trgm = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT quote_ident(n.nspname) FROM pg_extension e "
                + "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'", r -> r.string(1))).orElseThrow();
        Map<Long, Double> cosines = new HashMap<>();
        List<Contexts.Signals> signals = registry.inReadOnlyTransaction(schema, tx -> tx.query(
                "WITH q AS (SELECT websearch_to_tsquery('english', ?) AS qall, "
                        + "nullif(replace(plainto_tsquery('english', ?)::text, ' & ', ' | '), '')::tsquery AS qany) "
                        + "SELECT l.id, l.label, l.version, l.content, l.priority, l.locked_at, "
                        + "CASE WHEN l.search @@ q.qall THEN ts_rank_cd(l.search, q.qall) ELSE 0 END, "
                        + "CASE WHEN q.qany IS NOT NULL AND l.search @@ q.qany THEN ts_rank_cd(l.search, q.qany) ELSE 0 END, "
                        + "greatest(" + trgm + ".word_similarity(?, l.label), " + trgm + ".word_similarity(l.label, ?)), l.embedding "
                        + "FROM {s}.context_locks l, q WHERE l.is_latest", r -> {
                    Context c = new Context(r.longValue(1), r.string(2), r.string(3), r.string(4), "", "", List.of(), List.of(), r.string(5),
                            r.instant(6), null, 0, null);
                    byte[] v = r.bytes(10);
                    if (v != null) {
                        float[] e = Vectors.decode(v);
                        double dot = 0;
                        for (int i = 0; i < e.length; i++) {
                            dot += q[i] * e[i];
                        }
                        cosines.put(c.id(), dot);
                    }
                    return new Contexts.Signals(c, r.doubleValue(7), r.doubleValue(8), r.doubleValue(9));
                }, question, question, question, question));
        return Contexts.rank(signals, new VectorIndex.Found(List.of(), cosines), Optional.empty(), List.of());
    }

    static void awaitDrained(BackgroundEmbedder embedder) {
        long deadline = System.nanoTime() + 300_000_000_000L;
        // the first rescan counts the backlog; then it drains
        while (System.nanoTime() < deadline && (embedder.embedded() == 0 || embedder.total() > 0)) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        assertTrue(embedder.total() == 0, "the background embedder did not drain: " + embedder.bySchema());
    }
}
