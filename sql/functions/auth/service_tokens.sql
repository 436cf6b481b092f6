-- auth: service tokens, the long-lived access tokens of integration accounts
-- (POST /admin/service-tokens). The database decides each token's id and
-- lifetime and keeps the list; the glue signs the JWT (typ access, role
-- integration, exp as decided here) and never stores it. A token is revoked
-- like a logout: its jti goes to auth.revoked_tokens, which
-- internal.assert_session_active checks on every request. Rules:
-- docs/security.md, "Service tokens".

-- Issue --------------------------------------------------------------------------

-- SECURITY DEFINER: writes auth.service_tokens, which no request role may
-- write. Granted to admin only.
CREATE OR REPLACE FUNCTION internal.issue_service_token(
    p_user_id uuid,
    p_label text,
    p_lifetime_days integer DEFAULT 90
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor constant uuid := internal.current_user_id();
    v_user record;
    v_jti uuid;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'only an admin issues service tokens' USING ERRCODE = '42501';
    END IF;
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'user_id is required' USING ERRCODE = '22023';
    END IF;
    IF p_label IS NULL OR btrim(p_label) = '' OR length(p_label) > 200 THEN
        RAISE EXCEPTION 'label must have 1 to 200 characters (what the token is for)'
            USING ERRCODE = '22023';
    END IF;
    IF p_lifetime_days IS NULL OR p_lifetime_days NOT BETWEEN 1 AND 365 THEN
        RAISE EXCEPTION 'lifetime_days must be between 1 and 365' USING ERRCODE = '22023';
    END IF;

    SELECT u.id, u.email, u.role, u.is_active INTO v_user
    FROM auth.users AS u
    WHERE u.id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such user' USING ERRCODE = 'VT404';
    END IF;
    IF v_user.role <> 'integration' THEN
        RAISE EXCEPTION 'service tokens are for integration accounts, and this user is a %',
            v_user.role
            USING ERRCODE = '22023';
    END IF;
    IF NOT v_user.is_active THEN
        RAISE EXCEPTION 'the account is disabled' USING ERRCODE = 'VT409';
    END IF;

    INSERT INTO auth.service_tokens (user_id, label, issued_by, expires_at)
    VALUES (p_user_id, p_label, v_actor, now() + make_interval(days => p_lifetime_days))
    RETURNING jti INTO v_jti;
    RETURN internal.service_token_document(v_jti);
END;
$$;

COMMENT ON FUNCTION internal.issue_service_token(uuid, text, integer) IS
'Admin: records a service token for an active integration account (lifetime 1 to 365 days, default 90) and returns its jti, issued_at and expires_at for the glue to sign.';

REVOKE ALL ON FUNCTION internal.issue_service_token(uuid, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.issue_service_token(uuid, text, integer) TO admin;

-- One token as JSON, read under the caller's policies (iat and exp as the
-- JWT carries them: whole seconds). NULL when not visible.
CREATE OR REPLACE FUNCTION internal.service_token_document(p_jti uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'jti', s.jti,
        'user_id', s.user_id,
        'email', u.email,
        'label', s.label,
        'issued_by', s.issued_by,
        'issued_at', s.issued_at,
        'expires_at', s.expires_at,
        'revoked_at', s.revoked_at,
        'revoked_by', s.revoked_by,
        'iat', floor(extract(EPOCH FROM s.issued_at))::bigint,
        'exp', floor(extract(EPOCH FROM s.expires_at))::bigint
    )
    FROM auth.service_tokens AS s
    LEFT JOIN auth.users AS u ON s.user_id = u.id
    WHERE s.jti = p_jti;
$$;

COMMENT ON FUNCTION internal.service_token_document(uuid) IS
'A service token as JSON, with its account''s email and iat and exp in epoch seconds; NULL when not visible.';

REVOKE ALL ON FUNCTION internal.service_token_document(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.service_token_document(uuid) TO admin;

-- Revoke -------------------------------------------------------------------------

-- SECURITY DEFINER: writes auth.service_tokens and auth.revoked_tokens.
-- Revoking twice changes nothing and answers the same.
CREATE OR REPLACE FUNCTION internal.revoke_service_token(p_jti uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_token record;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'only an admin revokes service tokens' USING ERRCODE = '42501';
    END IF;
    UPDATE auth.service_tokens AS s
    SET revoked_at = now(), revoked_by = internal.current_user_id()
    WHERE s.jti = p_jti AND s.revoked_at IS NULL;
    SELECT s.jti, s.user_id, s.expires_at INTO v_token
    FROM auth.service_tokens AS s
    WHERE s.jti = p_jti;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such service token' USING ERRCODE = 'VT404';
    END IF;
    INSERT INTO auth.revoked_tokens (jti, user_id, expires_at)
    VALUES (v_token.jti, v_token.user_id, v_token.expires_at)
    ON CONFLICT (jti) DO NOTHING;
    RETURN internal.service_token_document(p_jti);
END;
$$;

COMMENT ON FUNCTION internal.revoke_service_token(uuid) IS
'Admin: revokes a service token at once (its jti joins auth.revoked_tokens); the token as JSON.';

REVOKE ALL ON FUNCTION internal.revoke_service_token(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.revoke_service_token(uuid) TO admin;

-- API ----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.revoke_service_token(jti uuid)
RETURNS jsonb
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.revoke_service_token(revoke_service_token.jti);
$$;

COMMENT ON FUNCTION api.revoke_service_token(uuid) IS
'Admin: revokes a service token (POST /admin/service-tokens/{jti}/revoke); requests with it are refused (401) at once. A second revoke changes nothing. Returns the token {jti, user_id, email, label, issued_by, issued_at, expires_at, revoked_at, revoked_by}; 404 for an unknown jti.';

REVOKE ALL ON FUNCTION api.revoke_service_token(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.revoke_service_token(uuid) TO admin;

-- SECURITY INVOKER: the admin reads the tokens and users under RLS.
CREATE OR REPLACE FUNCTION api.get_service_tokens()
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        jsonb_agg(
            internal.service_token_document(s.jti) - 'iat' - 'exp'
            ORDER BY s.issued_at DESC, s.jti
        ),
        '[]'::jsonb
    )
    FROM auth.service_tokens AS s;
$$;

COMMENT ON FUNCTION api.get_service_tokens() IS
'Admin: every service token issued, newest first: [{jti, user_id, email, label, issued_by, issued_at, expires_at, revoked_at, revoked_by}] (GET /admin/service-tokens). The tokens themselves are never stored.';

REVOKE ALL ON FUNCTION api.get_service_tokens() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_service_tokens() TO admin;
