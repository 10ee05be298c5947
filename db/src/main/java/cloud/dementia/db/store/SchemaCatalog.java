package cloud.dementia.db.store;

import java.util.List;

import cloud.dementia.db.pool.PoolRegistry;

/** What {@code inspect_database} shows of a project's schema: its tables with row counts, and their columns. */
public final class SchemaCatalog {

    /** A table and how many rows it holds. */
    public record Table(String name, long rows) {
    }

    /** A column of a table. */
    public record Column(String table, String name, String type, boolean nullable) {
    }

    private final PoolRegistry registry;

    public SchemaCatalog(PoolRegistry registry) {
        this.registry = registry;
    }

    public List<Table> tables(String schema) {
        return registry.inReadOnlyTransaction(schema, tx -> {
            List<String> names = tx.query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' "
                    + "AND table_name <> 'flyway_schema_history' ORDER BY table_name", r -> r.getString(1), schema);
            List<Table> tables = new java.util.ArrayList<>();
            for (String name : names) {
                long rows = tx.queryOne("SELECT count(*) FROM " + quote(schema) + "." + quote(name), r -> r.getLong(1)).orElse(0L);
                tables.add(new Table(name, rows));
            }
            return tables;
        });
    }

    public List<Column> columns(String schema) {
        return registry.inReadOnlyTransaction(schema, tx -> tx.query(
                "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
                        + "WHERE table_schema = ? AND table_name <> 'flyway_schema_history' ORDER BY table_name, ordinal_position",
                r -> new Column(r.getString(1), r.getString(2), r.getString(3), r.getBoolean(4)), schema));
    }

    /** Archived contexts, newest first. */
    public List<String[]> archives(String schema, int limit) {
        return registry.inReadOnlyTransaction(schema, tx -> tx.query(
                "SELECT label, version, priority, reason, archived_at::text FROM context_archives ORDER BY archived_at DESC LIMIT ?",
                r -> new String[] {r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5)}, limit));
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
