package cloud.dementia.db.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.logging.Logger;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.DatabaseUrl;
import cloud.dementia.db.EmbeddedDatabase;

/**
 * The real PostgreSQL every test runs against, picked once per JVM in this order: {@code TEST_DATABASE_URL} if set,
 * Testcontainers' PostgreSQL if a Docker engine answers, else an embedded PostgreSQL 17 (zonky). Tests never skip
 * for lack of a database.
 * <p>
 * Tests do not share data: {@link #freshDatabase()} creates a database of its own for each caller, with its own
 * application name, so backends can be counted per test in {@code pg_stat_activity}.
 */
public final class TestDatabase {

    private static final Logger LOG = Logger.getLogger(TestDatabase.class.getName());
    private static volatile TestDatabase instance;

    private final ConnectionTarget admin;
    private final String source;

    private TestDatabase(ConnectionTarget admin, String source) {
        this.admin = admin;
        this.source = source;
    }

    /** @return the shared server, started or found on first call */
    public static synchronized TestDatabase get() {
        if (instance == null) {
            instance = pick();
            LOG.info("test database: " + instance.source + " at " + instance.admin.describe());
        }
        return instance;
    }

    private static TestDatabase pick() {
        String url = System.getenv("TEST_DATABASE_URL");
        if (url != null && !url.isBlank()) {
            return new TestDatabase(DatabaseUrl.parse(url, "dementia-test-admin"), "TEST_DATABASE_URL");
        }
        if (dockerAvailable()) {
            PostgreSQLContainer<?> container = new PostgreSQLContainer<>("postgres:17-alpine");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
            return new TestDatabase(new ConnectionTarget(container.getJdbcUrl(), container.getUsername(), container.getPassword(),
                    "dementia-test-admin"), "Testcontainers");
        }
        try {
            Path dir = Files.createTempDirectory("dementia-test-pg");
            EmbeddedDatabase db = EmbeddedDatabase.start(dir);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    db.close();
                } catch (Exception ignored) {
                    // the JVM is going away
                }
            }));
            return new TestDatabase(db.target("dementia-test-admin"), "embedded PostgreSQL");
        } catch (Exception e) {
            throw new IllegalStateException("no PostgreSQL for tests: TEST_DATABASE_URL unset, no Docker, and the embedded one failed", e);
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    /** @return where the admin connection goes (the server's maintenance database) */
    public ConnectionTarget admin() {
        return admin;
    }

    /**
     * Creates a new database for one test (class) and returns a target with a unique application name.
     *
     * @return the fresh database
     */
    public Fresh freshDatabase() {
        String name = "dt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        execute("CREATE DATABASE " + name);
        String url = admin.jdbcUrl().replaceFirst("^(jdbc:postgresql://[^/]+/)[^?]*", "$1" + name);
        String app = "dementia-test-" + name.substring(3, 11).toLowerCase(Locale.ROOT);
        return new Fresh(name, new ConnectionTarget(url, admin.user(), admin.password(), app));
    }

    /** Runs an administrative statement on the maintenance database. */
    public void execute(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** @return backends in {@code pg_stat_activity} carrying the application name */
    public int backends(String applicationName) {
        return queryInt("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", applicationName);
    }

    /** @return backends carrying the application name in the given state ({@code active}, {@code idle}...) */
    public int backends(String applicationName, String state) {
        return queryInt("SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND state = ?", applicationName, state);
    }

    /** @return the process ids of the backends carrying the application name */
    public java.util.List<Integer> backendPids(String applicationName) {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ? ORDER BY pid")) {
            ps.setString(1, applicationName);
            java.util.List<Integer> pids = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
            return pids;
        } catch (SQLException e) {
            throw new IllegalStateException("reading pg_stat_activity: " + e.getMessage(), e);
        }
    }

    /** Terminates every backend carrying the application name; returns how many. */
    public int terminate(String applicationName) {
        return queryInt("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?", applicationName);
    }

    public int queryInt(String sql, Object... params) {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** @return a connection to the maintenance database, to watch {@code pg_stat_activity} from (the caller closes it) */
    public Connection observer() throws SQLException {
        return connect();
    }

    private Connection connect() throws SQLException {
        Properties p = admin.driverProperties();
        return DriverManager.getConnection(admin.jdbcUrl(), p);
    }

    /** A database of one test's own. Closing drops it (and any backend still in it). */
    public final class Fresh implements AutoCloseable {
        private final String name;
        private final ConnectionTarget target;

        private Fresh(String name, ConnectionTarget target) {
            this.name = name;
            this.target = target;
        }

        public String name() {
            return name;
        }

        /** @return where to connect, with this test's own application name */
        public ConnectionTarget target() {
            return target;
        }

        /**
         * @return a JDBC URL that carries the user (and password) too, to hand a server under test as its
         *         {@code DATABASE_URL}: the driver must not fall back to the operating-system user
         */
        public String jdbcUrl() {
            StringBuilder url = new StringBuilder(target.jdbcUrl());
            char sep = target.jdbcUrl().contains("?") ? '&' : '?';
            if (target.user() != null) {
                url.append(sep).append("user=").append(java.net.URLEncoder.encode(target.user(), java.nio.charset.StandardCharsets.UTF_8));
                sep = '&';
            }
            if (target.password() != null) {
                url.append(sep).append("password=").append(java.net.URLEncoder.encode(target.password(), java.nio.charset.StandardCharsets.UTF_8));
            }
            return url.toString();
        }

        /**
         * @return the schema a registered project lives in (new projects' schemas are opaque: the control schema's
         *         registry says which), read over a connection of its own
         * @throws IllegalStateException when no such project is registered
         */
        public String projectSchema(String project) {
            try (Connection c = java.sql.DriverManager.getConnection(jdbcUrl());
                 java.sql.PreparedStatement st = c.prepareStatement("SELECT schema FROM dementia_control.projects WHERE name = ?")) {
                st.setString(1, project);
                try (java.sql.ResultSet rs = st.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("no project `" + project + "` is registered in " + name);
                    }
                    return rs.getString(1);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        /** @return this test's backends in {@code pg_stat_activity} */
        public int backends() {
            return TestDatabase.this.backends(target.applicationName());
        }

        /** @return the process ids of this test's backends in {@code pg_stat_activity} */
        public java.util.List<Integer> backendPids() {
            return TestDatabase.this.backendPids(target.applicationName());
        }

        @Override
        public void close() {
            execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            // project reader roles are cluster-wide: drop those no other database still uses
            execute("DO $$ DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'dmc_ro_%' LOOP "
                    + "BEGIN EXECUTE format('DROP ROLE %I', r.rolname); EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END; "
                    + "END LOOP; END $$");
        }
    }
}
