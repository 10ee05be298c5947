package cloud.dementia.db.store;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;
import cloud.dementia.db.search.Meaning;
import cloud.dementia.db.search.VectorIndex;

/**
 * Versioned contexts of one project schema: lock (immutable, versioned per label), recall, unlock with archive,
 * search (PostgreSQL full-text search over a GIN index), relevance checks, and the overviews.
 */
public final class Contexts {

    /** Contexts not recalled for this many days are stale. */
    public static final int STALE_DAYS = 30;
    static final int MAX_LABEL = 200;
    static final int MAX_CONTENT = 1_000_000;

    /** A context to lock. */
    public record NewContext(String label, String content, List<String> tags, Optional<String> priority) {
    }

    /** A search result with its rank. */
    public record Hit(Context context, double rank) {
    }

    /**
     * A label with its latest version and how many versions it has.
     *
     * @param size the latest version's content in bytes (UTF-8)
     */
    public record LabelSummary(String label, String latestVersion, int versions, String priority, String preview, Instant lockedAt,
                               Instant lastAccessed, int accessCount, int size) {
    }

    /** The latest version of a label, found and counted in the one statement. */
    private static final String RECALL_LATEST = "UPDATE {s}.context_locks SET last_accessed = now(), access_count = access_count + 1 "
            + "WHERE id = (SELECT id FROM {s}.context_locks WHERE label = ? ORDER BY locked_at DESC, minor DESC LIMIT 1)";
    private static final String RECALL_VERSION = "UPDATE {s}.context_locks SET last_accessed = now(), access_count = access_count + 1 "
            + "WHERE label = ? AND version = ?";

    private final PoolRegistry registry;
    private final Meaning meaning;
    /** The schema pg_trgm's functions are in ("" when it is not installed), found on first use. */
    private volatile String trigramSchema;

    public Contexts(PoolRegistry registry) {
        this(registry, null);
    }

    /** @param meaning search by meaning, or {@code null} for none (words and trigrams only) */
    public Contexts(PoolRegistry registry, Meaning meaning) {
        this.registry = registry;
        this.meaning = meaning;
    }

    /** Checks a context before anything is written; the message names the field and the rule. */
    public static void validate(NewContext c) {
        if (c.label() == null || c.label().isBlank()) {
            throw new StoreRuleException("topic must not be empty");
        }
        if (c.label().length() > MAX_LABEL) {
            throw new StoreRuleException("topic is " + c.label().length() + " characters long; at most " + MAX_LABEL + " are allowed");
        }
        if (c.content() == null || c.content().isBlank()) {
            throw new StoreRuleException("content of `" + c.label() + "` must not be empty");
        }
        if (c.content().length() > MAX_CONTENT) {
            throw new StoreRuleException("content of `" + c.label() + "` is " + c.content().length() + " characters; at most " + MAX_CONTENT);
        }
        c.priority().ifPresent(p -> {
            if (!ContextText.PRIORITIES.contains(p)) {
                throw new StoreRuleException("priority `" + p + "` is not one of always_check, important, reference");
            }
        });
    }

    /** Locks one context as the label's next version; its vector follows in the background. */
    public Context lock(String schema, NewContext context, String sessionId) {
        validate(context);
        Context locked = registry.inTransaction(schema, tx -> lock(tx, context, sessionId));
        wroteVersions(schema, 1);
        return locked;
    }

    /** Locks all or none: one transaction; any invalid item and nothing is stored. */
    public List<Context> lockAll(String schema, List<NewContext> contexts, String sessionId) {
        for (int i = 0; i < contexts.size(); i++) {
            try {
                validate(contexts.get(i));
            } catch (StoreRuleException e) {
                throw new StoreRuleException("item " + i + ": " + e.getMessage() + " (nothing was stored)");
            }
        }
        List<Context> locked = registry.inTransaction(schema, tx -> {
            List<Context> out = new ArrayList<>();
            for (NewContext c : contexts) {
                out.add(lock(tx, c, sessionId));
            }
            return out;
        });
        wroteVersions(schema, locked.size());
        return locked;
    }

    /** Tells the background embedder that the project has this many new versions without a vector (after the commit). */
    public void wroteVersions(String schema, int versions) {
        if (meaning != null) {
            meaning.backlog().accept(schema, versions);
        }
    }

