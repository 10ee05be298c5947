package cloud.dementia.db.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The pool meters, with the names operators already know: Micrometer's standard HikariCP meters tagged
 * {@code pool=<schema>}, the incident write-up's {@code db_pool_connections_*} tagged {@code schema=<schema>},
 * and the budget, leak and cleanup meters.
 * <p>
 * Meters belong to a schema, not to one HikariCP pool instance: a retired pool may still be finishing its last
 * checkouts while its successor starts, and both must not fight over one set of meters. Gauges therefore read
 * the registry's current pool for the schema, and the meters are removed when the schema has no pool left.
 */
final class PoolMeters implements MetricsTrackerFactory {

    private final MeterRegistry registry;
    private final PoolRegistry pools;
    private final Map<String, SchemaMeters> bySchema = new ConcurrentHashMap<>();
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
                .description("PostgreSQL backends open now, all pools together")
                .strongReference(true).register(registry);
        cleanupRuns = Counter.builder("db.idle.cleanup.runs").description("Idle-cleanup runs").register(registry);
        cleanupClosed = Counter.builder("db.idle.cleanup.closed").description("Idle connections closed by idle cleanup").register(registry);
        cleanupRetired = Counter.builder("db.idle.cleanup.retired.pools").description("Pools retired by idle cleanup").register(registry);
    }

    void recordCleanup(CleanupReport report) {
        cleanupRuns.increment();
        cleanupClosed.increment(report.connectionsClosed());
        cleanupRetired.increment(report.poolsRetired().size());
    }

    /** Registers the schema's meters if it has none. */
    void open(String schema) {
        bySchema.computeIfAbsent(schema, SchemaMeters::new);
    }

    /** Removes the schema's meters. */
    void remove(String schema) {
        SchemaMeters m = bySchema.remove(schema);
        if (m != null) {
            m.meters.forEach(registry::remove);
        }
    }

    @Override
    public IMetricsTracker create(String poolName, PoolStats poolStats) {
        SchemaMeters m = bySchema.computeIfAbsent(poolName, SchemaMeters::new);
        return new IMetricsTracker() {
            @Override
            public void recordConnectionCreatedMillis(long millis) {
                m.creation.record(millis, TimeUnit.MILLISECONDS);
            }

            @Override
            public void recordConnectionAcquiredNanos(long nanos) {
                if (!SchemaPool.MAINTENANCE.get()) {
                    m.acquire.record(nanos, TimeUnit.NANOSECONDS);
                }
            }

            @Override
            public void recordConnectionUsageMillis(long millis) {
                if (!SchemaPool.MAINTENANCE.get()) {
                    m.usage.record(millis, TimeUnit.MILLISECONDS);
                }
            }

            @Override
            public void recordConnectionTimeout() {
                if (!SchemaPool.MAINTENANCE.get()) {
                    m.timeouts.increment();
                }
            }
        };
    }

    private final class SchemaMeters {
        final List<Meter> meters = new ArrayList<>();
        final Timer acquire;
        final Timer usage;
        final Timer creation;
        final Counter timeouts;

        SchemaMeters(String schema) {
            hikariGauge(schema, "hikaricp.connections", "Total connections", s -> s.total());
            hikariGauge(schema, "hikaricp.connections.active", "Active connections", s -> s.active());
            hikariGauge(schema, "hikaricp.connections.idle", "Idle connections", s -> s.idle());
            hikariGauge(schema, "hikaricp.connections.pending", "Pending threads", s -> s.waiting());
            hikariGauge(schema, "hikaricp.connections.max", "Max connections", s -> s.max());
            hikariGauge(schema, "hikaricp.connections.min", "Min connections", s -> s.minIdle());
            acquire = add(Timer.builder("hikaricp.connections.acquire").description("Connection acquire time")
                    .tag("pool", schema).register(registry));
            usage = add(Timer.builder("hikaricp.connections.usage").description("Connection usage time")
                    .tag("pool", schema).register(registry));
            creation = add(Timer.builder("hikaricp.connections.creation").description("Connection creation time")
                    .tag("pool", schema).register(registry));
            timeouts = add(Counter.builder("hikaricp.connections.timeout").description("Connection timeout total count")
                    .tag("pool", schema).register(registry));
            schemaGauge(schema, "db.pool.connections.used", "Connections checked out now", s -> s.active());
            schemaGauge(schema, "db.pool.connections.available", "Connections that could still be checked out (max - used)",
                    s -> Math.max(0, s.max() - s.active()));
            schemaGauge(schema, "db.pool.leaks.suspected", "Checkouts held longer than DB_LEAK_THRESHOLD_MS now",
                    s -> s.suspectedLeaks());
        }

        private void hikariGauge(String schema, String name, String help, ToDoubleFunction<cloud.dementia.db.pool.PoolStats> f) {
            add(Gauge.builder(name, pools, p -> p.currentStats(schema).map(f::applyAsDouble).orElse(0.0))
                    .description(help).tag("pool", schema).strongReference(true).register(registry));
        }

        private void schemaGauge(String schema, String name, String help, ToDoubleFunction<cloud.dementia.db.pool.PoolStats> f) {
            add(Gauge.builder(name, pools, p -> p.currentStats(schema).map(f::applyAsDouble).orElse(0.0))
                    .description(help).tag("schema", schema).strongReference(true).register(registry));
        }

        private <M extends Meter> M add(M meter) {
            meters.add(meter);
            return meter;
        }
    }
}
