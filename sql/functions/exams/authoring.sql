-- exams: authoring an exam (create, read, update, publish), with the
-- documents the API answers with. Teachers and admins call these; students
-- never see an answer key through them. Questions: questions.sql.
--
-- Functions run with the caller's rights (SECURITY INVOKER): row-level
-- security on app.exams, app.questions, app.teacher_exam_permissions and
-- app.accommodations decides what a teacher may see and change
-- (sql/policies/exams.sql). Errors: VT404 not found or not visible
-- (existence is never revealed), VT409 a state conflict, 22023 an invalid
-- argument (HTTP 400), 42501 seen but not allowed (HTTP 403). Rules:
-- docs/exams.md.

-- internal.assert_author ----------------------------------------------------------

-- Only teachers and admins author exams (EXECUTE says so too; this gives
-- the message).
CREATE OR REPLACE FUNCTION internal.assert_author()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id uuid := internal.current_user_id();
BEGIN
    IF v_user_id IS NULL OR internal.current_app_role() NOT IN ('teacher', 'admin') THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501', MESSAGE = 'only teachers and admins manage exams';
    END IF;
    RETURN v_user_id;
END
$$;
COMMENT ON FUNCTION internal.assert_author() IS
'The calling teacher''s or admin''s user id; 42501 for anyone else.';
REVOKE ALL ON FUNCTION internal.assert_author() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.assert_author() TO teacher, admin;

-- internal.exam_document ----------------------------------------------------------

-- The teacher's view of an exam, answer key included, read under RLS: NULL
-- when the caller may not see the exam.
CREATE OR REPLACE FUNCTION internal.exam_document(p_exam_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'id', e.id,
        'title', e.title,
        'description', e.description,
        'created_by', e.created_by,
        'duration_minutes', e.duration_minutes,
        'opens_at', e.opens_at,
        'closes_at', e.closes_at,
        'max_attempts', e.max_attempts,
        'grading_method', e.grading_method,
        'grace_seconds', e.grace_seconds,
        'shuffle_questions', e.shuffle_questions,
        'shuffle_options', e.shuffle_options,
        'published', e.published,
        'created_at', e.created_at,
        'updated_at', e.updated_at,
        'max_score', coalesce(q.max_score, 0),
        'questions', coalesce(q.questions, '[]'::jsonb)
    )
    FROM app.exams AS e
    LEFT JOIN LATERAL (
        SELECT
            sum(qq.points) AS max_score,
            jsonb_agg(
                jsonb_build_object(
                    'id', qq.id,
                    'position', qq.position,
                    'kind', qq.kind,
                    'prompt', qq.prompt,
                    'options', qq.options,
                    'correct', qq.correct,
                    'tolerance', qq.tolerance,
                    'points', qq.points,
                    'version', qq.version
                )
                ORDER BY qq.position
            ) AS questions
        FROM app.questions AS qq
        WHERE qq.exam_id = e.id
    ) AS q ON TRUE
    WHERE e.id = p_exam_id;
