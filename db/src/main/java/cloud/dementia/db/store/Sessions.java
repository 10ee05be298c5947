package cloud.dementia.db.store;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;

/**
 * Sessions, the session log (handovers, progress notes) and the counts behind {@code wake_up}, {@code memory_status}
 * and {@code context_dashboard}. A session's id is the MCP session id, so one conversation is one row.
 */
public final class Sessions implements AutoCloseable {

    /** How often the writer thread writes the counted calls. */
    public static final java.time.Duration FLUSH_EVERY = java.time.Duration.ofSeconds(1);

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final System.Logger LOG = System.getLogger(Sessions.class.getName());

    /** One session row. */
    public record Session(String id, Instant startedAt, Instant lastActive, int calls) {
    }

    /** One entry of the session log. */
    public record Entry(long id, String category, String content, String metadataJson, String sessionId, Instant createdAt) {
    }

    /**
     * Counts and sizes of a project's memory.
     *
     * @param byPriority       versions by priority, every version counted
     * @param topicsByPriority topics (latest versions) by priority
     * @param stale            topics not read (or, never read, not locked) for {@link Contexts#STALE_DAYS} days
     */
    public record Stats(int contexts, int labels, int versionedLabels, Map<String, Integer> byPriority, Map<String, Integer> topicsByPriority,
                        long contentBytes, int archives, int sessions, int entries, int handovers, int stale,
                        List<Contexts.Latest> mostAccessed, List<Contexts.Latest> leastAccessed) {
    }

    /**
     * The topics at a glance: latest versions by priority and how many are stale (one pass over the latest versions).
     *
     * @param topicsByPriority topics (latest versions) by priority
     * @param stale            topics not read (or, never read, not locked) for {@link Contexts#STALE_DAYS} days
     */
    public record Health(Map<String, Integer> topicsByPriority, int stale) {

        /** @return every topic */
        public int topics() {
            return topicsByPriority.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /**
     * What {@code wake_up} shows, read in one unit of work.
     *
     * @param session     the session's row; empty when it was only looked at ({@link #look})
     * @param alwaysCheck the rules to always check, by topic, at most as many as asked
     * @param important   important topics, by topic (names and versions only); none read when there are more than asked
     * @param reference   reference topics, by topic (names and versions only); none read when there are more than asked
     * @param stale       stale topics, by topic (names and versions only); none read when there are more than asked
     */
    public record WakeUp(Optional<Session> session, Optional<Entry> handover, Health health, List<Contexts.Latest> alwaysCheck,
                         List<Contexts.Latest> important, List<Contexts.Latest> reference, List<Contexts.Latest> stale) {
    }

    private final PoolRegistry registry;
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Counted>> counts = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicReference<Thread> writer = new java.util.concurrent.atomic.AtomicReference<>();

    public Sessions(PoolRegistry registry) {
        this.registry = registry;
    }

    /**
     * Marks the session active (creating its row on first use) and returns the row. Its calls are counted by
     * {@link #countCall}, once per call, whatever the tool.
     */
    public Session touch(String schema, String sessionId) {
        return registry.inStatement(schema, tx -> touch(tx, sessionId));
    }

    private static Session touch(Tx tx, String sessionId) throws SQLException {
        // excluded.last_active: its default, now(), is evaluated with the row (Citus refuses functions in DO UPDATE SET)
        return tx.queryOne("INSERT INTO {s}.sessions (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET last_active = excluded.last_active "
                        + "RETURNING id, started_at, last_active, calls",
                r -> new Session(r.string(1), r.instant(2), r.instant(3), r.integer(4)), sessionId).orElseThrow();
    }

    /**
     * Counts one call of a tool in the session. The count is kept in memory and written by {@link #flush} (every
     * {@link #FLUSH_EVERY} from the writer thread, and before anything reads a project's sessions), so a call costs no
     * write of its own: the session's row is created, its calls and {@code tools_used} added, and {@code last_active}
     * set by that write.
     */
    public void countCall(String schema, String sessionId, String tool) {
        counts.computeIfAbsent(schema, s -> new ConcurrentHashMap<>()).compute(sessionId, (id, p) -> (p == null ? new Counted() : p).add(tool, 1));
    }

    /**
     * Writes the calls counted in a project and not yet written, one statement per session in one transaction. When
     * the write fails, the counts are kept for the next flush, except when the project is gone.
     */
    public void flush(String schema) {
        ConcurrentHashMap<String, Counted> bySession = counts.get(schema);
        if (bySession == null || bySession.isEmpty()) {
            return;
        }
        Map<String, Counted> taken = new java.util.HashMap<>();
        for (String id : List.copyOf(bySession.keySet())) {
            Counted c = bySession.remove(id);
            if (c != null) {
                taken.put(id, c);
            }
        }
        if (taken.isEmpty()) {
            return;
        }
        try {
            registry.inTransaction(schema, tx -> {
                for (Map.Entry<String, Counted> e : taken.entrySet()) {
                    // the row (created on the session's first call), locked; its counts added to here: plain statements
                    // that PostgreSQL and Citus both run (Citus refuses a subquery in an upsert)
                    tx.update("INSERT INTO {s}.sessions (id) VALUES (?) ON CONFLICT (id) DO NOTHING", e.getKey());
                    String before = tx.queryOne("SELECT tools_used::text FROM {s}.sessions WHERE id = ? FOR UPDATE", r -> r.string(1), e.getKey())
                            .orElse("{}");
                    tx.update("UPDATE {s}.sessions SET last_active = now(), calls = calls + ?, tools_used = ?::jsonb WHERE id = ?",
                            e.getValue().calls, e.getValue().plus(before), e.getKey());
                }
                return null;
            });
        } catch (cloud.dementia.db.pool.UnknownPoolException gone) {
            return;
        } catch (RuntimeException e) {
            if (e instanceof cloud.dementia.db.pool.DataAccessException d && ("3F000".equals(d.sqlState()) || "42P01".equals(d.sqlState()))) {
                return; // the project was deleted: its counts go with it
            }
            ConcurrentHashMap<String, Counted> back = counts.computeIfAbsent(schema, s -> new ConcurrentHashMap<>());
            taken.forEach((id, c) -> back.merge(id, c, Counted::plus));
            throw e;
        }
    }

    /** Writes every project's counted calls; a project whose write fails keeps its counts for the next time. */
    public void flushAll() {
        for (String schema : List.copyOf(counts.keySet())) {
            try {
                flush(schema);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "session counts of " + schema + " not written yet: " + e.getMessage());
            }
        }
    }

