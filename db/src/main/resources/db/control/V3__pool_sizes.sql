-- The sizes operators gave schema pools (console or /admin/api resize): a pool created for the schema again (after
-- idle cleanup forgot it, or after a restart, or on another replica) takes this max instead of DB_POOL_MAX_PER_SCHEMA.
CREATE TABLE pool_sizes (
    schema     text        PRIMARY KEY,
    max        integer     NOT NULL CHECK (max > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
