package cloud.dementia.db.store;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import cloud.dementia.db.pool.PoolRegistry;

/**
 * A project's data as JSON Lines, out and in: a header line, then its sessions, every version of every context, the
 * archives and the memory entries (handovers, progress notes), one JSON object per line with a {@code kind}. Import
 * is one transaction (all or nothing) and idempotent: what is there already (a session id, a context's topic and
 * version, an identical archive or entry) is skipped, so importing twice adds nothing. Derived columns (the search
 * vector) are computed again; embeddings are filled in by the first search that meets them.
 */
public final class ProjectTransfer {

    /** The format this writes and reads. */
    public static final int FORMAT = 1;

    /** What an import did, by kind: added and skipped. */
    public record Imported(Map<String, Integer> added, Map<String, Integer> skipped) {
    }

    private static final String[][] EXPORTS = {
            {"session", "SELECT (jsonb_build_object('kind', 'session') || to_jsonb(t))::text FROM {s}.sessions t ORDER BY started_at, id"},
            {"context", "SELECT (jsonb_build_object('kind', 'context') || (to_jsonb(t) - 'id' - 'search' - 'embedding' - 'topic' - 'is_latest' - 'embedded_gen'))::text "
                    + "FROM {s}.context_locks t ORDER BY label, minor"},
            {"archive", "SELECT (jsonb_build_object('kind', 'archive') || (to_jsonb(t) - 'id' - 'topic'))::text FROM {s}.context_archives t "
                    + "ORDER BY archived_at, label, version"},
            {"entry", "SELECT (jsonb_build_object('kind', 'entry') || (to_jsonb(t) - 'id'))::text FROM {s}.memory_entries t ORDER BY created_at, id"}};

    private static final Map<String, String> IMPORTS = Map.of(
            "session", "INSERT INTO {s}.sessions (id, started_at, last_active, calls) "
                    + "SELECT r.id, coalesce(r.started_at, now()), coalesce(r.last_active, now()), coalesce(r.calls, 0) "
                    + "FROM jsonb_populate_record(null::{s}.sessions, ?::jsonb) r ON CONFLICT (id) DO NOTHING",
            "context", "INSERT INTO {s}.context_locks (label, version, minor, content, content_hash, preview, key_concepts, tags, priority, "
                    + "session_id, locked_at, last_accessed, access_count, search) "
                    + "SELECT r.label, r.version, r.minor, r.content, r.content_hash, r.preview, coalesce(r.key_concepts, '{}'), "
                    + "coalesce(r.tags, '{}'), r.priority, r.session_id, coalesce(r.locked_at, now()), r.last_accessed, coalesce(r.access_count, 0), "
                    + "setweight(to_tsvector('english', replace(r.label, '_', ' ')), 'A') || setweight(to_tsvector('english', "
                    + "array_to_string(coalesce(r.key_concepts, '{}'), ' ') || ' ' || array_to_string(coalesce(r.tags, '{}'), ' ')), 'B') "
                    + "|| setweight(to_tsvector('english', r.content), 'C') "
                    + "FROM jsonb_populate_record(null::{s}.context_locks, ?::jsonb) r "
                    + "ON CONFLICT ON CONSTRAINT context_locks_label_version DO NOTHING",
            "archive", "INSERT INTO {s}.context_archives (original_id, label, version, content, content_hash, preview, key_concepts, tags, "
                    + "priority, locked_at, access_count, archived_at, reason) "
                    + "SELECT r.original_id, r.label, r.version, r.content, r.content_hash, r.preview, coalesce(r.key_concepts, '{}'), "
                    + "coalesce(r.tags, '{}'), r.priority, r.locked_at, coalesce(r.access_count, 0), coalesce(r.archived_at, now()), r.reason "
                    + "FROM jsonb_populate_record(null::{s}.context_archives, ?::jsonb) r WHERE NOT EXISTS (SELECT 1 FROM {s}.context_archives a "
                    + "WHERE a.label = r.label AND a.version = r.version AND a.archived_at = r.archived_at AND a.content_hash = r.content_hash)",
            "entry", "INSERT INTO {s}.memory_entries (category, content, metadata, session_id, created_at) "
                    + "SELECT r.category, r.content, coalesce(r.metadata, '{}'), r.session_id, coalesce(r.created_at, now()) "
                    + "FROM jsonb_populate_record(null::{s}.memory_entries, ?::jsonb) r WHERE NOT EXISTS (SELECT 1 FROM {s}.memory_entries e "
                    + "WHERE e.category = r.category AND e.created_at = r.created_at AND e.content = r.content)");

