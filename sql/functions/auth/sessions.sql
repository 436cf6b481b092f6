-- auth: the life of a session after login: the check the glue runs on every
-- request with a token, refresh-token rotation, logout, and the purge of
-- records that no longer matter. Rules: docs/security.md.

-- Session check ----------------------------------------------------------------

-- Run by the glue on every request that carries a token, before the API
-- function, in the same transaction. Refuses (VT401) when the claims are
-- unusable, the token's jti was revoked (logout), the user is gone, disabled
-- or no longer has the token's role, or the token was issued (iat) before
-- the user's sessions were revoked. Two primary-key lookups.
CREATE OR REPLACE FUNCTION internal.assert_session_active()
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
    v_claims constant jsonb := internal.jwt_claims();
    v_role constant text := v_claims ->> 'role';
    v_sub constant text := v_claims ->> 'sub';
    v_jti constant text := v_claims ->> 'jti';
    v_iat constant text := v_claims ->> 'iat';
    v_ok boolean;
BEGIN
    -- The claims must hold (as internal.current_user_id() demands: the role
    -- claim is the database role in effect) and be complete.
    IF v_role IS DISTINCT FROM current_setting('role', true)
        OR v_sub IS NULL OR v_sub !~* c_uuid
        OR v_jti IS NULL OR v_jti !~* c_uuid
        OR v_iat IS NULL OR v_iat !~ '^[0-9]{1,11}(\.[0-9]+)?$'
    THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;

    SELECT
        u.is_active
        AND u.role::text = v_role
        AND (u.sessions_revoked_at IS NULL OR to_timestamp(v_iat::numeric) >= u.sessions_revoked_at)
        AND NOT EXISTS (SELECT FROM auth.revoked_tokens AS r WHERE r.jti = v_jti::uuid)
    INTO v_ok
    FROM auth.users AS u
    WHERE u.id = v_sub::uuid;

    IF v_ok IS NOT TRUE THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.assert_session_active() IS
'Raises VT401 unless the request''s token is still good: jti not revoked, user present, active and of the token''s role, token issued after the user''s sessions_revoked_at.';

REVOKE ALL ON FUNCTION internal.assert_session_active() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.assert_session_active() TO student, teacher, admin, integration;

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

-- Refresh ----------------------------------------------------------------------

