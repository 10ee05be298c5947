package cloud.dementia.server.observe;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a Prometheus scrape of a real server finds: the application tag, HTTP request meters, latency histograms. */
class MetricsTest {

    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(Map.of("DEMENTIA_METRICS_APPLICATION", "dementia-blue", "DEMENTIA_EMBEDDINGS", "off"), MemoryTools::create);
        assertEquals(200, server.post("/execute", "{\"tool\":\"create_project\",\"arguments\":{\"name\":\"metrics\"}}").statusCode());
        assertEquals(200, server.post("/execute", "{\"tool\":\"recall_context\",\"arguments\":{\"topic\":\"none\",\"project\":\"metrics\"}}")
                .statusCode());
        assertEquals(401, server.send(server.bare("/tools").GET()).statusCode());
        assertEquals(404, server.get("/no/such/path-8f3a1c").statusCode());
        assertEquals(200, server.get("/observe/health/ready").statusCode());
        assertEquals(200, server.get("/metrics").statusCode());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Scrape scrape() throws Exception {
        HttpResponse<String> res = server.get("/metrics");
        assertEquals(200, res.statusCode(), res.body());
        return Scrape.parse(res.body());
    }

    @Test
    void everyMeterCarriesTheConfiguredApplicationTag() throws Exception {
        List<Scrape.Sample> untagged = scrape().samples().stream()
                .filter(s -> !"dementia-blue".equals(s.labels().get("application"))).toList();
        assertEquals(List.of(), untagged);
    }

    @Test
    void httpRequestsAreCountedByMethodRouteAndStatus() throws Exception {
        Scrape scrape = scrape();
        assertThat(scrape.find("http_server_requests_seconds_count", Map.of("method", "POST", "uri", "/execute", "status", "200")),
                not(empty()));
        assertThat("a refusal is counted", scrape.find("http_server_requests_seconds_count",
                Map.of("method", "GET", "uri", "/tools", "status", "401")), not(empty()));
        assertThat("an unknown path is `other`", scrape.find("http_server_requests_seconds_count",
                Map.of("method", "GET", "uri", "other", "status", "404")), not(empty()));
        assertFalse(scrape.samples().stream().anyMatch(s -> s.labels().containsValue("/no/such/path-8f3a1c")),
                "a raw path is never a label value");
        assertThat("a route a service is registered under is its own label", scrape.find("http_server_requests_seconds_count",
                Map.of("method", "GET", "uri", "/metrics", "status", "200")), not(empty()));
        assertThat("the health observer's routes too", scrape.find("http_server_requests_seconds_count",
                Map.of("method", "GET", "uri", "/observe/health", "status", "200")), not(empty()));
        assertThat("the request timer is a histogram", scrape.find("http_server_requests_seconds_bucket",
                Map.of("uri", "/execute", "le", "+Inf")), not(empty()));
    }

    @Test
    void observeMetricsAndItsAliasServeTheSameMetersThroughHelidonsObserver() throws Exception {
        // each route once before the comparison, so both scrapes find the request timers of both routes
        server.get("/observe/metrics");
        server.get("/metrics");
        HttpResponse<String> observe = server.get("/observe/metrics");
        HttpResponse<String> alias = server.get("/metrics");
        assertEquals(200, observe.statusCode(), observe.body());
        assertEquals(200, alias.statusCode(), alias.body());
        assertEquals(observe.headers().firstValue("Content-Type"), alias.headers().firstValue("Content-Type"));
        assertThat(alias.headers().firstValue("Content-Type").orElse(""), startsWith("text/plain"));
        assertEquals(series(observe.body()), series(alias.body()));
        assertThat("the observer's own request counter, with the application tag", Scrape.parse(alias.body())
                .find("requests_count_total", Map.of("application", "dementia-blue")), not(empty()));
        for (String path : List.of("/observe/metrics", "/metrics")) {
            HttpResponse<String> json = server.send(server.request(path).header("Accept", "application/json").GET());
            assertEquals(200, json.statusCode(), path + " answers JSON as Helidon's observer does");
            assertThat(path, json.headers().firstValue("Content-Type").orElse(""), startsWith("application/json"));
            assertThat(path, json.body(), containsString("db.pool.budget.connections"));
        }
    }

    /** @return every series a scrape exports, its name and labels, but the JVM's collector meters, which come and go with collections */
    private static Set<String> series(String scrape) {
        Set<String> series = new TreeSet<>();
        Scrape.parse(scrape).samples().stream().filter(s -> !s.name().startsWith("jvm_gc"))
                .forEach(s -> series.add(s.name() + new java.util.TreeMap<>(s.labels())));
        return series;
    }

    @Test
    void toolLatencyIsAHistogramWithBucketsFromOneMillisecondToThirtySeconds() throws Exception {
        List<Scrape.Sample> buckets = scrape().find("dementia_tool_latency_seconds_bucket", Map.of("tool", "create_project"));
        List<String> bounds = buckets.stream().map(s -> s.labels().get("le")).toList();
        assertEquals(List.of("0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
                "30.0", "+Inf"), bounds);
        Scrape.Sample all = buckets.getLast();
        assertEquals(1.0, all.value(), "the one create_project call is in the +Inf bucket");
        assertTrue(buckets.stream().allMatch(b -> b.value() <= all.value()), "buckets are cumulative");
    }
}
