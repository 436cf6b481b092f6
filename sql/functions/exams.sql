-- exams: authoring (exams and their questions), permissions and
-- accommodations. Teachers and admins call these; students never see an
-- answer key through them.
--
-- Repeatable: re-applied in full at every deploy, as veritas_owner, after
-- 00_internal.sql has re-created the api schema. Functions run with the
-- caller's rights (SECURITY INVOKER): row-level security on app.exams,
-- app.questions, app.teacher_exam_permissions and app.accommodations decides
-- what a teacher may see and change (sql/policies/). Whether a user id names
-- an active teacher or student is asked of internal.user_has_role
-- (00_internal.sql); a running attempt's deadline is moved by
-- internal.recompute_attempt_deadline (attempts.sql).
--
-- Errors: VT404 not found or not visible (existence is never revealed),
-- VT409 a state conflict, 22023 an invalid argument (HTTP 400), 42501 seen
-- but not allowed (HTTP 403). Grading rules: docs/exams.md.

-- internal.question_problem -------------------------------------------------------

-- What is wrong with one authored question (a JSON object), or NULL when it
-- is valid. Used by create_exam, add_question and update_question so that the
-- three give the same messages.
CREATE OR REPLACE FUNCTION internal.question_problem(p_question jsonb)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_kind text;
    v_options jsonb;
    v_correct jsonb;
    v_tolerance jsonb;
    v_points jsonb;
    v_bad text;
