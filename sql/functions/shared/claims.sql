-- Who is calling: the JWT claim readers that every other file and the
-- row-level security policies use.
--
-- The glue switches to the database role named by the token
-- (set_config('role', ...)) and makes the verified claims readable as
-- request.jwt.claims, both transaction-local. The claim readers below trust
-- the claims only when their role claim IS the database role in effect
-- (current_setting('role'), which SECURITY DEFINER does not change): a
-- login that sets request.jwt.claims by hand, without holding that role,
-- reads NULL (and policies are written TO student, TO teacher ... anyway,
-- never TO PUBLIC).

-- Claims -----------------------------------------------------------------------

-- The claims as jsonb; NULL when absent, empty, not JSON or not an object.
-- The exception block makes it PARALLEL UNSAFE (a subtransaction cannot
-- start in parallel mode): request queries are small and never parallel.
CREATE OR REPLACE FUNCTION internal.jwt_claims()
RETURNS jsonb
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_raw text := current_setting('request.jwt.claims', true);
    v_claims jsonb;
BEGIN
    IF v_raw IS NULL OR v_raw = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v_claims := v_raw::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN NULL;
    END;
    IF jsonb_typeof(v_claims) <> 'object' THEN
        RETURN NULL;
    END IF;
    RETURN v_claims;
END;
$$;

COMMENT ON FUNCTION internal.jwt_claims() IS
'The request''s JWT claims (request.jwt.claims) as a jsonb object; NULL when absent or invalid.';

-- The caller's user id (sub), only when the role claim is the database role
-- in effect and sub is a UUID; NULL otherwise. PL/pgSQL, not SQL: its plans
-- are cached across calls (a SQL function with a FROM clause is planned
-- again at every call from PL/pgSQL, 4 to 5 times slower).
CREATE OR REPLACE FUNCTION internal.current_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_claims constant jsonb := internal.jwt_claims();
    v_sub constant text := v_claims ->> 'sub';
BEGIN
    IF v_claims ->> 'role' = current_setting('role', true)
        AND v_sub ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    THEN
        RETURN v_sub::uuid;
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.current_user_id() IS
'The caller''s user id (sub claim); NULL unless the role claim is the database role in effect. Write (SELECT internal.current_user_id()) in policies.';

-- The caller's application role (role claim), under the same condition.
CREATE OR REPLACE FUNCTION internal.current_app_role()
RETURNS text
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_role constant text := internal.jwt_claims() ->> 'role';
BEGIN
    IF v_role = current_setting('role', true)
        AND v_role IN ('student', 'teacher', 'admin', 'integration')
    THEN
        RETURN v_role;
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.current_app_role() IS
'The caller''s application role (role claim: student, teacher, admin, integration); NULL unless it is the database role in effect.';

REVOKE ALL ON FUNCTION internal.jwt_claims() FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.current_user_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.current_app_role() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.jwt_claims() TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION internal.current_user_id() TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION internal.current_app_role() TO student, teacher, admin, integration;
