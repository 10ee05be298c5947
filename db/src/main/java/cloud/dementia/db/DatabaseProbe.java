package cloud.dementia.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Checks once, before any pool exists, that the database answers, so start-up can fail with one clear line. */
public final class DatabaseProbe {

    /**
     * What the probe found.
     *
     * @param version     the server's version
     * @param behindPooler whether a pooler stands between us and the server: the process id the connection was
     *                     announced with (the cancel key) is not the backend's own ({@code pg_backend_pid()}), as
     *                     PgBouncer and Neon's pooler hand out their own
     */
    public record Result(String version, boolean behindPooler) {
    }

    private DatabaseProbe() {
    }

    /**
     * Opens one connection, reads the server version and the backend pid, closes it.
     *
     * @param target where to connect
     * @throws IllegalStateException with the driver's reason when the database cannot be reached
     */
    public static Result check(ConnectionTarget target) {
        try (Connection c = new org.postgresql.Driver().connect(target.jdbcUrl(), target.driverProperties())) {
            if (c == null) {
                throw new IllegalStateException("the PostgreSQL driver does not accept " + target.describe());
            }
            int announced = c.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_setting('server_version'), pg_backend_pid()")) {
                rs.next();
                return new Result(rs.getString(1), rs.getInt(2) != announced);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to " + target.describe() + ": " + reason(target, e), e);
        }
    }

    /**
     * The driver says only "The connection attempt failed." for an unknown host: its cause says which step failed, and
     * that is what the person who wrote the URL can fix.
     */
    static String reason(ConnectionTarget target, SQLException e) {
        String at = hostAndPort(target);
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.UnknownHostException) {
                return "the host of " + at + " is not known (no DNS entry for it): check the host name";
            }
            if (t instanceof java.net.ConnectException) {
                return "nothing accepts connections on " + at + " (" + t.getMessage() + "): is PostgreSQL running there, on that port?";
            }
            if (t instanceof java.net.SocketTimeoutException) {
                return "no answer from " + at + " in time (" + t.getMessage() + "): is the host reachable from here (firewall, network)?";
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
    }

    /** @return {@code host:port} of the target's URL (5432 when the URL names none) */
    private static String hostAndPort(ConnectionTarget target) {
        try {
            java.net.URI uri = java.net.URI.create(target.jdbcUrl().substring("jdbc:".length()));
            return uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort());
        } catch (IllegalArgumentException e) {
            return target.describe();
        }
    }
}
