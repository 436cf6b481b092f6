-- attempts: saving answers, by autosave (internal.save_attempt_answers) and
-- with a submit (internal.submit_attempt, lifecycle.sql), both through
-- internal.store_answers. Answers are checked and graded by scoring.sql.

-- internal.save_attempt_answers ---------------------------------------------------

CREATE OR REPLACE FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    -- FOR SHARE: saves run side by side; a submit (FOR UPDATE) waits for
    -- them, and they for it.
    SELECT a.id, a.status, a.deadline, a.scored_against, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR SHARE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    RETURN internal.store_answers(v_attempt.id, v_attempt.scored_against, p_answers, FALSE);
END
$$;
COMMENT ON FUNCTION internal.save_attempt_answers(uuid, jsonb) IS
'Autosave answers {question_id: answer} to the caller''s own attempt while it is in progress and its deadline plus grace has not passed (VT409 otherwise). Returns saved_at.';
REVOKE ALL ON FUNCTION internal.save_attempt_answers(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.save_attempt_answers(uuid, jsonb) TO student, admin;

-- internal.store_answers ----------------------------------------------------------

-- Validates and stores answers {question_id: answer} of an attempt the
-- caller has locked and checked: each question must be in the attempt's
-- snapshot (VT404), each answer must fit its kind (22023); JSON null clears
-- an answer. Last write wins. p_graded: the attempt is being submitted, so
-- each answer is stored with its points at once (the grading that follows
-- then has nothing left to change: one write and one audit entry per
-- answer, not two); otherwise points_awarded stays NULL until the attempt
-- closes. Called by internal.save_attempt_answers (above) and
-- internal.submit_attempt (lifecycle.sql) only.
CREATE OR REPLACE FUNCTION internal.store_answers(
    p_attempt_id uuid, p_scored_against jsonb, p_answers jsonb, p_graded boolean
)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bad record;
BEGIN
    IF p_answers IS NULL OR jsonb_typeof(p_answers) <> 'object' THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'answers must be an object {question_id: answer}';
    END IF;

    SELECT k.key INTO v_bad
    FROM jsonb_object_keys(p_answers) AS k (key)
    WHERE k.key !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('%s is not a question id', v_bad.key);
    END IF;

    SELECT
        k.key,
        q.value IS NULL AS missing,
        CASE
            WHEN q.value IS NOT NULL AND k.value <> 'null'::jsonb
                THEN internal.answer_problem(q.value, k.value)
        END AS problem
    INTO v_bad
    FROM jsonb_each(p_answers) AS k (key, value)
    LEFT JOIN jsonb_array_elements(p_scored_against) AS q (value)
        ON (q.value ->> 'id')::uuid = k.key::uuid
    WHERE
        q.value IS NULL
        OR (k.value <> 'null'::jsonb AND internal.answer_problem(q.value, k.value) IS NOT NULL)
    ORDER BY q.value IS NULL DESC, k.key
    LIMIT 1;
    IF FOUND AND v_bad.missing THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT404',
            MESSAGE = format('question %s is not part of this attempt', v_bad.key);
    ELSIF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('question %s: %s', v_bad.key, v_bad.problem);
    END IF;

    -- Only when an answer is cleared: a statement that matches no row still
    -- runs its policies and its audit trigger.
    IF EXISTS (SELECT FROM jsonb_each(p_answers) AS k (key, value) WHERE k.value = 'null'::jsonb)
    THEN
        DELETE FROM app.attempt_answers AS aa
        USING jsonb_each(p_answers) AS k (key, value)
        WHERE
            aa.attempt_id = p_attempt_id
            AND aa.question_id = k.key::uuid
            AND k.value = 'null'::jsonb;
    END IF;

    INSERT INTO app.attempt_answers AS aa (attempt_id, question_id, answer, saved_at, points_awarded)
    SELECT
        p_attempt_id,
        k.key::uuid,
        k.value,
        now(),
        CASE WHEN p_graded THEN internal.grade_answer(q.value, k.value) END
    FROM jsonb_each(p_answers) AS k (key, value)
    INNER JOIN jsonb_array_elements(p_scored_against) AS q (value)
        ON (q.value ->> 'id')::uuid = k.key::uuid
    WHERE k.value <> 'null'::jsonb
    ON CONFLICT ON CONSTRAINT attempt_answers_pkey DO UPDATE SET
        answer = excluded.answer,
        saved_at = excluded.saved_at,
        points_awarded = excluded.points_awarded;
    RETURN now();
END
$$;
COMMENT ON FUNCTION internal.store_answers(uuid, jsonb, jsonb, boolean) IS
'Validate and upsert answers {question_id: answer} of a locked, open attempt (VT404 question not in the attempt, 22023 answer of the wrong form; null clears), graded at once when p_graded (a submit). Internal: no role may call it directly.';
REVOKE ALL ON FUNCTION internal.store_answers(uuid, jsonb, jsonb, boolean) FROM PUBLIC;
