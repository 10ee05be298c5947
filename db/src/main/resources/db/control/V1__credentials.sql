-- Credentials the service generated or was given: only hashes are stored.
-- kind 'api_key': bearer keys for /mcp, /execute, /tools, /metrics (name is a label)
-- kind 'admin':   the console login (name is the user)
CREATE TABLE credentials (
    kind       text        NOT NULL CHECK (kind IN ('api_key', 'admin')),
    name       text        NOT NULL,
    hash       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, name)
);
