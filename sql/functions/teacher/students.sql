-- teacher: the students behind the figures: an exam's flagged attempts, a
-- student's detail, and the review of a flagged attempt. The reads show a
-- student's records, so they are VOLATILE: they expire the overdue attempts
-- they are about (internal.lazy_expire, so that no teacher sees a stale
-- in_progress) and record the disclosure (internal.log_disclosure).
--
-- Who sees what. The API functions run with the caller's rights (SECURITY
-- INVOKER): row-level security on app.exams, app.exam_attempts,
-- app.behavior_analyses, app.flag_reviews and auth.users decides what a
-- teacher sees (the exams they created or were granted,
-- internal.teacher_exam_ids()); an admin sees everything. An exam, attempt
-- or student the caller may not see is VT404, exactly like one that does
-- not exist. Rules and query plans: docs/teacher-views.md.

-- api.get_flagged_students_for_exam ------------------------------------------------

-- Live (not from the analytics summary tables): an external engine's newer
-- analysis or a review shows at once. One query, index-driven: the exam's
-- attempts by (exam_id, status), each one's latest analysis and latest
-- review by their (attempt_id, created_at DESC) indexes.
CREATE OR REPLACE FUNCTION api.get_flagged_students_for_exam(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    PERFORM FROM app.exams AS e WHERE e.id = get_flagged_students_for_exam.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    PERFORM internal.lazy_expire(NULL, get_flagged_students_for_exam.exam_id);

    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'student_id', f.student_id,
                'student_name', f.student_name,
                'attempt_id', f.attempt_id,
                'attempt_number', f.attempt_number,
                'status', f.status,
                'integrity_score', f.integrity_score,
                'lmi_score', f.lmi_score,
                'flags', f.flags,
                'analysis_id', f.analysis_id,
                'model', f.model,
                'analysed_at', f.analysed_at,
                'review_status', coalesce(f.decision::text, 'pending'),
                'reviewed_at', f.reviewed_at
            )
            ORDER BY f.integrity_score, f.lmi_score DESC, f.attempt_id
        ),
        '[]'::jsonb
    )
    INTO v_result
    FROM (
        SELECT
            a.student_id,
            u.full_name AS student_name,
            a.id AS attempt_id,
            a.attempt_number,
            a.status,
            b.id AS analysis_id,
            b.integrity_score,
            b.lmi_score,
            b.flags,
            b.model,
            b.created_at AS analysed_at,
            r.decision,
            r.created_at AS reviewed_at
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT la.id, la.integrity_score, la.lmi_score, la.flags, la.model, la.created_at,
                la.is_flagged
            FROM app.behavior_analyses AS la
            WHERE la.attempt_id = a.id
            ORDER BY la.created_at DESC, la.id DESC
            LIMIT 1
        ) AS b
        LEFT JOIN LATERAL (
            SELECT lr.decision, lr.created_at
            FROM app.flag_reviews AS lr
            WHERE lr.attempt_id = a.id
            ORDER BY lr.created_at DESC, lr.id DESC
            LIMIT 1
        ) AS r ON TRUE
        LEFT JOIN auth.users AS u ON a.student_id = u.id
        WHERE a.exam_id = get_flagged_students_for_exam.exam_id AND b.is_flagged
    ) AS f;

    -- Each flagged analysis shown is a disclosure of that student's record.
    PERFORM internal.log_disclosures(
        array_agg((x.value ->> 'student_id')::uuid),
        'analysis',
        array_agg((x.value ->> 'analysis_id')::uuid)
    )
    FROM jsonb_array_elements(v_result) AS x (value);
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.get_flagged_students_for_exam(uuid) IS
'The exam''s attempts whose latest behaviour analysis is flagged, most suspicious first (lowest integrity): [{student_id, student_name, attempt_id, attempt_number, status, integrity_score, lmi_score, flags, analysis_id, model, analysed_at, review_status, reviewed_at}]. review_status is the latest review''s decision (cleared or confirmed), pending when there is none. Live: a newer analysis or a review shows at once. Each row shown is recorded in the disclosure log. 404 for an exam the caller may not access.';
REVOKE ALL ON FUNCTION api.get_flagged_students_for_exam(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_flagged_students_for_exam(uuid) TO teacher, admin;

-- api.get_student_detail_for_teacher -----------------------------------------------

CREATE OR REPLACE FUNCTION api.get_student_detail_for_teacher(student_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    -- A teacher sees the students of their exams (auth.users' policy), an
    -- admin every user; anyone else, or a user who is not a student, is 404.
    SELECT jsonb_build_object(
        'id', u.id,
        'email', u.email,
        'full_name', u.full_name,
        'is_active', u.is_active,
        'student_number', p.student_number,
        'integrity_score', p.integrity_score,
        'lmi_score', p.lmi_score,
        'exams_taken', coalesce(p.exams_taken, 0),
        'average_score', p.average_score,
        'best_score', p.best_score,
        'flags_count', coalesce(p.flags_count, 0)
    )
    INTO v_student
    FROM auth.users AS u
    LEFT JOIN app.student_profiles AS p ON u.id = p.user_id
    WHERE u.id = get_student_detail_for_teacher.student_id AND u.role = 'student';
    IF v_student IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
    END IF;
    PERFORM internal.lazy_expire(get_student_detail_for_teacher.student_id);
    PERFORM internal.log_disclosure(
        get_student_detail_for_teacher.student_id, 'profile', get_student_detail_for_teacher.student_id
    );

    RETURN jsonb_build_object(
        'student', v_student,
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
                WHERE m.student_id = get_student_detail_for_teacher.student_id
            ),
            jsonb_build_object(
                'exams_taken', 0, 'attempts_count', 0, 'average_score', NULL,
                'best_score', NULL, 'average_integrity', NULL, 'flags_count', 0,
                'trend', NULL, 'updated_at', NULL
            )
        ),
        -- Under the caller's row-level security: only attempts at the exams
        -- this teacher may access.
        'attempts', (
            SELECT coalesce(
                jsonb_agg(
                    jsonb_build_object(
                        'attempt_id', sa.attempt_id,
                        'exam_id', sa.exam_id,
                        'exam_title', sa.exam_title,
                        'attempt_number', sa.attempt_number,
                        'status', sa.status,
                        'started_at', sa.started_at,
                        'deadline', sa.deadline,
                        'finished_at', sa.finished_at,
                        'score', sa.score,
                        'max_score', sa.max_score,
                        'percentage', sa.percentage,
                        'analysis', CASE WHEN b.id IS NOT NULL THEN jsonb_build_object(
                            'analysis_id', b.id,
                            'integrity_score', b.integrity_score,
                            'lmi_score', b.lmi_score,
                            'is_flagged', b.is_flagged,
                            'flags_count', jsonb_array_length(b.flags),
                            'model', b.model,
                            'analysed_at', b.created_at
                        ) END,
                        'review_status', CASE
                            WHEN r.decision IS NOT NULL THEN r.decision::text
                            WHEN b.is_flagged THEN 'pending'
                        END
                    )
                    ORDER BY sa.started_at DESC, sa.attempt_id
                ),
                '[]'::jsonb
            )
            FROM internal.student_attempts(get_student_detail_for_teacher.student_id) AS sa
            LEFT JOIN LATERAL (
                SELECT la.id, la.integrity_score, la.lmi_score, la.is_flagged, la.flags,
                    la.model, la.created_at
                FROM app.behavior_analyses AS la
                WHERE la.attempt_id = sa.attempt_id
                ORDER BY la.created_at DESC, la.id DESC
                LIMIT 1
            ) AS b ON TRUE
            LEFT JOIN LATERAL (
                SELECT lr.decision
                FROM app.flag_reviews AS lr
                WHERE lr.attempt_id = sa.attempt_id
                ORDER BY lr.created_at DESC, lr.id DESC
                LIMIT 1
            ) AS r ON TRUE
        )
    );
END
$$;
COMMENT ON FUNCTION api.get_student_detail_for_teacher(uuid) IS
'A student as a teacher of theirs (or an admin) sees them: {student: {id, email, full_name, is_active, student_number, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count}, metrics: {exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}, attempts: newest first, only at the exams the caller may access [{attempt_id, exam_id, exam_title, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage, analysis: {analysis_id, integrity_score, lmi_score, is_flagged, flags_count, model, analysed_at} or null, review_status: cleared, confirmed, pending (flagged, not reviewed) or null}]}. Recorded in the disclosure log. 404 for a student who has no attempt at (nor extra time on) the caller''s exams.';
REVOKE ALL ON FUNCTION api.get_student_detail_for_teacher(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_student_detail_for_teacher(uuid) TO teacher, admin;

-- api.review_attempt ---------------------------------------------------------------

-- A teacher's decision on an attempt's flags: a new row of app.flag_reviews
-- (the analysis itself is never changed; all reviews are kept, the latest
-- is the attempt's review status), about the attempt's latest analysis.
CREATE OR REPLACE FUNCTION api.review_attempt(
    attempt_id uuid, decision text, note text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_me constant uuid := internal.assert_staff_caller();
    v_note constant text := nullif(btrim(review_attempt.note), '');
    v_analysis_id uuid;
    v_review record;
BEGIN
    IF review_attempt.decision IS NULL OR review_attempt.decision NOT IN ('cleared', 'confirmed') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'decision must be cleared or confirmed',
            HINT = 'cleared: the flags were unfounded; confirmed: malpractice (a note is required).';
    END IF;
    IF review_attempt.decision = 'confirmed' AND v_note IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'a note is required to confirm: say what was found';
    END IF;
    IF length(v_note) > 10000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'the note is longer than 10000 characters';
    END IF;

    PERFORM FROM app.exam_attempts AS a WHERE a.id = review_attempt.attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;

    SELECT b.id INTO v_analysis_id
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = review_attempt.attempt_id
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the attempt has no behaviour analysis to review yet',
            HINT = 'An attempt is analysed shortly after it is submitted or expires.';
    END IF;

    INSERT INTO app.flag_reviews AS fr (attempt_id, analysis_id, reviewer_id, decision, note)
    VALUES (
        review_attempt.attempt_id, v_analysis_id, v_me,
        review_attempt.decision::app.review_status, v_note
    )
    RETURNING fr.id, fr.attempt_id, fr.analysis_id, fr.reviewer_id, fr.decision, fr.note, fr.created_at
    INTO v_review;

    RETURN jsonb_build_object(
        'id', v_review.id,
        'attempt_id', v_review.attempt_id,
        'analysis_id', v_review.analysis_id,
        'reviewer_id', v_review.reviewer_id,
        'decision', v_review.decision,
        'note', v_review.note,
        'created_at', v_review.created_at,
        'review_status', v_review.decision
    );
END
$$;
COMMENT ON FUNCTION api.review_attempt(uuid, text, text) IS
'Review an attempt''s flags: decision cleared or confirmed (400 otherwise), note required to confirm (400). Stored as a new review of the attempt''s latest analysis, which itself is left as it is; every review is kept and the latest is the attempt''s review_status. Answers {id, attempt_id, analysis_id, reviewer_id, decision, note, created_at, review_status}. 404 for an attempt at an exam the caller may not access; 409 when the attempt has no analysis yet.';
REVOKE ALL ON FUNCTION api.review_attempt(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.review_attempt(uuid, text, text) TO teacher, admin;
