-- query_database shares its connection with every other project's work. Anything a query leaves on the session must
-- end with it. Settings changed with set_config(..., false) end with the read-only transaction, which always rolls
-- back; session-level advisory locks do not end with a transaction, so the entry point releases them itself, on
-- every path: after the query, and when it fails or is cancelled by the statement timeout.
CREATE OR REPLACE FUNCTION run_readonly_query(query text, max_rows integer) RETURNS SETOF json
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = "${schema}", pg_catalog
AS $fn$
BEGIN
    BEGIN
        RETURN QUERY EXECUTE 'SELECT to_json(q) FROM (' || query || E'\n) q LIMIT ' || max_rows;
    EXCEPTION
        WHEN query_canceled THEN
            PERFORM pg_advisory_unlock_all();
            RAISE;
        WHEN OTHERS THEN
            PERFORM pg_advisory_unlock_all();
            RAISE;
    END;
    PERFORM pg_advisory_unlock_all();
END
$fn$;
