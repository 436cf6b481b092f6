-- Access helpers: which exams a teacher may work on and which students they
-- may see, and whether the caller may access an exam or a student's data.
-- The row-level security policies (sql/policies/) and the API functions
-- ask these.

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

-- Behind api.can_access_exam (auth/api.sql, docs/security.md): admin every
-- exam, teacher the exams they created or were granted, student the
-- published ones, others none.
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

-- Behind api.can_access_student_data (auth/api.sql, docs/security.md): admin
-- every student, teacher the students of their exams, a student themself,
-- others nobody.
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
