-- auth: creating users (a student registering; an admin or the DBA creating
-- any user) and enabling or disabling them (api.set_user_active).

-- Register ---------------------------------------------------------------------

-- A new student: the user, their profile and their metrics row.
CREATE OR REPLACE FUNCTION internal.register_student(
    p_email text, p_password_hash text, p_full_name text
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    BEGIN
        INSERT INTO auth.users (email, password_hash, full_name, role)
        VALUES (p_email, p_password_hash, p_full_name, 'student')
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'an account with this email already exists'
            USING ERRCODE = 'unique_violation', HINT = 'Log in, or register with another email.';
    END;
    INSERT INTO app.student_profiles (user_id) VALUES (v_id);
    INSERT INTO app.performance_metrics (student_id) VALUES (v_id);
    RETURN jsonb_build_object(
        'id', v_id, 'email', p_email, 'full_name', p_full_name, 'role', 'student'
    );
END;
$$;

COMMENT ON FUNCTION internal.register_student(text, text, text) IS
'Creates a student (user, profile, metrics) from an email, a bcrypt hash and a name; the user as JSON. 23505 if the email exists (case-insensitively).';

REVOKE ALL ON FUNCTION internal.register_student(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.register_student(text, text, text) TO anon;

-- Create a user (admin, DBA) -----------------------------------------------------

-- SECURITY INVOKER: under the admin role the policies "admins create users"
-- and "admins create profiles" allow it; the DBA (a superuser: `veritas
-- user add`, the demo loader) is not subject to RLS. Students get a profile
-- and a metrics row, teachers and admins a teacher profile, integration
-- accounts nothing more.
CREATE OR REPLACE FUNCTION internal.create_user(
    p_email text,
    p_password_hash text,
    p_full_name text,
    p_role auth.user_role,
    p_department text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_role IS NULL THEN
        RAISE EXCEPTION 'role must be one of student, teacher, admin, integration'
            USING ERRCODE = 'not_null_violation';
    END IF;
    BEGIN
        INSERT INTO auth.users (email, password_hash, full_name, role)
        VALUES (p_email, p_password_hash, p_full_name, p_role)
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'an account with this email already exists'
            USING ERRCODE = 'unique_violation';
    END;
    IF p_role = 'student' THEN
        INSERT INTO app.student_profiles (user_id) VALUES (v_id);
        INSERT INTO app.performance_metrics (student_id) VALUES (v_id);
    ELSIF p_role IN ('teacher', 'admin') THEN
        INSERT INTO app.teacher_profiles (user_id, department) VALUES (v_id, p_department);
    END IF;
    RETURN jsonb_build_object(
        'id', v_id, 'email', p_email, 'full_name', p_full_name, 'role', p_role
    );
END;
$$;

COMMENT ON FUNCTION internal.create_user(text, text, text, auth.user_role, text) IS
'Creates a user of any role with the right profile rows; the user as JSON. For admins (POST /admin/users, under RLS) and the DBA.';

REVOKE ALL ON FUNCTION internal.create_user(text, text, text, auth.user_role, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.create_user(text, text, text, auth.user_role, text) TO admin;

-- Enable or disable a user (admin) -------------------------------------------

-- Disabling ends every session of the user at once: is_active = false,
-- sessions_revoked_at = now() (every access token issued before is refused
-- by internal.assert_session_active) and every refresh family revoked.
-- Enabling does not bring old sessions back. An admin cannot disable
-- themself (someone must be left to re-enable accounts).
CREATE OR REPLACE FUNCTION internal.set_user_active(p_user_id uuid, p_active boolean)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor constant uuid := internal.current_user_id();
    v_user jsonb;
    v_families integer := 0;
BEGIN
    IF p_user_id IS NULL OR p_active IS NULL THEN
        RAISE EXCEPTION 'user_id and active are required'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_user_id = v_actor AND NOT p_active THEN
        RAISE EXCEPTION 'you cannot disable your own account'
            USING ERRCODE = 'VT409', HINT = 'Ask another admin.';
    END IF;

    UPDATE auth.users AS u
    SET
        is_active = p_active,
        sessions_revoked_at = CASE WHEN p_active THEN u.sessions_revoked_at ELSE now() END
    WHERE u.id = p_user_id
    RETURNING jsonb_build_object(
        'id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role,
        'is_active', u.is_active
    ) INTO v_user;
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'no such user'
            USING ERRCODE = 'VT404';
    END IF;

    IF NOT p_active THEN
        UPDATE auth.refresh_token_families AS f
        SET revoked_at = now(), revoked_reason = 'disabled'
        WHERE f.user_id = p_user_id AND f.revoked_at IS NULL;
        GET DIAGNOSTICS v_families = ROW_COUNT;
    END IF;

    PERFORM internal.log_security_event(
        'role_change', p_user_id, v_user ->> 'email', NULL,
        jsonb_build_object(
            'action', CASE WHEN p_active THEN 'enable' ELSE 'disable' END,
            'by', v_actor, 'families_revoked', v_families
        )
    );
    RETURN v_user;
END;
$$;

COMMENT ON FUNCTION internal.set_user_active(uuid, boolean) IS
'Admin: enables or disables a user; disabling ends all their sessions (sessions_revoked_at, refresh families).';

REVOKE ALL ON FUNCTION internal.set_user_active(uuid, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.set_user_active(uuid, boolean) TO admin;

-- API: user management (admin) ----------------------------------------------------

CREATE OR REPLACE FUNCTION api.set_user_active(user_id uuid, active boolean)
RETURNS jsonb
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.set_user_active(set_user_active.user_id, set_user_active.active);
$$;

COMMENT ON FUNCTION api.set_user_active(uuid, boolean) IS
'Admin: enables (active true) or disables (active false) a user; disabling ends all their sessions at once. Returns {id, email, full_name, role, is_active}; 404 for an unknown user, 409 for disabling yourself.';

REVOKE ALL ON FUNCTION api.set_user_active(uuid, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.set_user_active(uuid, boolean) TO admin;
