package cloud.dementia.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server run the way an operator runs it: {@code java ... cloud.dementia.server.Main} in its own process, with
 * an environment of the test's choosing and nothing inherited but PATH and HOME.
 */
final class ServerProcess implements AutoCloseable {

    private static final Pattern HEALTH = Pattern.compile("Health:\\s+(http://localhost:(\\d+))/health");

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private int port = -1;

    private ServerProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /**
     * The environment of a server on a test's own database: any free port, the database's URL, its application name (so
     * the test counts the server's backends), plus {@code extra}.
     */
    static Map<String, String> envFor(cloud.dementia.db.testing.TestDatabase.Fresh db, Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("PORT", "0");
        env.put("DATABASE_URL", db.jdbcUrl());
        env.put("DB_APPLICATION_NAME", db.target().applicationName());
        env.putAll(extra);
        return env;
    }

    static ServerProcess start(Map<String, String> env) throws IOException {
        return start(env, new String[0]);
    }

    /** Starts {@code Main} with arguments (a command such as {@code import-original}). */
    static ServerProcess start(Map<String, String> env, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(java, "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return start(command, env);
    }

    /** Starts the built jar the way a user does: {@code java -jar <jar>}, no option, so the jar's manifest is what applies. */
    static ServerProcess startJar(Path jar, Map<String, String> env) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return start(List.of(java, "-jar", jar.toAbsolutePath().toString()), env);
    }

    private static ServerProcess start(List<String> command, Map<String, String> env) throws IOException {
        Path dir = Files.createTempDirectory("dementia-proc");
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .directory(dir.toFile());
        Map<String, String> environment = pb.environment();
        environment.keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME"));
        environment.putAll(env);
        return new ServerProcess(pb.start(), out, err);
    }

    /** Waits for the welcome text and returns the port; fails with the output if the process ends first. */
    int awaitReady(Duration limit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = HEALTH.matcher(stdout());
            // the welcome text is written at once, so once its first line is there all of it is
            if (m.find() && stdout().contains("Dementia Cloud is running.")) {
                port = Integer.parseInt(m.group(2));
                return port;
            }
            if (!process.isAlive()) {
                throw new AssertionError("server exited with " + process.exitValue() + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server not ready within " + limit + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
    }

    /** Waits for the process to end on its own. */
    int awaitExit(Duration limit) throws InterruptedException, IOException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("server did not exit within " + limit + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
        }
        return process.exitValue();
    }

    /** @return {@code http://localhost:<port>}, once ready */
    String url() {
        return "http://localhost:" + port;
    }

    /** Sends SIGTERM and waits for the exit code. */
    int terminate(Duration limit) throws InterruptedException, IOException {
        process.destroy();
        return awaitExit(limit);
    }

    /** Kills the process at once (SIGKILL: no graceful stop, nothing rolled back by the process itself) and waits for it to go. */
    void kill(Duration limit) throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("server still alive " + limit + " after SIGKILL");
        }
    }

    HttpResponse<String> get(String path, Optional<String> bearer) throws IOException, InterruptedException {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).timeout(Duration.ofSeconds(10));
        bearer.ifPresent(k -> req.header("Authorization", "Bearer " + k));
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** POST of a JSON body with a bearer key. */
    HttpResponse<String> post(String path, String json, String bearer) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(req, HttpResponse.BodyHandlers.ofString());
        }
    }

    /** GET with HTTP Basic (the console's API). */
    HttpResponse<String> get(String path, Optional<String> bearer, String user, String password) throws IOException, InterruptedException {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                        (user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    String stdout() throws IOException {
        return Files.readString(stdout);
    }

    String stderr() throws IOException {
        return Files.readString(stderr);
    }

    /** @return the value printed after {@code label} in the welcome text, if printed */
    Optional<String> printed(String label) throws IOException {
        Matcher m = Pattern.compile(Pattern.quote(label) + "\\s+(\\S+)").matcher(stdout());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
