package cloud.dementia.server.auth;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import cloud.dementia.db.schema.Projects;

/**
 * A session belongs to the API key that opened it: an MCP session to the key that sent {@code initialize} (another key
 * presenting its id is refused); an {@code /execute} session id is in its key's own namespace. So no key can act as
 * another's session or switch its project. Ownership is kept in the control schema (every replica sees it)
 * and cached here (it never changes once set); a session unused for {@code DEMENTIA_SESSION_IDLE_S} is forgotten, and
 * each key keeps at most {@value #KEEP_PER_OWNER} sessions, so invented ids cannot pile up.
 */
public final class SessionGuard {

    /** What a presented session id is to a caller. */
    public enum Verdict {
        /** the caller's own */
        OWN,
        /** another key's */
        OTHERS,
        /** not known (never opened, or forgotten) */
        UNKNOWN
    }

    static final int KEEP_PER_OWNER = 1000;
    private static final Logger LOG = Logger.getLogger(SessionGuard.class.getName());
    /** A used session's row is touched at most this often, so a busy session does not write on every call. */
    private static final long TOUCH_NANOS = Duration.ofMinutes(1).toNanos();
    /** The cache is only a cache: past this many entries it starts over from the database. */
    private static final int CACHE_MAX = 100_000;

    private record Known(String owner, long touchedNanos) {
    }

    private final Projects projects;
    private final Duration idle;
    private final ConcurrentHashMap<String, Known> known = new ConcurrentHashMap<>();

    public SessionGuard(Projects projects, Duration idle) {
        this.projects = projects;
        this.idle = idle;
    }

    /** Records a session the caller just opened (MCP {@code initialize}). */
    public void opened(String sessionId, Caller caller) {
        if (projects.claimSession(sessionId, caller.owner())) {
            remember(sessionId, caller.owner());
        }
    }

    /**
     * An MCP session id: it must have been opened, by this caller's key.
     */
    public Verdict mcp(String sessionId, Caller caller) {
        return check(sessionId, caller, false);
    }

    /**
     * An {@code /execute} session id, in the caller's key's own namespace: the id of an MCP session the key opened is
     * that session (so {@code /execute} and MCP share its project); any other id is the key's own
     * ({@code <owner>/<id>}), so two keys using the same id never meet, and no key reaches another's session.
     *
     * @return the session id the tools see
     */
    public String execute(String sessionId, Caller caller) {
        if (isOwn(sessionId, caller)) {
            return sessionId;
        }
        String own = caller.owner() + "/" + sessionId;
        if (check(own, caller, true) != Verdict.OWN) {
            throw new IllegalStateException("the namespaced session " + own + " is not the caller's");
        }
        return own;
    }

    /** @return whether the id is a session the caller's key holds (known here or in the control schema), without claiming it */
    private boolean isOwn(String sessionId, Caller caller) {
        Known k = known.get(sessionId);
        if (k != null && System.nanoTime() - k.touchedNanos() < idle.toNanos()) {
            return k.owner().equals(caller.owner());
        }
        Optional<String> owner = projects.sessionOwner(sessionId);
        if (owner.isPresent() && owner.get().equals(caller.owner())) {
            remember(sessionId, caller.owner());
            return true;
        }
        return false;
    }

    private Verdict check(String sessionId, Caller caller, boolean claimNew) {
        long now = System.nanoTime();
        Known k = known.get(sessionId);
        if (k != null && now - k.touchedNanos() < idle.toNanos()) {
            if (!k.owner().equals(caller.owner())) {
                return Verdict.OTHERS;
            }
            if (now - k.touchedNanos() > TOUCH_NANOS && projects.claimSession(sessionId, caller.owner())) {
                remember(sessionId, caller.owner());
            }
            return Verdict.OWN;
        }
        Optional<String> owner = projects.sessionOwner(sessionId);
        if (owner.isEmpty() && !claimNew) {
            known.remove(sessionId);
            return Verdict.UNKNOWN;
        }
        if (owner.isPresent() && !owner.get().isEmpty() && !owner.get().equals(caller.owner())) {
            remember(sessionId, owner.get());
            return Verdict.OTHERS;
        }
        if (projects.claimSession(sessionId, caller.owner())) {
            remember(sessionId, caller.owner());
            return Verdict.OWN;
        }
        return Verdict.OTHERS;
    }

    private void remember(String sessionId, String owner) {
        if (known.size() >= CACHE_MAX) {
            known.clear();
        }
        known.put(sessionId, new Known(owner, System.nanoTime()));
    }

    /** Forgets idle sessions here and in the control schema (run with idle cleanup). */
    public long forgetIdle() {
        long now = System.nanoTime();
        known.values().removeIf(k -> now - k.touchedNanos() >= idle.toNanos());
        long forgotten = projects.forgetIdleSessions(idle, KEEP_PER_OWNER);
        if (forgotten > 0) {
            LOG.info(() -> "forgot " + forgotten + " session(s) unused for " + idle.toSeconds() + " s or past " + KEEP_PER_OWNER + " per key");
        }
        return forgotten;
    }

    /** @return the idle time after which a session is forgotten */
    public Duration idle() {
        return idle;
    }
}