    /** Starts the writer thread that flushes the counted calls every {@link #FLUSH_EVERY}. */
    public void start() {
        Thread t = Thread.ofPlatform().daemon().name("dementia-session-counts").unstarted(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(FLUSH_EVERY);
                } catch (InterruptedException e) {
                    return;
                }
                flushAll();
            }
        });
        if (writer.compareAndSet(null, t)) {
            t.start();
        }
    }

    /** Stops the writer thread and writes what is left. */
    @Override
    public void close() {
        Thread t = writer.getAndSet(null);
        if (t != null) {
            t.interrupt();
            try {
                t.join(FLUSH_EVERY.toMillis() * 5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        flushAll();
    }

    /** A session's calls counted in memory and not yet written. */
    private static final class Counted {
        private int calls;
        private final Map<String, Integer> byTool = new java.util.TreeMap<>();

        Counted add(String tool, int n) {
            calls += n;
            byTool.merge(tool, n, Integer::sum);
            return this;
        }

        static Counted plus(Counted a, Counted b) {
            a.calls += b.calls;
            b.byTool.forEach((t, n) -> a.byTool.merge(t, n, Integer::sum));
            return a;
        }

        /** @return the counts stored before ({@code tools_used} as JSON) with these added, as JSON */
        String plus(String beforeJson) {
            try {
                Map<String, Integer> all = new java.util.TreeMap<>();
                JSON.readTree(beforeJson).fields().forEachRemaining(f -> all.put(f.getKey(), f.getValue().asInt()));
                byTool.forEach((t, n) -> all.merge(t, n, Integer::sum));
                return JSON.writeValueAsString(all);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** @return the session's calls by tool, by name; empty for a session with no counted call */
    public Map<String, Integer> toolsUsed(String schema, String sessionId) {
        flush(schema);
        return registry.inStatement(schema, tx -> {
            Map<String, Integer> used = new java.util.TreeMap<>();
            tx.query("SELECT u.key, u.value::integer FROM {s}.sessions, jsonb_each_text(tools_used) u WHERE id = ?", r -> {
                used.put(r.string(1), r.integer(2));
                return null;
            }, sessionId);
            return used;
        });
    }

    public List<Session> recent(String schema, int limit) {
        flush(schema);
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
        return registry.inStatement(schema, tx -> latest(tx, category));
    }

    private static Optional<Entry> latest(Tx tx, String category) throws SQLException {
        return tx.queryOne("SELECT id, category, content, metadata::text, session_id, created_at FROM {s}.memory_entries WHERE category = ? "
                + "ORDER BY created_at DESC, id DESC LIMIT 1", Sessions::entry, category);
    }

    /** @return entries of a category newer than {@code since}, newest first */
    public List<Entry> since(String schema, String category, Instant since, int limit) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT id, category, content, metadata::text, session_id, created_at FROM {s}.memory_entries WHERE category = ? "
                        + "AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?", Sessions::entry, category,
                java.sql.Timestamp.from(since), limit));
    }

    /** @return contexts (label and version) the session locked, oldest first */
    public List<String> lockedBy(String schema, String sessionId) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT label || ' v' || version FROM {s}.context_locks WHERE session_id = ? ORDER BY locked_at", r -> r.string(1), sessionId));
    }

    /** Counts and sizes in one transaction. */
    public Stats stats(String schema) {
        flush(schema);
        return registry.inReadOnlyTransaction(schema, Sessions::stats);
    }

    /**
     * Opens (or marks active) the session and reads what {@code wake_up} shows, in one transaction: the last
     * handover, the topics by priority and the stale count, the first {@code ruleMax} always_check rules and of each
     * other list its first {@code listMax} topics. Each read goes through an index on the latest versions or one pass
     * over them; the sizes and counts of every version are {@link #stats}'s.
     */
    public WakeUp wakeUp(String schema, String sessionId, int ruleMax, int listMax) {
        flush(schema);
        return registry.inTransaction(schema, tx -> read(tx, Optional.of(touch(tx, sessionId)), ruleMax, listMax));
    }

    /**
     * Reads what {@link #wakeUp} reads, in one read-only transaction, and records nothing: no session row is opened or
     * counted. For a caller that may change nothing.
     */
    public WakeUp look(String schema, int ruleMax, int listMax) {
        flush(schema);
        return registry.inReadOnlyTransaction(schema, tx -> read(tx, Optional.empty(), ruleMax, listMax));
    }

    private static WakeUp read(Tx tx, Optional<Session> session, int ruleMax, int listMax) throws SQLException {
        Optional<Entry> handover = latest(tx, "handover");
        Map<String, Integer> topics = new java.util.TreeMap<>(Map.of("always_check", 0, "important", 0, "reference", 0));
        int[] stale = {0};
        tx.query("SELECT l.priority, count(*), count(*) FILTER (WHERE " + Contexts.STALE_CONDITION + ") FROM {s}.context_locks l "
                + "WHERE l.is_latest GROUP BY l.priority", r -> {
                    topics.put(r.string(1), r.integer(2));
                    stale[0] += r.integer(3);
                    return null;
                });
        return new WakeUp(session, handover, new Health(topics, stale[0]), Contexts.latest(tx, "l.priority = 'always_check'", ruleMax),
                // a list longer than could ever be shown is shown as its count: it is not read
                names(tx, "l.priority = 'important'", topics.get("important"), listMax),
                names(tx, "l.priority = 'reference'", topics.get("reference"), listMax),
                names(tx, Contexts.STALE_CONDITION, stale[0], listMax));
    }

    private static List<Contexts.Latest> names(Tx tx, String condition, int count, int listMax) throws SQLException {
        return count == 0 || count > listMax ? List.of() : Contexts.latestNames(tx, condition, listMax);
    }

    private static Stats stats(Tx tx) throws SQLException {
        long[] n = tx.queryOne("SELECT count(*), count(*) FILTER (WHERE is_latest), count(DISTINCT label) FILTER (WHERE NOT is_latest), "
                + "count(*) FILTER (WHERE priority = 'always_check'), count(*) FILTER (WHERE priority = 'important'), "
                + "count(*) FILTER (WHERE priority = 'reference'), count(*) FILTER (WHERE is_latest AND priority = 'always_check'), "
                + "count(*) FILTER (WHERE is_latest AND priority = 'important'), count(*) FILTER (WHERE is_latest AND priority = 'reference'), "
                + "coalesce(sum(octet_length(content)), 0), count(*) FILTER (WHERE is_latest AND " + Contexts.STALE_CONDITION + "), "
                + "(SELECT count(*) FROM {s}.context_archives), (SELECT count(*) FROM {s}.sessions), (SELECT count(*) FROM {s}.memory_entries), "
                + "(SELECT count(*) FROM {s}.memory_entries WHERE category = 'handover') FROM {s}.context_locks l", r -> {
                    long[] v = new long[15];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = r.longValue(i + 1);
                    }
                    return v;
                }).orElseThrow();
        Map<String, Integer> byPriority = new java.util.TreeMap<>(Map.of("always_check", (int) n[3], "important", (int) n[4], "reference", (int) n[5]));
        Map<String, Integer> topics = new java.util.TreeMap<>(Map.of("always_check", (int) n[6], "important", (int) n[7], "reference", (int) n[8]));
        return new Stats((int) n[0], (int) n[1], (int) n[2], byPriority, topics, n[9], (int) n[11], (int) n[12], (int) n[13], (int) n[14],
                (int) n[10], Contexts.latest(tx, "l.access_count > 0", 5, "l.access_count DESC, l.label"),
                Contexts.latest(tx, "true", 5, "l.access_count, l.label"));
    }

    private static Entry entry(cloud.dementia.db.pool.Row r) {
        return new Entry(r.longValue(1), r.string(2), r.string(3), r.string(4), r.string(5), r.instant(6));
    }
}
