package cloud.dementia.server.console;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.JsonNode;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.PoolTimeoutException;
import cloud.dementia.db.testing.TestDatabase;
import cloud.dementia.server.DementiaServer;
import cloud.dementia.server.Settings;
import cloud.dementia.server.tools.Json;

/**
 * The whole server in-process on a free port over a fresh database, as the console tests and the console screenshots in docs/
 * use it: a known console login and API key, a small budget, and ways to make pools busy.
 */
final class ConsoleServer implements AutoCloseable {

    static final String USER = "admin";
    static final String PASSWORD = "a-good-password";
    static final String API_KEY = "test-key-0123456789abcdef";

    final TestDatabase.Fresh db;
    final DementiaServer server;
    private final List<AutoCloseable> load = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    ConsoleServer(Map<String, String> extraEnv) {
        db = TestDatabase.get().freshDatabase();
        Map<String, String> env = new HashMap<>();
        env.put("PORT", "0");
        env.put("DATABASE_URL", db.jdbcUrl());
        env.put("DB_APPLICATION_NAME", db.target().applicationName());
        env.put("DEMENTIA_API_KEY", API_KEY);
        env.put("DEMENTIA_ADMIN_PASSWORD", PASSWORD);
        env.put("DB_POOL_BUDGET", "12");
        env.put("DB_POOL_ACQUIRE_TIMEOUT_MS", "1000");
        env.putAll(extraEnv);
        server = DementiaServer.start(Settings.load(env));
    }

    ConsoleServer() {
        this(Map.of());
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    PoolRegistry registry() {
        return server.registry();
    }

    /** Opens the schema's pool with one unit of work (the schema itself need not exist). */
    void use(String schema) {
        registry().inTransaction(schema, tx -> {
            tx.queryOne("SELECT 1", r -> r.integer(1));
            return null;
        });
    }

    /** Runs {@code n} units of the schema at once, so the physical pool holds at least {@code n} connections, then lets them go idle. */
    void openConnections(String schema, int n) throws InterruptedException {
        CountDownLatch all = new CountDownLatch(n);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> registry().inTransaction(schema, tx -> {
                tx.queryOne("SELECT 1", r -> r.integer(1));
                all.countDown();
                await(all, 10);
                return null;
            })));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    /** Holds one connection of the schema (inside a transaction) until closed; returns once it holds it. */
    Held hold(String schema) throws InterruptedException {
        Held h = new Held(registry(), schema);
        load.add(h);
        return h;
    }

    /** @return the backends of the physical pool now, by pid */
    java.util.Set<Integer> backendPids() {
        return new java.util.TreeSet<>(registry().backendPids());
    }

    /** Callers that keep asking the schema for a connection, each waiting up to the acquire timeout, until closed. */
    AutoCloseable waiters(String schema, int n) {
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (!stop.get()) {
                    try {
                        registry().inTransaction(schema, tx -> {
                            tx.queryOne("SELECT 1", r -> r.integer(1));
                            return null;
                        });
                    } catch (PoolTimeoutException e) {
                        // expected while the pool is saturated: ask again
                    } catch (RuntimeException e) {
                        sleep(100);
                    }
                }
            }));
        }
        AutoCloseable c = () -> {
            stop.set(true);
            for (Thread t : threads) {
                t.join(5000);
            }
        };
        load.add(c);
        return c;
    }

    /** One connection held by a unit of work until closed. */
    static final class Held implements AutoCloseable {
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);
        private final Thread thread;

        Held(PoolRegistry registry, String schema) throws InterruptedException {
            thread = Thread.ofVirtual().start(() -> {
                try {
                    registry.inTransaction(schema, tx -> {
                        tx.queryOne("SELECT 1", r -> r.integer(1));
                        held.countDown();
                        await(release, 600);
                        return null;
                    });
                } catch (RuntimeException e) {
                    // a test may terminate the backend underneath: the commit then fails, as it should
                }
            });
            if (!held.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no connection for `" + schema + "` within 10 s");
            }
        }

        @Override
        public void close() throws InterruptedException {
            release.countDown();
            thread.join(10_000);
        }
    }

    // ---------------------------------------------------------------- HTTP

    HttpResponse<String> get(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).GET();
        headers.forEach(b::header);
        return send(b.build());
    }

    /** A console API call as the admin with HTTP Basic. */
    HttpResponse<String> api(String method, String path, String json) {
        return api(method, path, json, USER, PASSWORD);
    }

    HttpResponse<String> api(String method, String path, String json, String user, String password) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url("/admin/api" + path)))
                .header("Authorization", basic(user, password));
        if (json == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return send(b.build());
    }

    JsonNode apiJson(String method, String path, String json) {
        HttpResponse<String> r = api(method, path, json);
        if (r.statusCode() != 200) {
            throw new AssertionError(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return Json.parse(r.body());
    }

    /**
     * @param sample a meter's name with the labels to look for, {@code db_pool_connections_max{schema="acme"}}: a line
     *               with more labels (the registry's common tags) matches too
     * @return the value of the Prometheus sample, or {@code null} when it is not exposed
     */
    Double metric(String sample) {
        int brace = sample.indexOf('{');
        String name = brace < 0 ? sample : sample.substring(0, brace);
        List<String> labels = brace < 0 ? List.of() : List.of(sample.substring(brace + 1, sample.length() - 1).split(","));
        HttpResponse<String> r = get("/metrics", Map.of("Authorization", "Bearer " + API_KEY));
        for (String line : r.body().split("\n")) {
            int space = line.lastIndexOf(' ');
            if (line.startsWith("#") || space < 0) {
                continue;
            }
            String series = line.substring(0, space);
            int open = series.indexOf('{');
            String lineName = open < 0 ? series : series.substring(0, open);
            List<String> lineLabels = open < 0 ? List.of() : List.of(series.substring(open + 1, series.length() - 1).split(","));
            if (lineName.equals(name) && lineLabels.containsAll(labels)) {
                return Double.parseDouble(line.substring(space + 1).trim());
            }
        }
        return null;
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<String> send(HttpRequest request) {
        return sendWith(http, request);
    }

    HttpResponse<String> sendWith(HttpClient client, HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Waits until the condition holds, at most 10 s. */
    static void eventually(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            sleep(25);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void await(CountDownLatch latch, int seconds) {
        try {
            if (!latch.await(seconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException("latch not released within " + seconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Releases every held connection and waiter, stops the server, drops the database. */
    @Override
    public void close() {
        for (AutoCloseable c : load.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort: the server stops next anyway
            }
        }
        server.stop();
        db.close();
    }
}