    /**
     * Writers of new versions hold the project's {@code search_state} row in KEY SHARE mode: they go on side by side,
     * and an import, which holds it FOR UPDATE, runs alone. A reader role cannot take either (it needs UPDATE rights).
     */
    static void shareProject(Tx tx) throws SQLException {
        tx.queryOne("SELECT 1 FROM {s}.search_state FOR KEY SHARE", r -> 1);
    }

    /** Makes a write that changes many labels' latest versions (an import) the project's only writer until it ends. */
    static void ownProject(Tx tx) throws SQLException {
        tx.queryOne("SELECT 1 FROM {s}.search_state FOR UPDATE", r -> 1);
    }

    private static Context lock(Tx tx, NewContext c, String sessionId) throws SQLException {
        shareProject(tx);
        lockTopic(tx, c.label());
        int minor = tx.queryOne("SELECT coalesce(max(minor), -1) + 1 FROM {s}.context_locks WHERE label = ?", r -> r.integer(1), c.label())
                .orElse(0);
        String version = "1." + minor;
        String priority = c.priority().orElseGet(() -> ContextText.detectPriority(c.content()));
        List<String> concepts = ContextText.keyConcepts(c.content());
        String[] tags = c.tags().stream().map(String::strip).filter(t -> !t.isEmpty()).distinct().toArray(String[]::new);
        tx.update("UPDATE {s}.context_locks SET is_latest = false WHERE label = ? AND is_latest", c.label());
        Context locked = tx.queryOne("INSERT INTO {s}.context_locks (label, version, minor, content, content_hash, preview, key_concepts, tags, "
                        + "priority, session_id, search, is_latest) VALUES (?, ?, ?, ?, ?, ?, ?::text[], ?::text[], ?, ?, "
                        + "setweight(to_tsvector('english', ?), 'A') || setweight(to_tsvector('english', ?), 'B') "
                        + "|| setweight(to_tsvector('english', ?), 'C'), true) RETURNING " + Context.COLUMNS,
                Context::map, c.label(), version, minor, c.content(), ContextText.hash(c.content()), ContextText.preview(c.content()),
                concepts.toArray(String[]::new), tags, priority, sessionId,
                c.label().replace('_', ' '), String.join(" ", concepts) + " " + String.join(" ", tags), c.content()).orElseThrow();
        audit(tx, "lock_context", c.label(), "{\"version\":\"" + version + "\",\"priority\":\"" + priority + "\"}", sessionId);
        return locked;
    }

    /**
     * Marks the newest version of each label as its latest, after versions were added out of order (an import). The
     * caller holds the project ({@link #ownProject}).
     */
    static void settleLatest(Tx tx, java.util.Collection<String> labels) throws SQLException {
        if (labels.isEmpty()) {
            return;
        }
        String[] names = labels.toArray(String[]::new);
        tx.update("UPDATE {s}.context_locks SET is_latest = false WHERE label = ANY(?::text[]) AND is_latest", (Object) names);
        long generation = cloud.dementia.db.search.BackgroundEmbedder.nextGeneration(tx);
        tx.update("UPDATE {s}.context_locks SET is_latest = true, embedded_gen = ? WHERE id IN (SELECT DISTINCT ON (label) id "
                + "FROM {s}.context_locks WHERE label = ANY(?::text[]) ORDER BY label, locked_at DESC, minor DESC)", generation, names);
    }

    /**
     * Versions of one topic are minted one at a time: the upsert locks the topic's row until the transaction ends
     * (pooler-safe). Not an advisory lock: any role may take any advisory lock, so a read-only query of another project
     * could take the key and stall this one; the reader role cannot lock this table's rows (see the project migration V7).
     */
    private static void lockTopic(Tx tx, String label) throws SQLException {
        tx.update("INSERT INTO {s}.topic_version_locks AS t (label) VALUES (?) ON CONFLICT (label) DO UPDATE SET label = t.label", label);
    }

