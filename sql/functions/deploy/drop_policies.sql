-- Deploy helper: internal.drop_policies, used by sql/policies/00_reset.sql.

-- Drops every policy of the given tables. sql/policies/00_reset.sql calls it
-- once per deploy, for every table of app, auth and audit, before the other
-- policies files re-create theirs, so that a policy deleted from a file does
-- not linger in the database (permissive policies add up). Only the owner
-- runs it, during the repeatable step.
CREATE OR REPLACE FUNCTION internal.drop_policies(VARIADIC p_tables regclass[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_policy record;
    v_count integer := 0;
BEGIN
    FOR v_policy IN
        SELECT p.polname, p.polrelid::regclass AS rel
        FROM pg_catalog.pg_policy AS p
        WHERE p.polrelid = ANY (p_tables)
    LOOP
        EXECUTE format('DROP POLICY %I ON %s', v_policy.polname, v_policy.rel);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;

COMMENT ON FUNCTION internal.drop_policies(regclass[]) IS
'Deploy helper: drops every policy of the given tables (the policies files then re-create theirs).';

REVOKE ALL ON FUNCTION internal.drop_policies(regclass[]) FROM PUBLIC;
