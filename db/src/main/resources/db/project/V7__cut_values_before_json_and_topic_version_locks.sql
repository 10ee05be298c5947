-- query_database, fourth form. The third turned each whole row into JSON, measured it and then cut long values: a
-- query making one huge value (select repeat('x', 200000000)) had it escaped, measured and parsed again, passes
-- PostgreSQL cannot cancel, so the statement timeout was overrun by many seconds. Now each value is cut as text before
-- anything else reads it: a text longer than max_value characters is read no further than that (octet_length is
-- known without reading, left() stops at the cut), and only what is kept becomes JSON.
--
-- To address the query's columns one by one without knowing them, the function first runs it with LIMIT 0 into a
-- record (no row is computed): that record's JSON names the columns, in order, names that repeat included. The query
-- then runs as q(c1, ..., cn) and each row's JSON is built from the cut values. Both statements put the caller's query
-- at the same offset, where the service maps error positions back. OFFSET 0 keeps PostgreSQL from pulling the
-- query up into the wrapper, which would compute a value once for each place that refers to it. Limits, out_cut and the release of session locks are as in the third form.
CREATE OR REPLACE FUNCTION run_readonly_query(query text, params text[], max_rows integer, max_bytes integer, max_value integer)
    RETURNS TABLE (out_row json, out_cut text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = "${schema}", pg_catalog
AS $fn$
DECLARE
    shape record;
    r record;
    col record;
    aliases text := '';
    texts text := '';
    pairs text := '';
    cuts text := 'false';
    cut_i text;
    n integer := 0;
    one json;
    cut boolean;
    size bigint;
    used bigint := 0;
    taken integer := 0;
BEGIN
    BEGIN
        EXECUTE 'SELECT q.* FROM (SELECT * FROM (' || query || E'\n) q0 OFFSET 0) q LIMIT 0' INTO shape USING params;
        FOR col IN SELECT e.key FROM json_each(to_json(shape)) WITH ORDINALITY AS e(key, value, ord) ORDER BY e.ord LOOP
            n := n + 1;
            cut_i := format('(octet_length(s.t%1$s) > %2$s AND octet_length(left(s.t%1$s, %2$s)) < octet_length(s.t%1$s))', n, max_value);
            aliases := aliases || CASE WHEN n > 1 THEN ', ' ELSE '' END || 'c' || n;
            texts := texts || CASE WHEN n > 1 THEN ', ' ELSE '' END || format('q.c%1$s::text AS t%1$s', n);
            pairs := pairs || CASE WHEN n > 1 THEN ' || '','' || ' ELSE '' END
                || quote_literal(to_json(col.key)::text || ':')
                || format(' || CASE WHEN %1$s THEN to_json(left(s.t%2$s, %3$s))::text ELSE coalesce(to_json(q.c%2$s)::text, ''null'') END',
                          cut_i, n, max_value);
            cuts := cuts || ' OR ' || cut_i;
        END LOOP;
        FOR r IN EXECUTE 'SELECT w.* FROM (SELECT * FROM (' || query || E'\n) q0 OFFSET 0) q'
                || CASE WHEN n > 0
                        THEN '(' || aliases || ') CROSS JOIN LATERAL (SELECT (''{'' || ' || pairs || ' || ''}'')::json AS j, ' || cuts
                             || ' AS cut FROM (SELECT ' || texts || ' OFFSET 0) s) w'
                        ELSE ' CROSS JOIN LATERAL (SELECT ''{}''::json AS j, false AS cut) w' END
                || ' LIMIT ' || (max_rows + 1) USING params LOOP
            IF taken >= max_rows THEN
                out_row := NULL;
                out_cut := 'rows';
                RETURN NEXT;
                EXIT;
            END IF;
            one := r.j;
            cut := r.cut;
            -- a kept value can still be longer than max_value as JSON (escapes): cut it there, as before
            IF length(one::text) > max_value THEN
                SELECT ('{' || string_agg(to_json(e.key)::text || ':' ||
                           CASE WHEN length(e.value::text) > max_value
                                THEN to_json(left(CASE json_typeof(e.value) WHEN 'string' THEN e.value #>> '{}' ELSE e.value::text END, max_value))::text
                                ELSE e.value::text END, ',' ORDER BY e.ord) || '}')::json,
                       cut OR bool_or(length(e.value::text) > max_value)
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

-- lock_context mints a topic's versions one at a time. It held an advisory lock on (hashtext(schema), hashtext(topic))
-- for that, and any role may take any advisory lock: a read-only key's query_database on one project could take the
-- key of another project's topic and stall its writes. A row of this table is taken instead (an upsert locks it until
-- the transaction ends); the reader role may not touch the table, and a read-only transaction cannot lock rows at all.
CREATE TABLE topic_version_locks (
    label text PRIMARY KEY
);
REVOKE ALL ON topic_version_locks FROM "${reader}";
