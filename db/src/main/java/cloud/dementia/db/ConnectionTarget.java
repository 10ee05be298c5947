package cloud.dementia.db;

import java.util.Objects;
import java.util.Properties;

/**
 * Where and as whom the service connects: a JDBC URL plus credentials and the application name every
 * backend carries (so operators find our connections in {@code pg_stat_activity}).
 *
 * @param jdbcUrl         {@code jdbc:postgresql://...} URL, without credentials
 * @param user            user name, may be {@code null} (driver default)
 * @param password        password, may be {@code null}
 * @param applicationName value of the {@code ApplicationName} connection property
 */
public record ConnectionTarget(String jdbcUrl, String user, String password, String applicationName) {

    public ConnectionTarget {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(applicationName, "applicationName");
    }

    public ConnectionTarget withApplicationName(String name) {
        return new ConnectionTarget(jdbcUrl, user, password, name);
    }

    /**
     * Driver properties for every physical connection. {@code prepareThreshold=0} keeps the driver from
     * naming server-side prepared statements, which a transaction-mode pooler (PgBouncer before 1.21, Neon)
     * would hand to another client's backend.
     */
    public Properties driverProperties() {
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("prepareThreshold", "0");
        props.setProperty("connectTimeout", "10");
        props.setProperty("tcpKeepAlive", "true");
        return props;
    }

    /** The URL with host and database only, safe for logs and messages (never the password). */
    public String describe() {
        return jdbcUrl.replaceFirst("\\?.*$", "") + (user == null ? "" : " as " + user);
    }
}
