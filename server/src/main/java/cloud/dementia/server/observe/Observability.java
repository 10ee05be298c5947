package cloud.dementia.server.observe;

import java.time.Duration;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import cloud.dementia.db.search.CachedVectorIndex;
import cloud.dementia.db.store.Memory;

/**
 * The Prometheus registry every meter of the service lives in (pools, tools, HTTP, JVM), and the route that serves its
 * text at {@code /metrics} and {@code /observe/metrics}. Every meter carries the {@code application} tag, as the
 * common HikariCP and JVM dashboards filter on it.
 */
public final class Observability implements HttpService, AutoCloseable {

    /**
     * Bucket bounds of every latency histogram: 1 ms (a cached read) to 30 s (the default statement timeout). Fixed
     * bounds, the same on every replica, are what lets {@code histogram_quantile} sum the buckets across replicas.
     */
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();

    /** @param application the {@code application} tag ({@code DEMENTIA_METRICS_APPLICATION}) */
    public Observability(String application) {
        // before any meter is registered: a common tag applies only to meters registered after it
        registry.config().commonTags("application", application);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Publishes the memory store's meters: the background embedder's backlog (0 without a model: nothing waits) and
     * the bytes the vector cache holds.
     */
    public void watch(Memory memory) {
        Gauge.builder("dementia_embedding_backlog", memory, m -> m.backlog().total())
                .description("Context versions waiting for their vector (search ranks them by words and trigrams meanwhile)")
                .register(registry);
        Gauge.builder("dementia_vector_cache_bytes", memory, m -> m.vectors().map(CachedVectorIndex::bytes).orElse(0L))
                .description("Bytes of vectors cached for search by meaning (bounded by DEMENTIA_VECTOR_CACHE_MB)")
                .baseUnit("bytes").register(registry);
    }

    /** @return a timer published as a Prometheus histogram with the service's latency buckets */
    public static Timer.Builder latencyTimer(String name) {
        return Timer.builder(name).serviceLevelObjectives(LATENCY_BUCKETS);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::scrape);
    }

    private void scrape(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(registry.scrape());
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
