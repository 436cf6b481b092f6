-- attempts: the life of an attempt: started (or resumed), submitted or
-- abandoned, and closed (graded, analysis queued, statistics refreshed).
-- Answers are stored by answers.sql, overdue attempts expired by
-- expiry.sql; both end in internal.close_attempts, at the end of this file.

-- internal.start_attempt ----------------------------------------------------------

-- Opens the caller's attempt at an exam, or finds the one in progress
-- (resumed). One in progress per student and exam however many requests
-- race: the unique partial index exam_attempts_one_in_progress_key decides,
-- the losers of the race read the winner's row. Takes the snapshot of the
-- questions with their answer key (scored_against) and fixes the order of
-- questions (question_order) and of options (in the snapshot) when the exam
-- shuffles. SECURITY DEFINER: it reads the answer key.
CREATE OR REPLACE FUNCTION internal.start_attempt(
    p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student_id uuid := internal.current_user_id();
    v_exam app.exams;
    v_used integer;
    v_last integer;
    v_extra integer;
    v_questions jsonb;
    v_order jsonb;
BEGIN
    IF v_student_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to take an exam';
    END IF;
    PERFORM internal.expire_overdue_attempts(p_student_id => v_student_id, p_exam_id => p_exam_id);

    -- Resume: the attempt in progress, if any, within its deadline + grace
    -- (one still in progress past it is being closed by someone else: the
    -- insert below then conflicts, and the caller is asked to try again).
    SELECT a.id INTO o_attempt_id
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE
        a.exam_id = p_exam_id
        AND a.student_id = v_student_id
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => e.grace_seconds);
    IF FOUND THEN
        o_resumed := TRUE;
        RETURN;
    END IF;

    SELECT e.* INTO v_exam FROM app.exams AS e WHERE e.id = p_exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF NOT v_exam.published THEN
        RAISE EXCEPTION USING ERRCODE = 'VT409', MESSAGE = 'the exam is not published';
    END IF;
    IF now() < v_exam.opens_at THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the exam is not open yet: it opens at %s', v_exam.opens_at);
    END IF;
    IF now() >= v_exam.closes_at THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the exam is closed: it closed at %s', v_exam.closes_at);
    END IF;
    SELECT count(*), coalesce(max(a.attempt_number), 0) INTO v_used, v_last
    FROM app.exam_attempts AS a
    WHERE a.exam_id = p_exam_id AND a.student_id = v_student_id;
    IF v_used >= v_exam.max_attempts THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'all attempts are used: %s of %s', v_used, v_exam.max_attempts
            );
    END IF;

    SELECT acc.extra_minutes INTO v_extra
    FROM app.accommodations AS acc
    WHERE acc.exam_id = p_exam_id AND acc.student_id = v_student_id;

    SELECT
        jsonb_agg(
            jsonb_build_object(
                'id', q.id,
                'position', q.position,
                'kind', q.kind,
                'prompt', q.prompt,
                'options', CASE
                    WHEN v_exam.shuffle_options AND jsonb_array_length(q.options) > 1 THEN (
                        SELECT jsonb_agg(o.value ORDER BY random())
                        FROM jsonb_array_elements(q.options) AS o (value)
                    )
                    ELSE q.options
                END,
                'correct', q.correct,
                'tolerance', q.tolerance,
                'points', q.points,
                'version', q.version
            )
            ORDER BY q.position
        ),
        jsonb_agg(
            to_jsonb(q.id)
            ORDER BY CASE WHEN v_exam.shuffle_questions THEN random() ELSE q.position END
        )
    INTO v_questions, v_order
    FROM app.questions AS q
    WHERE q.exam_id = p_exam_id;
    IF v_questions IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT409', MESSAGE = 'the exam has no questions';
    END IF;

    INSERT INTO app.exam_attempts (
        exam_id, student_id, attempt_number, status, started_at, deadline,
        question_order, scored_against
    ) VALUES (
        p_exam_id, v_student_id, v_last + 1, 'in_progress', now(),
        least(
            now() + make_interval(mins => v_exam.duration_minutes + coalesce(v_extra, 0)),
            v_exam.closes_at
        ),
        v_order, v_questions
    )
    ON CONFLICT DO NOTHING
    RETURNING id INTO o_attempt_id;
    IF o_attempt_id IS NOT NULL THEN
        o_resumed := FALSE;
        RETURN;
    END IF;

    -- A concurrent start won the race: its attempt is ours to resume.
    SELECT a.id INTO o_attempt_id
    FROM app.exam_attempts AS a
    WHERE
        a.exam_id = p_exam_id
        AND a.student_id = v_student_id
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => v_exam.grace_seconds);
    IF FOUND THEN
        o_resumed := TRUE;
        RETURN;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'VT409', MESSAGE = 'another attempt was started at the same moment; try again';
END
$$;
COMMENT ON FUNCTION internal.start_attempt(uuid) IS
'Open the caller''s attempt at an exam (published, inside its window, attempts left) with its snapshot and order, or return the one in progress (o_resumed). VT404 unknown exam; VT409 not published, not open yet, closed, attempts used up.';
REVOKE ALL ON FUNCTION internal.start_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.start_attempt(uuid) TO student, admin;

