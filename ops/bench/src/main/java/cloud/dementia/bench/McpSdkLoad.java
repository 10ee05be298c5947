package cloud.dementia.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import org.HdrHistogram.Histogram;

/**
 * MCP load through the official MCP Java SDK client: {@code sessions} clients, each initialized and then calling
 * {@code tools/call recall_context} back to back on its own thread, as an assistant's client would.
 */
final class McpSdkLoad {

    private McpSdkLoad() {
    }

    static Wrk.Result run(Server server, List<String> projects, int topics, int sessions, int seconds) throws Exception {
        List<McpSyncClient> clients = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(server.url(""))
                    .endpoint("/mcp")
                    .httpRequestCustomizer((request, method, uri, body, context) -> request.header("Authorization", "Bearer " + Server.KEY))
                    .build();
            McpSyncClient client = McpClient.sync(transport)
                    .clientInfo(new McpSchema.Implementation("dementia-bench-sdk", "1"))
                    .requestTimeout(Duration.ofSeconds(30))
                    .build();
            client.initialize();
            clients.add(client);
        }
        Bench.log("MCP Java SDK: " + sessions + " sessions initialized; calling recall_context for " + seconds + " s");
        Histogram all = new Histogram(3);
        AtomicLong failures = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>("");
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long start = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        List<Histogram> histograms = new ArrayList<>();
        for (McpSyncClient client : clients) {
            Histogram h = new Histogram(3);
            histograms.add(h);
            threads.add(Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < end) {
                    String project = projects.get(ThreadLocalRandom.current().nextInt(projects.size()));
                    String topic = "topic-" + (1 + ThreadLocalRandom.current().nextInt(topics));
                    long t0 = System.nanoTime();
                    try {
                        McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest("recall_context",
                                Map.of("project", project, "topic", topic)));
                        if (Boolean.TRUE.equals(r.isError())) {
                            failures.incrementAndGet();
                            first.compareAndSet("", r.content().toString());
                        }
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                        first.compareAndSet("", e.toString());
                    }
                    h.recordValue((System.nanoTime() - t0) / 1000);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        histograms.forEach(all::add);
        for (McpSyncClient c : clients) {
            c.closeGracefully();
        }
        return new Wrk.Result(all.getTotalCount(), all.getTotalCount() / elapsed, all.getMean() / 1000.0, all.getValueAtPercentile(50) / 1000.0,
                all.getValueAtPercentile(99) / 1000.0, failures.get(), first.get());
    }
}
