package cloud.dementia.db.store;

import java.time.Duration;
import java.util.Optional;

import cloud.dementia.db.pool.PoolRegistry;
import cloud.dementia.db.schema.ControlSchema;

/**
 * MCP sessions (and {@code /execute} session ids) in the control schema: which key owns each, the project it switched
 * to, when it was last used. Any replica answers for any session.
 */
public final class McpSessions {

    private final PoolRegistry registry;

    public McpSessions(PoolRegistry registry) {
        this.registry = registry;
    }

    /** Binds a project to an MCP session (any replica sees it). */
    public void bindSession(String sessionId, String project) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "INSERT INTO {s}.mcp_sessions (session_id, project, updated_at) VALUES (?, ?, now()) "
                        + "ON CONFLICT (session_id) DO UPDATE SET project = EXCLUDED.project, updated_at = now()", sessionId, project));
    }

    /**
     * Claims a session id for an owner (the key that opened it): a new id becomes the owner's, an id the owner holds
     * stays its own (and counts as used now); an id another owner holds is not taken. A new id makes the owner's least
     * recently used sessions past {@code keepPerOwner} forgotten in the same transaction, so no key holds more at any
     * time, however fast it opens them.
     *
     * @return whether the session is the owner's
     */
    public boolean claimSession(String sessionId, String owner, int keepPerOwner) {
        return claimSession(sessionId, owner, keepPerOwner, null);
    }

    /**
     * {@link #claimSession(String, String, int)}, keeping what the session's client can do (MCP {@code initialize}'s
     * capabilities, as JSON), which {@link #clientCapabilities} reads back on any replica.
     */
    public boolean claimSession(String sessionId, String owner, int keepPerOwner, String capabilitiesJson) {
        return registry.inTransaction(ControlSchema.NAME, tx -> {
            // xmax is 0 for a row this statement inserted, not for one it updated
            Optional<Boolean> inserted = tx.queryOne(
                    "INSERT INTO {s}.mcp_sessions (session_id, owner, updated_at, client_capabilities) VALUES (?, ?, now(), ?::jsonb) "
                            + "ON CONFLICT (session_id) DO UPDATE SET owner = EXCLUDED.owner, updated_at = EXCLUDED.updated_at, "
                            + "client_capabilities = coalesce(EXCLUDED.client_capabilities, {s}.mcp_sessions.client_capabilities) "
                            + "WHERE {s}.mcp_sessions.owner IS NULL OR {s}.mcp_sessions.owner = EXCLUDED.owner RETURNING xmax = 0",
                    r -> r.bool(1), sessionId, owner, capabilitiesJson);
            if (inserted.orElse(false)) {
                tx.update("DELETE FROM {s}.mcp_sessions WHERE session_id IN (SELECT session_id FROM {s}.mcp_sessions "
                        + "WHERE owner = ? AND session_id <> ? ORDER BY updated_at DESC, session_id DESC OFFSET ?)", owner, sessionId,
                        keepPerOwner - 1);
            }
            return inserted.isPresent();
        });
    }

    /** Keeps a client's answer to a question of the server's for the replica that asked (false when the session is gone). */
    public boolean keepAnswer(String sessionId, String requestId, String bodyJson) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.update("INSERT INTO {s}.mcp_answers (session_id, request_id, body) "
                + "SELECT ?, ?, ?::jsonb WHERE EXISTS (SELECT 1 FROM {s}.mcp_sessions WHERE session_id = ?) ON CONFLICT DO NOTHING",
                sessionId, requestId, bodyJson, sessionId)) == 1;
    }

    /** @return the client's answer to the question, taken (it is there once), if another replica kept it */
    public Optional<String> takeAnswer(String sessionId, String requestId) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "DELETE FROM {s}.mcp_answers WHERE session_id = ? AND request_id = ? RETURNING body::text", r -> r.string(1), sessionId, requestId));
    }

    /** @return what the session's client said it can do (JSON), if it said */
    public Optional<String> clientCapabilities(String sessionId) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT client_capabilities::text FROM {s}.mcp_sessions WHERE session_id = ? AND client_capabilities IS NOT NULL",
                r -> r.string(1), sessionId));
    }

    /** @return the owner of a session this service knows ({@code ""} when it has none yet), or empty for an unknown id */
    public Optional<String> sessionOwner(String sessionId) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT coalesce(owner, '') FROM {s}.mcp_sessions WHERE session_id = ?", r -> r.string(1), sessionId));
    }

    /**
     * Forgets sessions unused for {@code idle} (their owner and project), and, of each owner's sessions, all but the
     * {@code keepPerOwner} most recently used.
     *
     * @return how many were forgotten
     */
    public long forgetIdleSessions(Duration idle, int keepPerOwner) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "DELETE FROM {s}.mcp_sessions WHERE updated_at < now() - make_interval(secs => ?) OR session_id IN ("
                        + "SELECT session_id FROM (SELECT session_id, row_number() OVER (PARTITION BY owner ORDER BY updated_at DESC) AS n "
                        + "FROM {s}.mcp_sessions) ranked WHERE n > ?)", idle.toMillis() / 1000.0, keepPerOwner));
    }

    /** @return whether the session is still the owner's (and is now marked as used); false when it was forgotten */
    public boolean touchSession(String sessionId, String owner) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.update(
                "UPDATE {s}.mcp_sessions SET updated_at = now() WHERE session_id = ? AND owner = ?", sessionId, owner)) == 1;
    }

    /** Forgets one session (the client ended it): every replica finds it unknown from now on. */
    public void forgetSession(String sessionId) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update("DELETE FROM {s}.mcp_sessions WHERE session_id = ?", sessionId));
    }

    /** Subscribes the session to a resource (at most {@code max} per session); false when it holds that many already. */
    public boolean subscribe(String sessionId, String uri, int max) {
        return registry.inTransaction(ControlSchema.NAME, tx -> {
            // the session's row, locked: two subscribes at once count each other
            if (tx.queryOne("SELECT 1 FROM {s}.mcp_sessions WHERE session_id = ? FOR UPDATE", r -> r.integer(1), sessionId).isEmpty()) {
                return false;
            }
            if (tx.queryOne("SELECT 1 FROM {s}.mcp_subscriptions WHERE session_id = ? AND uri = ?", r -> r.integer(1), sessionId, uri).isPresent()) {
                return true;
            }
            long held = tx.queryOne("SELECT count(*) FROM {s}.mcp_subscriptions WHERE session_id = ?", r -> r.longValue(1), sessionId).orElse(0L);
            if (held >= max) {
                return false;
            }
            tx.update("INSERT INTO {s}.mcp_subscriptions (session_id, uri) VALUES (?, ?) ON CONFLICT DO NOTHING", sessionId, uri);
            return true;
        });
    }

    /** Ends the session's subscription to a resource (nothing when it had none). */
    public void unsubscribe(String sessionId, String uri) {
        registry.inStatement(ControlSchema.NAME, tx -> tx.update("DELETE FROM {s}.mcp_subscriptions WHERE session_id = ? AND uri = ?", sessionId, uri));
    }

    /** @return the resources the session subscribed to */
    public java.util.List<String> subscriptions(String sessionId) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.query("SELECT uri FROM {s}.mcp_subscriptions WHERE session_id = ? ORDER BY uri",
                r -> r.string(1), sessionId));
    }

    /** @return the project the session switched to, if any */
    public Optional<String> sessionProject(String sessionId) {
        return registry.inStatement(ControlSchema.NAME, tx -> tx.queryOne(
                "SELECT project FROM {s}.mcp_sessions WHERE session_id = ? AND project IS NOT NULL", r -> r.string(1), sessionId));
    }

}
