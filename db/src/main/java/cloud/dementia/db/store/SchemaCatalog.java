package cloud.dementia.db.store;

import java.util.List;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Tx;

/** What {@code inspect_database} shows of a project's schema: its tables with row counts, and their columns. */
public final class SchemaCatalog {

    /** A table and how many rows it holds. */
    public record Table(String name, long rows) {
    }

    /** A column of a table. */
    public record Column(String table, String name, String type, boolean nullable) {
    }

    private final PoolRegistry registry;

    /** The service's own tables, not the project's data: migrations, and the rows lock_context locks a topic with. */
    private static final String INTERNAL = "('flyway_schema_history', 'topic_version_locks')";

    public SchemaCatalog(PoolRegistry registry) {
        this.registry = registry;
    }

    public List<Table> tables(String schema) {
        return registry.inReadOnlyTransaction(schema, tx -> {
            List<String> names = tx.query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' "
                    + "AND table_name NOT IN " + INTERNAL + " ORDER BY table_name", r -> r.string(1), schema);
            List<Table> tables = new java.util.ArrayList<>();
            for (String name : names) {
                long rows = tx.queryOne("SELECT count(*) FROM {s}." + Tx.identifier(name), r -> r.longValue(1)).orElse(0L);
                tables.add(new Table(name, rows));
            }
            return tables;
        });
    }

    public List<Column> columns(String schema) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
                        + "WHERE table_schema = ? AND table_name NOT IN " + INTERNAL + " ORDER BY table_name, ordinal_position",
                r -> new Column(r.string(1), r.string(2), r.string(3), r.bool(4)), schema));
    }

    /** Archived contexts, newest first. */
    public List<String[]> archives(String schema, int limit) {
        return registry.inStatement(schema, tx -> tx.query(
                "SELECT label, version, priority, reason, archived_at::text FROM {s}.context_archives ORDER BY archived_at DESC LIMIT ?",
                r -> new String[] {r.string(1), r.string(2), r.string(3), r.string(4), r.string(5)}, limit));
    }

}
