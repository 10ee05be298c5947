-- The project registry: a project name and the schema it owns. A schema belongs to exactly one name.
CREATE TABLE projects (
    name       text        PRIMARY KEY,
    schema     text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The project an MCP session switched to (switch_project), so any replica sees it.
CREATE TABLE mcp_sessions (
    session_id text        PRIMARY KEY,
    project    text        REFERENCES projects (name) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every console or /admin/api action: who, when, what, and the values before and after.
CREATE TABLE admin_audit (
    id      bigserial   PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text        NOT NULL,
    action  text        NOT NULL,
    target  text,
    before  jsonb,
    after   jsonb
);
CREATE INDEX admin_audit_at ON admin_audit (at DESC);
