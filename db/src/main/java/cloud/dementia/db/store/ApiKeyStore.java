package cloud.dementia.db.store;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.pool.Row;
import cloud.dementia.db.schema.ControlSchema;

/**
 * Every API key the server accepts, in the control schema ({@code api_keys}), found by the hash of the key a request
 * presents: the scoped keys an operator creates (and revokes for good), the keys of {@code DEMENTIA_API_KEY(S)} (rows
 * {@code env-1}, {@code env-2}, ... replaced at start) and the key generated on first start (row {@code generated},
 * replaced by {@code reset-credentials}). A change is seen by every replica on its next request. Only hashes are stored.
 */
public final class ApiKeyStore {

    /**
     * One key as stored.
     *
     * @param projects empty for every project; otherwise names, or prefixes ending in {@code *}
     */
    public record ApiKey(String name, String hint, List<String> projects, boolean readOnly, Instant createdAt, String createdBy,
                         Instant expiresAt, Instant lastUsedAt, Instant revokedAt, String revokedBy, Origin origin) {

        /** @return whether the key opens requests at this instant */
        public boolean active(Instant now) {
            return revokedAt == null && (expiresAt == null || expiresAt.isAfter(now));
        }
    }

    /** Where a key comes from; the built-in ones (not {@link #OPERATOR}) reach every project, read-write. */
    public enum Origin {
        /** created in the console or {@code /admin/api} */
        OPERATOR,
        /** {@code DEMENTIA_API_KEY(S)}, stored at start */
        ENVIRONMENT,
        /** generated on first start, replaced by {@code reset-credentials} */
        GENERATED
    }

    /** A key name taken already. */
    public static final class KeyNameTakenException extends StoreRuleException {
        public KeyNameTakenException(String name) {
            super("a key named `" + name + "` exists already");
        }
    }

