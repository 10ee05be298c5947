package cloud.dementia.db.store;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Row;
import cloud.dementia.db.schema.ControlSchema;

/**
 * Scoped API keys in the control schema ({@code api_keys}): created by an operator, found by the hash of the key a
 * request presents, revoked for good. Never sees a key in clear text.
 */
public final class ApiKeyStore {

    /**
     * One key as stored.
     *
     * @param projects empty for every project; otherwise names, or prefixes ending in {@code *}
     */
    public record ApiKey(String name, String hint, List<String> projects, boolean readOnly, Instant createdAt, String createdBy,
                         Instant expiresAt, Instant lastUsedAt, Instant revokedAt, String revokedBy) {

        /** @return whether the key opens requests at this instant */
        public boolean active(Instant now) {
            return revokedAt == null && (expiresAt == null || expiresAt.isAfter(now));
        }
    }

    /** A key name taken already. */
    public static final class KeyNameTakenException extends IllegalArgumentException {
        public KeyNameTakenException(String name) {
            super("a key named `" + name + "` exists already");
        }
    }

    private static final String COLUMNS = "name, hint, projects, read_only, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by";
    /** last_used_at is written at most this often per key, so a busy key does not write on every request. */
    private static final String TOUCH_EVERY = "1 minute";

    private final PoolRegistry registry;

    public ApiKeyStore(PoolRegistry registry) {
        this.registry = registry;
    }

    /** A key just created: the stored record, and the key itself in clear text, to be shown once. */
    public record Created(ApiKey key, String secret) {
    }

    /** What begins every key created here. */
    public static final String PREFIX = "dmk_";
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final java.util.regex.Pattern SCOPE = java.util.regex.Pattern.compile("[A-Za-z0-9_\\- ]{1,63}\\*?|\\*");

    /** @return {@code sha256:<hex>} of a key: what is stored and looked up */
    public static String hash(String key) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "sha256:" + java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Creates a key: {@code dmk_} and 43 URL-safe characters (32 random bytes), of which only the hash is stored.
     *
     * @param name      a name for people ({@code [A-Za-z0-9][A-Za-z0-9_.-]*}, at most 63 characters), unique for good
     * @param projects  empty for every project; otherwise project names, or prefixes ending in {@code *}
     * @param expiresAt when it stops working, or {@code null}
     * @throws IllegalArgumentException a bad name, scope or expiry
     * @throws KeyNameTakenException    when the name is taken
     */
    public Created create(String name, List<String> projects, boolean readOnly, Instant expiresAt, String actor) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a key name is 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit; got `"
                    + name + "`");
        }
        List<String> scope = projects == null ? List.of() : projects.stream().map(String::strip).filter(p -> !p.isEmpty()).distinct().toList();
        for (String p : scope) {
            if (!SCOPE.matcher(p).matches()) {
                throw new IllegalArgumentException("`" + p + "` is not a project name or prefix (letters, digits, '_', '-', space, "
                        + "optionally ending in '*')");
            }
        }
        if (scope.contains("*")) {
            scope = List.of();
        }
        if (expiresAt != null && !expiresAt.isAfter(Instant.now())) {
            throw new IllegalArgumentException("the expiry " + expiresAt + " is not in the future");
        }
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String secret = PREFIX + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        ApiKey key = insert(name, hash(secret), secret.substring(0, PREFIX.length() + 4) + "…", scope, readOnly, expiresAt, actor);
        return new Created(key, secret);
    }

    private ApiKey insert(String name, String hash, String hint, List<String> projects, boolean readOnly, Instant expiresAt, String actor) {
        String[] scope = projects == null || projects.isEmpty() ? null : projects.toArray(String[]::new);
        Optional<ApiKey> created = registry.inTransaction(ControlSchema.NAME, tx -> tx.queryOne(
                "INSERT INTO {s}.api_keys (name, hash, hint, projects, read_only, expires_at, created_by) VALUES (?, ?, ?, ?::text[], ?, ?, ?) "
                        + "ON CONFLICT (name) DO NOTHING RETURNING " + COLUMNS,
                ApiKeyStore::map, name, hash, hint, scope, readOnly, expiresAt == null ? null : Timestamp.from(expiresAt), actor));
        return created.orElseThrow(() -> new KeyNameTakenException(name));
    }

    /** @return every key, revoked ones included, newest first */
    public List<ApiKey> list() {
        return registry.inStatement(ControlSchema.NAME,
                tx -> tx.query("SELECT " + COLUMNS + " FROM {s}.api_keys ORDER BY created_at DESC, name", ApiKeyStore::map));
    }

    public Optional<ApiKey> find(String name) {
        return registry.inStatement(ControlSchema.NAME,
                tx -> tx.queryOne("SELECT " + COLUMNS + " FROM {s}.api_keys WHERE name = ?", ApiKeyStore::map, name));
    }

    /**
     * The active key with this hash, if any; notes that it was used (written at most once a minute per key).
     */
    public Optional<ApiKey> authenticate(String hash) {
        Optional<Found> found = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT " + COLUMNS
                        + ", last_used_at IS NULL OR last_used_at < now() - interval '" + TOUCH_EVERY + "' FROM {s}.api_keys "
                        + "WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
                r -> new Found(map(r), r.bool(11)), hash));
        found.filter(Found::stale).ifPresent(f -> registry.inStatement(ControlSchema.NAME,
                tx -> tx.update("UPDATE {s}.api_keys SET last_used_at = now() WHERE name = ?", f.key().name())));
        return found.map(Found::key);
    }

    private record Found(ApiKey key, boolean stale) {
    }

    /**
     * Revokes a key for good.
     *
     * @return the key as it was before, when it was active
     */
    public Optional<ApiKey> revoke(String name, String actor) {
        return registry.inTransaction(ControlSchema.NAME, tx -> {
            Optional<ApiKey> before = tx.queryOne("SELECT " + COLUMNS + " FROM {s}.api_keys WHERE name = ? AND revoked_at IS NULL FOR UPDATE",
                    ApiKeyStore::map, name);
            if (before.isPresent()) {
                tx.update("UPDATE {s}.api_keys SET revoked_at = now(), revoked_by = ? WHERE name = ?", actor, name);
            }
            return before;
        });
    }

    private static ApiKey map(Row r) {
        List<String> projects = r.strings(3);
        return new ApiKey(r.string(1), r.string(2), projects == null ? List.of() : projects, r.bool(4), r.instant(5), r.string(6),
                r.instant(7), r.instant(8), r.instant(9), r.string(10));
    }
}
