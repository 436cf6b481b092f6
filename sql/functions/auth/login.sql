-- auth: logging in, in two steps around the password check the glue makes
-- (glue/auth.py), with the throttle that locks an email or an address.
--
-- Passwords are hashed and checked in the glue (bcrypt); SQL only stores
-- and returns hashes. The functions the glue calls for auth live in the
-- internal schema (never callable over /rpc). Those that must cross a
-- boundary (anon looking up a password hash, recording the attempt) are
-- SECURITY DEFINER with a pinned search_path and fully qualified names;
-- they run as veritas_owner under the "definer helpers ..." policies of
-- sql/policies/auth.sql and audit.sql. Rules: docs/security.md.

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
