package cloud.dementia.server.observe;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.memory.MemoryTools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.not;
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
