-- Search that reads only what it ranks. Each signal finds its own best candidates through an index, over the latest
-- version of each topic only; the vectors are stored compactly and ranked in the server from a cache that asks here
-- only for what changed.

-- The latest version of each label, kept by every write (lock, unlock, import): one row per label, enforced.
ALTER TABLE context_locks ADD COLUMN is_latest boolean NOT NULL DEFAULT false;
UPDATE context_locks SET is_latest = true
 WHERE id IN (SELECT DISTINCT ON (label) id FROM context_locks ORDER BY label, locked_at DESC, minor DESC);
CREATE UNIQUE INDEX context_locks_latest_label ON context_locks (label) WHERE is_latest;
CREATE INDEX context_locks_latest_priority ON context_locks (priority, label) WHERE is_latest;

-- Words: the full-text index over latest versions only. Without a pending list (fastupdate off): an import of
-- thousands of versions is searchable at once at its full speed, not after autovacuum has merged the list.
DROP INDEX context_locks_search;
CREATE INDEX context_locks_search ON context_locks USING gin (search) WITH (fastupdate = off) WHERE is_latest;

-- Meaning: 384 float32 values, big-endian (float4send), instead of real[] read back as boxed numbers. NULL until the
-- background embedder has computed it; the partial index finds that backlog without reading the table.
ALTER TABLE context_locks ADD COLUMN vector bytea;
UPDATE context_locks c SET vector = (SELECT string_agg(float4send(e), ''::bytea ORDER BY i)
                                       FROM unnest(c.embedding) WITH ORDINALITY AS t(e, i))
 WHERE c.embedding IS NOT NULL;
ALTER TABLE context_locks DROP COLUMN embedding;
ALTER TABLE context_locks RENAME COLUMN vector TO embedding;
CREATE INDEX context_locks_unembedded ON context_locks (id) WHERE embedding IS NULL;
-- The vector out of the row (TOAST): the rows that counts and searches scan stay about a quarter of the size.
ALTER TABLE context_locks ALTER COLUMN embedding SET STORAGE EXTERNAL;
ALTER TABLE context_locks SET (toast_tuple_target = 1024);

-- Which vectors a server's cache has not seen yet: each transaction that sets vectors (or makes an older version
-- latest again) takes the next generation under this row's lock, so generations are handed out in commit order and
-- "embedded_gen > what I have" is exactly what changed. The epoch tells a recreated project from the one cached.
CREATE TABLE search_state (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch      bigint  NOT NULL,
    generation bigint  NOT NULL DEFAULT 0
);
INSERT INTO search_state (epoch) VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
ALTER TABLE context_locks ADD COLUMN embedded_gen bigint NOT NULL DEFAULT 0;
CREATE INDEX context_locks_embedded ON context_locks (embedded_gen) WHERE is_latest AND embedding IS NOT NULL;

-- Trigrams (typos, parts of words) of the topic: pg_trgm's GIN index over the latest versions' labels, when the
-- extension is installed (the control schema's migration creates it where it can). Over the whole content each
-- candidate's word similarity cost about 60 µs to check, 0.4 s a search at 10,000 contexts; words and meaning cover
-- the content.
DO $do$
DECLARE
    trgm name;
BEGIN
    SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm IS NOT NULL THEN
        EXECUTE format('CREATE INDEX context_locks_trigrams ON %I.context_locks USING gin (label %I.gin_trgm_ops) '
                       'WITH (fastupdate = off) WHERE is_latest', '${schema}', trgm);
    END IF;
END
$do$;
