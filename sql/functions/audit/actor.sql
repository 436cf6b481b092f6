-- audit: who is acting, for every entry of the trail. What is recorded and
-- why: docs/audit.md.
--
-- Everything that writes to the audit schema is SECURITY DEFINER (owned by
-- veritas_owner, search_path pinned, EXECUTE granted per role, or none for
-- trigger functions), so that no request role holds a privilege on the
-- audit tables; the policies of sql/policies/audit.sql let the owner
-- append, nothing more.

-- Who is acting ---------------------------------------------------------------------

-- The actor of an audit entry: the JWT subject and role claim for an API
-- request (the claims are trusted only when their role is the database role
-- in effect, as internal.current_user_id() demands); otherwise no user and
-- the database role in effect: SET ROLE (the worker, migrations as
-- veritas_owner), else the login itself (a DBA's direct session). The login
-- is recorded apart (audit.log.db_user = session_user). current_setting('role')
-- is not changed by SECURITY DEFINER, so this reads the caller, not the owner.
-- Reading the claims costs a subtransaction (internal.jwt_claims), so the
-- answer is kept for the rest of the transaction in transaction-local
-- settings, keyed by the transaction id, the role and the claims text it
-- came from (a later set_config of either is seen at once; a value left in
-- a session by anyone can never match another transaction).
CREATE OR REPLACE FUNCTION internal.audit_actor(OUT actor_id uuid, OUT actor_role text)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role constant text := current_setting('role');
    v_key constant text := txid_current() || ' ' || v_role || ' '
        || coalesce(current_setting('request.jwt.claims', TRUE), '');
    v_claims jsonb;
BEGIN
    IF current_setting('veritas.audit_actor_key', TRUE) = v_key THEN
        actor_id := nullif(current_setting('veritas.audit_actor_id'), '')::uuid;
        actor_role := current_setting('veritas.audit_actor_role');
        RETURN;
    END IF;
    actor_role := CASE WHEN v_role = 'none' THEN session_user::text ELSE v_role END;
    IF v_role IN ('student', 'teacher', 'admin', 'integration') THEN
        v_claims := internal.jwt_claims();
        IF v_claims ->> 'role' = v_role
            AND v_claims ->> 'sub' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN
            actor_id := (v_claims ->> 'sub')::uuid;
        END IF;
    END IF;
    PERFORM
        set_config('veritas.audit_actor_id', coalesce(actor_id::text, ''), TRUE),
        set_config('veritas.audit_actor_role', actor_role, TRUE),
        set_config('veritas.audit_actor_key', v_key, TRUE);
END;
$$;

COMMENT ON FUNCTION internal.audit_actor() IS
'Who is acting, for the audit trail: the JWT subject and role of an API request; else no user and the database role in effect (SET ROLE, or the login). Owner only.';

REVOKE ALL ON FUNCTION internal.audit_actor() FROM PUBLIC;
