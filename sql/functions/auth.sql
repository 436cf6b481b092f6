-- auth: the functions behind register, login, refresh, logout, me and user
-- management, and the seed's authorisation functions.
--
-- Passwords are hashed and checked in the glue (bcrypt); SQL only stores
-- and returns hashes. The functions the glue calls for auth live in the
-- internal schema (never callable over /rpc). Those that must cross a
-- boundary (anon looking up a password hash, rotating a refresh token,
-- writing the security log) are SECURITY DEFINER with a pinned search_path
-- and fully qualified names; they run as veritas_owner under the
-- "definer helpers ..." policies of sql/policies/auth.sql and audit.sql.

-- Security log -------------------------------------------------------------------

-- Appends one row to audit.security_events. Not granted to anyone: only the
-- SECURITY DEFINER functions below (running as the owner) call it.
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

-- Login throttling ---------------------------------------------------------------

-- The lockout rule (ASVS 2.2.1: no more than 100 failed attempts per hour
-- on one account):
--   * per account: 5 failed logins for the same lower(email) within 15
--     minutes, counted since that email's last successful login, lock it
--     until 15 minutes after the 5th-latest failure (a sliding window: at
--     most 20 failures an hour on one account);
--   * per client address: 50 failed logins from the same address within 15
--     minutes, whatever the emails (a success does not reset it), lock that
--     address likewise (at most 200 an hour from one address).
-- While locked, internal.login_lookup answers retry_after > 0 and no user,
-- so that no password is checked. Both counts read one index range each
-- (login_attempts_email_idx, login_attempts_client_addr_idx), at most 6 and
-- 51 entries.
-- Known limit: failures are recorded after the password check, so up to a
-- handful of concurrent guesses may pass the lookup before the lock starts.
CREATE OR REPLACE FUNCTION internal.login_throttle(
    p_email text,
    p_client_addr inet,
    OUT email_failures integer,
    OUT addr_failures integer,
    OUT locked_until timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_window constant interval := interval '15 minutes';
    c_email_limit constant integer := 5;
    c_addr_limit constant integer := 50;
    v_since constant timestamptz := now() - c_window;
    v_email_since timestamptz;
    v_times timestamptz[];
BEGIN
    -- Failures of this email since its last success inside the window.
    SELECT greatest(v_since, max(la.attempted_at))
    INTO v_email_since
    FROM auth.login_attempts AS la
    WHERE lower(la.email) = lower(p_email) AND la.attempted_at > v_since AND la.succeeded;

    SELECT array_agg(f.attempted_at ORDER BY f.attempted_at DESC)
    INTO v_times
    FROM (
        SELECT la.attempted_at
        FROM auth.login_attempts AS la
        WHERE lower(la.email) = lower(p_email) AND la.attempted_at > v_email_since AND NOT la.succeeded
        ORDER BY la.attempted_at DESC
        LIMIT c_email_limit + 1
    ) AS f;
    email_failures := coalesce(cardinality(v_times), 0);
    IF email_failures >= c_email_limit THEN
        locked_until := v_times[c_email_limit] + c_window;
    END IF;

    -- Failures from this client address inside the window.
    addr_failures := 0;
    IF p_client_addr IS NOT NULL THEN
        SELECT array_agg(f.attempted_at ORDER BY f.attempted_at DESC)
        INTO v_times
        FROM (
            SELECT la.attempted_at
            FROM auth.login_attempts AS la
            WHERE la.client_addr = p_client_addr AND la.attempted_at > v_since AND NOT la.succeeded
            ORDER BY la.attempted_at DESC
            LIMIT c_addr_limit + 1
        ) AS f;
        addr_failures := coalesce(cardinality(v_times), 0);
        IF addr_failures >= c_addr_limit THEN
            locked_until := greatest(locked_until, v_times[c_addr_limit] + c_window);
        END IF;
    END IF;

    IF locked_until <= now() THEN
        locked_until := NULL;
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.login_throttle(text, inet) IS
'Recent failed logins of an email (since its last success) and of a client address, and until when they are locked (NULL: not locked). Owner only.';

REVOKE ALL ON FUNCTION internal.login_throttle(text, inet) FROM PUBLIC;

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

-- Refresh tokens ------------------------------------------------------------------

-- When a refresh token issued now expires: 7 days. Fixed here, not by the
-- caller, so that whoever holds the authenticator's password still cannot
-- mint a refresh token that outlives the rule.
CREATE OR REPLACE FUNCTION internal.refresh_token_expiry()
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT now() + interval '7 days';
$$;

COMMENT ON FUNCTION internal.refresh_token_expiry() IS
'The expiry of a refresh token issued now (7 days).';
REVOKE ALL ON FUNCTION internal.refresh_token_expiry() FROM PUBLIC;

-- Login --------------------------------------------------------------------------

-- Step 1 of a login: is the email or the address locked, and if not, the
-- user with their password hash (NULL user for an unknown email; the glue
-- then checks a dummy hash so that both cost the same).
CREATE OR REPLACE FUNCTION internal.login_lookup(p_email text, p_client_addr inet)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_locked_until timestamptz;
    v_user jsonb;
BEGIN
    SELECT t.locked_until INTO v_locked_until
    FROM internal.login_throttle(p_email, p_client_addr) AS t;
    IF v_locked_until IS NOT NULL THEN
        RETURN jsonb_build_object(
            'retry_after', greatest(1, ceil(extract(EPOCH FROM v_locked_until - now())))::integer,
            'user', NULL
        );
    END IF;
    SELECT jsonb_build_object(
        'id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role,
        'password_hash', u.password_hash, 'is_active', u.is_active
    )
    INTO v_user
    FROM auth.users AS u
    WHERE lower(u.email) = lower(p_email);
    RETURN jsonb_build_object('retry_after', 0, 'user', v_user);
END;
$$;

COMMENT ON FUNCTION internal.login_lookup(text, inet) IS
'Login step 1 (anon): {retry_after (seconds, 0 when not locked), user: null | {id, email, full_name, role, password_hash, is_active}}; no user while locked.';

REVOKE ALL ON FUNCTION internal.login_lookup(text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.login_lookup(text, inet) TO anon;

-- Step 2 of a login (and the end of a registration): records the attempt
-- and its security event; a success opens a session, that is a refresh
-- token family with its first token. A failure that brings the email or the
-- address to the lockout threshold is logged as a lockout.
CREATE OR REPLACE FUNCTION internal.login_record(
    p_email text,
    p_client_addr inet,
    p_user_id uuid,
    p_succeeded boolean,
    p_refresh_hash bytea
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_email constant text := left(p_email, 320);
    v_family_id uuid;
    v_throttle record;
BEGIN
    IF p_succeeded IS NULL OR p_email IS NULL THEN
        RAISE EXCEPTION 'a login attempt needs an email and an outcome'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;

    INSERT INTO auth.login_attempts (email, client_addr, succeeded)
    VALUES (v_email, p_client_addr, p_succeeded);

    IF p_succeeded THEN
        IF p_user_id IS NULL OR p_refresh_hash IS NULL THEN
            RAISE EXCEPTION 'a successful login needs the user and a refresh token hash'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        PERFORM FROM auth.users AS u
        WHERE u.id = p_user_id AND lower(u.email) = lower(p_email) AND u.is_active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no active user has this id and email'
                USING ERRCODE = 'VT401';
        END IF;
        INSERT INTO auth.refresh_token_families (user_id)
        VALUES (p_user_id)
        RETURNING id INTO v_family_id;
        INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, expires_at)
        VALUES (v_family_id, p_user_id, p_refresh_hash, internal.refresh_token_expiry());
        PERFORM internal.log_security_event(
            'login_success', p_user_id, v_email, p_client_addr,
            jsonb_build_object('family_id', v_family_id)
        );
    ELSE
        PERFORM internal.log_security_event(
            'login_failure', p_user_id, v_email, p_client_addr, '{}'
        );
        SELECT * INTO v_throttle FROM internal.login_throttle(p_email, p_client_addr);
        IF v_throttle.email_failures = 5 THEN
            PERFORM internal.log_security_event(
                'lockout', p_user_id, v_email, p_client_addr,
                jsonb_build_object(
                    'scope', 'email', 'failures', 5, 'locked_until', v_throttle.locked_until
                )
            );
        END IF;
        IF v_throttle.addr_failures = 50 THEN
            PERFORM internal.log_security_event(
                'lockout', NULL, v_email, p_client_addr,
                jsonb_build_object(
                    'scope', 'client_addr', 'failures', 50, 'locked_until', v_throttle.locked_until
                )
            );
        END IF;
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.login_record(text, inet, uuid, boolean, bytea) IS
'Login step 2 (anon): records the attempt and its security event; on success opens a refresh-token family with its first token (its hash from the glue, its expiry fixed here: internal.refresh_token_expiry()).';

REVOKE ALL ON FUNCTION internal.login_record(text, inet, uuid, boolean, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.login_record(text, inet, uuid, boolean, bytea) TO anon;

-- Refresh ----------------------------------------------------------------------

-- Rotates a refresh token: the old one is marked used and replaced by the
-- new one in the same family. An already-used token is a reuse: the whole
-- family is revoked and the event logged. Never raises for a bad token (the
-- revocation must commit): the glue answers 401 for any status but ok. The
-- token row is locked, so two concurrent uses cannot both succeed (the
-- second sees used_at and revokes the family).
CREATE OR REPLACE FUNCTION internal.refresh_rotate(p_old_hash bytea, p_new_hash bytea)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_token record;
    v_user jsonb;
    v_new_id uuid;
BEGIN
    SELECT t.id, t.family_id, t.user_id, t.expires_at, t.used_at
    INTO v_token
    FROM auth.refresh_tokens AS t
    WHERE t.token_hash = p_old_hash
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;

    IF v_token.used_at IS NOT NULL THEN
        UPDATE auth.refresh_token_families AS f
        SET revoked_at = now(), revoked_reason = 'reuse_detected'
        WHERE f.id = v_token.family_id AND f.revoked_at IS NULL;
        PERFORM internal.log_security_event(
            'reuse_detected', v_token.user_id, NULL, NULL,
            jsonb_build_object('family_id', v_token.family_id, 'token_id', v_token.id)
        );
        RETURN jsonb_build_object('status', 'reuse');
    END IF;

    IF v_token.expires_at <= now() THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;
    PERFORM FROM auth.refresh_token_families AS f
    WHERE f.id = v_token.family_id AND f.revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;
    SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role)
    INTO v_user
    FROM auth.users AS u
    WHERE u.id = v_token.user_id AND u.is_active;
    IF v_user IS NULL THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;

    INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, expires_at)
    VALUES (v_token.family_id, v_token.user_id, p_new_hash, internal.refresh_token_expiry())
    RETURNING id INTO v_new_id;
    UPDATE auth.refresh_tokens AS t
    SET used_at = now(), replaced_by = v_new_id
    WHERE t.id = v_token.id;
    PERFORM internal.log_security_event(
        'refresh', v_token.user_id, NULL, NULL,
        jsonb_build_object('family_id', v_token.family_id)
    );
    RETURN jsonb_build_object('status', 'ok', 'user', v_user);
END;
$$;

COMMENT ON FUNCTION internal.refresh_rotate(bytea, bytea) IS
'Refresh (anon): {status: ok, user} after rotating the token; {status: invalid} if unknown, expired, revoked or the user is inactive; {status: reuse} if already used (the family is revoked).';

REVOKE ALL ON FUNCTION internal.refresh_rotate(bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_rotate(bytea, bytea) TO anon;

-- Logout -------------------------------------------------------------------------

-- Ends the caller's session at once: the access token's jti is revoked
-- (until its exp), and the refresh family of p_refresh_hash too when that
-- token is the caller's own.
CREATE OR REPLACE FUNCTION internal.logout(p_refresh_hash bytea DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_claims constant jsonb := internal.jwt_claims();
    v_user_id constant uuid := internal.current_user_id();
    v_jti constant text := v_claims ->> 'jti';
    v_exp constant text := v_claims ->> 'exp';
    v_family_id uuid;
BEGIN
    IF v_user_id IS NULL
        OR v_jti IS NULL
        OR v_jti !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        OR v_exp IS NULL
        OR v_exp !~ '^[0-9]{1,11}(\.[0-9]+)?$'
    THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;

    INSERT INTO auth.revoked_tokens (jti, user_id, expires_at)
    VALUES (v_jti::uuid, v_user_id, to_timestamp(v_exp::numeric))
    ON CONFLICT (jti) DO NOTHING;

    IF p_refresh_hash IS NOT NULL THEN
        UPDATE auth.refresh_token_families AS f
        SET revoked_at = now(), revoked_reason = 'logout'
        FROM auth.refresh_tokens AS t
        WHERE
            t.token_hash = p_refresh_hash
            AND t.user_id = v_user_id
            AND f.id = t.family_id
            AND f.revoked_at IS NULL
        RETURNING f.id INTO v_family_id;
    END IF;

    PERFORM internal.log_security_event(
        'logout', v_user_id, NULL, NULL,
        jsonb_build_object('jti', v_jti, 'family_id', v_family_id)
    );
END;
$$;

COMMENT ON FUNCTION internal.logout(bytea) IS
'Logout: revokes the caller''s access token (jti) and, when given and the caller''s own, the refresh token''s family.';

REVOKE ALL ON FUNCTION internal.logout(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.logout(bytea) TO student, teacher, admin, integration;

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

-- Purge ----------------------------------------------------------------------------

-- Forgets what no longer matters: revocations of access tokens past their
-- expiry, refresh tokens expired for a day, families left without tokens,
-- login attempts older than 30 days. For the worker (SECURITY DEFINER: the
-- worker role holds nothing on tables); the "definer helpers purge ..."
-- policies allow exactly these rows.
CREATE OR REPLACE FUNCTION internal.purge_auth_records()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_revoked integer;
    v_tokens integer;
    v_families integer;
    v_attempts integer;
BEGIN
    DELETE FROM auth.revoked_tokens AS r WHERE r.expires_at < now();
    GET DIAGNOSTICS v_revoked = ROW_COUNT;
    DELETE FROM auth.refresh_tokens AS t WHERE t.expires_at < now() - interval '1 day';
    GET DIAGNOSTICS v_tokens = ROW_COUNT;
    DELETE FROM auth.refresh_token_families AS f
    WHERE
        f.created_at < now() - interval '1 day'
        AND NOT EXISTS (SELECT FROM auth.refresh_tokens AS t WHERE t.family_id = f.id);
    GET DIAGNOSTICS v_families = ROW_COUNT;
    DELETE FROM auth.login_attempts AS la WHERE la.attempted_at < now() - interval '30 days';
    GET DIAGNOSTICS v_attempts = ROW_COUNT;
    RETURN jsonb_build_object(
        'revoked_tokens', v_revoked, 'refresh_tokens', v_tokens,
        'refresh_token_families', v_families, 'login_attempts', v_attempts
    );
END;
$$;

COMMENT ON FUNCTION internal.purge_auth_records() IS
'Worker: deletes expired revocations and refresh tokens, empty families, login attempts older than 30 days; the counts.';

REVOKE ALL ON FUNCTION internal.purge_auth_records() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.purge_auth_records() TO worker;

-- API: me ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.me()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user jsonb;
BEGIN
    SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role)
    INTO v_user
    FROM auth.users AS u
    WHERE u.id = (SELECT internal.current_user_id());
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;
    RETURN v_user;
END;
$$;

COMMENT ON FUNCTION api.me() IS
'The calling user: {id, email, full_name, role} (GET /auth/me).';

REVOKE ALL ON FUNCTION api.me() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.me() TO student, teacher, admin, integration;

-- API: authorisation functions of the seed -----------------------------------------

CREATE OR REPLACE FUNCTION api.has_permission(permission text)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT FROM auth.role_permissions AS rp
        WHERE
            rp.role::text = internal.current_app_role()
            AND rp.permission = has_permission.permission
    );
$$;

COMMENT ON FUNCTION api.has_permission(text) IS
'True when the caller''s role holds the permission (for example create_exam, review_flags, view_audit).';

CREATE OR REPLACE FUNCTION api.can_access_exam(exam_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.can_access_exam(can_access_exam.exam_id);
$$;

COMMENT ON FUNCTION api.can_access_exam(uuid) IS
'True when the caller may access the exam: an admin any exam, a teacher the exams they created or were granted, a student the published ones.';

CREATE OR REPLACE FUNCTION api.can_access_student_data(student_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.can_access_student_data(can_access_student_data.student_id);
$$;

COMMENT ON FUNCTION api.can_access_student_data(uuid) IS
'True when the caller may see the student''s data: an admin any student, a teacher the students with an attempt on their exams, a student themself.';

REVOKE ALL ON FUNCTION api.has_permission(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.can_access_exam(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION api.can_access_student_data(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.has_permission(text) TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION api.can_access_exam(uuid) TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION api.can_access_student_data(
    uuid
) TO student, teacher, admin, integration;

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
