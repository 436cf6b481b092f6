-- auth: what the caller may ask about themself: who they are (GET /me) and
-- the authorisation checks over /rpc (has_permission, can_access_exam,
-- can_access_student_data; docs/security.md).

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

-- API: authorisation checks over /rpc (docs/security.md) -----------------------------

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
