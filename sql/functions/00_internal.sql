-- Internal helpers that every other repeatable file may use: the api schema
-- (re-created), the JWT claim readers, the timestamps trigger, the session
-- check of every authenticated request, and the access helpers that the
-- row-level security policies call.
--
-- Runs first in the repeatable step (functions, views, policies, in one
-- transaction, as veritas_owner), so that everything below exists before
-- any other function file refers to it.
--
-- Who is calling. The glue switches to the database role named by the
-- token (set_config('role', ...)) and makes the verified claims readable as
-- request.jwt.claims, both transaction-local. The claim readers below trust
-- the claims only when their role claim IS the database role in effect
-- (current_setting('role'), which SECURITY DEFINER does not change): a
-- login that sets request.jwt.claims by hand, without holding that role,
-- reads NULL (and policies are written TO student, TO teacher ... anyway,
-- never TO PUBLIC).

-- api ------------------------------------------------------------------------

-- The exposed schema holds only functions (and views), re-created at every
-- deploy so that a function deleted from the code disappears. Nothing else
-- may depend on an api object (policies use internal.* helpers): CASCADE
-- would drop it silently.
DROP SCHEMA IF EXISTS api CASCADE;
CREATE SCHEMA api AUTHORIZATION veritas_owner;
COMMENT ON SCHEMA api IS
'Exposed API: only functions and views that clients may call; re-created at every deploy.';
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO anon, student, teacher, admin, integration;

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

-- Timestamps -------------------------------------------------------------------

-- created_at: kept as given on INSERT (the column default is now()), never
-- changed by an UPDATE. updated_at: now() on UPDATE, always moving forward
-- (a second update in the same transaction still advances it). Tables
-- without created_at pass the argument 'updated_at_only'.
CREATE OR REPLACE FUNCTION internal.tg__timestamps()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_has_created_at constant boolean := TG_NARGS = 0 OR TG_ARGV[0] <> 'updated_at_only';
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF v_has_created_at THEN
            NEW.created_at := coalesce(NEW.created_at, now());
        END IF;
        NEW.updated_at := coalesce(NEW.updated_at, now());
    ELSIF TG_OP = 'UPDATE' THEN
        IF v_has_created_at THEN
            NEW.created_at := OLD.created_at;
        END IF;
        NEW.updated_at := CASE
            WHEN OLD.updated_at >= now() THEN OLD.updated_at + interval '1 microsecond'
            ELSE now()
        END;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION internal.tg__timestamps() IS
'BEFORE INSERT OR UPDATE trigger: keeps created_at, sets updated_at = now() on update. Argument ''updated_at_only'' for tables without created_at.';

REVOKE ALL ON FUNCTION internal.tg__timestamps() FROM PUBLIC;

-- Every table with an updated_at column, listed explicitly.
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON auth.users
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.student_profiles
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.teacher_profiles
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.exams
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.questions
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.accommodations
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.exam_attempts
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.performance_metrics
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps('updated_at_only');
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.exam_metrics
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps('updated_at_only');
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.analysis_jobs
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

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

-- Access helpers ---------------------------------------------------------------

-- SECURITY DEFINER so that a policy can look into other tables without
-- recursing into their policies (they run as veritas_owner, under the
-- "definer helpers ..." policies). They read only the caller's user id, so
-- each is safe for the roles it is granted to.

-- The exams this teacher may access: created by them or granted to them.
-- Policies write exam_id = ANY ((SELECT internal.teacher_exam_ids())): one
-- evaluation per statement, then an array test per row.
CREATE OR REPLACE FUNCTION internal.teacher_exam_ids()
RETURNS uuid[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(x.exam_id), '{}')
    FROM (
        SELECT e.id AS exam_id
        FROM app.exams AS e
        WHERE e.created_by = internal.current_user_id()
        UNION
        SELECT p.exam_id
        FROM app.teacher_exam_permissions AS p
        WHERE p.teacher_id = internal.current_user_id()
    ) AS x;
$$;

COMMENT ON FUNCTION internal.teacher_exam_ids() IS
'Ids of the exams the calling teacher created or was granted (for teacher policies).';

