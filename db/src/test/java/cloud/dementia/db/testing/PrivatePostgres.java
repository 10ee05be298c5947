package cloud.dementia.db.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.logging.Logger;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A PostgreSQL server of one test's own (zonky's embedded binaries, on a fixed port of 127.0.0.1), which the test may
 * stop and start again, as a database that goes away and comes back does: its data stays.
 */
public final class PrivatePostgres implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PrivatePostgres.class.getName());
    public static final String DATABASE = "faults";

    private final Path dir;
    private final int port;
    private volatile EmbeddedPostgres postgres;

    private PrivatePostgres(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a fresh cluster with a database {@value #DATABASE}. */
    public static PrivatePostgres start() {
        try {
            Path dir = Files.createTempDirectory("dementia-private-pg");
            PrivatePostgres pg = new PrivatePostgres(dir.resolve("data"), freePort());
            pg.postgres = pg.launch();
            try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + DATABASE);
            }
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private EmbeddedPostgres launch() throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "100")
                .start();
    }

    /** Stops the server (a fast shutdown: every session is ended, as when a database goes down). */
    public void stop() {
        try {
            postgres.close();
            LOG.info(() -> "private PostgreSQL on port " + port + " stopped");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the stopped server again, on the same port, with the same data. */
    public void restart() {
        try {
            postgres = launch();
            LOG.info(() -> "private PostgreSQL on port " + port + " started again");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    /** @return the JDBC URL of the database {@value #DATABASE}, as the user {@code postgres} */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE + "?user=postgres";
    }

    /** A connection of the test's own (not counted as the service's). */
    public Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", "dementia-test-observer");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    /** @return how many backends have this application name now */
    public int backends(String applicationName) {
        try (Connection c = connect("postgres");
             PreparedStatement st = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
            st.setString(1, applicationName);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            LOG.warning("private PostgreSQL did not stop cleanly: " + e.getMessage());
        }
        try (Stream<Path> files = Files.walk(dir.getParent())) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            LOG.fine(() -> "cannot delete " + dir + ": " + e.getMessage());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
