-- exams: who else may work on an exam (api.grant_exam_permission) and a
-- student's extra time on it (api.set_accommodation). Whether a user id
-- names an active teacher or student is asked of internal.user_has_role
-- (shared/access.sql); a running attempt's deadline is moved by
-- internal.recompute_attempt_deadline (attempts/expiry.sql).
--
-- Functions run with the caller's rights (SECURITY INVOKER): row-level
-- security on app.exams, app.questions, app.teacher_exam_permissions and
-- app.accommodations decides what a teacher may see and change
-- (sql/policies/exams.sql). Errors: VT404 not found or not visible
-- (existence is never revealed), VT409 a state conflict, 22023 an invalid
-- argument (HTTP 400), 42501 seen but not allowed (HTTP 403). Rules:
-- docs/exams.md.

-- api.grant_exam_permission -------------------------------------------------------

CREATE OR REPLACE FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id uuid := internal.assert_author();
    v_created_by uuid;
    v_result jsonb;
BEGIN
    SELECT e.created_by INTO v_created_by
    FROM app.exams AS e
    WHERE e.id = grant_exam_permission.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF v_created_by <> v_user_id AND internal.current_app_role() <> 'admin' THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501',
            MESSAGE = 'only the exam''s owner or an admin may grant access to it';
    END IF;
    IF NOT internal.user_has_role(grant_exam_permission.teacher_id, 'teacher') THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'teacher not found';
    END IF;
    -- Granting twice is harmless: the first grant stands.
    INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by)
    VALUES (grant_exam_permission.exam_id, grant_exam_permission.teacher_id, v_user_id)
    ON CONFLICT ON CONSTRAINT teacher_exam_permissions_pkey DO NOTHING;
    SELECT jsonb_build_object(
        'exam_id', p.exam_id,
        'teacher_id', p.teacher_id,
        'granted_by', p.granted_by,
        'granted_at', p.granted_at
    )
    INTO v_result
    FROM app.teacher_exam_permissions AS p
    WHERE
        p.exam_id = grant_exam_permission.exam_id
        AND p.teacher_id = grant_exam_permission.teacher_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.grant_exam_permission(uuid, uuid) IS
'Give another teacher access to an exam: its attempts, students, events and analytics. The exam''s owner or an admin only: 404 if the caller cannot see the exam, 403 if they can but do not own it, 404 if teacher_id is not an active teacher. Granting twice is harmless.';
REVOKE ALL ON FUNCTION api.grant_exam_permission(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.grant_exam_permission(uuid, uuid) TO teacher, admin;

-- api.set_accommodation -----------------------------------------------------------

CREATE OR REPLACE FUNCTION api.set_accommodation(
    exam_id uuid, student_id uuid, extra_minutes integer
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
    v_deadline timestamptz;
BEGIN
    PERFORM internal.assert_author();
    PERFORM FROM app.exams AS e WHERE e.id = set_accommodation.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF extra_minutes IS NULL OR extra_minutes NOT BETWEEN 0 AND 1440 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'extra_minutes must be between 0 and 1440';
    END IF;
    IF NOT internal.user_has_role(set_accommodation.student_id, 'student') THEN
        -- An admin sees every user: a typo gets a clear 404. A teacher must
        -- not learn whether an id is an active student it cannot see, so it
        -- gets the answer a new accommodation gets, and nothing is stored.
        IF internal.current_app_role() = 'admin' THEN
            RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
        END IF;
        RETURN jsonb_build_object(
            'exam_id', set_accommodation.exam_id,
            'student_id', set_accommodation.student_id,
            'extra_minutes', set_accommodation.extra_minutes,
            'created_at', now(),
            'updated_at', now(),
            'attempt_deadline', NULL
        );
    END IF;

    INSERT INTO app.accommodations AS a (exam_id, student_id, extra_minutes)
    VALUES (
        set_accommodation.exam_id, set_accommodation.student_id, set_accommodation.extra_minutes
    )
    ON CONFLICT ON CONSTRAINT accommodations_pkey
    DO UPDATE SET extra_minutes = excluded.extra_minutes, updated_at = now();

    -- A running attempt gets its deadline recomputed at once.
    v_deadline := internal.recompute_attempt_deadline(
        set_accommodation.exam_id, set_accommodation.student_id
    );

    SELECT jsonb_build_object(
        'exam_id', a.exam_id,
        'student_id', a.student_id,
        'extra_minutes', a.extra_minutes,
        'created_at', a.created_at,
        'updated_at', a.updated_at,
        'attempt_deadline', v_deadline
    )
    INTO v_result
    FROM app.accommodations AS a
    WHERE a.exam_id = set_accommodation.exam_id AND a.student_id = set_accommodation.student_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.set_accommodation(uuid, uuid, integer) IS
'Set a student''s extra time on an exam (teacher with permission, or admin), replacing any earlier value. It applies to attempts started from now on, and recomputes the deadline of an attempt in progress (attempt_deadline: started_at + duration + extra time, capped by the exam''s closing time, never shortened below now). 404 if the exam is not visible, or (admins only) if student_id is not an active student: a teacher gets the same answer for any id, stored only for an active student, so that it learns nothing of students it cannot see; 400 (22023) unless 0 <= extra_minutes <= 1440.';
REVOKE ALL ON FUNCTION api.set_accommodation(uuid, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.set_accommodation(uuid, uuid, integer) TO teacher, admin;
