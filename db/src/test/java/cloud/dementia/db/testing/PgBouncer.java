package cloud.dementia.db.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

import cloud.dementia.db.ConnectionTarget;

/**
 * A real PgBouncer process in {@code pool_mode = transaction} in front of the test PostgreSQL server
 * ({@link TestDatabase#admin()}), listening on a free port of 127.0.0.1. Every database name routes to that
 * server ({@code * = host=... port=...}); clients log in without a password ({@code auth_type = trust}) and
 * PgBouncer logs in to the server as the same user, with the admin password if there is one.
 * <p>
 * With a small {@code default_pool_size} many client connections share a few server backends, one transaction at a
 * time: exactly what a transaction-mode pooler in production (PgBouncer, Neon's pooled endpoint) does to the
 * service. Named server-side prepared statements are not carried across server connections (PgBouncer before
 * 1.21 has no support for them; on a newer PgBouncer the fixture sets {@code max_prepared_statements = 0} so the
 * behaviour is the same).
 * <p>
 * <b>Where PgBouncer comes from.</b> The binary is looked up on {@code PATH}, then at {@code /usr/sbin/pgbouncer}
 * and {@code /usr/bin/pgbouncer}. If there is none:
 * <ul>
 *   <li>on CI ({@code CI=true}) {@link #start} throws {@link IllegalStateException}: the CI script installs
 *       pgbouncer, so a missing binary is a broken build machine, never a silently skipped test;</li>
 *   <li>elsewhere (a developer laptop) the calling test is <em>aborted</em> (reported as skipped) through
 *       {@link Assumptions#abort(String)} with the hint {@code apt-get install pgbouncer}.</li>
 * </ul>
 * PgBouncer refuses to run as root: when the JVM runs as uid 0 the process is started through
 * {@code runuser -u postgres} ({@code nobody} if there is no {@code postgres} user), and its config, log, pid file
 * and unix socket live in a temporary directory that user can write. {@link #close()} stops the process
 * (SIGTERM, then a forced kill after a bound) and deletes the directory.
 */