BEGIN
    IF p_question IS NULL OR jsonb_typeof(p_question) <> 'object' THEN
        RETURN 'must be a JSON object';
    END IF;

    SELECT string_agg(k.key, ', ' ORDER BY k.key)
    INTO v_bad
    FROM jsonb_object_keys(p_question) AS k (key)
    WHERE k.key NOT IN ('kind', 'prompt', 'options', 'correct', 'tolerance', 'points');
    IF v_bad IS NOT NULL THEN
        RETURN format(
            'unknown field %s (expected kind, prompt, options, correct, tolerance, points)', v_bad
        );
    END IF;

    v_kind := p_question ->> 'kind';
    IF jsonb_typeof(p_question -> 'kind') IS DISTINCT FROM 'string'
        OR v_kind <> ALL (enum_range(NULL::app.question_kind)::text[]) THEN
        RETURN format(
            'kind must be one of %s',
            array_to_string(enum_range(NULL::app.question_kind), ', ')
        );
    END IF;

    IF jsonb_typeof(p_question -> 'prompt') IS DISTINCT FROM 'string'
        OR btrim(p_question ->> 'prompt') = '' THEN
        RETURN 'prompt must be a non-empty string';
    END IF;
    IF length(p_question ->> 'prompt') > 20000 THEN
        RETURN 'prompt is longer than 20000 characters';
    END IF;

    v_options := coalesce(nullif(p_question -> 'options', 'null'::jsonb), '[]'::jsonb);
    IF jsonb_typeof(v_options) <> 'array' THEN
        RETURN 'options must be a list of strings';
    END IF;
    IF v_kind IN ('single_choice', 'multiple_choice') THEN
        IF jsonb_array_length(v_options) < 2 THEN
            RETURN format('a %s question needs at least two options', v_kind);
        END IF;
        IF jsonb_array_length(v_options) > 100 THEN
            RETURN 'a question has at most 100 options';
        END IF;
        IF EXISTS (
            SELECT FROM jsonb_array_elements(v_options) AS o (value)
            WHERE jsonb_typeof(o.value) <> 'string' OR btrim(o.value #>> '{}') = ''
        ) THEN
            RETURN 'every option must be a non-empty string';
        END IF;
        IF (SELECT count(DISTINCT o.value) FROM jsonb_array_elements(v_options) AS o (value))
            <> jsonb_array_length(v_options) THEN
            RETURN 'options must be distinct';
        END IF;
    ELSIF v_options <> '[]'::jsonb THEN
        RETURN format('a %s question has no options (give [] or leave it out)', v_kind);
    END IF;

    v_correct := nullif(p_question -> 'correct', 'null'::jsonb);
    IF v_correct IS NULL THEN
        RETURN 'correct is required';
    END IF;
    CASE v_kind
        WHEN 'single_choice' THEN
            IF jsonb_typeof(v_correct) <> 'string' THEN
                RETURN 'correct must be one of the option strings';
            END IF;
            IF NOT v_options @> jsonb_build_array(v_correct) THEN
                RETURN format('the correct answer %s is not one of the options', v_correct);
            END IF;
        WHEN 'multiple_choice' THEN
            IF jsonb_typeof(v_correct) <> 'array' OR jsonb_array_length(v_correct) = 0 THEN
                RETURN 'correct must be a non-empty list of option strings';
            END IF;
            SELECT string_agg(c.value::text, ', ')
            INTO v_bad
            FROM jsonb_array_elements(v_correct) AS c (value)
            WHERE NOT v_options @> jsonb_build_array(c.value);
            IF v_bad IS NOT NULL THEN
                RETURN format('correct answers not among the options: %s', v_bad);
            END IF;
            IF (SELECT count(DISTINCT c.value) FROM jsonb_array_elements(v_correct) AS c (value))
                <> jsonb_array_length(v_correct) THEN
                RETURN 'correct answers must be distinct';
            END IF;
        WHEN 'true_false' THEN
            IF jsonb_typeof(v_correct) <> 'boolean' THEN
                RETURN 'correct must be true or false';
            END IF;
        WHEN 'numeric' THEN
            IF jsonb_typeof(v_correct) <> 'number' THEN
                RETURN 'correct must be a number';
            END IF;
        WHEN 'short_text' THEN
            IF jsonb_typeof(v_correct) = 'string' THEN
                v_correct := jsonb_build_array(v_correct);
            END IF;
            IF jsonb_typeof(v_correct) <> 'array' OR jsonb_array_length(v_correct) = 0
                OR EXISTS (
                    SELECT FROM jsonb_array_elements(v_correct) AS c (value)
                    WHERE jsonb_typeof(c.value) <> 'string' OR btrim(c.value #>> '{}') = ''
                ) THEN
                RETURN 'correct must be a non-empty string or a list of non-empty strings';
            END IF;
    END CASE;

    v_tolerance := nullif(p_question -> 'tolerance', 'null'::jsonb);
    IF v_tolerance IS NOT NULL THEN
        IF v_kind <> 'numeric' THEN
            RETURN 'tolerance is for numeric questions only';
        END IF;
        IF jsonb_typeof(v_tolerance) <> 'number' OR (v_tolerance #>> '{}')::numeric < 0 THEN
            RETURN 'tolerance must be a number of 0 or more';
        END IF;
    END IF;

    v_points := nullif(p_question -> 'points', 'null'::jsonb);
    IF v_points IS NOT NULL THEN
        IF jsonb_typeof(v_points) <> 'number' OR (v_points #>> '{}')::numeric <= 0 THEN
            RETURN 'points must be a number greater than 0';
        END IF;
        IF (v_points #>> '{}')::numeric > 10000 THEN
            RETURN 'points must be at most 10000';
        END IF;
    END IF;

    RETURN NULL;
END
$$;
COMMENT ON FUNCTION internal.question_problem(jsonb) IS
'What is wrong with an authored question (JSON object with kind, prompt, options, correct, tolerance, points), or NULL when it is valid.';
GRANT EXECUTE ON FUNCTION internal.question_problem(jsonb) TO teacher, admin;

-- internal.assert_exam_settings ---------------------------------------------------

-- Raises 22023 with a message naming the first invalid exam setting.
CREATE OR REPLACE FUNCTION internal.assert_exam_settings(
    p_title text,
    p_description text,
    p_duration_minutes integer,
    p_opens_at timestamptz,
    p_closes_at timestamptz,
    p_max_attempts integer,
    p_grace_seconds integer
)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_problem text;
BEGIN
    v_problem := CASE
        WHEN p_title IS NULL OR btrim(p_title) = '' THEN 'title is required'
        WHEN length(p_title) > 200 THEN 'title is longer than 200 characters'
        WHEN length(p_description) > 10000 THEN 'description is longer than 10000 characters'
        WHEN p_duration_minutes IS NULL THEN 'duration_minutes is required'
        WHEN p_duration_minutes NOT BETWEEN 1 AND 1440
            THEN 'duration_minutes must be between 1 and 1440'
        WHEN p_opens_at IS NULL THEN 'opens_at is required'
        WHEN p_closes_at IS NULL THEN 'closes_at is required'
        WHEN p_closes_at <= p_opens_at THEN 'closes_at must be after opens_at'
        WHEN p_max_attempts IS NULL THEN 'max_attempts is required'
        WHEN p_max_attempts NOT BETWEEN 1 AND 100 THEN 'max_attempts must be between 1 and 100'
        WHEN p_grace_seconds IS NULL THEN 'grace_seconds is required'
        WHEN p_grace_seconds NOT BETWEEN 0 AND 600 THEN 'grace_seconds must be between 0 and 600'
    END;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_problem;
    END IF;
END
$$;
COMMENT ON FUNCTION internal.assert_exam_settings(
    text, text, integer, timestamptz, timestamptz, integer, integer
) IS
'Raises 22023 naming the first invalid exam setting (title, duration, window, attempts, grace).';
GRANT EXECUTE ON FUNCTION internal.assert_exam_settings(
    text, text, integer, timestamptz, timestamptz, integer, integer
) TO teacher, admin;

-- internal.grading_method_of ------------------------------------------------------

-- The grading method named by a client, or 22023 naming the accepted ones.
CREATE OR REPLACE FUNCTION internal.grading_method_of(p_name text)
RETURNS app.grading_method
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_name IS NULL OR p_name <> ALL (enum_range(NULL::app.grading_method)::text[]) THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format(
                'grading_method must be one of %s',
                array_to_string(enum_range(NULL::app.grading_method), ', ')
            );
    END IF;
    RETURN p_name::app.grading_method;
END
$$;
COMMENT ON FUNCTION internal.grading_method_of(text) IS
'The app.grading_method named by a client, or 22023 naming the accepted values.';
GRANT EXECUTE ON FUNCTION internal.grading_method_of(text) TO teacher, admin;

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
GRANT EXECUTE ON FUNCTION internal.question_document(uuid) TO teacher, admin;

-- api.create_exam -----------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.create_exam(
    title text,
    description text,
    duration_minutes integer,
    opens_at timestamptz,
    closes_at timestamptz,
    max_attempts integer,
    questions jsonb,
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
    text, text, integer, timestamptz, timestamptz, integer, jsonb,
    boolean, text, integer, boolean, boolean
) IS
'Create an exam with its questions (teacher or admin); the creator gets permission on it. questions: [{kind, prompt, options, correct, tolerance, points}] of the kinds single_choice, multiple_choice, true_false, numeric, short_text. published (default true) lets students start it inside its window at once. grading_method: highest (default), average, first or last. grace_seconds (default 60, at most 600) absorbs network delay after a deadline. Returns the exam with its questions and answer key. 400 (22023) names the first invalid field.';
GRANT EXECUTE ON FUNCTION api.create_exam(
    text, text, integer, timestamptz, timestamptz, integer, jsonb,
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
GRANT EXECUTE ON FUNCTION api.publish_exam(uuid) TO teacher, admin;

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
GRANT EXECUTE ON FUNCTION api.remove_question(uuid) TO teacher, admin;

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
GRANT EXECUTE ON FUNCTION api.set_accommodation(uuid, uuid, integer) TO teacher, admin;
