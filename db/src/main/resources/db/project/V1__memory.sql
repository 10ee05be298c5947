-- One project's memory. Flyway runs this with the project's schema first on the search_path;
-- ${reader} is the project's read-only role (query_database runs as it).

CREATE TABLE sessions (
    id          text        PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    last_active timestamptz NOT NULL DEFAULT now(),
    calls       integer     NOT NULL DEFAULT 0
);

-- Immutable, versioned contexts: one row per (label, version); versions are 1.0, 1.1, 1.2 ... per label.
CREATE TABLE context_locks (
    id            bigserial   PRIMARY KEY,
    label         text        NOT NULL,
    version       text        NOT NULL,
    minor         integer     NOT NULL,
    content       text        NOT NULL,
    content_hash  text        NOT NULL,
    preview       text        NOT NULL,
    key_concepts  text[]      NOT NULL DEFAULT '{}',
    tags          text[]      NOT NULL DEFAULT '{}',
    priority      text        NOT NULL CHECK (priority IN ('always_check', 'important', 'reference')),
    session_id    text,
    locked_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_accessed timestamptz,
    access_count  integer     NOT NULL DEFAULT 0,
    search        tsvector    NOT NULL,
    CONSTRAINT context_locks_label_version UNIQUE (label, version)
);
CREATE INDEX context_locks_search ON context_locks USING gin (search);
CREATE INDEX context_locks_label_time ON context_locks (label, locked_at DESC);
CREATE INDEX context_locks_priority ON context_locks (priority);

CREATE TABLE context_archives (
    id            bigserial   PRIMARY KEY,
    original_id   bigint      NOT NULL,
    label         text        NOT NULL,
    version       text        NOT NULL,
    content       text        NOT NULL,
    content_hash  text        NOT NULL,
    preview       text        NOT NULL,
    key_concepts  text[]      NOT NULL DEFAULT '{}',
    tags          text[]      NOT NULL DEFAULT '{}',
    priority      text        NOT NULL,
    locked_at     timestamptz NOT NULL,
    access_count  integer     NOT NULL DEFAULT 0,
    archived_at   timestamptz NOT NULL DEFAULT now(),
    reason        text        NOT NULL
);

-- Handovers, progress notes, errors: the session log.
CREATE TABLE memory_entries (
    id         bigserial   PRIMARY KEY,
    category   text        NOT NULL,
    content    text        NOT NULL,
    metadata   jsonb       NOT NULL DEFAULT '{}',
    session_id text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX memory_entries_category_time ON memory_entries (category, created_at DESC);

CREATE TABLE audit_trail (
    id         bigserial   PRIMARY KEY,
    action     text        NOT NULL,
    target     text,
    details    jsonb       NOT NULL DEFAULT '{}',
    session_id text,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- query_database: the project's own read-only role, and a SECURITY DEFINER entry point owned by it. Inside a
-- security-definer function PostgreSQL refuses SET ROLE / set_config('role'), so a query cannot climb back to the
-- service's role; the role can read this schema only (not other projects, not the control schema).
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${reader}') THEN
        CREATE ROLE "${reader}" NOLOGIN NOINHERIT;
    END IF;
END
$do$;
GRANT "${reader}" TO CURRENT_USER;
GRANT USAGE ON SCHEMA "${schema}" TO "${reader}";
GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${reader}";
ALTER DEFAULT PRIVILEGES IN SCHEMA "${schema}" GRANT SELECT ON TABLES TO "${reader}";

CREATE FUNCTION run_readonly_query(query text, max_rows integer) RETURNS SETOF json
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = "${schema}", pg_catalog
AS $fn$
BEGIN
    RETURN QUERY EXECUTE 'SELECT to_json(q) FROM (' || query || E'\n) q LIMIT ' || max_rows;
END
$fn$;
ALTER FUNCTION run_readonly_query(text, integer) OWNER TO "${reader}";
REVOKE ALL ON FUNCTION run_readonly_query(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION run_readonly_query(text, integer) TO CURRENT_USER;
