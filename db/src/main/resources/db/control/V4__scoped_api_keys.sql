-- API keys operators create (console or /admin/api), each with a scope. Only a SHA-256 hash of the key is kept (keys
-- are 32 random bytes, so a fast hash is enough and lets a request find its key by index). The key in clear text is
-- shown once, when it is created. DEMENTIA_API_KEY(S) and the generated first-start key stay in `credentials` and
-- reach everything.
--   projects:  NULL reaches every project; otherwise project names, or prefixes written with a trailing '*'
--   read_only: the key may call only tools that change nothing (and recall_context, which counts a read)
-- A revoked or expired key is refused on the next request on every replica: requests look their key up here.
CREATE TABLE api_keys (
    name         text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    hash         text        NOT NULL UNIQUE,
    hint         text        NOT NULL,
    projects     text[],
    read_only    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   text
);

-- Which key a session belongs to: another key presenting its id is refused. Rows unused for DEMENTIA_SESSION_IDLE_S
-- are forgotten by idle cleanup.
ALTER TABLE mcp_sessions ADD COLUMN owner text;
CREATE INDEX mcp_sessions_updated_at ON mcp_sessions (updated_at);
CREATE INDEX mcp_sessions_owner ON mcp_sessions (owner, updated_at);
