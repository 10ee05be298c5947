-- Every API key is a row of api_keys, found by its hash on every request, so a change is seen by every replica on its
-- next request. `origin` says where a key comes from:
--   operator:    created in the console or /admin/api (any name but the reserved ones below)
--   environment: DEMENTIA_API_KEY(S), stored by the server at start as env-1, env-2, ... and replaced or removed there
--                when the environment changes
--   generated:   the key generated on first start when the environment gives none, named `generated`; reset-credentials
--                replaces its hash
-- The last two reach every project, read-write, and are neither listed nor revoked in the console.
ALTER TABLE api_keys ADD COLUMN origin text NOT NULL DEFAULT 'operator'
    CHECK (origin IN ('operator', 'environment', 'generated'));

-- The reserved names were free to take until now: an operator's key with one keeps working under a prefixed name.
UPDATE api_keys SET name = 'operator-' || name WHERE name = 'generated' OR name ~ '^env-[0-9]+$';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_reserved_names CHECK (
    CASE origin
        WHEN 'environment' THEN name ~ '^env-[0-9]+$'
        WHEN 'generated' THEN name = 'generated'
        ELSE name <> 'generated' AND name !~ '^env-[0-9]+$'
    END);

-- The stored first-start (or reset) key moves over; credentials keeps the console login only.
INSERT INTO api_keys (name, hash, hint, origin, created_at, created_by)
SELECT 'generated', hash, 'dmc_…', 'generated', created_at, 'first start'
FROM credentials WHERE kind = 'api_key'
ORDER BY created_at DESC
LIMIT 1
ON CONFLICT DO NOTHING;
DELETE FROM credentials WHERE kind = 'api_key';
ALTER TABLE credentials DROP CONSTRAINT credentials_kind_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_kind_check CHECK (kind = 'admin');
