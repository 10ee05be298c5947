package cloud.dementia.db;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the two spellings of {@code DATABASE_URL} that hosts hand out: a JDBC URL
 * ({@code jdbc:postgresql://host:5432/db?user=u&password=p}) and the libpq URI
 * ({@code postgres://user:pa%40ss@host:5432/db?sslmode=require}, as Neon, Heroku and most hosts print it).
 * User and password in the URI may be percent-encoded; they are decoded here and passed to the driver as
 * properties, never left in the URL.
 */
public final class DatabaseUrl {

    private DatabaseUrl() {
    }

    /**
     * @param url             the configured value
     * @param applicationName application name for every connection
     * @return the connection target
     * @throws IllegalArgumentException with a message that says what is wrong (never echoing the password)
     */
    public static ConnectionTarget parse(String url, String applicationName) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("is empty");
        }
        String trimmed = url.trim();
        if (trimmed.startsWith("jdbc:")) {
            if (!trimmed.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("is a JDBC URL for another database: only jdbc:postgresql: is supported");
            }
            if (!trimmed.startsWith("jdbc:postgresql://")) {
                throw new IllegalArgumentException("must look like jdbc:postgresql://host:5432/database");
            }
            // validate host/port/database the same way as the URI form
            URI uri = toUri(trimmed.substring("jdbc:".length()));
            requireHost(uri);
            return new ConnectionTarget(trimmed, null, null, applicationName);
        }
        if (!(trimmed.startsWith("postgres://") || trimmed.startsWith("postgresql://"))) {
            throw new IllegalArgumentException(
                    "must start with postgres://, postgresql:// or jdbc:postgresql:// (for example postgres://user:password@host:5432/db?sslmode=require)");
        }
        URI uri = toUri(trimmed);
        requireHost(uri);
        String user = null;
        String password = null;
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && !userInfo.isEmpty()) {
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
        }
        String path = uri.getRawPath();
        String database = (path == null || path.length() <= 1) ? null : decode(path.substring(1));
        if (database == null || database.isBlank() || database.contains("/")) {
            throw new IllegalArgumentException("names no database (expected .../database after the host)");
        }
        StringBuilder jdbc = new StringBuilder("jdbc:postgresql://")
                .append(uri.getHost().contains(":") && !uri.getHost().startsWith("[") ? "[" + uri.getHost() + "]" : uri.getHost());
        if (uri.getPort() > 0) {
            jdbc.append(':').append(uri.getPort());
        }
        jdbc.append('/').append(database);
        List<String> params = new ArrayList<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                switch (key) {
                    case "user" -> user = value;
                    case "password" -> password = value;
                    // libpq spelling -> pgjdbc spelling
                    case "application_name" -> { }
                    case "connect_timeout" -> params.add("connectTimeout=" + value);
                    case "sslrootcert" -> params.add("sslrootcert=" + value);
                    // Neon's pooled endpoints need the endpoint id as an option; pass libpq options through
                    default -> params.add(encode(key) + "=" + encode(value));
                }
            }
        }
        if (!params.isEmpty()) {
            jdbc.append('?').append(String.join("&", params));
        }
        return new ConnectionTarget(jdbc.toString(), user, password, applicationName);
    }

    private static URI toUri(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("is not a valid URL (" + e.getReason()
                    + "; percent-encode special characters in the user and password, for example @ as %40)");
        }
    }

    private static void requireHost(URI uri) {
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new IllegalArgumentException("names no host (expected ...://host:5432/database)");
        }
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("has a malformed percent-escape");
        }
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
