package cloud.dementia.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.logging.Logger;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The default database when no {@code DATABASE_URL} is given: a PostgreSQL 17 server (zonky binaries) whose
 * cluster lives in {@code <dataDir>/pg} and therefore survives restarts. It listens on 127.0.0.1 only, on a
 * free port chosen at each start, and is stopped by {@link #close()}.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EmbeddedDatabase.class.getName());
    /** The database the service uses inside the embedded cluster. */
    public static final String DATABASE = "dementia";

    private final EmbeddedPostgres postgres;
    private final Path clusterDir;
    private final boolean created;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path clusterDir, boolean created) {
        this.postgres = postgres;
        this.clusterDir = clusterDir;
        this.created = created;
    }

    /** @return whether this start created the cluster (an empty database: nothing was found in the data directory) */
    public boolean created() {
        return created;
    }

    /**
     * Starts (and on first use initialises) the cluster under {@code dataDir/pg}.
     *
     * @param dataDir directory for the cluster files
     * @return the running database
     * @throws IOException when the cluster cannot be started
     */
    public static EmbeddedDatabase start(Path dataDir) throws IOException {
        Path clusterDir = dataDir.resolve("pg").toAbsolutePath();
        Files.createDirectories(dataDir);
        refuseIfInUse(clusterDir);
        boolean fresh = !Files.exists(clusterDir.resolve("postgresql.conf"));
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(clusterDir)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(true)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("max_connections", "200")
                .start();
        EmbeddedDatabase db = new EmbeddedDatabase(pg, clusterDir, fresh);
        db.ensureDatabase();
        LOG.info(() -> "embedded PostgreSQL " + (fresh ? "initialised" : "started") + " in " + clusterDir
                + " on 127.0.0.1:" + pg.getPort());
        return db;
    }

    /** The cluster is run by another process (a server started on the same data directory): nothing to do but stop it. */
    public static final class InUseException extends IOException {
        InUseException(String message) {
            super(message);
        }
    }

    /**
     * zonky holds a file lock on {@code epg-lock} in the cluster directory for as long as its process runs the cluster;
     * trying that lock first turns its bare "could not lock" into a message that says what to do.
     *
     * @throws InUseException when another process holds the lock
     */
    private static void refuseIfInUse(Path clusterDir) throws IOException {
        Path lockFile = clusterDir.resolve("epg-lock");
        if (!Files.exists(lockFile)) {
            return;
        }
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lockFile, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock lock = channel.tryLock()) {
            if (lock == null) {
                throw new InUseException("a server is running on this data directory (its embedded PostgreSQL holds " + lockFile
                        + "): stop it first");
            }
        } catch (java.nio.channels.OverlappingFileLockException e) {
            throw new InUseException("this process runs the embedded PostgreSQL of this data directory already (" + lockFile + ")");
        }
    }

    private void ensureDatabase() throws IOException {
        try (Connection c = DriverManager.getConnection(adminUrl("postgres"), credentials());
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            st.execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IOException("cannot create database " + DATABASE + " in the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    private String adminUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + database;
    }

    private static Properties credentials() {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", "dementia-embedded-setup");
        return p;
    }

    /** @return the port the cluster listens on (127.0.0.1) */
    public int port() {
        return postgres.getPort();
    }

    /** @return the directory holding the cluster */
    public Path clusterDir() {
        return clusterDir;
    }

    /**
     * @param applicationName application name for the service's connections
     * @return where the service connects
     */
    public ConnectionTarget target(String applicationName) {
        return new ConnectionTarget(adminUrl(DATABASE), "postgres", null, applicationName);
    }

    @Override
    public void close() throws IOException {
        postgres.close();
        LOG.info(() -> "embedded PostgreSQL stopped (" + clusterDir + ")");
    }
}
