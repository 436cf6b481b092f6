-- teacher: finding people by name or email, for the exam page's "give
-- another teacher access" (api.grant_exam_permission) and "extra time for a
-- student" (api.set_accommodation). What a teacher may find (docs/exams.md):
--
--   * teachers: the name and email of every other active teacher, the
--     school's staff directory. The policies of auth.users do not let a
--     teacher read another teacher's row, and are not widened for this: a
--     narrow SECURITY DEFINER helper answers these three fields of active
--     teachers only.
--   * students: only those the teacher can already see, a student with an
--     attempt on one of the teacher's exams (internal.teacher_can_see_student).
--     SECURITY INVOKER: the policies of auth.users decide, as for every other
--     read. A student id typed by hand still works in set_accommodation,
--     which says nothing of students the teacher cannot see.
--
-- Names and emails are directory information, not a student's records:
-- a search is not a disclosure (audit.disclosures).

-- Teachers -----------------------------------------------------------------------

CREATE OR REPLACE FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object('id', t.id, 'full_name', t.full_name, 'email', t.email)
            ORDER BY lower(t.full_name), lower(t.email)
        ),
        '[]'::jsonb
    )
    FROM (
        SELECT u.id, u.full_name, u.email
        FROM auth.users AS u
        WHERE
            u.role = 'teacher'
            AND u.is_active
            AND u.id IS DISTINCT FROM internal.current_user_id()
            -- the caller's claims must be a teacher's or an admin's: a login
            -- that switches to the role without them finds nobody
            AND internal.current_app_role() IN ('teacher', 'admin')
            AND (
                p_pattern IS NULL
                OR lower(u.email) LIKE p_pattern
                OR lower(u.full_name) LIKE p_pattern
            )
        ORDER BY lower(u.full_name), lower(u.email)
        LIMIT p_limit
    ) AS t;
$$;

COMMENT ON FUNCTION internal.find_active_teachers(text, integer) IS
'Other active teachers whose name or email matches the LIKE pattern (NULL: all), [{id, full_name, email}], at most p_limit: a teacher''s staff directory (api.find_teachers). Nothing else of a teacher''s row.';

REVOKE ALL ON FUNCTION internal.find_active_teachers(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.find_active_teachers(text, integer) TO teacher, admin;

CREATE OR REPLACE FUNCTION api.find_teachers(q text DEFAULT NULL, "limit" integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF find_teachers."limit" IS NULL OR find_teachers."limit" NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 100';
    END IF;
    RETURN internal.find_active_teachers(
        internal.search_pattern(find_teachers.q), find_teachers."limit"
    );
END;
$$;

COMMENT ON FUNCTION api.find_teachers(text, integer) IS
'Teacher or admin: the other active teachers whose name or email contains q (case-insensitive; none given: all), [{id, full_name, email}] by name, at most limit (1 to 100, default 20), to grant one access to an exam. Only name and email; never disabled accounts, students, admins or integration accounts. 403 for students and integration accounts.';

REVOKE ALL ON FUNCTION api.find_teachers(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.find_teachers(text, integer) TO teacher, admin;

-- Students -----------------------------------------------------------------------

-- For a teacher, the students are first narrowed to those of the teacher's
-- attempts (app.exam_attempts under its policy: one index scan per exam),
-- rather than a policy probe for every student of the school; the policies
-- of auth.users still decide what is returned. An admin finds any student.
CREATE OR REPLACE FUNCTION api.find_students(q text DEFAULT NULL, "limit" integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pattern constant text := internal.search_pattern(find_students.q);
    v_any_student constant boolean := internal.current_app_role() = 'admin';
    v_students jsonb;
BEGIN
    IF find_students."limit" IS NULL OR find_students."limit" NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 100';
    END IF;
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object('id', s.id, 'full_name', s.full_name, 'email', s.email)
            ORDER BY lower(s.full_name), lower(s.email)
        ),
        '[]'::jsonb
    )
    INTO v_students
    FROM (
        SELECT u.id, u.full_name, u.email
        FROM auth.users AS u
        WHERE
            u.role = 'student'
            AND u.is_active
            AND (
                v_any_student
                OR u.id IN (SELECT a.student_id FROM app.exam_attempts AS a)
            )
            AND (
                v_pattern IS NULL
                OR lower(u.email) LIKE v_pattern
                OR lower(u.full_name) LIKE v_pattern
            )
        ORDER BY lower(u.full_name), lower(u.email)
        LIMIT find_students."limit"
    ) AS s;
    RETURN v_students;
END;
$$;

COMMENT ON FUNCTION api.find_students(text, integer) IS
'Teacher or admin: the active students whose name or email contains q (case-insensitive; none given: all), [{id, full_name, email}] by name, at most limit (1 to 100, default 20), to give one extra time. A teacher finds only the students they can already see (an attempt on one of their exams); an admin any. 403 for students and integration accounts.';

REVOKE ALL ON FUNCTION api.find_students(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.find_students(text, integer) TO teacher, admin;