    /**
     * Recalls the latest version (or a named one; a leading {@code v} is accepted) and counts the access.
     */
    public Optional<Context> recall(String schema, String label, String version, boolean previewOnly) {
        String v = normalizeVersion(version);
        String returning = " RETURNING " + (previewOnly ? Context.PREVIEW_COLUMNS : Context.COLUMNS);
        // one statement: find the version and count the access
        return registry.inStatement(schema, tx -> v == null
                ? tx.queryOne(RECALL_LATEST + returning, Context::map, label)
                : tx.queryOne(RECALL_VERSION + returning, Context::map, label, v));
    }

    /** @return the versions of a label, newest first */
    public List<String> versions(String schema, String label) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT version FROM {s}.context_locks WHERE label = ? ORDER BY locked_at DESC, minor DESC", r -> r.string(1), label));
    }

    /**
     * Deletes one version or all versions of a label, archiving them first when asked. {@code always_check} contexts
     * need {@code force}.
     *
     * @return the versions deleted
     */
    public List<String> unlock(String schema, String label, String version, boolean force, boolean archive, String sessionId) {
        String v = "all".equalsIgnoreCase(version) ? null : normalizeVersion(version);
        if (label.length() > MAX_LABEL) {
            // no topic is that long: nothing to unlock, and no row lock on a key no index would take
            return List.of();
        }
        return registry.inTransaction(schema, tx -> {
            shareProject(tx);
            lockTopic(tx, label);
            String where = v == null ? "label = ?" : "label = ? AND version = ?";
            Object[] params = v == null ? new Object[] {label} : new Object[] {label, v};
            List<String[]> rows = tx.query("SELECT version, priority FROM {s}.context_locks WHERE " + where + " ORDER BY minor FOR UPDATE",
                    r -> new String[] {r.string(1), r.string(2)}, params);
            if (rows.isEmpty()) {
                return List.of();
            }
            if (!force && rows.stream().anyMatch(r -> r[1].equals(ContextText.ALWAYS_CHECK))) {
                throw new StoreRuleException("`" + label + "` is an always_check context: unlocking it needs force=true");
            }
            if (archive) {
                tx.update("INSERT INTO {s}.context_archives (original_id, label, version, content, content_hash, preview, key_concepts, tags, "
                        + "priority, locked_at, access_count, reason) SELECT id, label, version, content, content_hash, preview, key_concepts, "
                        + "tags, priority, locked_at, access_count, 'unlock_context' FROM {s}.context_locks WHERE " + where, params);
            }
            tx.update("DELETE FROM {s}.context_locks WHERE " + where, params);
            if (v != null) {
                // the latest may have gone: the newest version left is the latest now
                settleLatest(tx, List.of(label));
            }
            List<String> versions = rows.stream().map(r -> r[0]).toList();
            audit(tx, "unlock_context", label, "{\"versions\":" + versions.size() + ",\"archived\":" + archive + "}", sessionId);
            return versions;
        });
    }

    /**
     * Full-text search alone (every word must match), over the latest version of each label, best first: the
     * baseline {@link #search} is measured against.
     */
    public List<Hit> searchFullText(String schema, String query, Optional<String> priority, List<String> tags, int limit) {
        return registry.inStatement(schema, tx -> tx.query(
                "WITH q AS (SELECT websearch_to_tsquery('english', ?) AS tsq) "
                        + "SELECT " + prefixed("l") + ", ts_rank_cd(l.search, q.tsq) AS rank FROM {s}.context_locks l, q "
                        + "WHERE l.is_latest AND l.search @@ q.tsq AND (?::text IS NULL OR l.priority = ?) AND (cardinality(?::text[]) = 0 OR l.tags && ?::text[]) "
                        + "ORDER BY rank DESC, l.locked_at DESC LIMIT ?",
                r -> new Hit(Context.map(r), r.doubleValue(14)), query, priority.orElse(null), priority.orElse(null),
                tags.toArray(String[]::new), tags.toArray(String[]::new), limit));
    }

    /** Weights of the combined rank (see {@link #search}). */
    static final double W_MEANING = 0.7;
    static final double W_WORDS = 0.2;
    static final double W_TRIGRAMS = 0.1;
    /** Cosines of all-MiniLM-L6-v2 below this are taken as unrelated; 0.5 above it as the same meaning. */
    static final double COS_FLOOR = 0.1;
    /** A result needs at least this combined rank (or every word of the query). */
    static final double MIN_RANK = 0.1;
    /** Candidates each signal proposes (at least; more when more results are asked for). */
    static final int CANDIDATES = 50;
    /** Trigram candidates need at least this word similarity to the question. */
    static final double TRIGRAM_THRESHOLD = 0.3;

    /**
     * What the words and trigram signals say of one latest version.
     *
     * @param all      the full-text rank when every word matches, else 0
     * @param any      the full-text rank of any word
     * @param trigrams the word similarity of the question to topic and content
     */
    public record Signals(Context context, double all, double any, double trigrams) {
    }

    /**
     * Hybrid search over the latest version of each label, best first. Three signals, each from 0 to 1:
     * <ul>
     * <li>words: PostgreSQL full-text rank of any word of the query ({@code ts_rank_cd}, divided by the best rank among
     * the candidates), plus 0.25 when every word matches;</li>
     * <li>trigrams: the word similarity ({@code pg_trgm}) of the question and the topic, the better of the two ways, for
     * typos and parts of words (0 when the extension is not available);</li>
     * <li>meaning: the cosine of the query's and the context's vectors, rescaled from [0.1, 0.6] to [0, 1] (when
     * there is a model and the version has its vector).</li>
     * </ul>
     * The combined rank is {@code 0.7 meaning + 0.2 words + 0.1 trigrams} for a version with a vector, {@code 0.65
     * words + 0.35 trigrams} for one without (no model, or its vector not computed yet); a context is a result when its
     * rank reaches {@value #MIN_RANK} or it matches every word. The weights were chosen on the evaluation set of
     * SearchEvaluationTest (30 rules, 30 questions in other words).
     * <p>
     * Nothing reads the whole project: each signal proposes its best {@value #CANDIDATES} through an index (the GIN
     * full-text index, pg_trgm's GIN index, the {@link VectorIndex}), and only their union is read and ranked. The model
     * runs for the question only, before the unit of work.
     */
    public List<Hit> search(String schema, String text, Optional<String> priority, List<String> tags, int limit) {
        float[] question = meaning == null ? null : meaning.model().embed(text);
        return registry.inReadOnlyTransaction(schema, tx -> search(tx, question, text, priority, tags, limit));
    }

    private List<Hit> search(Tx tx, float[] question, String text, Optional<String> priority, List<String> tags, int limit) throws SQLException {
        // PostgreSQL builds the OR of every word as a tree: a very long query is read as its first distinct words
        String query = text.length() > MAX_RELEVANCE_TEXT ? distinctWords(text, MAX_RELEVANCE_WORDS) : text;
        int k = Math.max(CANDIDATES, limit * 3);
        String filters = " AND (?::text IS NULL OR l.priority = ?) AND (cardinality(?::text[]) = 0 OR l.tags && ?::text[])";
        Object[] filterParams = {priority.orElse(null), priority.orElse(null), tags.toArray(String[]::new), tags.toArray(String[]::new)};
        java.util.Set<Long> ids = new java.util.LinkedHashSet<>();
        // a scalar subquery, computed once per statement: inline, a generic plan would parse the question again for
        // every match; from a CTE, it would not reach the GIN index
        String any = "(SELECT nullif(replace(plainto_tsquery('english', ?)::text, ' & ', ' | '), '')::tsquery)";
        ids.addAll(tx.query("SELECT l.id FROM {s}.context_locks l WHERE l.is_latest AND l.search @@ " + any + filters
                // proposed by ts_rank, 2.5 times cheaper per match than the ts_rank_cd the union is ranked by
                + " ORDER BY ts_rank(l.search, " + any + ") DESC, l.id LIMIT ?", r -> r.longValue(1), params(query, filterParams, query, k)));
        String trgm = trigramSchema();
        if (!trgm.isEmpty()) {
            String schemaOf = Tx.identifier(trgm);
            tx.queryOne("SELECT set_config('pg_trgm.word_similarity_threshold', ?, true)", r -> 1, Double.toString(TRIGRAM_THRESHOLD));
            // the question (or a word of it with a typo) within the topic: the way pg_trgm's index can answer; the
            // other way (the topic within a longer question) counts in the rank of what the other signals found
            ids.addAll(tx.query("SELECT l.id FROM {s}.context_locks l WHERE l.is_latest AND ? OPERATOR(" + schemaOf + ".<%) l.label"
                    + filters + " ORDER BY " + schemaOf + ".word_similarity(?, l.label) DESC, l.id LIMIT ?",
                    r -> r.longValue(1), params(query, filterParams, query, k)));
        }
        VectorIndex.Found found = null;
        if (question != null) {
            found = meaning.index().search(tx, question, k, ids);
            found.nearest().forEach(s -> ids.add(s.id()));
        }
        if (ids.isEmpty()) {
            return List.of();
        }
        String similarity = trgm.isEmpty() ? "0::real" : trigrams(Tx.identifier(trgm));
        List<Object> p = new ArrayList<>(List.of(query, query));
        if (!trgm.isEmpty()) {
            p.add(query);
            p.add(query);
        }
        p.add(ids.toArray(Long[]::new));
        List<Signals> read = tx.query("WITH q AS (SELECT websearch_to_tsquery('english', ?) AS qall, "
                        + "nullif(replace(plainto_tsquery('english', ?)::text, ' & ', ' | '), '')::tsquery AS qany) "
                        + "SELECT " + prefixed("l") + ", CASE WHEN l.search @@ q.qall THEN ts_rank_cd(l.search, q.qall) ELSE 0 END, "
                        + "CASE WHEN q.qany IS NOT NULL AND l.search @@ q.qany THEN ts_rank_cd(l.search, q.qany) ELSE 0 END, "
                        + similarity + " FROM {s}.context_locks l, q WHERE l.id = ANY(?::bigint[]) AND l.is_latest",
                r -> new Signals(Context.map(r), r.doubleValue(14), r.doubleValue(15), r.doubleValue(16)), p.toArray());
        if (found != null && read.size() < ids.size()) {
            // what the vector index proposed and is no longer the latest version (or is gone)
            java.util.Set<Long> gone = new java.util.HashSet<>(ids);
            read.forEach(s -> gone.remove(s.context().id()));
            meaning.index().forget(tx.schema(), gone);
        }
        List<Hit> hits = rank(read, found, priority, tags);
        if (found != null && read.stream().anyMatch(s -> Double.isNaN(found(s, null)))) {
            // nothing to wait for: the background embedder was told at the write; tell it again in case it restarted
            wroteVersions(tx.schema(), 0);
        }
        return hits.size() > limit ? List.copyOf(hits.subList(0, limit)) : hits;
    }

    /** The trigram signal: the word similarity of question and topic, the better of the two ways (two parameters). */
    private static String trigrams(String schemaOf) {
        return "greatest(" + schemaOf + ".word_similarity(?, l.label), " + schemaOf + ".word_similarity(l.label, ?))";
    }

    private static double found(Signals s, VectorIndex.Found found) {
        return found == null ? Double.NaN : found.cosine(s.context().id());
    }

    private static Object[] params(String first, Object[] filters, Object... rest) {
        List<Object> out = new ArrayList<>();
        out.add(first);
        out.addAll(java.util.Arrays.asList(filters));
        out.addAll(java.util.Arrays.asList(rest));
        return out.toArray();
    }

    /**
     * Ranks what the signals said, best first (the formula of {@link #search}), keeping what the filters ask for.
     *
     * @param found the vector index's answer, or {@code null} without a model
     */
    public static List<Hit> rank(List<Signals> read, VectorIndex.Found found, Optional<String> priority, List<String> tags) {
        double bestAny = read.stream().mapToDouble(Signals::any).max().orElse(0);
        List<Hit> hits = new ArrayList<>();
        for (Signals s : read) {
            Context c = s.context();
            if (priority.isPresent() && !priority.get().equals(c.priority())
                    || !tags.isEmpty() && c.tags().stream().noneMatch(tags::contains)) {
                continue;
            }
            double words = (bestAny > 0 ? s.any() / bestAny : 0) * 0.75 + (s.all() > 0 ? 0.25 : 0);
            double cosine = found(s, found);
            double rank = Double.isNaN(cosine)
                    ? 0.65 * words + 0.35 * s.trigrams()
                    : W_MEANING * Math.max(0, Math.min(1, (cosine - COS_FLOOR) / 0.5)) + W_WORDS * words + W_TRIGRAMS * s.trigrams();
            if (rank >= MIN_RANK || s.all() > 0) {
                hits.add(new Hit(c, Math.round(rank * 10000) / 10000.0));
            }
        }
        hits.sort((a, b) -> Double.compare(b.rank(), a.rank()));
        return hits;
    }

    /**
     * The schema of {@code pg_trgm} ({@code ""} when it is not installed: the control schema's migration installs it
     * where it can, and search goes on without trigrams where it cannot).
     */
    private String trigramSchema() {
        String known = trigramSchema;
        if (known == null) {
            known = registry.inStatement(cloud.dementia.db.schema.ControlSchema.NAME, tx -> tx.queryOne(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
                    r -> r.string(1))).orElse("");
            if (known.isEmpty()) {
                java.util.logging.Logger.getLogger(Contexts.class.getName()).warning("pg_trgm is not installed: search goes on without trigrams");
            }
            trigramSchema = known;
        }
        return known;
    }

    /**
     * The contexts relevant to a text: every {@code always_check} rule first (at most {@code limit}), then other
     * contexts found by the same search as {@link #search}, best match first; in one unit of work.
     */
    public List<Hit> relevantTo(String schema, String text, int limit) {
        // the same relevance as search; a long text is read as its first distinct words
        String query = text.length() > MAX_RELEVANCE_TEXT ? distinctWords(text, MAX_RELEVANCE_WORDS) : text;
        float[] question = meaning == null || query.isBlank() ? null : meaning.model().embed(query);
        return registry.inReadOnlyTransaction(schema, tx -> {
            List<Hit> out = new ArrayList<>(tx.query("SELECT " + prefixed("l") + " FROM {s}.context_locks l "
                    + "WHERE l.is_latest AND l.priority = 'always_check' ORDER BY l.label LIMIT ?", r -> new Hit(Context.map(r), 1.0), limit));
            if (out.size() < limit && !query.isBlank()) {
                for (Hit h : search(tx, question, query, Optional.empty(), List.of(), limit)) {
                    if (out.size() < limit && !h.context().priority().equals(ContextText.ALWAYS_CHECK)) {
                        out.add(h);
                    }
                }
            }
            return out;
        });
    }

    /**
     * Words of a text a relevance query ORs together, at most this many: PostgreSQL builds the OR of every word as a
     * tree, and a 200,000-character text ran it out of stack ({@code stack depth limit exceeded}).
     */
    static final int MAX_RELEVANCE_WORDS = 200;
    /** Texts longer than this are read as their first {@link #MAX_RELEVANCE_WORDS} distinct words. */
    static final int MAX_RELEVANCE_TEXT = 2000;

    /** @return the first {@code max} distinct words of the text, separated by spaces */
    static String distinctWords(String text, int max) {
        java.util.Set<String> words = new java.util.LinkedHashSet<>();
        for (String w : text.split("[^\\p{L}\\p{N}_]+")) {
            if (!w.isEmpty()) {
                words.add(w.toLowerCase(java.util.Locale.ROOT));
                if (words.size() == max) {
                    break;
                }
            }
        }
        return String.join(" ", words);
    }

    /**
     * A topic's latest version, as overviews show it.
     *
     * @param size the content in bytes (UTF-8)
     */
    public record Latest(String label, String version, String priority, String preview, int size, Instant lockedAt, Instant lastAccessed,
                         int accessCount) {
    }

    /**
     * Latest versions not read (or, never read, not locked) for {@link #STALE_DAYS} days: SQL over {@code l}. The limit
     * is a subquery so that it is computed once per statement, not once per row.
     */
    static final String STALE_CONDITION = "coalesce(l.last_accessed, l.locked_at) < (SELECT now() - make_interval(days => " + STALE_DAYS + "))";

    /** @return latest versions meeting an SQL condition over {@code l}, by label, at most {@code max} */
    static List<Latest> latest(Tx tx, String condition, int max) throws SQLException {
        return latest(tx, condition, max, "l.label");
    }

    /** @return latest versions meeting an SQL condition over {@code l}, by label, at most {@code max}, without previews */
    static List<Latest> latestNames(Tx tx, String condition, int max) throws SQLException {
        return tx.query("SELECT l.label, l.version, l.priority FROM {s}.context_locks l WHERE l.is_latest AND " + condition
                + " ORDER BY l.label LIMIT ?", r -> new Latest(r.string(1), r.string(2), r.string(3), "", 0, null, null, 0), max);
    }

    static List<Latest> latest(Tx tx, String condition, int max, String order) throws SQLException {
        return tx.query("SELECT l.label, l.version, l.priority, l.preview, octet_length(l.content), l.locked_at, l.last_accessed, l.access_count "
                        + "FROM {s}.context_locks l WHERE l.is_latest AND " + condition + " ORDER BY " + order + " LIMIT ?",
                r -> new Latest(r.string(1), r.string(2), r.string(3), r.string(4), r.integer(5), r.instant(6), r.instant(7), r.integer(8)), max);
    }

    /** @return every label with its latest version, ordered by label */
    public List<LabelSummary> labels(String schema) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT DISTINCT ON (label) label, version, count(*) OVER (PARTITION BY label), priority, preview, locked_at, "
                        + "last_accessed, sum(access_count) OVER (PARTITION BY label), octet_length(content) FROM {s}.context_locks "
                        + "ORDER BY label, locked_at DESC, minor DESC",
                r -> new LabelSummary(r.string(1), r.string(2), r.integer(3), r.string(4), r.string(5), r.instant(6), r.instant(7),
                        r.integer(8), r.integer(9))));
    }

    /** Latest versions not recalled (or, never recalled, not locked) within {@link #STALE_DAYS} days, by label. */
    public List<LabelSummary> stale(String schema) {
        return labels(schema).stream().filter(Contexts::isStale).toList();
    }

    static boolean isStale(LabelSummary l) {
        Instant limit = Instant.now().minusSeconds(STALE_DAYS * 86_400L);
        return (l.lastAccessed() == null ? l.lockedAt() : l.lastAccessed()).isBefore(limit);
    }

    static String normalizeVersion(String version) {
        if (version == null || version.isBlank() || version.equalsIgnoreCase("latest")) {
            return null;
        }
        String v = version.strip();
        if (v.startsWith("v") || v.startsWith("V")) {
            v = v.substring(1);
        }
        if (!v.matches("\\d+\\.\\d+")) {
            throw new StoreRuleException("version `" + version + "` is not a version: use latest, 1.2 or v1.2");
        }
        return v;
    }

    private static String prefixed(String alias) {
        StringBuilder sb = new StringBuilder();
        for (String col : Context.COLUMNS.split(",\\s*")) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(alias).append('.').append(col);
        }
        return sb.toString();
    }

    /** A row that changed a topic: a lock or an unlock in the audit trail, or a version written (an import writes no audit row). */
    public record Change(boolean audit, long id, String label) {
    }

    /** @return the highest ids of the audit trail and of the versions: where watching a project starts */
    public long[] changeCursors(String schema) {
        return registry.inStatement(schema, tx -> tx.queryOne("SELECT (SELECT coalesce(max(id), 0) FROM {s}.audit_trail), "
                + "(SELECT coalesce(max(id), 0) FROM {s}.context_locks)", r -> new long[] {r.longValue(1), r.longValue(2)}).orElseThrow());
    }

    /**
     * @return the locks and unlocks (audit trail) with an id above {@code auditFloor} and the versions with an id above
     *         {@code lockFloor}, in id order, at most {@code limit}
     */
    public List<Change> changesAbove(String schema, long auditFloor, long lockFloor, int limit) {
        return registry.inStatement(schema, tx -> tx.query("SELECT * FROM (SELECT true AS audit, id, target FROM {s}.audit_trail "
                + "WHERE id > ? AND action IN ('lock_context', 'unlock_context') AND target IS NOT NULL "
                + "UNION ALL SELECT false, id, label FROM {s}.context_locks WHERE id > ?) c ORDER BY id LIMIT ?",
                r -> new Change(r.bool(1), r.longValue(2), r.string(3)), auditFloor, lockFloor, limit));
    }

    static void audit(Tx tx, String action, String target, String detailsJson, String sessionId) throws SQLException {
        tx.update("INSERT INTO {s}.audit_trail (action, target, details, session_id) VALUES (?, ?, ?::jsonb, ?)", action, target, detailsJson, sessionId);
    }
}
