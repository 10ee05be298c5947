package cloud.dementia.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** Checks once, before any pool exists, that the database answers, so start-up can fail with one clear line. */
public final class DatabaseProbe {

    private DatabaseProbe() {
    }

    /**
     * Opens one connection, runs {@code SELECT 1}, closes it.
     *
     * @param target where to connect
     * @return the server's version string
     * @throws IllegalStateException with the driver's reason when the database cannot be reached
     */
    public static String check(ConnectionTarget target) {
        try (Connection c = new org.postgresql.Driver().connect(target.jdbcUrl(), target.driverProperties())) {
            if (c == null) {
                throw new IllegalStateException("the PostgreSQL driver does not accept " + target.describe());
            }
            try (Statement st = c.createStatement(); var rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                return rs.getString(1);
            }
        } catch (SQLException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new IllegalStateException("cannot connect to " + target.describe() + ": " + reason, e);
        }
    }
}
