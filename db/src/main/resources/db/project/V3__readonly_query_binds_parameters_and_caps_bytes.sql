-- query_database, third form. Parameters are bound by PostgreSQL, never written into the SQL: the service turns each
-- $n of the caller's query into ($1[n]), a reference to one text[] parameter given with USING, cast by the value's
-- JSON type. What comes back is capped here, before it is sent: a value longer than max_value characters is cut to
-- that many (out_cut = 'value'), and rows stop before their JSON passes max_bytes (a last row with out_row NULL and
-- out_cut = 'bytes'), or past max_rows (out_cut = 'rows'). The loop reads the query through a cursor, so rows past a
-- limit are never produced. The session-lock release of the second form stays.
DROP FUNCTION run_readonly_query(text, integer);

CREATE FUNCTION run_readonly_query(query text, params text[], max_rows integer, max_bytes integer, max_value integer)
    RETURNS TABLE (out_row json, out_cut text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = "${schema}", pg_catalog
AS $fn$
DECLARE
    r record;
    one json;
    cut boolean;
    size bigint;
    used bigint := 0;
    taken integer := 0;
BEGIN
    BEGIN
        FOR r IN EXECUTE 'SELECT to_json(q) AS j FROM (' || query || E'\n) q LIMIT ' || (max_rows + 1) USING params LOOP
            IF taken >= max_rows THEN
                out_row := NULL;
                out_cut := 'rows';
                RETURN NEXT;
                EXIT;
            END IF;
            one := r.j;
            cut := false;
            IF length(one::text) > max_value THEN
                SELECT ('{' || string_agg(to_json(e.key)::text || ':' ||
                           CASE WHEN length(e.value::text) > max_value
                                THEN to_json(left(CASE json_typeof(e.value) WHEN 'string' THEN e.value #>> '{}' ELSE e.value::text END, max_value))::text
                                ELSE e.value::text END, ',' ORDER BY e.ord) || '}')::json,
                       bool_or(length(e.value::text) > max_value)
                  INTO one, cut
                  FROM json_each(one) WITH ORDINALITY AS e(key, value, ord);
            END IF;
            size := octet_length(one::text);
            IF used + size > max_bytes THEN
                out_row := NULL;
                out_cut := 'bytes';
                RETURN NEXT;
                EXIT;
            END IF;
            used := used + size;
            taken := taken + 1;
            out_row := one;
            out_cut := CASE WHEN cut THEN 'value' END;
            RETURN NEXT;
        END LOOP;
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
ALTER FUNCTION run_readonly_query(text, text[], integer, integer, integer) OWNER TO "${reader}";
REVOKE ALL ON FUNCTION run_readonly_query(text, text[], integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION run_readonly_query(text, text[], integer, integer, integer) TO CURRENT_USER;
