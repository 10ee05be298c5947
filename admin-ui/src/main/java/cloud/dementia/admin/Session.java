package cloud.dementia.admin;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/** One logged-in console: who, its CSRF token, when it was last used, and a notice for the next page. */
final class Session {

    private final String key;
    private final String user;
    private final String csrf;
    private final Instant createdAt;
    private volatile Instant lastSeen;
    private final AtomicReference<Notice> notice = new AtomicReference<>();
    private final AtomicReference<String> revealed = new AtomicReference<>();

    Session(String key, String user, String csrf, Instant createdAt) {
        this.key = key;
        this.user = user;
        this.csrf = csrf;
        this.createdAt = createdAt;
        this.lastSeen = createdAt;
    }

    /** @return the hash of the session id the map is keyed by (the id itself is only in the cookie) */
    String key() {
        return key;
    }

    String user() {
        return user;
    }

    /** @return the token every POST of this session must carry */
    String csrf() {
        return csrf;
    }

    Instant createdAt() {
        return createdAt;
    }

    Instant lastSeen() {
        return lastSeen;
    }

    void seen(Instant at) {
        lastSeen = at;
    }

    void notice(Notice n) {
        notice.set(n);
    }

    /** Keeps a key just created for the next page, which shows it once. */
    void reveal(String secret) {
        revealed.set(secret);
    }

    /** @return the key just created, once */
    String takeRevealed() {
        return revealed.getAndSet(null);
    }

    /** @return the pending notice, once */
    Notice takeNotice() {
        return notice.getAndSet(null);
    }
}
