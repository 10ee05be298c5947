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
 * @param direct          whether the connections reach PostgreSQL itself, no pooler between (found at start): then a
 *                        connection's session is ours alone, and settings that are the same for every unit of work may be
 *                        given to it when it opens
 * @param serverPrepared  whether the driver may name server-side prepared statements
 */
public record ConnectionTarget(String jdbcUrl, String user, String password, String applicationName, boolean direct,
                               boolean serverPrepared) {

    public ConnectionTarget {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(applicationName, "applicationName");
    }

    /** A target assumed to be behind a pooler, that never names server-side prepared statements: safe anywhere. */
    public ConnectionTarget(String jdbcUrl, String user, String password, String applicationName) {
        this(jdbcUrl, user, password, applicationName, false, false);
    }

    public ConnectionTarget withApplicationName(String name) {
        return new ConnectionTarget(jdbcUrl, user, password, name, direct, serverPrepared);
    }

    public ConnectionTarget withDirect(boolean noPooler) {
        return new ConnectionTarget(jdbcUrl, user, password, applicationName, noPooler, serverPrepared);
    }

    public ConnectionTarget withServerPrepared(boolean allowed) {
        return new ConnectionTarget(jdbcUrl, user, password, applicationName, direct, allowed);
    }

    /**
     * Driver properties for every physical connection. Unless {@link #serverPrepared}, {@code prepareThreshold=0}
     * keeps the driver from naming server-side prepared statements, which a transaction-mode pooler (PgBouncer before
     * 1.21, Neon) would hand to another client's backend. On a direct connection the driver's default (a statement run
     * five times on a connection is prepared there) saves the server parsing and planning it again.
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
        if (!serverPrepared) {
            props.setProperty("prepareThreshold", "0");
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("tcpKeepAlive", "true");
        return props;
    }

    /** The URL with host and database only, safe for logs and messages (never the password). */
    public String describe() {
        return jdbcUrl.replaceFirst("\\?.*$", "") + (user == null ? "" : " as " + user);
    }
}
