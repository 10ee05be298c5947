package cloud.dementia.db.store;

import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/** The console login's hashed password in the control schema (API keys: {@link ApiKeyStore}). Never sees a secret in clear text. */
public final class CredentialStore {

    private final PoolRegistry registry;

    public CredentialStore(PoolRegistry registry) {
        this.registry = registry;
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

    /** Sets the console user's password hash, and signs every console session out (on every replica). */
    public void replaceAdminHash(String user, String hash) {
        registry.inTransaction(ControlSchema.NAME, tx -> {
            tx.update("DELETE FROM {s}.credentials WHERE kind = 'admin' AND name = ?", user);
            tx.update("DELETE FROM {s}.console_sessions");
            return tx.update("INSERT INTO {s}.credentials (kind, name, hash) VALUES ('admin', ?, ?)", user, hash);
        });
    }
}
