package cloud.dementia.server.observe;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.http.HeaderNames;
import io.helidon.metrics.api.MetricsConfig;
import io.helidon.metrics.api.MetricsFactory;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.observe.metrics.MetricsObserver;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

import cloud.dementia.db.search.CachedVectorIndex;
import cloud.dementia.db.store.Memory;

/**
 * Helidon Metrics with Micrometer underneath: every meter of the service (pools, tools, HTTP, JVM) is registered on the
 * Micrometer registry of Helidon's Micrometer provider, and Helidon's metrics observer serves it as Prometheus text at
 * {@code /observe/metrics}, {@code /metrics} being its alias. Every meter carries the {@code application} tag, as the
 * common HikariCP and JVM dashboards filter on it: it is one of Helidon's global tags, which the provider adds to every
 * meter registered after them.
 *
 * <p>Helidon's provider keeps one registry per process (Micrometer's global composite, the global tags in one
 * {@code SystemTagsManager}). One server runs per process; servers started side by side in one JVM, as tests do, share
 * the registry and the tags of the last one started, and the last one to stop clears it, so the next one starts from no
 * meters at all.
 */
public final class Observability implements AutoCloseable {

    /** The route kept beside {@code /observe/metrics}: Prometheus configurations and dashboards written for it. */
    public static final String ALIAS = "/metrics";
    /** Where Helidon's observer serves the meters: the observe feature's {@code /observe} and the observer's own endpoint. */
    public static final String ENDPOINT = "/observe/metrics";

    /** Prometheus text as its format names itself, and as this service always declared it. */
    static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * Bucket bounds of every latency histogram: 1 ms (a cached read) to 30 s (the default statement timeout). Fixed
     * bounds, the same on every replica, are what lets {@code histogram_quantile} sum the buckets across replicas.
     */
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30)};

    /** Guards {@link #users}: the servers of this process that share Helidon's registry. */
    private static final ReentrantLock PROCESS = new ReentrantLock();
    private static int users;

    private final MeterRegistry registry;
    private final MetricsObserver observer;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private boolean closed;

    /** @param application the {@code application} tag ({@code DEMENTIA_METRICS_APPLICATION}, letters, digits, {@code _.:-}) */
    public Observability(String application) {
        // the application tag as a global tag: the provider's application-name tag is always named `app` in Helidon SE
        Config metrics = Config.just(ConfigSources.create(Map.of("tags", "application=" + application)));
        PROCESS.lock();
        try {
            // a factory made from this configuration, the tags included: Services.get(MetricsFactory.class) would read
            // the process's global Config, while ours comes from the environment (Settings)
            @SuppressWarnings("removal")
            MetricsFactory factory = MetricsFactory.getInstance(metrics);
            MetricsConfig config = factory.metricsConfig();
            io.helidon.metrics.api.MeterRegistry helidon = factory.globalRegistry(config);
            registry = helidon.unwrap(MeterRegistry.class);
            observer = MetricsObserver.builder().metricsConfig(config).meterRegistry(helidon).build();
            users++;
        } finally {
            PROCESS.unlock();
        }
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** @return the Micrometer registry under Helidon's, where the pools, tools and HTTP meters register */
    public MeterRegistry registry() {
        return registry;
    }

    /** @return Helidon's metrics observer, for the observe feature beside the health observer */
    public MetricsObserver observer() {
        return observer;
    }

    /** Answers {@link #ALIAS} as {@link #ENDPOINT}: the observer's own answer, filters (key, request timer) run once. */
    public static void alias(ServerRequest req, ServerResponse res) {
        res.reroute(ENDPOINT);
    }

    /**
     * A filter: the observer's Prometheus text goes out declared as {@link #TEXT_FORMAT}. Helidon's observer names it
     * by its media type alone ({@code text/plain}), which leaves the format's version and the charset to a guess.
     */
    public static void declareTextFormat(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (under(path, ALIAS) || under(path, ENDPOINT)) {
            res.beforeSend(() -> {
                if (res.status().code() == 200 && res.headers().first(HeaderNames.CONTENT_TYPE).filter("text/plain"::equals).isPresent()) {
                    res.header(HeaderNames.CONTENT_TYPE, TEXT_FORMAT);
                }
            });
        }
        chain.proceed();
    }

    private static boolean under(String path, String route) {
        return path.equals(route) || path.startsWith(route + "/");
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

    /** Stops the GC listener; the last server of the process to close clears Helidon's registry. */
    @Override
    public void close() {
        gc.close();
        PROCESS.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (--users == 0) {
                // every meter and Helidon's registries over them, then the Prometheus registries the provider added to
                // Micrometer's global composite: the next server's factory adds its own
                MetricsFactory.closeAll();
                for (MeterRegistry child : List.copyOf(Metrics.globalRegistry.getRegistries())) {
                    Metrics.globalRegistry.remove(child);
                    child.close();
                }
            }
        } finally {
            PROCESS.unlock();
        }
    }
}
