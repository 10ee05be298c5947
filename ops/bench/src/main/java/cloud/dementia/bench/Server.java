package cloud.dementia.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One server process under test, started from the jar with the environment a scenario needs. Everything it starts is
 * printed (the command and every variable), its log goes to a file whose path is printed too.
 */
final class Server implements AutoCloseable {

    static final String KEY = "bench-key-0123456789abcdef0123";
    /** The console password the scale scenario starts its servers with (DEMENTIA_ADMIN_PASSWORD), for the import endpoint. */
    static final String ADMIN_PASSWORD = "bench-admin-0123456789";
    private static final Pattern SESSION = Pattern.compile("(?i)mcp-session-id");

    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private Server(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts the server and waits until {@code /health} answers.
     *
     * @param env the scenario's variables (besides DATABASE_URL, PORT and the API key, which this sets)
     * @param jvm extra JVM options (a profiler)
     */
    static Server start(Path jar, String jdbcUrl, Map<String, String> env, List<String> jvm, Path logDir, String name) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Map<String, String> all = new LinkedHashMap<>();
        all.put("DATABASE_URL", jdbcUrl);
        all.put("PORT", Integer.toString(port));
        all.put("DEMENTIA_API_KEY", KEY);
        all.put("DB_APPLICATION_NAME", Bench.APPLICATION_NAME);
        all.put("DEMENTIA_DATA_DIR", logDir.resolve("data-" + name).toString());
        all.putAll(env);
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(jvm);
        command.add("-jar");
        command.add(jar.toString());
        Files.createDirectories(logDir);
        Path log = logDir.resolve("server-" + name + ".log");
        StringBuilder shown = new StringBuilder();
        all.forEach((k, v) -> shown.append(k).append('=').append(k.equals("DATABASE_URL") ? v.replaceAll("password=[^&]*", "password=***") : v)
                .append(' '));
        Bench.log("starting server: " + shown + String.join(" ", command) + "  (log: " + log + ")");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(all);
        Server server = new Server(pb.start(), port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            if (!server.process.isAlive()) {
                throw new IllegalStateException("the server exited with " + server.process.exitValue() + ": see " + log);
            }
            try {
                if (server.get("/health").statusCode() == 200) {
                    return server;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                server.close();
                throw new IllegalStateException("the server did not become healthy within 90 s: see " + log);
            }
            Thread.sleep(200);
        }
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** @return CPU time the server process used so far in user and in system (kernel) mode, in nanoseconds, from /proc */
    long[] cpuNanos() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // USER_HZ is 100 on Linux: a tick is 10 ms
        return new long[] {Long.parseLong(f[11]) * 10_000_000L, Long.parseLong(f[12]) * 10_000_000L};
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** POSTs a JSON body with the API key and answers the response as it is. */
    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path)))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POST /execute; a failed call (not 200, or success false) is an exception naming it. */
    String execute(String tool, String argumentsJson) throws IOException, InterruptedException {
        return execute(tool, argumentsJson, Duration.ofSeconds(60));
    }

    /** POST /execute with its own timeout; a failed call (not 200, or success false) is an exception naming it. */
    String execute(String tool, String argumentsJson, Duration timeout) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url("/execute")))
                .timeout(timeout)
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tool\":\"" + tool + "\",\"arguments\":" + argumentsJson + "}")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || !r.body().startsWith("{\"success\":true")) {
            throw new IllegalStateException(tool + " " + argumentsJson + " -> " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    /** Opens an MCP session with plain HTTP (initialize, then the initialized notification); returns its id. */
    String mcpSession() throws IOException, InterruptedException {
        HttpResponse<String> init = mcp(null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"dementia-bench\",\"version\":\"1\"}}}");
        String session = init.headers().map().entrySet().stream().filter(e -> SESSION.matcher(e.getKey()).matches())
                .map(e -> e.getValue().get(0)).findFirst()
                .orElseThrow(() -> new IllegalStateException("initialize gave no Mcp-Session-Id: " + init.statusCode() + " " + init.body()));
        mcp(session, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        return session;
    }

    private HttpResponse<String> mcp(String session, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url("/mcp"))).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) {
            b.header("Mcp-Session-Id", session).header("MCP-Protocol-Version", "2025-06-18");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * POST /admin/api/projects/{name}/import with the admin user (HTTP Basic; the server must have been started with
     * DEMENTIA_ADMIN_PASSWORD={@link #ADMIN_PASSWORD}): the body is the project's JSON Lines. Anything but 200 is an
     * exception naming it; answers the response body ({@code {"done": ..., "added": {...}, "skipped": {...}}}).
     */
    String importProject(String project, String jsonl, Duration timeout) throws IOException, InterruptedException {
        String basic = java.util.Base64.getEncoder().encodeToString(("admin:" + ADMIN_PASSWORD).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url("/admin/api/projects/"
                        + java.net.URLEncoder.encode(project, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20") + "/import")))
                .timeout(timeout)
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(jsonl)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("import of " + project + " -> " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    /** @return the server process's resident set size in KiB (VmRSS in /proc/<pid>/status) */
    long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/" + process.pid() + "/status");
    }

    /**
     * @return the sum of a Prometheus meter's samples in {@code /metrics} whatever their labels ({@code name 1.0},
     *         {@code name{application="x"} 1.0}), or -1 when the server does not expose it
     */
    double meter(String name) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url("/metrics"))).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("/metrics -> " + r.statusCode() + " " + r.body());
        }
        return meter(r.body(), name);
    }

    /** @return the sum of the meter's samples in a Prometheus text, whatever their labels, or -1 when it has none */
    static double meter(String prometheus, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+|NaN)$").matcher(prometheus);
        double sum = 0;
        boolean found = false;
        while (m.find()) {
            found = true;
            sum += m.group(1).equals("NaN") ? 0 : Double.parseDouble(m.group(1));
        }
        return found ? sum : -1;
    }

    /** @return the value of a Prometheus sample in {@code /metrics}, or -1 when absent */
    double metric(String sample) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url("/metrics")))
                .header("Authorization", "Bearer " + KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " ([0-9.eE+-]+)$").matcher(r.body());
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** Stops with SIGTERM (the graceful stop) and waits for the exit. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
