package cloud.dementia.server;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import cloud.dementia.db.ConnectionTarget;
import cloud.dementia.db.DatabaseUrl;
import cloud.dementia.db.pool.RegistrySettings;
import cloud.dementia.server.auth.ProtectedResource;

/**
 * Everything the server is configured with, read once at start from the environment, with the defaults in
 * {@code application.yaml}. Every value is validated here; a bad one is a {@link ConfigException} naming the
 * variable and what is wrong.
 *
 * @param port             HTTP port (0: any free port)
 * @param databaseUrl      external database, or empty for the embedded one
 * @param dataDir          embedded database files
 * @param apiKeys          API keys given in the environment (empty: generated and stored hashed)
 * @param adminUser        console user
 * @param adminPassword    console password given in the environment (empty: generated and stored hashed)
 * @param metricsAuth      whether {@code /metrics} needs an API key
 * @param metricsApplication the {@code application} tag on every meter
 * @param allowedOrigins   extra {@code Origin} values accepted on {@code /mcp}
 * @param applicationName  {@code ApplicationName} of every database connection
 * @param pools            pool registry settings
 * @param idleCleanupEvery idle-cleanup interval
 * @param preparedStatements whether the driver may prepare statements on the server
 * @param maxBodyBytes     largest request body accepted (413 above it), on every route but the import
 * @param importMaxBytes   largest body of {@code POST /admin/api/projects/{name}/import}, streamed into the database
 * @param sessionIdle      how long an unused session (its owner key and project) is remembered
 * @param headerTimeout    how long a request's line and headers may take to arrive (408 past it)
 * @param bodyTimeout      how long a request's body may take to arrive after its headers (408 past it)
 * @param embeddings       whether search uses the embedding model (search by meaning)
 * @param vectorCacheBytes the bound on the vectors cached for search by meaning ({@code DEMENTIA_VECTOR_CACHE_MB})
 * @param oauth            OAuth resource-server mode ({@code DEMENTIA_OAUTH_ISSUER}), or empty when off
 */