-- internal.submit_attempt ---------------------------------------------------------

-- Submits the caller's own attempt, after saving the final answers if any.
-- Idempotent: an attempt already submitted is left as it is.
CREATE OR REPLACE FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.id, a.status, a.deadline, a.scored_against, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status = 'submitted' THEN
        RETURN;
    END IF;
    IF v_attempt.status = 'expired' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the deadline has passed: '
            || 'the attempt is expired and graded on its saved answers';
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    IF p_answers IS NOT NULL AND p_answers <> 'null'::jsonb THEN
        PERFORM internal.store_answers(v_attempt.id, v_attempt.scored_against, p_answers, TRUE);
    END IF;
    PERFORM internal.close_attempts(ARRAY[v_attempt.id], 'submitted');
END
$$;
COMMENT ON FUNCTION internal.submit_attempt(uuid, jsonb) IS
'Submit the caller''s own attempt (final answers {question_id: answer} saved first) and grade it; a second submit changes nothing. VT409 if expired, abandoned, or past deadline + grace.';
REVOKE ALL ON FUNCTION internal.submit_attempt(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.submit_attempt(uuid, jsonb) TO student, admin;

-- internal.abandon_attempt --------------------------------------------------------

CREATE OR REPLACE FUNCTION internal.abandon_attempt(p_attempt_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.id, a.status, a.deadline, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status = 'abandoned' THEN
        RETURN;
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    PERFORM internal.close_attempts(ARRAY[v_attempt.id], 'abandoned');
END
$$;
COMMENT ON FUNCTION internal.abandon_attempt(uuid) IS
'Abandon the caller''s own attempt in progress (not graded; it still counts against max_attempts); abandoning twice changes nothing. VT409 if submitted, expired, or past deadline + grace.';
REVOKE ALL ON FUNCTION internal.abandon_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.abandon_attempt(uuid) TO student, admin;

-- internal.close_attempts ---------------------------------------------------------

-- Closes attempts that are in progress and already locked by the caller:
-- grades them on their saved answers against their snapshot (submitted,
-- expired), sets status, finished_at (the deadline for expired, now
-- otherwise), score and max_score, queues their analysis and wakes the
-- workers, and refreshes their students' statistics: all in the caller's
-- transaction. The number closed. Called by the helpers above and by the
-- expiry sweep (expiry.sql) only.
CREATE OR REPLACE FUNCTION internal.close_attempts(
    p_attempt_ids uuid[], p_status app.attempt_status
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_closed uuid[];
    v_students uuid[];
BEGIN
    IF p_status NOT IN ('submitted', 'expired', 'abandoned') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'an attempt closes as submitted, expired or abandoned';
    END IF;

    IF p_status <> 'abandoned' THEN
        UPDATE app.attempt_answers AS aa
        SET points_awarded = internal.grade_answer(q.value, aa.answer)
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        WHERE
            a.id = ANY (p_attempt_ids)
            AND a.status = 'in_progress'
            AND aa.attempt_id = a.id
            AND (q.value ->> 'id')::uuid = aa.question_id
            -- Answers stored graded by the submit itself are not written again.
            AND aa.points_awarded IS DISTINCT FROM internal.grade_answer(q.value, aa.answer);
    END IF;

    WITH closed AS (
        UPDATE app.exam_attempts AS a SET
            status = p_status,
            finished_at = CASE
                WHEN p_status = 'expired' THEN a.deadline
                ELSE greatest(now(), a.started_at)
            END,
            max_score = (
                SELECT coalesce(sum((q.value ->> 'points')::numeric), 0)
                FROM jsonb_array_elements(a.scored_against) AS q (value)
            ),
            score = CASE
                WHEN p_status <> 'abandoned' THEN (
                    SELECT coalesce(sum(aa.points_awarded), 0)
                    FROM app.attempt_answers AS aa
                    WHERE aa.attempt_id = a.id
                )
            END
        WHERE a.id = ANY (p_attempt_ids) AND a.status = 'in_progress'
        RETURNING a.id, a.student_id
    )
    SELECT array_agg(c.id), array_agg(DISTINCT c.student_id)
    INTO v_closed, v_students
    FROM closed AS c;

    IF v_closed IS NULL THEN
        RETURN 0;
    END IF;

    IF p_status <> 'abandoned' THEN
        INSERT INTO app.analysis_jobs (attempt_id, kind)
        SELECT x.id, 'analyse_attempt' FROM unnest(v_closed) AS x (id)
        ON CONFLICT (attempt_id, kind) WHERE status IN ('queued', 'running', 'failed') DO NOTHING;
        PERFORM pg_notify('veritas_jobs', 'analyse_attempt');
        PERFORM internal.refresh_student_metrics(v_students);
    END IF;
    RETURN cardinality(v_closed);
END
$$;
COMMENT ON FUNCTION internal.close_attempts(uuid[], app.attempt_status) IS
'Close locked in_progress attempts as submitted, expired (finished_at = deadline) or abandoned: grade on saved answers against the snapshot, queue analyse_attempt jobs, NOTIFY veritas_jobs, refresh the students'' statistics. Internal: no role may call it directly.';
REVOKE ALL ON FUNCTION internal.close_attempts(uuid[], app.attempt_status) FROM PUBLIC;
