package cloud.dementia.db.store;

import java.util.List;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/** Hashed credentials in the control schema. Never sees a secret in clear text. */
public final class CredentialStore {

    private final PoolRegistry registry;

    public CredentialStore(PoolRegistry registry) {
        this.registry = registry;
    }

    /** @return the stored API key hashes */
    public List<String> apiKeyHashes() {
        return registry.inStatement(ControlSchema.NAME,
                tx -> tx.query("SELECT hash FROM {s}.credentials WHERE kind = 'api_key' ORDER BY created_at", r -> r.string(1)));
    }

    /**
     * Stores an API key hash under a label unless one with that label exists (another replica may have won).
     *
     * @return whether this call stored it
     */
    public boolean addApiKeyHash(String label, String hash) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "INSERT INTO {s}.credentials (kind, name, hash) VALUES ('api_key', ?, ?) ON CONFLICT DO NOTHING", label, hash)) == 1;
    }

    /** @return the stored password hash of the console user */
    public Optional<String> adminHash(String user) {
        return registry.inStatement(ControlSchema.NAME,
                tx -> tx.queryOne("SELECT hash FROM {s}.credentials WHERE kind = 'admin' AND name = ?", r -> r.string(1), user));
    }

    /**
     * Stores the console user's password hash unless the user has one.
     *
     * @return whether this call stored it
     */
    public boolean addAdminHash(String user, String hash) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "INSERT INTO {s}.credentials (kind, name, hash) VALUES ('admin', ?, ?) ON CONFLICT DO NOTHING", user, hash)) == 1;
    }

    /**
     * Replaces every stored API key with this one (the lost ones stop opening anything once servers restart), in one
     * transaction.
     */
    public void replaceApiKeyHashes(String label, String hash) {
        registry.inTransaction(ControlSchema.NAME, tx -> {
            tx.update("DELETE FROM {s}.credentials WHERE kind = 'api_key'");
            return tx.update("INSERT INTO {s}.credentials (kind, name, hash) VALUES ('api_key', ?, ?)", label, hash);
        });
    }

    /** Sets the console user's password hash, and signs every console session out (on every replica). */
    public void replaceAdminHash(String user, String hash) {
        registry.inTransaction(ControlSchema.NAME, tx -> {
            tx.update("DELETE FROM {s}.credentials WHERE kind = 'admin' AND name = ?", user);
            tx.update("DELETE FROM {s}.console_sessions");
            return tx.update("INSERT INTO {s}.credentials (kind, name, hash) VALUES ('admin', ?, ?)", user, hash);
        });
    }
}