    /** The name of the generated key's row. */
    public static final String GENERATED = "generated";
    private static final java.util.regex.Pattern RESERVED = java.util.regex.Pattern.compile("generated|env-[0-9]+");
    private static final String COLUMNS = "name, hint, projects, read_only, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by, "
            + "origin";
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
     * @throws StoreRuleException    a bad or reserved name, scope or expiry
     * @throws KeyNameTakenException when the name is taken
     */
    public Created create(String name, List<String> projects, boolean readOnly, Instant expiresAt, String actor) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new StoreRuleException("a key name is 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit; got `"
                    + name + "`");
        }
        if (reserved(name)) {
            throw new StoreRuleException("`" + name + "` is reserved: `generated` and `env-1`, `env-2`, ... name the keys of the first start "
                    + "and of DEMENTIA_API_KEY(S)");
        }
        List<String> scope = projects == null ? List.of() : projects.stream().map(String::strip).filter(p -> !p.isEmpty()).distinct().toList();
        for (String p : scope) {
            if (!SCOPE.matcher(p).matches()) {
                throw new StoreRuleException("`" + p + "` is not a project name or prefix (letters, digits, '_', '-', space, "
                        + "optionally ending in '*')");
            }
        }
        if (scope.contains("*")) {
            scope = List.of();
        }
        if (expiresAt != null && !expiresAt.isAfter(Instant.now())) {
            throw new StoreRuleException("the expiry " + expiresAt + " is not in the future");
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

    /** @return whether the name is one of the built-in keys' ({@code generated}, {@code env-1}, ...), which no operator may take */
    public static boolean reserved(String name) {
        return name != null && RESERVED.matcher(name).matches();
    }

    /** @return every key an operator created, revoked ones included, newest first */
    public List<ApiKey> list() {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query("SELECT " + COLUMNS
                + " FROM {s}.api_keys WHERE origin = 'operator' ORDER BY created_at DESC, name", ApiKeyStore::map));
    }

    /** @return the key an operator created under this name */
    public Optional<ApiKey> find(String name) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT " + COLUMNS
                + " FROM {s}.api_keys WHERE name = ? AND origin = 'operator'", ApiKeyStore::map, name));
    }

    /**
     * The active key with this hash, if any; notes that it was used (written at most once a minute per key).
     */
    public Optional<ApiKey> authenticate(String hash) {
        Optional<Found> found = registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne("SELECT " + COLUMNS
                        + ", last_used_at IS NULL OR last_used_at < now() - interval '" + TOUCH_EVERY + "' FROM {s}.api_keys "
                        + "WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
                r -> new Found(map(r), r.bool(12)), hash));
        found.filter(Found::stale).ifPresent(f -> registry.inStatement(ControlSchema.NAME,
                tx -> tx.update("UPDATE {s}.api_keys SET last_used_at = now() WHERE name = ?", f.key().name())));
        return found.map(Found::key);
    }

    private record Found(ApiKey key, boolean stale) {
    }

    /**
     * Revokes a key an operator created, for good.
     *
     * @return the key as it was before, when it was active
     */
    public Optional<ApiKey> revoke(String name, String actor) {
        return registry.inTransaction(ControlSchema.NAME, tx -> {
            Optional<ApiKey> before = tx.queryOne("SELECT " + COLUMNS + " FROM {s}.api_keys "
                            + "WHERE name = ? AND origin = 'operator' AND revoked_at IS NULL FOR UPDATE",
                    ApiKeyStore::map, name);
            if (before.isPresent()) {
                tx.update("UPDATE {s}.api_keys SET revoked_at = now(), revoked_by = ? WHERE name = ?", actor, name);
            }
            return before;
        });
    }

    /**
     * The keys of {@code DEMENTIA_API_KEY(S)} become the rows {@code env-1}, {@code env-2}, ... (in their order): a row
     * whose key changed gets the new hash, rows beyond the list go, and so does the generated key, which the environment
     * replaces. One transaction, so a replica starting at the same moment sees the old rows or the new ones.
     *
     * @param hashes the keys' hashes ({@link #hash}), without duplicates
     */
    public void useEnvironmentKeys(List<String> hashes) {
        registry.inTransaction(ControlSchema.NAME, tx -> {
            lockBuiltIns(tx);
            tx.update("DELETE FROM {s}.api_keys WHERE origin = 'generated' OR (origin = 'environment' AND name <> ALL (?::text[]))",
                    (Object) environmentNames(hashes.size()));
            for (int i = 0; i < hashes.size(); i++) {
                // a hash may move between names when the list is reordered: free it first, the unique index wants one owner
                tx.update("DELETE FROM {s}.api_keys WHERE origin = 'environment' AND hash = ? AND name <> ?", hashes.get(i), "env-" + (i + 1));
                // a key kept keeps its row's history (created, last used); a changed one starts afresh
                tx.update("INSERT INTO {s}.api_keys (name, hash, hint, origin, created_by) VALUES (?, ?, ?, 'environment', 'environment') "
                                + "ON CONFLICT (name) DO UPDATE SET hash = EXCLUDED.hash, hint = EXCLUDED.hint, "
                                + "created_at = CASE WHEN api_keys.hash = EXCLUDED.hash THEN api_keys.created_at ELSE now() END, "
                                + "last_used_at = CASE WHEN api_keys.hash = EXCLUDED.hash THEN api_keys.last_used_at END",
                        "env-" + (i + 1), hashes.get(i), hashes.size() == 1 ? "DEMENTIA_API_KEY" : "DEMENTIA_API_KEYS #" + (i + 1));
            }
            return null;
        });
    }

    /**
     * No key in the environment: its rows go, and the generated key is stored unless there is one.
     *
     * @param hash the hash of a freshly generated key
     * @param hint what the console may show of it
     * @return whether this call stored it (on a first start; a replica starting at once may have won)
     */
    public boolean useGeneratedKey(String hash, String hint) {
        return registry.inTransaction(ControlSchema.NAME, tx -> {
            lockBuiltIns(tx);
            tx.update("DELETE FROM {s}.api_keys WHERE origin = 'environment'");
            return tx.update("INSERT INTO {s}.api_keys (name, hash, hint, origin, created_by) VALUES (?, ?, ?, 'generated', 'first start') "
                    + "ON CONFLICT (name) DO NOTHING", GENERATED, hash, hint) == 1;
        });
    }

    /**
     * {@code reset-credentials}: the generated key's row gets this hash (the row is created if there is none), so the old
     * key is refused from the next request on, on every replica.
     */
    public void replaceGeneratedKey(String hash, String hint, String actor) {
        registry.inTransaction(ControlSchema.NAME, tx -> {
            lockBuiltIns(tx);
            return tx.update("INSERT INTO {s}.api_keys (name, hash, hint, origin, created_by) VALUES (?, ?, ?, 'generated', ?) "
                    + "ON CONFLICT (name) DO UPDATE SET hash = EXCLUDED.hash, hint = EXCLUDED.hint, created_at = now(), "
                    + "created_by = EXCLUDED.created_by, last_used_at = NULL", GENERATED, hash, hint, actor);
        });
    }

    /** @return whether the servers take their keys from {@code DEMENTIA_API_KEY(S)} (as the last one to start stored them) */
    public boolean environmentKeysInUse() {
        return registry.inStatement(ControlSchema.NAME,
                tx -> tx.queryOne("SELECT 1 FROM {s}.api_keys WHERE origin = 'environment' LIMIT 1", r -> r.integer(1))).isPresent();
    }

    /** Replicas settling the built-in keys at once take turns; requests reading the table are not held up. */
    private static void lockBuiltIns(cloud.dementia.db.pool.Tx tx) throws java.sql.SQLException {
        tx.update("LOCK TABLE {s}.api_keys IN SHARE ROW EXCLUSIVE MODE");
    }

    private static String[] environmentNames(int n) {
        String[] names = new String[n];
        for (int i = 0; i < n; i++) {
            names[i] = "env-" + (i + 1);
        }
        return names;
    }

    private static ApiKey map(Row r) {
        List<String> projects = r.strings(3);
        return new ApiKey(r.string(1), r.string(2), projects == null ? List.of() : projects, r.bool(4), r.instant(5), r.string(6),
                r.instant(7), r.instant(8), r.instant(9), r.string(10), Origin.valueOf(r.string(11).toUpperCase(java.util.Locale.ROOT)));
    }
}
