-- audit: the security log (audit.security_events): its writer, called by the
-- auth functions (logins, refresh reuse, logout, enabling and disabling),
-- and the trigger that logs role changes. docs/audit.md.

-- Security log -------------------------------------------------------------------

-- Appends one row to audit.security_events. Not granted to anyone: only the
-- SECURITY DEFINER functions of sql/functions/auth/ and the trigger below
-- (running as the owner) call it.
CREATE OR REPLACE FUNCTION internal.log_security_event(
    p_kind text,
    p_user_id uuid,
    p_email text DEFAULT NULL,
    p_client_addr inet DEFAULT NULL,
    p_details jsonb DEFAULT '{}'
)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO audit.security_events (kind, user_id, email, client_addr, details)
    VALUES (p_kind, p_user_id, left(p_email, 320), p_client_addr, coalesce(p_details, '{}'));
$$;

COMMENT ON FUNCTION internal.log_security_event(text, uuid, text, inet, jsonb) IS
'Appends a security event (login_success, login_failure, refresh, logout, reuse_detected, lockout, role_change); owner only.';

REVOKE ALL ON FUNCTION internal.log_security_event(text, uuid, text, inet, jsonb) FROM PUBLIC;

-- Security events of role changes --------------------------------------------------

-- auth.users: a user created with a role other than student, or whose role
-- changes (a DBA's UPDATE; the API has no way to), is a role_change security
-- event. Enabling and disabling are logged by internal.set_user_active.
CREATE OR REPLACE FUNCTION internal.tg_users__log_role_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor record;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.role = 'student' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.role IS NOT DISTINCT FROM OLD.role THEN
        RETURN NULL;
    END IF;
    v_actor := internal.audit_actor();
    PERFORM internal.log_security_event(
        'role_change', NEW.id, NEW.email, NULL,
        jsonb_build_object(
            'action', CASE TG_OP WHEN 'INSERT' THEN 'grant' ELSE 'change' END,
            'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.role END,
            'to', NEW.role,
            'by', v_actor.actor_id,
            'by_role', v_actor.actor_role
        )
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.tg_users__log_role_change() IS
'AFTER INSERT OR UPDATE OF role on auth.users: a role_change security event when a non-student account is created or a role changes.';

REVOKE ALL ON FUNCTION internal.tg_users__log_role_change() FROM PUBLIC;

CREATE OR REPLACE TRIGGER _510_log_role_change
AFTER INSERT OR UPDATE OF role ON auth.users
FOR EACH ROW EXECUTE FUNCTION internal.tg_users__log_role_change();
