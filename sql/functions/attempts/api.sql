-- attempts: the student's API: start or resume an attempt, autosave,
-- submit, abandon, and the student's reads (dashboard, available exams, an
-- exam's detail). Rules: docs/exams.md.
--
-- Who may write what. The answer key travels with each attempt
-- (exam_attempts.scored_against, the snapshot taken at start), so students
-- can neither read that column nor write an attempt's status, score or
-- deadline. The API functions below run with the caller's rights (SECURITY
-- INVOKER): row-level security decides which attempt a student can see, and
-- an attempt they cannot see is 404. The writes go through narrow SECURITY
-- DEFINER helpers (owned by veritas_owner, search_path pinned, EXECUTE
-- granted per role), each of which checks again that the attempt is the
-- caller's own and that the state machine allows the step:
--
--   internal.start_attempt          student, admin    lifecycle.sql
--   internal.attempt_paper          student, admin    reads.sql
--   internal.save_attempt_answers   student, admin    answers.sql
--   internal.submit_attempt         student, admin    lifecycle.sql
--   internal.abandon_attempt        student, admin    lifecycle.sql
--   internal.recompute_attempt_deadline  teacher, admin   expiry.sql
--   internal.expire_overdue_attempts     worker and readers: expiry.sql
--
-- A BEFORE UPDATE trigger (_200_guard_status, guard.sql) refuses illegal
-- transitions whoever writes. State conflicts raise VT409, invisible rows
-- VT404, malformed input 22023.

-- api.create_exam_attempt ---------------------------------------------------------

