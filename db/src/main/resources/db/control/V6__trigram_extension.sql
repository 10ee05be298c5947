-- Search by trigrams needs pg_trgm, and each project's trigram index needs its operator class when the project is
-- migrated. It is created here, in the control schema, when the database has it and the service may create it (a
-- trusted extension since PostgreSQL 13); where it cannot be had, projects are migrated without the trigram index and
-- search goes on with words and meaning.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA dementia_control;
        EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
            RAISE NOTICE 'pg_trgm is not available: %', SQLERRM;
        END;
    END IF;
END
$do$;