    private final PoolRegistry registry;
    private final java.util.function.Consumer<String> imported;

    public ProjectTransfer(PoolRegistry registry) {
        this(registry, schema -> { });
    }

    /** @param imported told the schema after an import committed (its versions have no vector yet) */
    public ProjectTransfer(PoolRegistry registry, java.util.function.Consumer<String> imported) {
        this.registry = registry;
        this.imported = imported;
    }

    /**
     * Writes the project's lines, in one read-only transaction (a consistent picture), header first.
     *
     * @param project the project's name, for the header
     */
    public void export(String schema, String project, Consumer<String> lines) {
        registry.inReadOnlyTransaction(schema, tx -> {
            lines.accept(tx.queryOne("SELECT jsonb_build_object('kind', 'dementia-project', 'format', ?::int, 'project', ?::text, "
                    + "'exported_at', now())::text", r -> r.string(1), FORMAT, project).orElseThrow());
            for (String[] export : EXPORTS) {
                tx.query(export[1], r -> r.string(1)).forEach(lines);
            }
            return null;
        });
    }

    /**
     * Reads lines into the project, in one transaction.
     *
     * @throws StoreRuleException naming the line when one is not a known object of this format (nothing is stored)
     */
    public Imported importLines(String schema, Iterator<String> lines) {
        Imported done = registry.inTransaction(schema, tx -> {
            // an import adds versions out of order: it is the project's only writer until it has settled the latest ones
            Contexts.ownProject(tx);
            java.util.Set<String> labels = new java.util.HashSet<>();
            Map<String, Integer> added = new LinkedHashMap<>();
            Map<String, Integer> skipped = new LinkedHashMap<>();
            for (String kind : new String[] {"session", "context", "archive", "entry"}) {
                added.put(kind, 0);
                skipped.put(kind, 0);
            }
            int number = 0;
            while (lines.hasNext()) {
                String line = lines.next();
                number++;
                if (line.isBlank()) {
                    continue;
                }
                int lineNumber = number;
                String kind;
                try {
                    kind = tx.queryOne("SELECT ?::jsonb ->> 'kind'", r -> r.string(1), line).orElse(null);
                } catch (java.sql.SQLException e) {
                    throw new StoreRuleException("line " + lineNumber + " is not a JSON object: " + e.getMessage());
                }
                if ("dementia-project".equals(kind)) {
                    int format = tx.queryOne("SELECT (?::jsonb ->> 'format')::int", r -> r.integer(1), line).orElse(0);
                    if (format != FORMAT) {
                        throw new StoreRuleException("line " + lineNumber + ": format " + format + " is not one this server reads (" + FORMAT + ")");
                    }
                    continue;
                }
                String sql = kind == null ? null : IMPORTS.get(kind);
                if (sql == null) {
                    throw new StoreRuleException("line " + lineNumber + ": unknown kind `" + kind + "` (session, context, archive, entry)");
                }
                long n;
                try {
                    n = tx.update(sql, line);
                } catch (java.sql.SQLException e) {
                    throw new StoreRuleException("line " + lineNumber + " (" + kind + ") cannot be stored: " + e.getMessage()
                            + " (nothing was imported)");
                }
                (n > 0 ? added : skipped).merge(kind, 1, Integer::sum);
                if (n > 0 && "context".equals(kind)) {
                    labels.add(tx.queryOne("SELECT ?::jsonb ->> 'label'", r -> r.string(1), line).orElseThrow());
                }
            }
            Contexts.settleLatest(tx, labels);
            return new Imported(added, skipped);
        });
        // the planner's statistics as they are now, not as they were before thousands of rows came in
        registry.inStatement(schema, tx -> tx.update("ANALYZE {s}.context_locks"));
        imported.accept(schema);
        return done;
    }
}
