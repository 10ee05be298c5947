package cloud.dementia.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.tools.ToolSpec;

/** A server started in-process on a free port against a fresh database of its own, with the given tools. */
public final class TestServer implements AutoCloseable {

    public static final String KEY = "test-key-0123456789abcdef";
    /** A JSON-RPC {@code initialize} as an MCP client sends it first. */
    public static final String INITIALIZE = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
            + "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw-test\",\"version\":\"1\"}}}";

    private final TestDatabase.Fresh db;
    private final DementiaServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestServer(TestDatabase.Fresh db, DementiaServer server) {
        this.db = db;
        this.server = server;
    }

    /**
     * @param env   variables on top of the test defaults (port 0, the fresh database, {@link #KEY})
     * @param tools the tool catalog
     */
    public static TestServer start(Map<String, String> env, Function<cloud.dementia.db.store.Memory, List<ToolSpec>> tools) {
        TestDatabase.Fresh db = TestDatabase.get().freshDatabase();
        Map<String, String> all = new HashMap<>();
        all.put("PORT", "0");
        all.put("DATABASE_URL", db.jdbcUrl());
        all.put("DB_APPLICATION_NAME", db.target().applicationName());
        all.put("DEMENTIA_API_KEY", KEY);
        all.put("DEMENTIA_ADMIN_PASSWORD", "a-good-password");
        all.putAll(env);
        try {
            return new TestServer(db, DementiaServer.start(Settings.load(all), tools));
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    public DementiaServer server() {
        return server;
    }

    public String url(String path) {
        return "http://localhost:" + server.port() + path;
    }

    /** A request to a path with the right key. */
    public HttpRequest.Builder request(String path) {
        return bare(path).header("Authorization", "Bearer " + KEY);
    }

    /** A request to a path without any key. */
    public HttpRequest.Builder bare(String path) {
        return HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30));
    }

    /** {@link #INITIALIZE} posted to {@code /mcp} the way Streamable HTTP wants it, on the given request. */
    public HttpResponse<String> initializeMcp(HttpRequest.Builder request) throws Exception {
        return send(request.header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(INITIALIZE)));
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws Exception {
        return send(request(path).GET());
    }

    public HttpResponse<String> post(String path, String json) throws Exception {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /**
     * Waits (at most 2 minutes) until every context version of the project has its vector: the background embedder
     * computes them after a lock, never in the request.
     */
    public void awaitVectors(String project) {
        awaitVectors(server, project);
    }

    /** {@link #awaitVectors(String)} for any server of the tests. */
    public static void awaitVectors(DementiaServer server, String project) {
        String schema = server.memory().projects().open(project).schema();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
        while (server.registry().inStatement(schema, tx -> tx.queryOne("SELECT count(*) FROM {s}.context_locks WHERE embedding IS NULL",
                r -> r.longValue(1)).orElse(0L)) > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("versions of `" + project + "` still without a vector after 2 minutes");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() {
        server.stop();
        if (db != null) {
            db.close();
        }
    }

    /**
     * A server on a database the test provides (a private PostgreSQL, a pooler, a proxy), which the test closes.
     *
     * @param databaseUrl     {@code DATABASE_URL}
     * @param applicationName {@code DB_APPLICATION_NAME}
     */
    public static TestServer startOn(String databaseUrl, String applicationName, Map<String, String> env,
                                     Function<cloud.dementia.db.store.Memory, List<ToolSpec>> tools) {
        Map<String, String> all = new HashMap<>();
        all.put("PORT", "0");
        all.put("DATABASE_URL", databaseUrl);
        all.put("DB_APPLICATION_NAME", applicationName);
        all.put("DEMENTIA_API_KEY", KEY);
        all.put("DEMENTIA_ADMIN_PASSWORD", "a-good-password");
        all.putAll(env);
        return new TestServer(null, DementiaServer.start(Settings.load(all), tools));
    }
}
