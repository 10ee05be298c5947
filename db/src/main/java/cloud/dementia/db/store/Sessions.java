package cloud.dementia.db.store;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;

/**
 * Sessions, the session log (handovers, progress notes) and the counts behind {@code wake_up}, {@code memory_status}
 * and {@code context_dashboard}. A session's id is the MCP session id, so one conversation is one row.
 */
public final class Sessions {

    /** One session row. */
    public record Session(String id, Instant startedAt, Instant lastActive, int calls) {
    }

    /** One entry of the session log. */
    public record Entry(long id, String category, String content, String metadataJson, String sessionId, Instant createdAt) {
    }

    /** One audit entry. */
    public record Activity(String action, String target, String detailsJson, Instant at) {
    }

    /** Counts and sizes of a project's memory. */
    public record Stats(int contexts, int labels, int versionedLabels, Map<String, Integer> byPriority, long contentBytes, int archives,
                        int sessions, int entries, int handovers, List<Contexts.LabelSummary> mostAccessed,
                        List<Contexts.LabelSummary> leastAccessed) {
    }

    private final PoolRegistry registry;

    public Sessions(PoolRegistry registry) {
        this.registry = registry;
    }

    /** Records a call of the session (creating its row on first use) and returns the row. */
    public Session touch(String schema, String sessionId) {
        return registry.inStatement(schema, tx -> tx.queryOne(
                "INSERT INTO {s}.sessions (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET last_active = now(), calls = sessions.calls + 1 "
                        + "RETURNING id, started_at, last_active, calls",
                r -> new Session(r.string(1), r.instant(2), r.instant(3), r.integer(4)), sessionId)
                .orElseThrow());
    }

    public List<Session> recent(String schema, int limit) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT id, started_at, last_active, calls FROM {s}.sessions ORDER BY last_active DESC LIMIT ?",
                r -> new Session(r.string(1), r.instant(2), r.instant(3), r.integer(4)), limit));
    }

    /** Adds an entry to the session log. */
    public Entry addEntry(String schema, String category, String content, String metadataJson, String sessionId) {
        return registry.inTransaction(schema, tx -> {
            Entry e = tx.queryOne("INSERT INTO {s}.memory_entries (category, content, metadata, session_id) VALUES (?, ?, ?::jsonb, ?) "
                    + "RETURNING id, category, content, metadata::text, session_id, created_at", Sessions::entry,
                    category, content, metadataJson, sessionId).orElseThrow();
            Contexts.audit(tx, "add_" + category, null, "{}", sessionId);
            return e;
        });
    }

    /** @return the newest entry of a category */
    public Optional<Entry> latest(String schema, String category) {
        return registry.inStatement(schema, tx -> tx.queryOne(
                "SELECT id, category, content, metadata::text, session_id, created_at FROM {s}.memory_entries WHERE category = ? "
                        + "ORDER BY created_at DESC, id DESC LIMIT 1", Sessions::entry, category));
    }

    /** @return entries of a category newer than {@code since}, newest first */
    public List<Entry> since(String schema, String category, Instant since, int limit) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT id, category, content, metadata::text, session_id, created_at FROM {s}.memory_entries WHERE category = ? "
                        + "AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?", Sessions::entry, category,
                java.sql.Timestamp.from(since), limit));
    }

    /** @return what the session did, newest first */
    public List<Activity> activity(String schema, String sessionId, int limit) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT action, target, details::text, at FROM {s}.audit_trail WHERE session_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                r -> new Activity(r.string(1), r.string(2), r.string(3), r.instant(4)), sessionId, limit));
    }

    /** @return contexts (label and version) the session locked, oldest first */
    public List<String> lockedBy(String schema, String sessionId) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT label || ' v' || version FROM {s}.context_locks WHERE session_id = ? ORDER BY locked_at", r -> r.string(1), sessionId));
    }

    /** Counts and sizes in one transaction. */
    public Stats stats(String schema, Contexts contexts) {
        List<Contexts.LabelSummary> labels = contexts.labels(schema);
        return registry.inReadOnlyTransaction(schema, tx -> {
            Map<String, Integer> byPriority = new java.util.TreeMap<>();
            for (String p : ContextText.PRIORITIES) {
                byPriority.put(p, 0);
            }
            tx.query("SELECT priority, count(*) FROM {s}.context_locks GROUP BY priority", r -> byPriority.put(r.string(1), r.integer(2)));
            int total = byPriority.values().stream().mapToInt(Integer::intValue).sum();
            long bytes = tx.queryOne("SELECT coalesce(sum(octet_length(content)), 0) FROM {s}.context_locks", r -> r.longValue(1)).orElse(0L);
            int archives = count(tx, "context_archives");
            int sessions = count(tx, "sessions");
            int entries = count(tx, "memory_entries");
            int handovers = tx.queryOne("SELECT count(*) FROM {s}.memory_entries WHERE category = 'handover'", r -> r.integer(1)).orElse(0);
            List<Contexts.LabelSummary> most = labels.stream().filter(l -> l.accessCount() > 0)
                    .sorted((a, b) -> Integer.compare(b.accessCount(), a.accessCount())).limit(5).toList();
            List<Contexts.LabelSummary> least = labels.stream()
                    .sorted((a, b) -> Integer.compare(a.accessCount(), b.accessCount())).limit(5).toList();
            int versioned = (int) labels.stream().filter(l -> l.versions() > 1).count();
            return new Stats(total, labels.size(), versioned, byPriority, bytes, archives, sessions, entries, handovers, most, least);
        });
    }

    private static int count(cloud.dementia.db.pool.Tx tx, String table) throws SQLException {
        return tx.queryOne("SELECT count(*) FROM {s}." + table, r -> r.integer(1)).orElse(0);
    }

    private static Entry entry(cloud.dementia.db.pool.Row r) {
        return new Entry(r.longValue(1), r.string(2), r.string(3), r.string(4), r.string(5), r.instant(6));
    }
}
