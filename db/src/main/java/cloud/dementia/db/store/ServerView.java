package cloud.dementia.db.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.schema.ControlSchema;

/**
 * What PostgreSQL sees of a schema's pool, from {@code pg_stat_activity}. Backends are not tagged by schema (they all
 * carry the one application name), so the pool's backends are found by the process ids the pool recorded when it
 * opened them. The query runs on the control schema's pool, so a saturated project pool can still be looked at.
 */
public final class ServerView {

    private static final String SQL = """
            SELECT clock_timestamp(), a.pid, coalesce(a.state, 'unknown'), a.backend_start, a.xact_start, a.state_change,
                   a.wait_event_type || ':' || a.wait_event, left(a.query, 200)
            FROM (SELECT 1) AS one
            LEFT JOIN pg_stat_activity a ON a.pid = ANY (?::int[])
            ORDER BY a.pid""";

    private final PoolRegistry registry;

    public ServerView(PoolRegistry registry) {
        this.registry = registry;
    }

    /**
     * @param schema the pool's schema
     * @return the pool and its backends as the server lists them, or empty when the schema has no pool
     */
    public Optional<BackendActivity> of(String schema) {
        if (registry.currentStats(schema).isEmpty()) {
            return Optional.empty();
        }
        return registry.inReadOnlyTransaction(ControlSchema.NAME, tx -> {
            // both views inside the transaction: when the schema is the control schema, this very checkout counts in both
            Optional<PoolStats> pool = registry.currentStats(schema);
            if (pool.isEmpty()) {
                return Optional.<BackendActivity>empty();
            }
            List<Integer> pids = registry.backendPids(schema);
            String array = pids.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}"));
            Instant[] at = new Instant[1];
            List<ServerBackend> backends = tx.query(SQL, row -> {
                at[0] = instant(row, 1);
                return row.getObject(2) == null ? null : new ServerBackend(row.getInt(2), row.getString(3), instant(row, 4),
                        instant(row, 5), instant(row, 6), row.getString(7), row.getString(8));
            }, array).stream().filter(b -> b != null).toList();
            return Optional.of(new BackendActivity(at[0], pool.get(), pids, backends));
        });
    }

    private static Instant instant(ResultSet row, int column) throws SQLException {
        OffsetDateTime t = row.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
