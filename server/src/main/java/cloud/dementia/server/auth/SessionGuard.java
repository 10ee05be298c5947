package cloud.dementia.server.auth;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

import cloud.dementia.db.store.McpSessions;

/**
 * A session belongs to the API key that opened it: an MCP session to the key that sent {@code initialize} (another key
 * presenting its id is refused); an {@code /execute} session id is in its key's own namespace. So no key can act as
 * another's session or switch its project. Ownership is kept in the control schema (every replica sees it)
 * and cached here for a few seconds (an owner never changes; a session ends by DELETE or when forgotten); a session unused for {@code DEMENTIA_SESSION_IDLE_S} is forgotten, and
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
    /**
     * How long a cached verdict is trusted before the control schema is asked again: a session another replica ended
     * ({@code DELETE /mcp}) or forgot is refused here at most this much later.
     */
    private static final long RECHECK_NANOS = Duration.ofSeconds(5).toNanos();
    /** The cache is only a cache: past this many entries it starts over from the database. */
    private static final int CACHE_MAX = 100_000;

    /**
     * @param owner        the key that holds the session
     * @param checkedNanos when the control schema last confirmed it
     * @param touchedNanos when its row was last marked as used
     */
    private record Known(String owner, long checkedNanos, long touchedNanos) {
    }

    private final McpSessions sessions;
    private final Duration idle;
    private final ConcurrentHashMap<String, Known> known = new ConcurrentHashMap<>();

    public SessionGuard(McpSessions sessions, Duration idle) {
        this.sessions = sessions;
        this.idle = idle;
    }

    /** Records a session the caller just opened (MCP {@code initialize}). */
    public void opened(String sessionId, Caller caller) {
        opened(sessionId, caller, null);
    }

    /** Records a session the caller just opened, with what its client can do (MCP {@code initialize}'s capabilities, JSON). */
    public void opened(String sessionId, Caller caller, String capabilitiesJson) {
        if (sessions.claimSession(sessionId, caller.owner(), KEEP_PER_OWNER, capabilitiesJson)) {
            remember(sessionId, caller.owner());
        }
    }

    /** Keeps a client's answer for the replica that asked the question. */
    public void keepAnswer(String sessionId, String requestId, String bodyJson) {
        sessions.keepAnswer(sessionId, requestId, bodyJson);
    }

    /** @return the client's answer to a question, if another replica kept it */
    public java.util.Optional<String> takeAnswer(String sessionId, String requestId) {
        return sessions.takeAnswer(sessionId, requestId);
    }

    /** @return what the session's client said it can do (JSON object text), or empty */
    public java.util.Optional<String> clientCapabilities(String sessionId) {
        return sessions.clientCapabilities(sessionId);
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
     * ({@code <owner>/<id>}, see {@link #namespaced}), so two keys using the same id never meet, and no key reaches another's session.
     *
     * @return the session id the tools see
     */
    public String execute(String sessionId, Caller caller) {
        if (isOwn(sessionId, caller)) {
            return sessionId;
        }
        String own = namespaced(caller.owner(), sessionId);
        if (check(own, caller, true) != Verdict.OWN) {
            throw new IllegalStateException("the namespaced session " + own + " is not the caller's");
        }
        return own;
    }

    /**
     * {@code <owner>/<id>} with {@code %} and {@code /} of the owner escaped ({@code %25}, {@code %2F}): the first
     * {@code /} always ends the owner, so two owners' ids never meet, whatever a token's {@code sub} or an id holds
     * ({@code carol/x} + {@code y} is {@code oauth:carol%2Fx/y}, {@code carol} + {@code x/y} is {@code oauth:carol/x/y}).
     */
    static String namespaced(String owner, String sessionId) {
        return owner.replace("%", "%25").replace("/", "%2F") + "/" + sessionId;
    }

    /** @return whether the id is a session the caller's key holds (known here or in the control schema), without claiming it */
    private boolean isOwn(String sessionId, Caller caller) {
        Known k = known.get(sessionId);
        if (k != null && System.nanoTime() - k.checkedNanos() < RECHECK_NANOS) {
            return k.owner().equals(caller.owner());
        }
        Optional<String> owner = sessions.sessionOwner(sessionId);
        if (owner.isPresent() && owner.get().equals(caller.owner())) {
            remember(sessionId, caller.owner());
            return true;
        }
        return false;
    }

    private Verdict check(String sessionId, Caller caller, boolean claimNew) {
        long now = System.nanoTime();
        Known k = known.get(sessionId);
        if (k != null && now - k.checkedNanos() < RECHECK_NANOS) {
            return k.owner().equals(caller.owner()) ? Verdict.OWN : Verdict.OTHERS;
        }
        if (k != null && k.owner().equals(caller.owner()) && now - k.touchedNanos() > TOUCH_NANOS) {
            // one statement both confirms the session and marks it used (unless another replica forgot it meanwhile)
            if (sessions.touchSession(sessionId, caller.owner())) {
                remember(sessionId, caller.owner());
                return Verdict.OWN;
            }
            known.remove(sessionId, k);
            return claimNew ? check(sessionId, caller, true) : Verdict.UNKNOWN;
        }
        Optional<String> owner = sessions.sessionOwner(sessionId);
        if (owner.isEmpty() && !claimNew) {
            known.remove(sessionId);
            return Verdict.UNKNOWN;
        }
        if (owner.isPresent() && !owner.get().isEmpty() && !owner.get().equals(caller.owner())) {
            remember(sessionId, owner.get());
            return Verdict.OTHERS;
        }
        if (owner.isPresent() && k != null && owner.get().equals(caller.owner())) {
            // still the caller's, used recently enough: confirmed, not rewritten
            known.put(sessionId, new Known(k.owner(), now, k.touchedNanos()));
            return Verdict.OWN;
        }
        if (sessions.claimSession(sessionId, caller.owner(), KEEP_PER_OWNER)) {
            remember(sessionId, caller.owner());
            return Verdict.OWN;
        }
        return Verdict.OTHERS;
    }

    private void remember(String sessionId, String owner) {
        if (known.size() >= CACHE_MAX) {
            known.clear();
        }
        long now = System.nanoTime();
        known.put(sessionId, new Known(owner, now, now));
    }

    /** The client ended its session ({@code DELETE /mcp}): forgotten here and in the control schema. */
    public void ended(String sessionId) {
        known.remove(sessionId);
        sessions.forgetSession(sessionId);
    }

    /** Forgets idle sessions here and in the control schema (run with idle cleanup). */
    public long forgetIdle() {
        long now = System.nanoTime();
        known.values().removeIf(k -> now - k.touchedNanos() >= idle.toNanos());
        long forgotten = sessions.forgetIdleSessions(idle, KEEP_PER_OWNER);
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