public final class PgBouncer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PgBouncer.class.getName());
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);
    private static final int PORT_ATTEMPTS = 3;
    private static final Pattern VERSION = Pattern.compile("PgBouncer (\\d+)\\.(\\d+)");
    private static final Pattern JDBC_HOST = Pattern.compile("^jdbc:postgresql://([^/?]*)([^?]*)(?:\\?(.*))?$");

    private final Path dir;
    private volatile Process process;
    private final int port;
    private final int defaultPoolSize;
    private final String user;
    private final String password;
    private final String version;
    private final Thread reaper;
    private volatile boolean closed;

    private PgBouncer(Path dir, Process process, int port, int defaultPoolSize, String user, String password, String version) {
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.defaultPoolSize = defaultPoolSize;
        this.user = user;
        this.password = password;
        this.version = version;
        // a test JVM that dies without closing the fixture must not leave a pgbouncer behind
        this.reaper = new Thread(() -> {
            this.process.descendants().forEach(ProcessHandle::destroyForcibly);
            this.process.destroyForcibly();
        }, "pgbouncer-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /**
     * Starts PgBouncer in transaction mode in front of the test server and waits until its port accepts connections.
     *
     * @param defaultPoolSize server connections per database and user ({@code default_pool_size})
     * @return the running pooler; close it to stop it
     * @throws IllegalStateException it is missing on CI, or did not come up within 10 s (the message holds its log)
     */
    public static PgBouncer start(int defaultPoolSize) {
        if (defaultPoolSize < 1) {
            throw new IllegalArgumentException("default_pool_size must be at least 1, got " + defaultPoolSize);
        }
        Path binary = findBinary();
        if (binary == null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("pgbouncer must be installed to run the transaction-pooler tests on CI "
                        + "(the CI script installs it: apt-get install pgbouncer); not found on PATH, /usr/sbin or /usr/bin");
            }
            Assumptions.abort("pgbouncer is not installed: apt-get install pgbouncer");
        }
        ConnectionTarget admin = TestDatabase.get().admin();
        Server server = Server.of(admin);
        String version = version(binary);
        String runAs = isRoot() ? osUserFor() : null;
        Path dir;
        try {
            dir = Files.createTempDirectory("dementia-pgbouncer");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the pgbouncer directory", e);
        }
        try {
            IllegalStateException last = null;
            for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
                int port = freePort();
                Process process = launch(binary, runAs, dir, server, port, defaultPoolSize, version);
                try {
                    awaitReady(process, dir, port);
                    LOG.info(() -> "pgbouncer " + version + " up on 127.0.0.1:" + port + " in front of " + server.host + ":" + server.port
                            + " (transaction mode, default_pool_size=" + defaultPoolSize + (runAs == null ? "" : ", as " + runAs) + ")");
                    return new PgBouncer(dir, process, port, defaultPoolSize, server.user, server.password, version);
                } catch (IllegalStateException e) {
                    stop(process);
                    last = e;
                    // another process took the port between our probe and pgbouncer's bind: try another one
                    if (!e.getMessage().contains("Address already in use")) {
                        break;
                    }
                }
            }
            throw last;
        } catch (RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    /**
     * @param database        database name on the server (any name routes there)
     * @param applicationName application name of the client connections
     * @return where to connect through the pooler, as the server's admin user
     */
    public ConnectionTarget target(String database, String applicationName) {
        return new ConnectionTarget("jdbc:postgresql://127.0.0.1:" + port + "/" + database, user, password, applicationName);
    }

    /** @return the TCP port on 127.0.0.1 */
    public int port() {
        return port;
    }

    /** @return the {@code default_pool_size} it was started with */
    public int defaultPoolSize() {
        return defaultPoolSize;
    }

    /** @return the version line of the binary, e.g. {@code PgBouncer 1.18.0} */
    public String version() {
        return version;
    }

    /** @return PgBouncer's log so far (for assertion messages) */
    public String log() {
        return readLog(dir);
    }

    /**
     * Stops PgBouncer (SIGTERM: its immediate shutdown, every client connection dropped), stays down for {@code down},
     * and starts it again on the same port with the same configuration.
     */
    public void restart(java.time.Duration down) {
        stop(process);
        sleep(down.toMillis());
        Path binary = findBinary();
        Server server = Server.of(TestDatabase.get().admin());
        Process next = launch(binary, isRoot() ? osUserFor() : null, dir, server, port, defaultPoolSize, version(binary));
        awaitReady(next, dir, port);
        process = next;
        LOG.info(() -> "pgbouncer restarted on 127.0.0.1:" + port + " after " + down.toMillis() + " ms down");
    }

    /** Stops the process (SIGTERM, then a forced kill after 5 s) and deletes its directory. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stop(process);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException ignored) {
                // the JVM is already shutting down: the hook runs anyway
            }
            deleteTree(dir);
        }
    }

    // ---------------------------------------------------------------- start

    private static Process launch(Path binary, String runAs, Path dir, Server server, int port, int poolSize, String version) {
        Path ini = dir.resolve("pgbouncer.ini");
        Path users = dir.resolve("userlist.txt");
        String config = """
                [databases]
                * = host=%s port=%d

                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                unix_socket_dir = %s
                pool_mode = transaction
                default_pool_size = %d
                min_pool_size = 0
                reserve_pool_size = 0
                max_client_conn = 200
                auth_type = trust
                auth_file = %s
                ignore_startup_parameters = extra_float_digits,options
                logfile = %s
                pidfile = %s
                """.formatted(server.host, server.port, port, dir, poolSize, users, dir.resolve("pgbouncer.log"), dir.resolve("pgbouncer.pid"));
        if (atLeast(version, 1, 21)) {
            // keep the behaviour of the PgBouncer the service is documented against: no prepared statement support
            config += "max_prepared_statements = 0\n";
        }
        try {
            Files.writeString(ini, config);
            Files.writeString(users, quote(server.user) + " " + quote(server.password == null ? "" : server.password) + "\n");
            Files.deleteIfExists(dir.resolve("pgbouncer.log"));
            Files.deleteIfExists(dir.resolve("pgbouncer.pid"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the pgbouncer config in " + dir, e);
        }
        List<String> command = new ArrayList<>();
        if (runAs != null) {
            Path runuser = firstExecutable("runuser", List.of(Path.of("/usr/sbin/runuser"), Path.of("/sbin/runuser"), Path.of("/usr/bin/runuser")));
            if (runuser == null) {
                throw new IllegalStateException("pgbouncer refuses to run as root and runuser was not found to start it as " + runAs);
            }
            command.addAll(List.of(runuser.toString(), "-u", runAs, "--"));
        }
        command.add(binary.toString());
        command.add(ini.toString());
        try {
            return new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stderr.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }

    private static void awaitReady(Process process, Path dir, int port) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String listening = "listening on 127.0.0.1:" + port;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgbouncer exited with status " + process.exitValue() + " before accepting connections on 127.0.0.1:"
                        + port + "; its log:\n" + readLog(dir));
            }
            // the log line proves the port is pgbouncer's own, not some other process that grabbed it
            if (readLog(dir).contains(listening)) {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    return;
                } catch (IOException notYet) {
                    // not accepting yet
                }
            }
            sleep(50);
        }
        throw new IllegalStateException("pgbouncer did not accept connections on 127.0.0.1:" + port + " within " + START_TIMEOUT.toSeconds()
                + " s; its log:\n" + readLog(dir));
    }

    private record Server(String host, int port, String user, String password) {

        /** Host, port and credentials of the test server, from its admin target's JDBC URL and properties. */
        static Server of(ConnectionTarget admin) {
            Matcher m = JDBC_HOST.matcher(admin.jdbcUrl());
            if (!m.matches() || m.group(1).isEmpty()) {
                throw new IllegalStateException("cannot read host and port from the test database URL " + admin.describe());
            }
            String hostPort = m.group(1).split(",")[0];
            String host;
            int port = 5432;
            if (hostPort.startsWith("[")) {
                int end = hostPort.indexOf(']');
                host = hostPort.substring(1, end);
                if (hostPort.length() > end + 2) {
                    port = Integer.parseInt(hostPort.substring(end + 2));
                }
            } else {
                int colon = hostPort.lastIndexOf(':');
                host = colon < 0 ? hostPort : hostPort.substring(0, colon);
                if (colon >= 0) {
                    port = Integer.parseInt(hostPort.substring(colon + 1));
                }
            }
            String user = admin.user();
            String password = admin.password();
            if (m.group(3) != null) {
                for (String pair : m.group(3).split("&")) {
                    int eq = pair.indexOf('=');
                    if (eq > 0) {
                        String key = pair.substring(0, eq);
                        String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                        if (key.equals("user") && user == null) {
                            user = value;
                        } else if (key.equals("password") && password == null) {
                            password = value;
                        }
                    }
                }
            }
            if (user == null) {
                // what the JDBC driver itself would log in as
                user = System.getProperty("user.name");
            }
            return new Server(host, port, user, password);
        }
    }

    // ---------------------------------------------------------------- process

    private static void stop(Process process) {
        List<ProcessHandle> children = process.descendants().toList();
        List<ProcessHandle> all = new ArrayList<>(children);
        all.add(process.toHandle());
        // SIGTERM is PgBouncer's immediate shutdown. Under runuser, signal pgbouncer itself and let runuser exit with
        // it: runuser forwards a signal it receives but then sleeps 2 s before it exits.
        (children.isEmpty() ? List.of(process.toHandle()) : children).forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (ProcessHandle h : all) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    h.onExit().get(left, TimeUnit.NANOSECONDS);
                }
            } catch (Exception e) {
                // still alive after the bound: forced below
            }
        }
        for (ProcessHandle h : all) {
            if (h.isAlive()) {
                LOG.warning(() -> "pgbouncer (or its runuser) pid " + h.pid() + " still running " + STOP_TIMEOUT.toSeconds() + " s after SIGTERM: killing it");
                h.destroyForcibly();
            }
        }
    }

    private static Path findBinary() {
        return firstExecutable("pgbouncer", List.of(Path.of("/usr/sbin/pgbouncer"), Path.of("/usr/bin/pgbouncer")));
    }

    private static Path firstExecutable(String name, List<Path> fallbacks) {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(File.pathSeparator)) {
                if (!entry.isEmpty()) {
                    candidates.add(Path.of(entry, name));
                }
            }
        }
        candidates.addAll(fallbacks);
        for (Path p : candidates) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static String version(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return out.lines().findFirst().orElse("PgBouncer (unknown version)").trim();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + binary + " --version: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + binary + " for its version", e);
        }
    }

    static boolean atLeast(String version, int major, int minor) {
        Matcher m = VERSION.matcher(version);
        if (!m.find()) {
            return false;
        }
        int ma = Integer.parseInt(m.group(1));
        int mi = Integer.parseInt(m.group(2));
        return ma > major || (ma == major && mi >= minor);
    }

    private static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** The unprivileged OS user to run PgBouncer as when the JVM is root. */
    private static String osUserFor() {
        try (Stream<String> lines = Files.lines(Path.of("/etc/passwd"))) {
            return lines.anyMatch(l -> l.startsWith("postgres:")) ? "postgres" : "nobody";
        } catch (IOException e) {
            return "nobody";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free local port", e);
        }
    }

    // ---------------------------------------------------------------- files

    private static String readLog(Path dir) {
        StringBuilder out = new StringBuilder();
        for (String name : List.of("pgbouncer.log", "stderr.log")) {
            Path p = dir.resolve(name);
            try {
                if (Files.exists(p)) {
                    String text = Files.readString(p, StandardCharsets.UTF_8);
                    if (!text.isBlank()) {
                        out.append("--- ").append(name).append('\n').append(text);
                    }
                }
            } catch (IOException e) {
                out.append("--- ").append(name).append(": unreadable (").append(e.getMessage()).append(")\n");
            }
        }
        return out.isEmpty() ? "(empty)" : out.toString();
    }

    private static String quote(String s) {
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.warning(() -> "cannot delete " + p + ": " + e.getMessage());
                }
            });
        } catch (IOException e) {
            LOG.warning(() -> "cannot delete " + dir + ": " + e.getMessage());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for pgbouncer", e);
        }
    }
}
