package cloud.dementia.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import cloud.dementia.db.pool.PoolException;
import cloud.dementia.db.store.ConsoleSessionStore;

/**
 * Console sessions, kept in the control schema ({@link ConsoleSessionStore}): every replica knows every login, and a
 * restart signs nobody out. Ids are 256 random bits; rows are keyed by their SHA-256, so the table says nothing about
 * the ids (only the browser's cookie holds one). A session ends after an hour without a request or twelve hours after
 * login, whichever comes first.
 * <p>
 * The console matters most when the database is in trouble, so a session does not end because the control schema
 * cannot be reached: the sessions this process opened or saw are also kept here, and while the database does not
 * answer they stay valid on this replica within the same limits (a notice for the next page may be lost meanwhile).
 */
final class Sessions {

    static final Duration IDLE = Duration.ofHours(1);
    static final Duration LIFETIME = Duration.ofHours(12);
    static final int MAX = 1000;

    /** A new session and the id to put in its cookie. */
    record Created(String id, Session session) {
    }

    private static final Logger LOG = Logger.getLogger(Sessions.class.getName());

    private final ConsoleSessionStore store;
    private final Clock clock;
    /** The sessions this process opened or saw, by key: what it falls back on while the database does not answer. */
    private final Map<String, ConsoleSessionStore.Row> seen = new ConcurrentHashMap<>();

    Sessions(ConsoleSessionStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    Created create(String user) {
        Instant now = clock.instant();
        String id = Secrets.token();
        ConsoleSessionStore.Row row = new ConsoleSessionStore.Row(Secrets.sha256(id), user, Secrets.token(), now, now);
        try {
            // bounded: ended sessions go, and a flood of logins pushes out the least recently used, never grows without end
            store.purge(now.minus(IDLE), now.minus(LIFETIME), MAX - 1);
            store.create(row);
        } catch (PoolException e) {
            LOG.warning("console session for " + user + " kept by this replica only: the control schema did not answer: " + e.getMessage());
        }
        remember(row, now);
        return new Created(id, new Session(row, id, store));
    }

    /** @return the live session with this id, marked as used now */
    Optional<Session> find(String id) {
        if (id == null || id.isEmpty() || id.length() > 100) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        String key = Secrets.sha256(id);
        Optional<ConsoleSessionStore.Row> live;
        try {
            live = store.use(key, now, now.minus(IDLE), now.minus(LIFETIME));
        } catch (PoolException e) {
            ConsoleSessionStore.Row known = seen.get(key);
            live = known == null || expired(known, now) ? Optional.empty()
                    : Optional.of(new ConsoleSessionStore.Row(known.key(), known.user(), known.csrf(), known.createdAt(), now));
        }
        live.ifPresentOrElse(row -> remember(row, now), () -> seen.remove(key));
        return live.map(row -> new Session(row, id, store));
    }

    void end(Session session) {
        seen.remove(session.key());
        try {
            store.end(session.key());
        } catch (PoolException e) {
            LOG.warning("console logout not recorded in the control schema (it did not answer): other replicas keep the session until it expires");
        }
    }

    private void remember(ConsoleSessionStore.Row row, Instant now) {
        if (seen.size() >= MAX) {
            seen.values().removeIf(r -> expired(r, now));
            if (seen.size() >= MAX) {
                seen.clear();
            }
        }
        seen.put(row.key(), row);
    }

    private static boolean expired(ConsoleSessionStore.Row r, Instant now) {
        return r.lastSeen().plus(IDLE).isBefore(now) || r.createdAt().plus(LIFETIME).isBefore(now);
    }

    int size() {
        return store.size();
    }
}
