-- exams: what makes an authored question and an exam's settings valid, with
-- the messages create_exam, update_exam, add_question and update_question
-- give (22023). Pure functions of their arguments.

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
REVOKE ALL ON FUNCTION internal.question_problem(jsonb) FROM PUBLIC;
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
REVOKE ALL ON FUNCTION internal.assert_exam_settings(
    text, text, integer, timestamptz, timestamptz, integer, integer
) FROM PUBLIC;
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
REVOKE ALL ON FUNCTION internal.grading_method_of(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.grading_method_of(text) TO teacher, admin;
