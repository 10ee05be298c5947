-- The installation's secret that new projects' schema names are derived from (an HMAC of the project's normalised
-- name, see ProjectName): a schema name then tells whoever can list the catalogs nothing of the project's name.
-- Created once, from PostgreSQL's strong random source; never shown, never changed (a new key would give a
-- project's name another schema). Projects registered before keep their schemas: the registry holds each one.
CREATE TABLE installation (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    schema_key text    NOT NULL
);
INSERT INTO installation (schema_key)
VALUES (encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex'));
