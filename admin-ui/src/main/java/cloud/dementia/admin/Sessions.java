package cloud.dementia.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import cloud.dementia.db.store.ConsoleSessionStore;

/**
 * Console sessions, kept in the control schema ({@link ConsoleSessionStore}): every replica knows every login, and a
 * restart signs nobody out. Ids are 256 random bits; rows are keyed by their SHA-256, so the table says nothing about
 * the ids (only the browser's cookie holds one). A session ends after an hour without a request or twelve hours after
 * login, whichever comes first.
 */
final class Sessions {

    static final Duration IDLE = Duration.ofHours(1);
    static final Duration LIFETIME = Duration.ofHours(12);
    static final int MAX = 1000;

    /** A new session and the id to put in its cookie. */
    record Created(String id, Session session) {
    }

    private final ConsoleSessionStore store;
    private final Clock clock;

    Sessions(ConsoleSessionStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    Created create(String user) {
        Instant now = clock.instant();
        // bounded: ended sessions go, and a flood of logins pushes out the least recently used, never grows without end
        store.purge(now.minus(IDLE), now.minus(LIFETIME), MAX - 1);
        String id = Secrets.token();
        ConsoleSessionStore.Row row = new ConsoleSessionStore.Row(Secrets.sha256(id), user, Secrets.token(), now, now);
        store.create(row);
        return new Created(id, new Session(row, id, store));
    }

    /** @return the live session with this id, marked as used now */
    Optional<Session> find(String id) {
        if (id == null || id.isEmpty() || id.length() > 100) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        return store.use(Secrets.sha256(id), now, now.minus(IDLE), now.minus(LIFETIME)).map(row -> new Session(row, id, store));
    }

    void end(Session session) {
        store.end(session.key());
    }

    int size() {
        return store.size();
    }
}
