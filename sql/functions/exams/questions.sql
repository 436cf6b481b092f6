-- exams: adding, changing and removing the questions of an exam.
--
-- Functions run with the caller's rights (SECURITY INVOKER): row-level
-- security on app.exams, app.questions, app.teacher_exam_permissions and
-- app.accommodations decides what a teacher may see and change
-- (sql/policies/exams.sql). Errors: VT404 not found or not visible
-- (existence is never revealed), VT409 a state conflict, 22023 an invalid
-- argument (HTTP 400), 42501 seen but not allowed (HTTP 403). Rules:
-- docs/exams.md.

-- api.add_question ----------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.add_question(
    exam_id uuid,
    kind text,
    prompt text,
    correct jsonb,
    options jsonb DEFAULT NULL,
    tolerance numeric DEFAULT NULL,
    points numeric DEFAULT 1
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_question jsonb := jsonb_strip_nulls(jsonb_build_object(
        'kind', kind, 'prompt', prompt, 'options', options, 'correct', correct,
        'tolerance', tolerance, 'points', points
    ));
    v_problem text := internal.question_problem(v_question);
    v_question_id uuid := gen_random_uuid();
BEGIN
    PERFORM internal.assert_author();
    -- Lock the exam so that two additions do not race for a position.
    PERFORM FROM app.exams AS e WHERE e.id = add_question.exam_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_problem;
    END IF;
    INSERT INTO app.questions (
        id, exam_id, position, kind, prompt, options, correct, tolerance, points
    )
    SELECT
        v_question_id,
        add_question.exam_id,
        coalesce(max(q.position), 0) + 1,
        (v_question ->> 'kind')::app.question_kind,
        v_question ->> 'prompt',
        coalesce(v_question -> 'options', '[]'::jsonb),
        v_question -> 'correct',
        (v_question ->> 'tolerance')::numeric,
        coalesce((v_question ->> 'points')::numeric, 1)
    FROM app.questions AS q
    WHERE q.exam_id = add_question.exam_id;
    RETURN internal.question_document(v_question_id);
END
$$;
COMMENT ON FUNCTION api.add_question(uuid, text, text, jsonb, jsonb, numeric, numeric) IS
'Append a question to an exam (teacher with permission, or admin). Attempts already started are not affected: they keep the questions they started with. 404 if the exam is not visible, 400 (22023) for an invalid question.';
REVOKE ALL ON FUNCTION api.add_question(uuid, text, text, jsonb, jsonb, numeric, numeric)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.add_question(uuid, text, text, jsonb, jsonb, numeric, numeric)
TO teacher, admin;

-- api.update_question -------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.update_question(
    question_id uuid,
    kind text DEFAULT NULL,
    prompt text DEFAULT NULL,
    options jsonb DEFAULT NULL,
    correct jsonb DEFAULT NULL,
    tolerance numeric DEFAULT NULL,
    points numeric DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_old app.questions;
    v_question jsonb;
    v_problem text;
BEGIN
    PERFORM internal.assert_author();
    SELECT q.* INTO v_old FROM app.questions AS q WHERE q.id = update_question.question_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'question not found';
    END IF;
    -- The question as it would be: the given fields over the current ones. A
    -- change of kind drops a tolerance that no longer applies.
    v_question := jsonb_strip_nulls(jsonb_build_object(
        'kind', v_old.kind,
        'prompt', v_old.prompt,
        'options', v_old.options,
        'correct', v_old.correct,
        'tolerance', CASE
            WHEN coalesce(update_question.kind, v_old.kind::text) = 'numeric' THEN v_old.tolerance
        END,
        'points', v_old.points
    )) || jsonb_strip_nulls(jsonb_build_object(
        'kind', update_question.kind,
        'prompt', update_question.prompt,
        'options', update_question.options,
        'correct', nullif(update_question.correct, 'null'::jsonb),
        'tolerance', update_question.tolerance,
        'points', update_question.points
    ));
    v_problem := internal.question_problem(v_question);
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_problem;
    END IF;
    -- A new version; attempts keep the snapshot taken at their start.
    UPDATE app.questions AS q SET
        kind = (v_question ->> 'kind')::app.question_kind,
        prompt = v_question ->> 'prompt',
        options = coalesce(v_question -> 'options', '[]'::jsonb),
        correct = v_question -> 'correct',
        tolerance = (v_question ->> 'tolerance')::numeric,
        points = (v_question ->> 'points')::numeric,
        version = q.version + 1
    WHERE q.id = v_old.id;
    RETURN internal.question_document(v_old.id);
END
$$;
COMMENT ON FUNCTION api.update_question(uuid, text, text, jsonb, jsonb, numeric, numeric) IS
'Edit a question (teacher with permission on its exam, or admin); arguments left out keep their value, and the question''s version goes up by one. Attempts already started are still scored against the question as it was when they started. 404 if not visible, 400 (22023) if the result is not a valid question.';
REVOKE ALL ON FUNCTION api.update_question(uuid, text, text, jsonb, jsonb, numeric, numeric)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.update_question(uuid, text, text, jsonb, jsonb, numeric, numeric)
TO teacher, admin;

-- api.remove_question -------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.remove_question(question_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_old app.questions;
BEGIN
    PERFORM internal.assert_author();
    SELECT q.* INTO v_old FROM app.questions AS q WHERE q.id = remove_question.question_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'question not found';
    END IF;
    PERFORM FROM app.exams AS e WHERE e.id = v_old.exam_id FOR UPDATE;
    IF EXISTS (SELECT FROM app.exam_attempts AS a WHERE a.exam_id = v_old.exam_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the exam has attempts: its questions can be edited but not removed';
    END IF;
    IF (SELECT count(*) FROM app.questions AS q WHERE q.exam_id = v_old.exam_id) = 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409', MESSAGE = 'an exam keeps at least one question';
    END IF;
    DELETE FROM app.questions AS q WHERE q.id = v_old.id;
    -- Close the gap; the unique (exam_id, position) is checked per statement.
    UPDATE app.questions AS q SET position = q.position - 1
    WHERE q.exam_id = v_old.exam_id AND q.position > v_old.position;
    RETURN internal.exam_document(v_old.exam_id);
END
$$;
COMMENT ON FUNCTION api.remove_question(uuid) IS
'Remove a question from an exam that has no attempts yet (teacher with permission, or admin); returns the exam. 404 if not visible, 409 once the exam has attempts (edit the question instead).';
REVOKE ALL ON FUNCTION api.remove_question(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.remove_question(uuid) TO teacher, admin;
