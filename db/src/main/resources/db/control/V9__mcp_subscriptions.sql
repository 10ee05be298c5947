-- The context resources an MCP session (protocols 2024-11-05 to 2025-11-25) subscribed to with resources/subscribe.
-- In the control schema, so the replica that holds the session's event stream (GET /mcp) finds what another replica
-- was asked to watch. A session's subscriptions go with it.
CREATE TABLE mcp_subscriptions (
    session_id text        NOT NULL REFERENCES mcp_sessions (session_id) ON DELETE CASCADE,
    uri        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, uri)
);
