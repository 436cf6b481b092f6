-- auth: creating users (a student registering; an admin or the DBA creating
-- any user), enabling or disabling them (api.set_user_active), and the
-- admin's list of them (api.get_users).

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

-- API: the list of users (admin) -------------------------------------------------

-- GET /admin/users: users by email (case-insensitively, as the unique index
-- users_email_lower_key orders them), filtered by role, activity and a text
-- search on name and email, in keyset pages: a page that is not the last
-- sets response.next_page to {after_email} (its last row's email), which
-- the glue turns into a Link to the next page (glue/pages.py), keeping the
-- caller's filters and limit.
--
-- SECURITY INVOKER: the admin reads auth.users under "admins read users".
-- EXECUTE is granted to admin only (any other role gets 42501, HTTP 403),
-- and the caller's claims must be an admin's, so that a login switching to
-- the admin role without them gets 42501 too.
CREATE OR REPLACE FUNCTION api.get_users(
    role text DEFAULT NULL,
    active boolean DEFAULT NULL,
    q text DEFAULT NULL,
    after_email text DEFAULT NULL,
    "limit" integer DEFAULT 100
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pattern constant text := internal.search_pattern(get_users.q);
    v_users jsonb;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'only an admin may list users'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF get_users.role IS NOT NULL
        AND get_users.role NOT IN ('student', 'teacher', 'admin', 'integration')
    THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'role must be one of student, teacher, admin, integration';
    END IF;
    IF get_users."limit" IS NULL OR get_users."limit" NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 500';
    END IF;

    SELECT coalesce(jsonb_agg(x.doc ORDER BY x.sort_key), '[]'::jsonb)
    INTO v_users
    FROM (
        SELECT
            lower(u.email) AS sort_key,
            jsonb_build_object(
                'id', u.id,
                'email', u.email,
                'full_name', u.full_name,
                'role', u.role,
                'is_active', u.is_active,
                'department', tp.department,
                'created_at', u.created_at,
                'sessions_revoked_at', u.sessions_revoked_at
            ) AS doc
        FROM auth.users AS u
        LEFT JOIN app.teacher_profiles AS tp ON u.id = tp.user_id
        WHERE
            (get_users.role IS NULL OR u.role::text = get_users.role)
            AND (get_users.active IS NULL OR u.is_active = get_users.active)
            AND (
                v_pattern IS NULL
                OR lower(u.email) LIKE v_pattern
                OR lower(u.full_name) LIKE v_pattern
            )
            AND (get_users.after_email IS NULL OR lower(u.email) > lower(get_users.after_email))
        ORDER BY lower(u.email)
        LIMIT get_users."limit" + 1
    ) AS x;

    IF jsonb_array_length(v_users) > get_users."limit" THEN
        v_users := v_users - get_users."limit";  -- the look-ahead row opens the next page
        PERFORM set_config('response.next_page', jsonb_build_object(
            'after_email', v_users -> -1 ->> 'email'
        )::text, TRUE);
    END IF;
    RETURN v_users;
END;
$$;

COMMENT ON FUNCTION api.get_users(text, boolean, text, text, integer) IS
'Admin: users ordered by email, [{id, email, full_name, role, is_active, department, created_at, sessions_revoked_at}]; filters: role (student, teacher, admin, integration), active (true: enabled, false: disabled), q (a case-insensitive substring of the name or email, at most 200 characters). Keyset pages: limit 1 to 500 (default 100); a page that is not the last carries a Link header to the next (rel="next", after_email: the last row''s email). 403 for anyone but an admin; 400 for an unknown role.';

REVOKE ALL ON FUNCTION api.get_users(text, boolean, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_users(text, boolean, text, text, integer) TO admin;