CREATE OR REPLACE FUNCTION api.create_exam_attempt(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_start record;
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_caller();
    SELECT s.o_attempt_id, s.o_resumed INTO v_start
    FROM internal.start_attempt(create_exam_attempt.exam_id) AS s;
    SELECT jsonb_build_object(
        'attempt_id', a.id,
        'exam_id', a.exam_id,
        'attempt_number', a.attempt_number,
        'status', a.status,
        'started_at', a.started_at,
        'deadline', a.deadline,
        'questions', internal.attempt_paper(a.id),
        'resumed', v_start.o_resumed
    )
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = v_start.o_attempt_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.create_exam_attempt(uuid) IS
'Start an attempt at a published exam inside its window: {attempt_id, exam_id, attempt_number, status: "in_progress", started_at, deadline, questions: [{id, position, kind, prompt, options, points, answer}], resumed}. Never the correct answers. The deadline is started_at + duration + the student''s extra time, capped by closes_at. If an attempt is already in progress it is returned with resumed = true (HTTP 200, else 201), however many requests race. When the exam shuffles, the order of questions and options is this attempt''s own, fixed at start. 404 unknown exam; 409 not published, not open yet, closed, or all attempts used.';
REVOKE ALL ON FUNCTION api.create_exam_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.create_exam_attempt(uuid) TO student, admin;

-- api.save_answer -----------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_saved_at timestamptz;
BEGIN
    PERFORM internal.assert_own_attempt_visible(save_answer.attempt_id);
    v_saved_at := internal.save_attempt_answers(
        save_answer.attempt_id,
        jsonb_build_object(save_answer.question_id::text, coalesce(answer, 'null'::jsonb))
    );
    RETURN jsonb_build_object(
        'attempt_id', save_answer.attempt_id,
        'question_id', save_answer.question_id,
        'saved_at', v_saved_at
    );
END
$$;
COMMENT ON FUNCTION api.save_answer(uuid, uuid, jsonb) IS
'Autosave one answer of the caller''s attempt: {saved_at}. Last write wins; null clears the answer. The answer must fit the question''s kind: an option string (single_choice), a list of option strings (multiple_choice), true or false (true_false), a number (numeric), a string (short_text); 400 otherwise. Accepted until the deadline plus the exam''s grace period, 409 after it or once the attempt is finished; 404 for an attempt or question that is not the caller''s.';
REVOKE ALL ON FUNCTION api.save_answer(uuid, uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.save_answer(uuid, uuid, jsonb) TO student, admin;

-- api.complete_exam_attempt -------------------------------------------------------

CREATE OR REPLACE FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_own_attempt_visible(complete_exam_attempt.attempt_id);
    PERFORM internal.submit_attempt(complete_exam_attempt.attempt_id, answers);
    SELECT jsonb_build_object(
        'attempt_id', a.id,
        'status', a.status,
        'score', a.score,
        'max_score', a.max_score,
        'percentage', trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2)),
        'submitted_at', a.finished_at
    )
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = complete_exam_attempt.attempt_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.complete_exam_attempt(uuid, jsonb) IS
'Submit the caller''s attempt, with optional final answers {question_id: answer} saved first: {attempt_id, status: "submitted", score, max_score, percentage, submitted_at}. Graded at once against the questions as they were at the start; analysis is queued and the student''s metrics updated in the same transaction. Submitting within the grace period after the deadline counts. A second submit changes nothing and returns the same result. 409 once the deadline plus grace has passed (the attempt is expired and graded on its saved answers) or if it was abandoned; 404 for an attempt that is not the caller''s.';
REVOKE ALL ON FUNCTION api.complete_exam_attempt(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.complete_exam_attempt(uuid, jsonb) TO student, admin;

-- api.abandon_exam_attempt --------------------------------------------------------

CREATE OR REPLACE FUNCTION api.abandon_exam_attempt(attempt_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_own_attempt_visible(abandon_exam_attempt.attempt_id);
    PERFORM internal.abandon_attempt(abandon_exam_attempt.attempt_id);
    SELECT jsonb_build_object('attempt_id', a.id, 'status', a.status)
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = abandon_exam_attempt.attempt_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.abandon_exam_attempt(uuid) IS
'Abandon the caller''s attempt in progress: {attempt_id, status: "abandoned"}. It is not graded and still counts against max_attempts. Abandoning twice changes nothing. 409 if it was submitted or expired, or the deadline plus grace has passed; 404 for an attempt that is not the caller''s.';
REVOKE ALL ON FUNCTION api.abandon_exam_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.abandon_exam_attempt(uuid) TO student, admin;

-- api.get_available_exams_for_student ---------------------------------------------

CREATE OR REPLACE FUNCTION api.get_available_exams_for_student()
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.available_exams(internal.assert_student_caller());
$$;
COMMENT ON FUNCTION api.get_available_exams_for_student() IS
'Published exams open now or later: [{id, title, description, duration_minutes, opens_at, closes_at, max_attempts, attempts_used, is_open, attempt_in_progress}], soonest first. attempt_in_progress is the id of the caller''s attempt in progress, or null.';
REVOKE ALL ON FUNCTION api.get_available_exams_for_student() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_available_exams_for_student() TO student, admin;

-- api.get_student_dashboard_data --------------------------------------------------

CREATE OR REPLACE FUNCTION api.get_student_dashboard_data()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student_id uuid := internal.assert_student_caller();
BEGIN
    PERFORM internal.lazy_expire(v_student_id);
    RETURN jsonb_build_object(
        'profile', (
            SELECT jsonb_build_object(
                'id', u.id,
                'email', u.email,
                'full_name', u.full_name,
                'student_number', p.student_number,
                'integrity_score', p.integrity_score,
                'lmi_score', p.lmi_score,
                'exams_taken', coalesce(p.exams_taken, 0),
                'average_score', p.average_score,
                'best_score', p.best_score,
                'flags_count', coalesce(p.flags_count, 0)
            )
            FROM auth.users AS u
            LEFT JOIN app.student_profiles AS p ON p.user_id = u.id
            WHERE u.id = v_student_id
        ),
        'metrics', coalesce(
            (
                SELECT jsonb_build_object(
                    'exams_taken', m.exams_taken,
                    'attempts_count', m.attempts_count,
                    'average_score', m.average_score,
                    'best_score', m.best_score,
                    'average_integrity', m.average_integrity,
                    'flags_count', m.flags_count,
                    'trend', m.trend,
                    'updated_at', m.updated_at
                )
                FROM app.performance_metrics AS m
                WHERE m.student_id = v_student_id
            ),
            jsonb_build_object(
                'exams_taken', 0, 'attempts_count', 0, 'average_score', NULL,
                'best_score', NULL, 'average_integrity', NULL, 'flags_count', 0,
                'trend', NULL, 'updated_at', NULL
            )
        ),
        'recent_attempts', (
            SELECT coalesce(
                jsonb_agg(to_jsonb(r) ORDER BY r.started_at DESC, r.attempt_id), '[]'::jsonb
            )
            FROM (
                SELECT *
                FROM internal.student_attempts(v_student_id) AS sa
                ORDER BY sa.started_at DESC, sa.attempt_id
                LIMIT 10
            ) AS r
        ),
        'available_exams', internal.available_exams(v_student_id)
    );
END
$$;
COMMENT ON FUNCTION api.get_student_dashboard_data() IS
'The student dashboard: {profile: {id, email, full_name, student_number, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count}, metrics: {exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}, recent_attempts: the last 10 [{attempt_id, exam_id, exam_title, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage}], available_exams: as get_available_exams_for_student}. Scores in metrics and profile are percentages of max_score; attempts left in progress past their deadline are closed first.';
REVOKE ALL ON FUNCTION api.get_student_dashboard_data() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_student_dashboard_data() TO student, admin;

-- api.get_student_exam_detail -----------------------------------------------------

CREATE OR REPLACE FUNCTION api.get_student_exam_detail(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student_id uuid := internal.assert_student_caller();
    v_result jsonb;
BEGIN
    PERFORM internal.lazy_expire(v_student_id, get_student_exam_detail.exam_id);
    SELECT jsonb_build_object(
        'exam', jsonb_build_object(
            'id', e.id,
            'title', e.title,
            'description', e.description,
            'duration_minutes', e.duration_minutes,
            'opens_at', e.opens_at,
            'closes_at', e.closes_at,
            'max_attempts', e.max_attempts,
            'grading_method', e.grading_method,
            'grace_seconds', e.grace_seconds,
            'published', e.published,
            'is_open', e.published AND now() >= e.opens_at AND now() < e.closes_at,
            'extra_minutes', coalesce(acc.extra_minutes, 0),
            'attempts_used', coalesce(jsonb_array_length(att.attempts), 0),
            'attempts_left', greatest(
                e.max_attempts - coalesce(jsonb_array_length(att.attempts), 0), 0
            )
        ),
        'attempts', coalesce(att.attempts, '[]'::jsonb),
        'grade', (
            SELECT jsonb_build_object(
                'grading_method', g.grading_method,
                'percentage', g.percentage,
                'graded_attempts', g.graded_attempts,
                'attempt_id', g.attempt_id
            )
            FROM internal.student_exam_grades(v_student_id) AS g
            WHERE g.exam_id = e.id
        )
    )
    INTO v_result
    FROM app.exams AS e
    LEFT JOIN app.accommodations AS acc
        ON acc.exam_id = e.id AND acc.student_id = v_student_id
    LEFT JOIN LATERAL (
        SELECT jsonb_agg(
            jsonb_build_object(
                'attempt_id', sa.attempt_id,
                'attempt_number', sa.attempt_number,
                'status', sa.status,
                'started_at', sa.started_at,
                'deadline', sa.deadline,
                'finished_at', sa.finished_at,
                'score', sa.score,
                'max_score', sa.max_score,
                'percentage', sa.percentage
            )
            ORDER BY sa.attempt_number
        ) AS attempts
        FROM internal.student_attempts(v_student_id) AS sa
        WHERE sa.exam_id = e.id
    ) AS att ON TRUE
    WHERE e.id = get_student_exam_detail.exam_id AND (e.published OR att.attempts IS NOT NULL);
    IF v_result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.get_student_exam_detail(uuid) IS
'An exam as its student sees it, and the caller''s own attempts at it: {exam: {id, title, description, duration_minutes, opens_at, closes_at, max_attempts, grading_method, grace_seconds, published, is_open, extra_minutes, attempts_used, attempts_left}, attempts: [{attempt_id, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage}], grade: {grading_method, percentage, graded_attempts, attempt_id} or null}. 404 for an exam that is neither published nor attempted by the caller.';
REVOKE ALL ON FUNCTION api.get_student_exam_detail(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_student_exam_detail(uuid) TO student, admin;