-- One exam: created by or granted to the calling teacher.
CREATE OR REPLACE FUNCTION internal.teacher_can_access_exam(p_exam_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT
        EXISTS (
            SELECT FROM app.exams AS e
            WHERE e.id = p_exam_id AND e.created_by = internal.current_user_id()
        )
        OR EXISTS (
            SELECT FROM app.teacher_exam_permissions AS p
            WHERE p.exam_id = p_exam_id AND p.teacher_id = internal.current_user_id()
        );
$$;

COMMENT ON FUNCTION internal.teacher_can_access_exam(uuid) IS
'True when the calling teacher created the exam or was granted it.';

-- A student the calling teacher may see: one with an attempt on an exam the
-- teacher may access. An accommodation is not enough: it may be set in
-- advance for any student id, and must not be a licence to read a student.
-- The policies of auth.users, student_profiles and performance_metrics
-- write the same test inline (an index probe per row, the teacher's exams
-- computed once per statement); this is the one-row form.
CREATE OR REPLACE FUNCTION internal.teacher_can_see_student(p_student_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.student_id = p_student_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    );
$$;

COMMENT ON FUNCTION internal.teacher_can_see_student(uuid) IS
'True when the student has an attempt on an exam the calling teacher may access (an accommodation alone is not enough).';

-- Whether a user exists, is active and has the given role (a grant of exam
-- permission must name a teacher, an accommodation a student).
CREATE OR REPLACE FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT FROM auth.users AS u
        WHERE u.id = p_user_id AND u.role = p_role AND u.is_active
    );
$$;

COMMENT ON FUNCTION internal.user_has_role(uuid, auth.user_role) IS
'True when the user exists, is active and has the role (checks in teacher and admin policies).';

-- The seed's can_access_exam: admin every exam, teacher the exams they
-- created or were granted, student the published ones, others none.
CREATE OR REPLACE FUNCTION internal.can_access_exam(p_exam_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE internal.current_app_role()
        WHEN 'admin' THEN EXISTS (SELECT FROM app.exams AS e WHERE e.id = p_exam_id)
        WHEN 'teacher' THEN internal.teacher_can_access_exam(p_exam_id)
        WHEN 'student' THEN EXISTS (
            SELECT FROM app.exams AS e WHERE e.id = p_exam_id AND e.published
        )
        ELSE FALSE
    END;
$$;

COMMENT ON FUNCTION internal.can_access_exam(uuid) IS
'True when the caller may access the exam: admin any, teacher created or granted, student published.';

-- The seed's can_access_student_data: admin every student, teacher the
-- students of their exams, a student themself, others nobody.
CREATE OR REPLACE FUNCTION internal.can_access_student_data(p_student_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE internal.current_app_role()
        WHEN 'admin' THEN EXISTS (
            SELECT FROM app.student_profiles AS s WHERE s.user_id = p_student_id
        )
        WHEN 'teacher' THEN internal.teacher_can_see_student(p_student_id)
        WHEN 'student' THEN p_student_id = internal.current_user_id()
        ELSE FALSE
    END;
$$;

COMMENT ON FUNCTION internal.can_access_student_data(uuid) IS
'True when the caller may see the student''s data: admin any student, teacher students of their exams, a student themself.';

REVOKE ALL ON FUNCTION internal.teacher_exam_ids() FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.teacher_can_access_exam(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.teacher_can_see_student(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.user_has_role(uuid, auth.user_role) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.can_access_exam(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.can_access_student_data(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.teacher_exam_ids() TO teacher;
GRANT EXECUTE ON FUNCTION internal.teacher_can_access_exam(uuid) TO teacher;
GRANT EXECUTE ON FUNCTION internal.teacher_can_see_student(uuid) TO teacher;
GRANT EXECUTE ON FUNCTION internal.user_has_role(uuid, auth.user_role) TO teacher, admin;
GRANT EXECUTE ON FUNCTION internal.can_access_exam(uuid) TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION internal.can_access_student_data(
    uuid
) TO student, teacher, admin, integration;

-- Deploy helper ----------------------------------------------------------------

-- Drops every policy of the given tables. Each sql/policies/ file calls it
-- first for its own tables, so that a policy deleted from the file does not
-- linger in the database (permissive policies add up). Only the owner runs
-- it, during the repeatable step.
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
