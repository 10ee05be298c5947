-- The context resources an MCP session (protocols 2024-11-05 to 2025-11-25) subscribed to with resources/subscribe.
-- In the control schema, so the replica that holds the session's event stream (GET /mcp) finds what another replica
-- was asked to watch. A session's subscriptions go with it.
CREATE TABLE mcp_subscriptions (
    session_id text        NOT NULL REFERENCES mcp_sessions (session_id) ON DELETE CASCADE,
    uri        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, uri)
);

-- What the client of a session (2025 versions) said it can do in initialize, so that any replica knows whether it may
-- ask the client's user (elicitation) during a call.
ALTER TABLE mcp_sessions ADD COLUMN client_capabilities jsonb;

-- A client's answer to a question the server asked during a call (2025 versions: elicitation/create on the call's
-- stream), when it reached another replica than the one serving the call: that replica takes it from here.
CREATE TABLE mcp_answers (
    session_id text        NOT NULL REFERENCES mcp_sessions (session_id) ON DELETE CASCADE,
    request_id text        NOT NULL,
    body       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, request_id)
);