public record Settings(int port,
                       Optional<String> databaseUrl,
                       Path dataDir,
                       List<String> apiKeys,
                       String adminUser,
                       Optional<String> adminPassword,
                       boolean metricsAuth,
                       String metricsApplication,
                       List<String> allowedOrigins,
                       String applicationName,
                       RegistrySettings pools,
                       Duration idleCleanupEvery,
                       PreparedStatements preparedStatements,
                       int maxBodyBytes,
                       int importMaxBytes,
                       Duration sessionIdle,
                       Duration headerTimeout,
                       Duration bodyTimeout,
                       boolean embeddings,
                       long vectorCacheBytes,
                       Optional<ProtectedResource> oauth) {

    /** Whether the driver may prepare statements on the server ({@code DB_PREPARED_STATEMENTS}). */
    public enum PreparedStatements {
        /** on for a direct connection, off behind a pooler (found at start) */
        AUTO,
        ON,
        OFF
    }

    /** The variables of the contract, in the order docs/configuration.md lists them. */
    public static final List<String> VARIABLES = List.of("PORT", "DATABASE_URL", "DEMENTIA_DATA_DIR", "DEMENTIA_API_KEY",
            "DEMENTIA_API_KEYS", "DEMENTIA_ADMIN_USER", "DEMENTIA_ADMIN_PASSWORD", "DEMENTIA_METRICS_AUTH",
            "DEMENTIA_METRICS_APPLICATION", "DEMENTIA_ALLOWED_ORIGINS", "DB_APPLICATION_NAME", "DB_POOL_BUDGET", "DB_POOL_MAX_PER_SCHEMA", "DB_POOL_MIN_IDLE",
            "DB_POOL_ACQUIRE_TIMEOUT_MS", "DB_LEAK_THRESHOLD_MS", "DB_STATEMENT_TIMEOUT_MS", "DB_IDLE_CLEANUP_INTERVAL_S",
            "DB_IDLE_MAX_S", "DB_PREPARED_STATEMENTS", "DEMENTIA_MAX_BODY_BYTES", "DEMENTIA_IMPORT_MAX_BYTES", "DEMENTIA_SESSION_IDLE_S",
            "DEMENTIA_HEADER_TIMEOUT_MS", "DEMENTIA_BODY_TIMEOUT_MS", "DEMENTIA_EMBEDDINGS", "DEMENTIA_VECTOR_CACHE_MB",
            "DEMENTIA_OAUTH_ISSUER", "DEMENTIA_PUBLIC_URL", "DEMENTIA_OAUTH_JWKS_URL");

    /**
     * Reads the settings.
     *
     * @param env the environment (normally {@link System#getenv()})
     * @return validated settings
     * @throws ConfigException naming the first bad variable
     */
    public static Settings load(Map<String, String> env) {
        Config defaults = Config.just(ConfigSources.classpath("application.yaml")).get("defaults");
        Reader r = new Reader(env, defaults);
        int port = r.integer("PORT", 0, 65535);
        Optional<String> databaseUrl = r.optional("DATABASE_URL");
        databaseUrl.ifPresent(url -> {
            try {
                DatabaseUrl.parse(url, "check");
            } catch (IllegalArgumentException e) {
                throw new ConfigException("DATABASE_URL " + e.getMessage());
            }
        });
        // absolute from the start: the welcome text says exactly where the data is, whatever folder the jar ran from
        Path dataDir = Path.of(r.required("DEMENTIA_DATA_DIR")).toAbsolutePath().normalize();
        List<String> keys = new java.util.ArrayList<>();
        r.optional("DEMENTIA_API_KEY").ifPresent(keys::add);
        r.optional("DEMENTIA_API_KEYS").ifPresent(v -> Arrays.stream(v.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).forEach(keys::add));
        for (String key : keys) {
            if (key.length() < 16) {
                throw new ConfigException("DEMENTIA_API_KEY(S) holds a key of " + key.length()
                        + " characters: use at least 16 random characters");
            }
        }
        String adminUser = r.required("DEMENTIA_ADMIN_USER");
        if (!adminUser.matches("[A-Za-z0-9_.@-]{1,64}")) {
            throw new ConfigException("DEMENTIA_ADMIN_USER=" + adminUser + " is not a valid user name: use 1-64 letters, digits, _ . @ -");
        }
        Optional<String> adminPassword = r.optional("DEMENTIA_ADMIN_PASSWORD");
        adminPassword.ifPresent(p -> {
            if (p.length() < 8) {
                throw new ConfigException("DEMENTIA_ADMIN_PASSWORD is too short: use at least 8 characters");
            }
        });
        boolean metricsAuth = r.bool("DEMENTIA_METRICS_AUTH");
        String metricsApplication = r.required("DEMENTIA_METRICS_APPLICATION");
        if (!metricsApplication.matches("[A-Za-z0-9_.:-]{1,64}")) {
            throw new ConfigException("DEMENTIA_METRICS_APPLICATION=" + metricsApplication
                    + " is not a valid application tag: use 1-64 letters, digits, _ . : -");
        }
        List<String> origins = r.optional("DEMENTIA_ALLOWED_ORIGINS")
                .map(v -> Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList())
                .orElse(List.of());
        String appName = r.required("DB_APPLICATION_NAME");
        if (appName.length() > 63) {
            throw new ConfigException("DB_APPLICATION_NAME is " + appName.length() + " characters long: PostgreSQL keeps at most 63");
        }
        int budget = r.integer("DB_POOL_BUDGET", 2, 10_000, "at least 2 (one connection for the control schema, one for a project)");
        int maxPerSchema = r.integer("DB_POOL_MAX_PER_SCHEMA", 1, 10_000);
        if (maxPerSchema > budget) {
            throw new ConfigException("DB_POOL_MAX_PER_SCHEMA=" + maxPerSchema + " exceeds DB_POOL_BUDGET=" + budget
                    + ": one pool cannot hold more connections than the whole process may open");
        }
        int minIdle = r.integer("DB_POOL_MIN_IDLE", 0, 10_000);
        if (minIdle > budget) {
            // idle connections are the physical pool's, shared by every schema: the budget is their limit
            throw new ConfigException("DB_POOL_MIN_IDLE=" + minIdle + " exceeds DB_POOL_BUDGET=" + budget);
        }
        int acquireMs = r.integer("DB_POOL_ACQUIRE_TIMEOUT_MS", 250, 600_000);
        int leakMs = r.integer("DB_LEAK_THRESHOLD_MS", 1, 86_400_000);
        int statementMs = r.integer("DB_STATEMENT_TIMEOUT_MS", 1, 86_400_000);
        int cleanupS = r.integer("DB_IDLE_CLEANUP_INTERVAL_S", 1, 86_400);
        int idleMaxS = r.integer("DB_IDLE_MAX_S", 1, 604_800);
        RegistrySettings pools = new RegistrySettings(budget, maxPerSchema, minIdle, Duration.ofMillis(acquireMs),
                Duration.ofMillis(leakMs), Duration.ofMillis(statementMs), Duration.ofSeconds(idleMaxS));
        String prepared = r.required("DB_PREPARED_STATEMENTS");
        PreparedStatements preparedStatements = switch (prepared.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> PreparedStatements.AUTO;
            case "on", "true" -> PreparedStatements.ON;
            case "off", "false" -> PreparedStatements.OFF;
            default -> throw new ConfigException("DB_PREPARED_STATEMENTS=" + prepared + " is not auto, on or off");
        };
        int maxBodyBytes = r.integer("DEMENTIA_MAX_BODY_BYTES", 1024, 1 << 30);
        int importMaxBytes = r.integer("DEMENTIA_IMPORT_MAX_BYTES", 1024, Integer.MAX_VALUE);
        int sessionIdleS = r.integer("DEMENTIA_SESSION_IDLE_S", 60, 31_536_000);
        int headerTimeoutMs = r.integer("DEMENTIA_HEADER_TIMEOUT_MS", 100, 600_000);
        int bodyTimeoutMs = r.integer("DEMENTIA_BODY_TIMEOUT_MS", 100, 3_600_000);
        return new Settings(port, databaseUrl, dataDir, List.copyOf(keys), adminUser, adminPassword, metricsAuth, metricsApplication, origins,
                appName, pools, Duration.ofSeconds(cleanupS), preparedStatements, maxBodyBytes, importMaxBytes, Duration.ofSeconds(sessionIdleS),
                Duration.ofMillis(headerTimeoutMs), Duration.ofMillis(bodyTimeoutMs), embeddings(r.required("DEMENTIA_EMBEDDINGS")),
                r.integer("DEMENTIA_VECTOR_CACHE_MB", 1, 1 << 20) * 1024L * 1024L, oauth(r));
    }

    /**
     * OAuth resource-server mode: on when {@code DEMENTIA_OAUTH_ISSUER} is set, which then needs
     * {@code DEMENTIA_PUBLIC_URL} (the audience tokens must name). Every URL is https, or http on this machine only.
     */
    private static Optional<ProtectedResource> oauth(Reader r) {
        Optional<String> issuer = r.optional("DEMENTIA_OAUTH_ISSUER");
        Optional<String> jwks = r.optional("DEMENTIA_OAUTH_JWKS_URL");
        if (issuer.isEmpty()) {
            if (jwks.isPresent()) {
                throw new ConfigException("DEMENTIA_OAUTH_JWKS_URL is set but DEMENTIA_OAUTH_ISSUER is not: set the issuer to turn OAuth on");
            }
            return Optional.empty();
        }
        secureUrl("DEMENTIA_OAUTH_ISSUER", issuer.get());
        String publicUrl = r.optional("DEMENTIA_PUBLIC_URL").orElseThrow(() -> new ConfigException(
                "DEMENTIA_PUBLIC_URL is required with DEMENTIA_OAUTH_ISSUER: the URL clients reach this server at "
                        + "(for example https://memory.example.com), which access tokens must name as their audience"));
        URI origin = secureUrl("DEMENTIA_PUBLIC_URL", publicUrl);
        if (origin.getRawPath() != null && !origin.getRawPath().isEmpty() && !origin.getRawPath().equals("/")) {
            throw new ConfigException("DEMENTIA_PUBLIC_URL=" + publicUrl + " has a path: give the origin only (https://host[:port]), "
                    + "the server answers /mcp and /.well-known/oauth-protected-resource at its root");
        }
        Optional<URI> jwksUrl = jwks.map(u -> secureUrl("DEMENTIA_OAUTH_JWKS_URL", u));
        return Optional.of(new ProtectedResource(issuer.get(), origin.getScheme() + "://" + origin.getRawAuthority(), jwksUrl));
    }

    /** @return the URL, when it is absolute https (or http to this machine, for a local issuer) without query or fragment */
    private static URI secureUrl(String name, String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException(name + "=" + value + " is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
            throw new ConfigException(name + "=" + value + " is not an absolute http(s) URL");
        }
        boolean local = uri.getHost().equals("localhost") || uri.getHost().startsWith("127.") || uri.getHost().equals("[::1]");
        if (scheme.equals("http") && !local) {
            throw new ConfigException(name + "=" + value + " is not https: OAuth needs TLS (http is accepted for localhost only)");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ConfigException(name + "=" + value + " has a query or fragment: give the URL without them");
        }
        return uri;
    }

    private static boolean embeddings(String value) {
        return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new ConfigException("DEMENTIA_EMBEDDINGS=" + value + " is not on or off");
        };
    }

    /** @return where to connect when {@code DATABASE_URL} is set */
    public Optional<ConnectionTarget> externalTarget() {
        return databaseUrl.map(url -> DatabaseUrl.parse(url, applicationName));
    }

    private record Reader(Map<String, String> env, Config defaults) {

        String raw(String name) {
            String v = env.get(name);
            if (v == null) {
                v = defaults.get(name).asString().orElseThrow(() -> new IllegalStateException("application.yaml has no default for " + name));
            }
            return v.trim();
        }

        Optional<String> optional(String name) {
            String v = raw(name);
            return v.isEmpty() ? Optional.empty() : Optional.of(v);
        }

        String required(String name) {
            return optional(name).orElseThrow(() -> new ConfigException(name + " is empty"));
        }

        boolean bool(String name) {
            String v = raw(name).toLowerCase(java.util.Locale.ROOT);
            return switch (v) {
                case "true", "yes", "1", "on" -> true;
                case "false", "no", "0", "off" -> false;
                default -> throw new ConfigException(name + "=" + raw(name) + " is not a boolean: use true or false");
            };
        }

        int integer(String name, int min, int max) {
            return integer(name, min, max, "at least " + min);
        }

        int integer(String name, int min, int max, String minRule) {
            String v = raw(name);
            int n;
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new ConfigException(name + "=" + v + " is not a whole number");
            }
            if (n < min) {
                throw new ConfigException(name + "=" + n + " is too small: it must be " + minRule);
            }
            if (n > max) {
                throw new ConfigException(name + "=" + n + " is too large: it must be at most " + max);
            }
            return n;
        }
    }
}
