package cloud.dementia.db.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The registry's own meters: per schema pool the incident write-up's {@code db_pool_connections_*}, the leak and
 * wait numbers and PgBouncer's {@code SHOW STATS} counters, tagged {@code schema=<schema>}; the budget; idle cleanup. The physical pool's standard
 * {@code hikaricp_*} meters (tagged {@code pool=physical}) come from HikariCP's own Micrometer tracker.
 * <p>
 * Gauges read the registry's current pool for the schema, so a pool forgotten and created again keeps one set of
 * meters; they are removed when the pool is forgotten or retired.
 */
final class PoolMeters {

    private final MeterRegistry registry;
    private final PoolRegistry pools;
    private final Map<String, List<Meter>> bySchema = new ConcurrentHashMap<>();
    private final Counter cleanupRuns;
    private final Counter cleanupClosed;
    private final Counter cleanupRetired;

    PoolMeters(MeterRegistry registry, PoolRegistry pools) {
        this.registry = registry;
        this.pools = pools;
        Gauge.builder("db.pool.budget.connections", pools, p -> p.budget().budget())
                .description("Most PostgreSQL backends the process may hold (DB_POOL_BUDGET)")
                .strongReference(true).register(registry);
        Gauge.builder("db.pool.budget.allocated", pools, p -> p.budget().allocated())
                .description("PostgreSQL backends open now (shared by every schema)")
                .strongReference(true).register(registry);
        Gauge.builder("db.pool.budget.in.use", pools, p -> p.budget().inUse())
                .description("Connections checked out now, every schema together")
                .strongReference(true).register(registry);
        Gauge.builder("db.pool.budget.waiting", pools, p -> p.budget().waiting())
                .description("Callers waiting for a connection now, every schema together")
                .strongReference(true).register(registry);
        cleanupRuns = Counter.builder("db.idle.cleanup.runs").description("Idle-cleanup runs").register(registry);
        cleanupClosed = Counter.builder("db.idle.cleanup.closed").description("Idle connections closed by idle cleanup").register(registry);
        cleanupRetired = Counter.builder("db.idle.cleanup.retired.pools").description("Schema pools forgotten by idle cleanup")
                .register(registry);
    }

    void recordCleanup(CleanupReport report) {
        cleanupRuns.increment();
        cleanupClosed.increment(report.connectionsClosed());
        cleanupRetired.increment(report.poolsRetired().size());
    }

    /** Registers the schema's meters if it has none. */
    void open(String schema) {
        bySchema.computeIfAbsent(schema, s -> {
            List<Meter> m = new ArrayList<>();
            m.add(gauge(s, "db.pool.connections.used", "Connections the schema holds now", PoolStats::active));
            m.add(gauge(s, "db.pool.connections.available", "Connections the schema could still take (max - used)",
                    p -> Math.max(0, p.max() - p.active())));
            m.add(gauge(s, "db.pool.connections.max", "Most connections the schema may hold at once", PoolStats::max));
            m.add(gauge(s, "db.pool.connections.waiting", "Callers waiting for a connection for the schema now", PoolStats::waiting));
            m.add(gauge(s, "db.pool.leaks.suspected", "Checkouts held longer than DB_LEAK_THRESHOLD_MS now", PoolStats::suspectedLeaks));
            m.add(gauge(s, "db.pool.wait.oldest.seconds", "How long the caller first in line has waited (PgBouncer's maxwait)",
                    p -> p.longestWaitMs() / 1000.0));
            m.add(counter(s, "db.pool.acquire.timeouts", "Callers that got no connection within DB_POOL_ACQUIRE_TIMEOUT_MS",
                    PoolStats::acquireTimeouts));
            m.add(counter(s, "db.pool.transactions", "Units of work that ran on a connection, however they ended",
                    p -> p.totals().transactions()));
            m.add(counter(s, "db.pool.statements", "Statements the units of work sent", p -> p.totals().statements()));
            m.add(counter(s, "db.pool.errors", "Units of work that ended with an error (rolled back)", p -> p.totals().errors()));
            m.add(counter(s, "db.pool.wait.seconds", "Time callers spent waiting for a connection, timeouts included",
                    p -> p.totals().waitMs() / 1000.0));
            return m;
        });
    }

    /** Removes the schema's meters. */
    void remove(String schema) {
        List<Meter> m = bySchema.remove(schema);
        if (m != null) {
            m.forEach(registry::remove);
        }
    }

    private Meter counter(String schema, String name, String help, ToDoubleFunction<PoolStats> f) {
        return FunctionCounter.builder(name, pools, p -> p.currentStats(schema).map(f::applyAsDouble).orElse(0.0))
                .description(help).tag("schema", schema).register(registry);
    }

    private Meter gauge(String schema, String name, String help, ToDoubleFunction<PoolStats> f) {
        return Gauge.builder(name, pools, p -> p.currentStats(schema).map(f::applyAsDouble).orElse(0.0))
                .description(help).tag("schema", schema).strongReference(true).register(registry);
    }
}
