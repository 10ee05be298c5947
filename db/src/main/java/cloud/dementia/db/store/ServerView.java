package cloud.dementia.db.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import cloud.dementia.db.pool.PhysicalStats;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolStats;
import cloud.dementia.db.schema.ControlSchema;

/**
 * What PostgreSQL sees of our connections, from {@code pg_stat_activity}. Backends are not tagged by schema (they all
 * carry the one application name and serve every schema), so they are found by the process ids the physical pool
 * recorded when it opened them: all of them for the physical pool, those a schema's work holds right now for a schema.
 * The query runs on the control schema, so a saturated project pool can still be looked at.
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
     * @param schema the schema pool's schema
     * @return the backends the schema's work holds now, as the server lists them; empty when the schema has no pool
     */
    public Optional<BackendActivity> of(String schema) {
        if (registry.currentStats(schema).isEmpty()) {
            return Optional.empty();
        }
        return registry.inStatement(ControlSchema.NAME, tx -> {
            // both views inside the unit: when the schema is the control schema, this very checkout counts in both
            Optional<PoolStats> pool = registry.currentStats(schema);
            if (pool.isEmpty()) {
                return Optional.<BackendActivity>empty();
            }
            List<Integer> pids = registry.checkoutPids(schema);
            java.util.Map<Integer, String> heldBy = new java.util.TreeMap<>();
            pids.forEach(pid -> heldBy.put(pid, schema));
            return Optional.of(read(tx, schema, pool.get().active(), pids, heldBy));
        });
    }

    /** @return every backend the physical pool holds, as the server lists them */
    public BackendActivity physical() {
        return registry.inStatement(ControlSchema.NAME, tx -> {
            // the holders are read inside this unit, so this very checkout (the control schema's) is among them
            PhysicalStats p = registry.physical();
            return read(tx, p.name(), p.active(), registry.backendPids(), registry.holders());
        });
    }

    private static BackendActivity read(cloud.dementia.db.pool.Tx tx, String pool, int checkedOut, List<Integer> pids,
                                        java.util.Map<Integer, String> heldBy) throws java.sql.SQLException {
        String array = pids.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}"));
        Instant[] at = new Instant[1];
        List<ServerBackend> backends = tx.query(SQL, row -> {
            at[0] = row.instant(1);
            return row.object(2) == null ? null : new ServerBackend(row.integer(2), row.string(3), row.instant(4), row.instant(5),
                    row.instant(6), row.string(7), row.string(8));
        }, array).stream().filter(b -> b != null).toList();
        return new BackendActivity(at[0], pool, checkedOut, pids, backends, heldBy);
    }
}
