package cloud.dementia.admin;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.store.ConsoleSessionStore;

/**
 * One logged-in console, as one request sees it: who, its CSRF token, and the one-shot values for the next page (a
 * notice, a key just created), which live in the control schema because the next page may be served by another
 * replica.
 */
final class Session {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(Session.class.getName());
    private static final int IV_BYTES = 12;

    private final ConsoleSessionStore.Row row;
    /** The session id from the cookie: it derives the key that seals a revealed secret, and is never stored. */
    private final String id;
    private final ConsoleSessionStore store;

    Session(ConsoleSessionStore.Row row, String id, ConsoleSessionStore store) {
        this.row = row;
        this.id = id;
        this.store = store;
    }

    /** @return the hash of the session id the rows are keyed by (the id itself is only in the cookie) */
    String key() {
        return row.key();
    }

    String user() {
        return row.user();
    }

    /** @return the token every POST of this session must carry */
    String csrf() {
        return row.csrf();
    }

    Instant createdAt() {
        return row.createdAt();
    }

    Instant lastSeen() {
        return row.lastSeen();
    }

    /** Keeps a notice for the next page; lost if the control schema does not answer (a page must not fail for it). */
    void notice(Notice n) {
        try {
            store.notice(key(), new ConsoleSessionStore.Notice(n.ok(), n.text()));
        } catch (PoolException e) {
            LOG.warning("console notice not kept (the control schema did not answer): " + n.text());
        }
    }

    /** @return the pending notice, once; none while the control schema does not answer */
    Notice takeNotice() {
        try {
            return store.takeNotice(key()).map(n -> new Notice(n.ok(), n.text())).orElse(null);
        } catch (PoolException e) {
            return null;
        }
    }

    /** Keeps a key just created for the next page, which shows it once; stored sealed with a key only the cookie gives. */
    void reveal(String secret) {
        try {
            byte[] iv = new byte[IV_BYTES];
            RANDOM.nextBytes(iv);
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, iv);
            byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
            store.reveal(key(), ByteBuffer.allocate(IV_BYTES + sealed.length).put(iv).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every JDK", e);
        }
    }

    /** @return the key just created, once; {@code null} when there is none */
    String takeRevealed() {
        return store.takeRevealed(key()).map(sealed -> {
            try {
                Cipher cipher = cipher(Cipher.DECRYPT_MODE, java.util.Arrays.copyOf(sealed, IV_BYTES));
                return new String(cipher.doFinal(sealed, IV_BYTES, sealed.length - IV_BYTES), StandardCharsets.UTF_8);
            } catch (GeneralSecurityException e) {
                return null;
            }
        }).orElse(null);
    }

    private Cipher cipher(int mode, byte[] iv) throws GeneralSecurityException {
        byte[] key = MessageDigest.getInstance("SHA-256").digest(("dementia-console-reveal:" + id).getBytes(StandardCharsets.UTF_8));
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
        cipher.updateAAD(key().getBytes(StandardCharsets.UTF_8));
        return cipher;
    }
}
