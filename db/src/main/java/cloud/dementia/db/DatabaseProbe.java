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
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new IllegalStateException("cannot connect to " + target.describe() + ": " + reason, e);
        }
    }
}
