package cloud.dementia.server.faults;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import cloud.dementia.server.TestServer;
import cloud.dementia.server.tools.Json;

/**
 * Concurrent writers that keep calling {@code lock_context} through {@code /execute}, each with topics of its own,
 * and write down every answer: when it was asked, how long it took, its status and {@code Retry-After}, and which
 * writes were acknowledged (so a test can look for every one of them afterwards).
 */
public final class Load implements AutoCloseable {

    /** One call: start and end in ms since the load began, the HTTP status (0: no HTTP answer), Retry-After, what failed. */
    public record Call(long startMs, long endMs, int status, String retryAfter, String topic, String error) {
        public long tookMs() {
            return endMs - startMs;
        }
    }

    private final String url;
    private final String project;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final long t0 = System.nanoTime();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    public final Set<String> acknowledged = ConcurrentHashMap.newKeySet();

    public Load(String baseUrl, String project, int writers) {
        this.url = baseUrl + "/execute";
        this.project = project;
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(Thread.ofVirtual().name("writer-" + w).start(() -> write(writer)));
        }
    }

    /** @return milliseconds since the load began */
    public long now() {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private void write(int writer) {
        for (int i = 0; !stop.get(); i++) {
            String topic = "w" + writer + "-" + i;
            String body = "{\"tool\":\"lock_context\",\"arguments\":{\"topic\":\"" + topic + "\",\"content\":\"written by " + topic
                    + "\",\"project\":\"" + project + "\"}}";
            long start = now();
            try {
                HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                        .header("Authorization", "Bearer " + TestServer.KEY).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                boolean ok = res.statusCode() == 200 && Json.parse(res.body()).path("success").asBoolean();
                if (ok) {
                    acknowledged.add(topic);
                }
                calls.add(new Call(start, now(), res.statusCode(), res.headers().firstValue("Retry-After").orElse(null), topic,
                        ok ? null : res.body()));
            } catch (Exception e) {
                calls.add(new Call(start, now(), 0, null, topic, e.toString()));
            }
            if (!stop.get()) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    public List<Call> snapshot() {
        return List.copyOf(calls);
    }

    /** @return a short count of the answers by status, for messages */
    public String summary() {
        return calls.stream().collect(Collectors.groupingBy(Call::status, java.util.TreeMap::new, Collectors.counting())).toString()
                + ", " + acknowledged.size() + " acknowledged";
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(90));
        }
        http.close();
    }
}
