package cloud.dementia.db.store;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import cloud.dementia.db.pool.DataAccessException;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;

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
    private final Embedder embedder;
    /** The schema pg_trgm's functions are in ("" when it is not available), found on first use. */
    private volatile String trigramSchema;

    public Contexts(PoolRegistry registry) {
        this(registry, null);
    }

    /** @param embedder the model for search by meaning, or {@code null} for none */
    public Contexts(PoolRegistry registry, Embedder embedder) {
        this.registry = registry;
        this.embedder = embedder;
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

    /** Locks one context as the label's next version. */
    /** @return the vector of a context as PostgreSQL text ({@code {0.1,...}}), or null without a model */
    private String vector(String label, String content) {
        return embedder == null ? null : arrayText(embedder.embed(label.replace('_', ' ') + ". " + content));
    }

    private static String arrayText(float[] v) {
        StringBuilder sb = new StringBuilder(v.length * 10).append('{');
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(v[i]);
        }
        return sb.append('}').toString();
    }

    public Context lock(String schema, NewContext context, String sessionId) {
        validate(context);
        // the model runs before the transaction: no connection is held while it thinks
        String vector = vector(context.label(), context.content());
        return registry.inTransaction(schema, tx -> lock(tx, context, sessionId, vector));
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
        List<String> vectors = new ArrayList<>();
        for (NewContext c : contexts) {
            vectors.add(vector(c.label(), c.content()));
        }
        return registry.inTransaction(schema, tx -> {
            List<Context> locked = new ArrayList<>();
            for (int i = 0; i < contexts.size(); i++) {
                locked.add(lock(tx, contexts.get(i), sessionId, vectors.get(i)));
            }
            return locked;
        });
    }

    private static Context lock(Tx tx, NewContext c, String sessionId, String vector) throws SQLException {
        lockTopic(tx, c.label());
        int minor = tx.queryOne("SELECT coalesce(max(minor), -1) + 1 FROM {s}.context_locks WHERE label = ?", r -> r.integer(1), c.label())
                .orElse(0);
        String version = "1." + minor;
        String priority = c.priority().orElseGet(() -> ContextText.detectPriority(c.content()));
        List<String> concepts = ContextText.keyConcepts(c.content());
        String[] tags = c.tags().stream().map(String::strip).filter(t -> !t.isEmpty()).distinct().toArray(String[]::new);
        Context locked = tx.queryOne("INSERT INTO {s}.context_locks (label, version, minor, content, content_hash, preview, key_concepts, tags, "
                        + "priority, session_id, search, embedding) VALUES (?, ?, ?, ?, ?, ?, ?::text[], ?::text[], ?, ?, "
                        + "setweight(to_tsvector('english', ?), 'A') || setweight(to_tsvector('english', ?), 'B') "
                        + "|| setweight(to_tsvector('english', ?), 'C'), ?::real[]) RETURNING " + Context.COLUMNS,
                Context::map, c.label(), version, minor, c.content(), ContextText.hash(c.content()), ContextText.preview(c.content()),
                concepts.toArray(String[]::new), tags, priority, sessionId,
                c.label().replace('_', ' '), String.join(" ", concepts) + " " + String.join(" ", tags), c.content(), vector).orElseThrow();
        audit(tx, "lock_context", c.label(), "{\"version\":\"" + version + "\",\"priority\":\"" + priority + "\"}", sessionId);
        return locked;
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
        return registry.inTransaction(schema, tx -> {
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
                "WITH q AS (SELECT websearch_to_tsquery('english', ?) AS tsq), "
                        + "latest AS (SELECT DISTINCT ON (label) * FROM {s}.context_locks ORDER BY label, locked_at DESC, minor DESC) "
                        + "SELECT " + prefixed("l") + ", ts_rank_cd(l.search, q.tsq) AS rank FROM latest l, q "
                        + "WHERE l.search @@ q.tsq AND (?::text IS NULL OR l.priority = ?) AND (cardinality(?::text[]) = 0 OR l.tags && ?::text[]) "
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

    /**
     * Hybrid search over the latest version of each label, best first. Three signals, each from 0 to 1:
     * <ul>
     * <li>words: PostgreSQL full-text rank of any word of the query ({@code ts_rank_cd}, divided by the best rank among
     * the candidates), plus 0.25 when every word matches;</li>
     * <li>trigrams: {@code word_similarity(query, topic + content)} from {@code pg_trgm}, for typos and parts of words
     * (0 when the extension is not available);</li>
     * <li>meaning: the cosine of the query's and the context's embeddings, rescaled from [0.1, 0.6] to [0, 1] (when
     * there is a model).</li>
     * </ul>
     * The combined rank is {@code 0.7 meaning + 0.2 words + 0.1 trigrams} with a model, {@code 0.65 words + 0.35
     * trigrams} without; a context is a result when its rank reaches {@value #MIN_RANK} or it matches every word. The
     * weights were chosen on the evaluation set of SearchEvaluationTest (30 rules, 30 questions in other words).
     */
    public List<Hit> search(String schema, String text, Optional<String> priority, List<String> tags, int limit) {
        float[] q = embedder == null ? null : embedder.embed(text);
        // PostgreSQL builds the OR of every word as a tree: a very long query is read as its first distinct words
        String query = text.length() > MAX_RELEVANCE_TEXT ? distinctWords(text, MAX_RELEVANCE_WORDS) : text;
        String trgm = trigramSchema();
        String similarity = trgm.isEmpty() ? "0::real" : Tx.identifier(trgm) + ".word_similarity(?, l.label || ' ' || l.content)";
        List<Object> params = new ArrayList<>(List.of(query, query));
        if (!trgm.isEmpty()) {
            params.add(query);
        }
        params.addAll(java.util.Arrays.asList(priority.orElse(null), priority.orElse(null), tags.toArray(String[]::new), tags.toArray(String[]::new)));
        record Candidate(Context context, double all, double any, double trigrams, float[] embedding) {
        }
        List<Candidate> candidates = registry.inStatement(schema, tx -> tx.query(
                "WITH q AS (SELECT websearch_to_tsquery('english', ?) AS qall, "
                        + "nullif(replace(plainto_tsquery('english', ?)::text, ' & ', ' | '), '')::tsquery AS qany), "
                        + "latest AS (SELECT DISTINCT ON (label) * FROM {s}.context_locks ORDER BY label, locked_at DESC, minor DESC) "
                        + "SELECT " + prefixed("l") + ", CASE WHEN l.search @@ q.qall THEN ts_rank_cd(l.search, q.qall) ELSE 0 END, "
                        + "CASE WHEN q.qany IS NOT NULL AND l.search @@ q.qany THEN ts_rank_cd(l.search, q.qany) ELSE 0 END, "
                        + similarity + ", l.embedding FROM latest l, q "
                        + "WHERE (?::text IS NULL OR l.priority = ?) AND (cardinality(?::text[]) = 0 OR l.tags && ?::text[])",
                r -> new Candidate(Context.map(r), r.doubleValue(14), r.doubleValue(15), r.doubleValue(16), floats(r.object(17))),
                params.toArray()));
        double bestAny = candidates.stream().mapToDouble(Candidate::any).max().orElse(0);
        List<Hit> hits = new ArrayList<>();
        for (Candidate c : candidates) {
            double words = (bestAny > 0 ? c.any() / bestAny : 0) * 0.75 + (c.all() > 0 ? 0.25 : 0);
            double rank;
            if (q != null) {
                float[] e = c.embedding() != null ? c.embedding() : backfill(schema, c.context());
                double meaning = e == null ? 0 : Math.max(0, Math.min(1, (cosine(q, e) - COS_FLOOR) / 0.5));
                rank = W_MEANING * meaning + W_WORDS * words + W_TRIGRAMS * c.trigrams();
            } else {
                rank = 0.65 * words + 0.35 * c.trigrams();
            }
            if (rank >= MIN_RANK || c.all() > 0) {
                hits.add(new Hit(c.context(), Math.round(rank * 10000) / 10000.0));
            }
        }
        hits.sort((a, b) -> Double.compare(b.rank(), a.rank()));
        return hits.size() > limit ? List.copyOf(hits.subList(0, limit)) : hits;
    }

    /** Computes and stores the vector of a version locked before there was a model (or while it was off). */
    private float[] backfill(String schema, Context c) {
        float[] v = embedder.embed(c.label().replace('_', ' ') + ". " + c.content());
        registry.inStatement(schema, tx -> tx.update("UPDATE {s}.context_locks SET embedding = ?::real[] WHERE id = ?", arrayText(v), c.id()));
        return v;
    }

    private static float[] floats(Object array) {
        if (array == null) {
            return null;
        }
        try {
            Object[] values = (Object[]) ((java.sql.Array) array).getArray();
            float[] out = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                out[i] = ((Number) values[i]).floatValue();
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read an embedding: " + e.getMessage(), e);
        }
    }

    static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            return 0;
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    private String installedTrigramSchema() {
        return registry.inStatement(cloud.dementia.db.schema.ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
                r -> r.string(1))).orElse(null);
    }

    /**
     * The schema of {@code pg_trgm}: created in the control schema on first use when the database has none (it is a
     * trusted extension from PostgreSQL 13 on); {@code ""} when it cannot be had, and searches go on without trigrams.
     */
    private String trigramSchema() {
        String known = trigramSchema;
        if (known != null) {
            return known;
        }
        String found;
        try {
            found = installedTrigramSchema();
            if (found == null) {
                try {
                    registry.inStatement(cloud.dementia.db.schema.ControlSchema.NAME,
                            tx -> tx.update("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA " + cloud.dementia.db.schema.ControlSchema.NAME));
                } catch (DataAccessException raced) {
                    // another replica may have created it at the same moment: look again before giving up
                    if (installedTrigramSchema() == null) {
                        throw raced;
                    }
                }
                found = installedTrigramSchema();
            }
        } catch (DataAccessException e) {
            java.util.logging.Logger.getLogger(Contexts.class.getName()).warning("pg_trgm is not available (" + e.getMessage()
                    + "): search goes on without trigram similarity");
            found = "";
        }
        trigramSchema = found;
        return found;
    }

    /**
     * The contexts relevant to a text: every {@code always_check} rule first, then other contexts sharing words with
     * the text, best match first.
     */
    public List<Hit> relevantTo(String schema, String text, int limit) {
        List<Hit> out = new ArrayList<>(registry.inStatement(schema, tx -> tx.query(
                "SELECT " + prefixed("l") + " FROM (SELECT DISTINCT ON (label) * FROM {s}.context_locks ORDER BY label, locked_at DESC, minor DESC) l "
                        + "WHERE l.priority = 'always_check' ORDER BY l.label LIMIT ?",
                r -> new Hit(Context.map(r), 1.0), limit)));
        // the same relevance as search; a long text is read as its first distinct words
        String query = text.length() > MAX_RELEVANCE_TEXT ? distinctWords(text, MAX_RELEVANCE_WORDS) : text;
        if (out.size() < limit && !query.isBlank()) {
            for (Hit h : search(schema, query, Optional.empty(), List.of(), limit)) {
                if (out.size() < limit && !h.context().priority().equals(ContextText.ALWAYS_CHECK)) {
                    out.add(h);
                }
            }
        }
        return out;
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

    /** @return every label with its latest version, ordered by label */
    public List<LabelSummary> labels(String schema) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT DISTINCT ON (label) label, version, count(*) OVER (PARTITION BY label), priority, preview, locked_at, "
                        + "last_accessed, sum(access_count) OVER (PARTITION BY label), octet_length(content) FROM {s}.context_locks "
                        + "ORDER BY label, locked_at DESC, minor DESC",
                r -> new LabelSummary(r.string(1), r.string(2), r.integer(3), r.string(4), r.string(5), r.instant(6), r.instant(7),
                        r.integer(8), r.integer(9))));
    }

    /** Latest versions not recalled (or, never recalled, not locked) within {@link #STALE_DAYS} days. */
    public List<LabelSummary> stale(String schema) {
        Instant limit = Instant.now().minusSeconds(STALE_DAYS * 86_400L);
        return labels(schema).stream()
                .filter(l -> (l.lastAccessed() == null ? l.lockedAt() : l.lastAccessed()).isBefore(limit))
                .toList();
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

    static void audit(Tx tx, String action, String target, String detailsJson, String sessionId) throws SQLException {
        tx.update("INSERT INTO {s}.audit_trail (action, target, details, session_id) VALUES (?, ?, ?::jsonb, ?)", action, target, detailsJson, sessionId);
    }
}