$$;
COMMENT ON FUNCTION internal.exam_document(uuid) IS
'A teacher''s view of an exam with its questions and answer key, under RLS (NULL when not visible).';
REVOKE ALL ON FUNCTION internal.exam_document(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.exam_document(uuid) TO teacher, admin;

-- internal.question_document ------------------------------------------------------

CREATE OR REPLACE FUNCTION internal.question_document(p_question_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'id', q.id,
        'exam_id', q.exam_id,
        'position', q.position,
        'kind', q.kind,
        'prompt', q.prompt,
        'options', q.options,
        'correct', q.correct,
        'tolerance', q.tolerance,
        'points', q.points,
        'version', q.version,
        'updated_at', q.updated_at
    )
    FROM app.questions AS q
    WHERE q.id = p_question_id;
$$;
COMMENT ON FUNCTION internal.question_document(uuid) IS
'A teacher''s view of one question with its answer key, under RLS (NULL when not visible).';
REVOKE ALL ON FUNCTION internal.question_document(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.question_document(uuid) TO teacher, admin;

-- api.create_exam -----------------------------------------------------------------

-- The required settings first: PostgreSQL wants every argument after one
-- with a default to have one too. Callers name their arguments (the glue
-- always does), so the order is no part of the contract.
CREATE OR REPLACE FUNCTION api.create_exam(
    title text,
    duration_minutes integer,
    opens_at timestamptz,
    closes_at timestamptz,
    max_attempts integer,
    questions jsonb,
    description text DEFAULT NULL,
    published boolean DEFAULT TRUE,
    grading_method text DEFAULT 'highest',
    grace_seconds integer DEFAULT 60,
    shuffle_questions boolean DEFAULT FALSE,
    shuffle_options boolean DEFAULT FALSE
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id uuid := internal.assert_author();
    v_exam_id uuid := gen_random_uuid();
    v_method app.grading_method := internal.grading_method_of(grading_method);
    v_problem record;
BEGIN
    PERFORM internal.assert_exam_settings(
        title, description, duration_minutes, opens_at, closes_at, max_attempts, grace_seconds
    );
    IF questions IS NULL OR jsonb_typeof(questions) <> 'array'
        OR jsonb_array_length(questions) = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'questions must be a non-empty list of questions';
    END IF;
    IF jsonb_array_length(questions) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an exam has at most 500 questions';
    END IF;
    SELECT q.ord, internal.question_problem(q.value) AS problem
    INTO v_problem
    FROM jsonb_array_elements(questions) WITH ORDINALITY AS q (value, ord)
    WHERE internal.question_problem(q.value) IS NOT NULL
    ORDER BY q.ord
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('question %s: %s', v_problem.ord, v_problem.problem);
    END IF;

    -- No RETURNING: the new exam becomes visible to its author only once the
    -- permission row below exists.
    INSERT INTO app.exams (
        id, title, description, created_by, duration_minutes, opens_at, closes_at,
        max_attempts, grading_method, grace_seconds, shuffle_questions, shuffle_options,
        published
    ) VALUES (
        v_exam_id, title, description, v_user_id, duration_minutes, opens_at, closes_at,
        max_attempts, v_method, grace_seconds, coalesce(shuffle_questions, FALSE),
        coalesce(shuffle_options, FALSE), coalesce(published, TRUE)
    );
    INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by)
    VALUES (v_exam_id, v_user_id, v_user_id);
    INSERT INTO app.questions (exam_id, position, kind, prompt, options, correct, tolerance, points)
    SELECT
        v_exam_id,
        q.ord,
        (q.value ->> 'kind')::app.question_kind,
        q.value ->> 'prompt',
        coalesce(nullif(q.value -> 'options', 'null'::jsonb), '[]'::jsonb),
        q.value -> 'correct',
        (q.value ->> 'tolerance')::numeric,
        coalesce((q.value ->> 'points')::numeric, 1)
    FROM jsonb_array_elements(questions) WITH ORDINALITY AS q (value, ord);

    RETURN internal.exam_document(v_exam_id);
END
$$;
COMMENT ON FUNCTION api.create_exam(
    text, integer, timestamptz, timestamptz, integer, jsonb, text,
    boolean, text, integer, boolean, boolean
) IS
'Create an exam with its questions (teacher or admin); the creator gets permission on it. description (optional, at most 10000 characters) defaults to none. questions: [{kind, prompt, options, correct, tolerance, points}] of the kinds single_choice, multiple_choice, true_false, numeric, short_text. published (default true) lets students start it inside its window at once. grading_method: highest (default), average, first or last. grace_seconds (default 60, at most 600) absorbs network delay after a deadline. Returns the exam with its questions and answer key. 400 (22023) names the first invalid field.';
REVOKE ALL ON FUNCTION api.create_exam(
    text, integer, timestamptz, timestamptz, integer, jsonb, text,
    boolean, text, integer, boolean, boolean
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.create_exam(
    text, integer, timestamptz, timestamptz, integer, jsonb, text,
    boolean, text, integer, boolean, boolean
) TO teacher, admin;

-- api.get_exam --------------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.get_exam(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_document jsonb;
BEGIN
    PERFORM internal.assert_author();
    v_document := internal.exam_document(exam_id);
    IF v_document IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_document;
END
$$;
COMMENT ON FUNCTION api.get_exam(uuid) IS
'An exam with its questions and answer key, for a teacher with permission on it or an admin; 404 otherwise.';
REVOKE ALL ON FUNCTION api.get_exam(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_exam(uuid) TO teacher, admin;

-- api.update_exam -----------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.update_exam(
    exam_id uuid,
    title text DEFAULT NULL,
    description text DEFAULT NULL,
    duration_minutes integer DEFAULT NULL,
    opens_at timestamptz DEFAULT NULL,
    closes_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    grading_method text DEFAULT NULL,
    grace_seconds integer DEFAULT NULL,
    shuffle_questions boolean DEFAULT NULL,
    shuffle_options boolean DEFAULT NULL,
    published boolean DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_exam app.exams;
    v_method app.grading_method;
BEGIN
    PERFORM internal.assert_author();
    SELECT e.* INTO v_exam FROM app.exams AS e WHERE e.id = update_exam.exam_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    v_method := CASE
        WHEN update_exam.grading_method IS NULL THEN v_exam.grading_method
        ELSE internal.grading_method_of(update_exam.grading_method)
    END;
    v_exam.title := coalesce(update_exam.title, v_exam.title);
    v_exam.description := coalesce(update_exam.description, v_exam.description);
    v_exam.duration_minutes := coalesce(update_exam.duration_minutes, v_exam.duration_minutes);
    v_exam.opens_at := coalesce(update_exam.opens_at, v_exam.opens_at);
    v_exam.closes_at := coalesce(update_exam.closes_at, v_exam.closes_at);
    v_exam.max_attempts := coalesce(update_exam.max_attempts, v_exam.max_attempts);
    v_exam.grace_seconds := coalesce(update_exam.grace_seconds, v_exam.grace_seconds);
    PERFORM internal.assert_exam_settings(
        v_exam.title, v_exam.description, v_exam.duration_minutes, v_exam.opens_at,
        v_exam.closes_at, v_exam.max_attempts, v_exam.grace_seconds
    );
    -- Students keep seeing the exams they took: no unpublishing then.
    IF NOT update_exam.published AND v_exam.published AND EXISTS (
        SELECT FROM app.exam_attempts AS a WHERE a.exam_id = v_exam.id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'an exam with attempts cannot be unpublished: move closes_at to close it';
    END IF;
    IF update_exam.published AND NOT EXISTS (
        SELECT FROM app.questions AS q WHERE q.exam_id = v_exam.id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409', MESSAGE = 'an exam without questions cannot be published';
    END IF;

    -- Attempts already started keep their deadline and their snapshot.
    UPDATE app.exams AS e SET
        title = v_exam.title,
        description = v_exam.description,
        duration_minutes = v_exam.duration_minutes,
        opens_at = v_exam.opens_at,
        closes_at = v_exam.closes_at,
        max_attempts = v_exam.max_attempts,
        grading_method = v_method,
        grace_seconds = v_exam.grace_seconds,
        shuffle_questions = coalesce(update_exam.shuffle_questions, e.shuffle_questions),
        shuffle_options = coalesce(update_exam.shuffle_options, e.shuffle_options),
        published = coalesce(update_exam.published, e.published)
    WHERE e.id = v_exam.id;

    RETURN internal.exam_document(v_exam.id);
END
$$;
COMMENT ON FUNCTION api.update_exam(
    uuid, text, text, integer, timestamptz, timestamptz, integer,
    text, integer, boolean, boolean, boolean
) IS
'Change an exam''s settings (teacher with permission, or admin); arguments left out keep their value. Attempts already started keep their deadline and are still scored against the questions as they were when they started. 404 if the exam is not visible, 400 (22023) for an invalid value, 409 to unpublish an exam that has attempts.';
REVOKE ALL ON FUNCTION api.update_exam(
    uuid, text, text, integer, timestamptz, timestamptz, integer,
    text, integer, boolean, boolean, boolean
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.update_exam(
    uuid, text, text, integer, timestamptz, timestamptz, integer,
    text, integer, boolean, boolean, boolean
) TO teacher, admin;

-- api.publish_exam ----------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.publish_exam(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN api.update_exam(exam_id => publish_exam.exam_id, published => TRUE);
END
$$;
COMMENT ON FUNCTION api.publish_exam(uuid) IS
'Publish a draft exam (created with "published": false): students can then start it inside its window. Publishing twice is harmless. 404 if the exam is not visible, 409 if it has no questions.';
REVOKE ALL ON FUNCTION api.publish_exam(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.publish_exam(uuid) TO teacher, admin;
