package cloud.dementia.server;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.DatabaseProbe;
import cloud.dementia.db.EmbeddedDatabase;
import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/**
 * The database a configuration names, opened: the embedded PostgreSQL started (or the external one reached), the pool
 * registry over it and the control schema migrated. The server starts on it; the commands ({@code reset-credentials},
 * {@code import-original}) work on it alone, with no HTTP server and no embedding model. {@link #close} closes the
 * pools, then stops the embedded database.
 */
final class Database implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Database.class.getName());

    private final Optional<EmbeddedDatabase> embedded;
    private final ConnectionTarget target;
    private final String version;
    private final PoolRegistry registry;

    private Database(Optional<EmbeddedDatabase> embedded, ConnectionTarget target, String version, PoolRegistry registry) {
        this.embedded = embedded;
        this.target = target;
        this.version = version;
        this.registry = registry;
    }

    /**
     * @param meters where the pool meters go
     * @throws StartupException (exit 3) with one line that says what is wrong
     */
    static Database open(Settings settings, MeterRegistry meters) {
        Optional<EmbeddedDatabase> embedded = Optional.empty();
        ConnectionTarget target;
        if (settings.externalTarget().isPresent()) {
            target = settings.externalTarget().get();
        } else {
            try {
                embedded = Optional.of(EmbeddedDatabase.start(settings.dataDir()));
            } catch (IOException | RuntimeException e) {
                throw new StartupException("DEMENTIA_DATA_DIR=" + settings.dataDir() + ": " + (e instanceof EmbeddedDatabase.InUseException
                        ? e.getMessage() : "cannot start the embedded PostgreSQL: " + rootMessage(e)), 3, e);
            }
            target = embedded.get().target(settings.applicationName());
        }
        String version;
        try {
            DatabaseProbe.Result probe = DatabaseProbe.check(target);
            version = probe.version();
            boolean prepared = switch (settings.preparedStatements()) {
                case ON -> true;
                case OFF -> false;
                // a pooler would hand a named statement's next use to a backend that never saw it
                case AUTO -> !probe.behindPooler();
            };
            target = target.withDirect(!probe.behindPooler()).withServerPrepared(prepared);
            ConnectionTarget chosen = target;
            LOG.info(() -> "database: PostgreSQL " + probe.version() + (probe.behindPooler()
                    ? " behind a pooler: statement timeout set by the driver on each statement"
                    : ", direct connection: statement timeout is each connection's session default")
                    + "; server-side prepared statements " + (chosen.serverPrepared() ? "on" : "off") + " (DB_PREPARED_STATEMENTS="
                    + settings.preparedStatements().name().toLowerCase(Locale.ROOT) + ")");
        } catch (IllegalStateException e) {
            closeQuietly(embedded);
            throw new StartupException((embedded.isPresent() ? "embedded database: " : "DATABASE_URL: ") + e.getMessage(), 3, e);
        }
        PoolRegistry registry = new PoolRegistry(target, settings.pools(), meters);
        try {
            ControlSchema.migrate(registry);
        } catch (RuntimeException e) {
            registry.close();
            closeQuietly(embedded);
            throw new StartupException("database: preparing the control schema `" + ControlSchema.NAME + "` failed: " + rootMessage(e), 3, e);
        }
        return new Database(embedded, target, version, registry);
    }

    Optional<EmbeddedDatabase> embedded() {
        return embedded;
    }

    ConnectionTarget target() {
        return target;
    }

    /** @return the server's version, as PostgreSQL reports it */
    String version() {
        return version;
    }

    PoolRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        registry.close();
        closeQuietly(embedded);
    }

    private static void closeQuietly(Optional<EmbeddedDatabase> embedded) {
        embedded.ifPresent(e -> {
            try {
                e.close();
            } catch (IOException | RuntimeException ex) {
                LOG.log(Level.WARNING, "stopping the embedded PostgreSQL failed: " + ex.getMessage(), ex);
            }
        });
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        String first = t.getMessage() == null ? "" : t.getMessage().lines().findFirst().orElse("");
        String rootLine = m.lines().findFirst().orElse("");
        return first.contains(rootLine) || first.isEmpty() ? (first.isEmpty() ? rootLine : first) : first + ": " + rootLine;
    }
}
