package cloud.dementia.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL side: a database of the run's own (created, then dropped), what the server looks like from
 * {@code pg_stat_activity} and {@code pg_stat_database}, and pgbench as the reference.
 */
final class Postgres implements AutoCloseable {

    final String host;
    final int port;
    final String user;
    final String password;
    final String database;
    private final String adminDatabase;

    /** @param url {@code postgresql://user[:password]@host[:port]/database} of a database to create the run's database from */
    Postgres(String url) throws SQLException {
        Matcher m = Pattern.compile("postgres(?:ql)?://([^:@/]+)(?::([^@/]*))?@([^:/]+)(?::(\\d+))?/([^?]+).*").matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("--postgres must look like postgresql://user[:password]@host[:port]/database, got " + url);
        }
        user = m.group(1);
        password = m.group(2);
        host = m.group(3);
        port = m.group(4) == null ? 5432 : Integer.parseInt(m.group(4));
        adminDatabase = m.group(5);
        database = "dementia_bench_" + Long.toString(System.currentTimeMillis(), 36);
        try (Connection c = connect(adminDatabase); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + database);
        }
        Bench.log("created database " + database + " on " + host + ":" + port);
    }

    /** @return the JDBC URL the server gets as DATABASE_URL (user and password in the URL) */
    String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?user=" + user + (password == null ? "" : "&password=" + password);
    }

    Connection connect(String db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("ApplicationName", "dementia-bench-observer");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + db, p);
    }

    /** @return the schema a project of the run's database is registered with (new projects' schemas are opaque) */
    String projectSchema(String project) throws SQLException {
        try (Connection c = connect(database);
             PreparedStatement ps = c.prepareStatement("SELECT schema FROM dementia_control.projects WHERE name = ?")) {
            ps.setString(1, project);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("project `" + project + "` is not registered");
                }
                return rs.getString(1);
            }
        }
    }

    /** @return sessions ever established to the run's database ({@code pg_stat_database.sessions}, PostgreSQL 14+) */
    long sessions() throws SQLException {
        try (Connection c = connect(adminDatabase);
             PreparedStatement ps = c.prepareStatement("SELECT pg_stat_clear_snapshot(), sessions FROM pg_stat_database WHERE datname = ?")) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(2) : -1;
            }
        }
    }

    /** Samples the server's backends every 20 ms while running: the most at once and every pid seen. */
    final class Sampler implements AutoCloseable {
        final AtomicInteger most = new AtomicInteger();
        final Set<Integer> pids = new HashSet<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Sampler() throws SQLException {
            Connection c = connect(adminDatabase);
            thread = Thread.ofPlatform().daemon(true).name("pg_stat_activity-sampler").start(() -> {
                try (c; PreparedStatement ps = c.prepareStatement(
                        "SELECT pid FROM pg_stat_activity WHERE datname = ? AND application_name = ?")) {
                    ps.setString(1, database);
                    ps.setString(2, Bench.APPLICATION_NAME);
                    while (running.get()) {
                        int n = 0;
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                n++;
                                synchronized (pids) {
                                    pids.add(rs.getInt(1));
                                }
                            }
                        }
                        most.accumulateAndGet(n, Math::max);
                        Thread.sleep(20);
                    }
                } catch (SQLException | InterruptedException e) {
                    Bench.log("sampler stopped: " + e.getMessage());
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    /** What one pgbench run reported. */
    record PgbenchResult(double tps, double latencyMs, long transactions, long failed) {
    }

    /** Runs {@code pgbench -n -M prepared} with the script, {@code clients} connections, for {@code seconds}. */
    PgbenchResult pgbench(String script, int clients, int seconds, Path dir) throws Exception {
        Path file = dir.resolve("pgbench-" + Integer.toHexString(script.hashCode()) + ".sql");
        Files.writeString(file, script);
        List<String> cmd = new ArrayList<>(List.of("pgbench", "-h", host, "-p", Integer.toString(port), "-U", user, "-n", "-M", "prepared",
                "-c", Integer.toString(clients), "-j", Integer.toString(Math.min(2, clients)), "-T", Integer.toString(seconds),
                "-f", file.toString(), database));
        Bench.log("running: " + String.join(" ", cmd));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (password != null) {
            pb.environment().put("PGPASSWORD", password);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        int exit = p.waitFor();
        if (exit != 0) {
            throw new IllegalStateException("pgbench exited with " + exit + ":\n" + out);
        }
        return new PgbenchResult(number(out, "tps = ([0-9.]+)"), number(out, "latency average = ([0-9.]+) ms"),
                (long) number(out, "number of transactions actually processed: (\\d+)"),
                out.contains("number of failed transactions") ? (long) number(out, "number of failed transactions: (\\d+)") : 0);
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no `" + regex + "` in:\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = connect(adminDatabase); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            st.execute("DO $$ DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'dmc_ro_%' LOOP "
                    + "BEGIN EXECUTE format('DROP ROLE %I', r.rolname); EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END; "
                    + "END LOOP; END $$");
        }
        Bench.log("dropped database " + database);
    }
}
