package cloud.dementia.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Console sessions, in memory: a restart logs everyone out. Ids are 256 random bits; the map is keyed by their
 * SHA-256, so looking one up says nothing about the ids it holds. A session ends after an hour without a request or
 * twelve hours after login, whichever comes first.
 */
final class Sessions {

    static final Duration IDLE = Duration.ofHours(1);
    static final Duration LIFETIME = Duration.ofHours(12);
    static final int MAX = 1000;

    /** A new session and the id to put in its cookie. */
    record Created(String id, Session session) {
    }

    private final Map<String, Session> byKey = new ConcurrentHashMap<>();
    private final Clock clock;

    Sessions(Clock clock) {
        this.clock = clock;
    }

    Created create(String user) {
        Instant now = clock.instant();
        purge(now);
        String id = Secrets.token();
        Session session = new Session(Secrets.sha256(id), user, Secrets.token(), now);
        byKey.put(session.key(), session);
        return new Created(id, session);
    }

    /** @return the live session with this id, marked as used now */
    Optional<Session> find(String id) {
        if (id == null || id.isEmpty() || id.length() > 100) {
            return Optional.empty();
        }
        Session s = byKey.get(Secrets.sha256(id));
        if (s == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (expired(s, now)) {
            byKey.remove(s.key());
            return Optional.empty();
        }
        s.seen(now);
        return Optional.of(s);
    }

    void end(Session session) {
        byKey.remove(session.key());
    }

    int size() {
        return byKey.size();
    }

    private boolean expired(Session s, Instant now) {
        return s.lastSeen().plus(IDLE).isBefore(now) || s.createdAt().plus(LIFETIME).isBefore(now);
    }

    private void purge(Instant now) {
        byKey.values().removeIf(s -> expired(s, now));
        // bounded: a flood of logins pushes out the least recently used sessions, never grows the map without end
        while (byKey.size() >= MAX) {
            byKey.values().stream().min(Comparator.comparing(Session::lastSeen)).ifPresent(this::end);
        }
    }
}