-- Rotates a refresh token: the old one is marked used and replaced by the
-- new one in the same family. Never raises for a bad token (a revocation
-- must commit): the glue answers 401 for any status but ok. The token row is
-- locked, so concurrent uses of one token run one after the other.
--
-- An already-used token is a reuse, with one exception, the reuse interval
-- (p_reuse_seconds, at most 60; 0 disables it): two tabs refreshing the same
-- token at the same moment. The glue derives the new token from the old one
-- (HMAC with a server secret, glue/tokens.py), so a concurrent twin of a
-- rotation presents the same p_new_hash as the rotation that won. When the
-- token was used less than p_reuse_seconds ago and p_new_hash is the hash of
-- its successor (which only the glue's secret can produce from the presented
-- token), the twin gets the family's live token: {status: ok, user, steps},
-- the live token being steps successors after the presented one, which the
-- glue derives again (steps is 1 unless the family rotated again meanwhile).
-- Nothing is inserted and no token is stored but as its hash. Otherwise the
-- whole family is revoked and the reuse logged.
CREATE OR REPLACE FUNCTION internal.refresh_rotate(
    p_old_hash bytea, p_new_hash bytea, p_reuse_seconds integer DEFAULT 0
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_max_reuse_seconds constant integer := 60;
    v_reuse constant interval := make_interval(
        secs => least(greatest(coalesce(p_reuse_seconds, 0), 0), c_max_reuse_seconds)
    );
    v_token record;
    v_user jsonb;
    v_new_id uuid;
    v_steps integer;
BEGIN
    SELECT t.id, t.family_id, t.user_id, t.expires_at, t.used_at, t.replaced_by
    INTO v_token
    FROM auth.refresh_tokens AS t
    WHERE t.token_hash = p_old_hash
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;

    IF v_token.used_at IS NOT NULL THEN
        IF v_reuse > interval '0' AND v_token.used_at > now() - v_reuse THEN
            v_steps := internal.refresh_twin_steps(v_token.replaced_by, p_new_hash);
            v_user := internal.refresh_session_user(v_token.family_id, v_token.user_id);
            IF v_steps IS NOT NULL AND v_user IS NOT NULL THEN
                PERFORM internal.log_security_event(
                    'refresh', v_token.user_id, NULL, NULL,
                    jsonb_build_object(
                        'family_id', v_token.family_id, 'reuse_interval', TRUE, 'steps', v_steps
                    )
                );
                RETURN jsonb_build_object('status', 'ok', 'user', v_user, 'steps', v_steps);
            END IF;
        END IF;
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
    v_user := internal.refresh_session_user(v_token.family_id, v_token.user_id);
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
    RETURN jsonb_build_object('status', 'ok', 'user', v_user, 'steps', 1);
END;
$$;

COMMENT ON FUNCTION internal.refresh_rotate(bytea, bytea, integer) IS
'Refresh (anon): {status: ok, user, steps} after rotating the token (steps 1), or for a concurrent twin inside the reuse interval (p_reuse_seconds, at most 60) that presents the successor''s hash (steps: how far the family''s live token is from the presented one); {status: invalid} if unknown, expired, revoked or the user is inactive; {status: reuse} if already used otherwise (the family is revoked).';

REVOKE ALL ON FUNCTION internal.refresh_rotate(bytea, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_rotate(bytea, bytea, integer) TO anon;

-- The user of a live session as the tokens body names them: NULL when the
-- family is revoked or the user is gone or disabled.
CREATE OR REPLACE FUNCTION internal.refresh_session_user(p_family_id uuid, p_user_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role)
    FROM auth.users AS u
    WHERE
        u.id = p_user_id
        AND u.is_active
        AND EXISTS (
            SELECT FROM auth.refresh_token_families AS f
            WHERE f.id = p_family_id AND f.revoked_at IS NULL
        );
$$;

COMMENT ON FUNCTION internal.refresh_session_user(uuid, uuid) IS
'The user {id, email, full_name, role} of a refresh family that is not revoked, the user active; NULL otherwise. Owner only (refresh_rotate).';
REVOKE ALL ON FUNCTION internal.refresh_session_user(uuid, uuid) FROM PUBLIC;

-- A twin's way to the family's live token: from the presented token's
-- successor (which must carry p_successor_hash, else NULL), along
-- replaced_by, to the first token not used yet and not expired: how many
-- steps that is. NULL when the chain ends without one (purged, expired) or
-- is longer than 16. Each token is locked on the way, in the order rotations
-- lock them (older first): a rotation in flight is waited for, then seen.
CREATE OR REPLACE FUNCTION internal.refresh_twin_steps(
    p_successor_id uuid, p_successor_hash bytea
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_max_steps constant integer := 16;
    v_id uuid := p_successor_id;
    v_next record;
BEGIN
    FOR v_steps IN 1..c_max_steps LOOP
        SELECT t.token_hash, t.used_at, t.expires_at, t.replaced_by
        INTO v_next
        FROM auth.refresh_tokens AS t
        WHERE t.id = v_id
        FOR UPDATE;
        IF NOT FOUND OR (v_steps = 1 AND v_next.token_hash IS DISTINCT FROM p_successor_hash) THEN
            RETURN NULL;
        END IF;
        IF v_next.used_at IS NULL THEN
            RETURN CASE WHEN v_next.expires_at > now() THEN v_steps END;
        END IF;
        v_id := v_next.replaced_by;
    END LOOP;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.refresh_twin_steps(uuid, bytea) IS
'For refresh_rotate''s reuse interval: steps from a used token''s successor (whose hash must be p_successor_hash) to the family''s live token, counting the successor as 1; NULL if there is none within 16 or the hash differs. Owner only.';
REVOKE ALL ON FUNCTION internal.refresh_twin_steps(uuid, bytea) FROM PUBLIC;

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
