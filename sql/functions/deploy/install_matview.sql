-- Deploy helper: internal.install_matview, used by sql/views/exam_analytics.sql.

-- internal.install_matview ---------------------------------------------------------

-- Deploy helper for sql/views/exam_analytics.sql, which re-runs at every
-- migrate: each materialized view is declared there as <name>__next WITH NO
-- DATA (cheap: nothing is computed), and this puts it in place.
--   * no <name> yet: <name>__next becomes <name>, filled once;
--   * <name> has the same query (pg_get_viewdef): <name>__next is dropped,
--     <name> and its rows, indexes and refresh history stay;
--   * the query changed: <name> is dropped (its dependent views must have
--     been dropped before: no CASCADE), <name>__next takes its place, filled.
-- So a deploy that changes nothing recomputes nothing (a few catalog rows).
-- Returns created, unchanged or replaced. Owner only.
CREATE OR REPLACE FUNCTION internal.install_matview(p_schema text, p_name text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_next constant regclass := to_regclass(format('%I.%I', p_schema, p_name || '__next'));
    v_current constant regclass := to_regclass(format('%I.%I', p_schema, p_name));
BEGIN
    IF v_next IS NULL THEN
        RAISE EXCEPTION 'install_matview: %.%__next does not exist', p_schema, p_name;
    END IF;
    IF v_current IS NOT NULL AND pg_get_viewdef(v_current) = pg_get_viewdef(v_next) THEN
        EXECUTE format('DROP MATERIALIZED VIEW %s', v_next);
        RETURN 'unchanged';
    END IF;
    IF v_current IS NOT NULL THEN
        EXECUTE format('DROP MATERIALIZED VIEW %s', v_current);
    END IF;
    EXECUTE format('ALTER MATERIALIZED VIEW %s RENAME TO %I', v_next, p_name);
    EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', p_schema, p_name);
    RETURN CASE WHEN v_current IS NULL THEN 'created' ELSE 'replaced' END;
END
$$;
COMMENT ON FUNCTION internal.install_matview(text, text) IS
'Deploy helper: put <schema>.<name>__next (declared WITH NO DATA) in place of <schema>.<name> when that is missing or its query differs, else drop it. Returns created, unchanged or replaced.';
REVOKE ALL ON FUNCTION internal.install_matview(text, text) FROM PUBLIC;
