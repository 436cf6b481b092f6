-- attempts: scoring: checking a student's answer against its question, and
-- grading it.
--
-- Pure functions of their arguments: they read no table, so they need no
-- grant beyond the definer helpers that call them (answers.sql,
-- lifecycle.sql). The rules are written out in docs/exams.md; a question
-- here is one element of an attempt's snapshot (exam_attempts.scored_against):
-- {id, kind, options, correct, tolerance, points, ...}.

-- internal.normalise_answer_text --------------------------------------------------

-- short_text matching: Unicode NFC, whitespace trimmed and collapsed to one
-- space, case folded. lower() folds case by a collation, and the database's
-- default may know ASCII only (the C locale): the function folds by the
-- first Unicode-aware collation the server has (ICU's root locale, the
-- builtin C.UTF-8 of PostgreSQL 17+, or the C library's C.UTF-8), else by
-- the default. Which one is known only on the server, so the one definition
-- below is written by a DO block, with that collation (and NFC, which needs
-- a UTF8 database) filled in.
DO $$
DECLARE
    v_collation text;
BEGIN
    SELECT c.collname INTO v_collation
    FROM pg_catalog.pg_collation AS c
    WHERE
        c.collnamespace = 'pg_catalog'::regnamespace
        AND c.collencoding IN (-1, pg_catalog.pg_char_to_encoding(pg_catalog.getdatabaseencoding()))
        AND pg_catalog.getdatabaseencoding() = 'UTF8'
        AND (
            (c.collname = 'und-x-icu' AND c.collprovider = 'i')
            OR (c.collname = 'pg_c_utf8' AND c.collprovider = 'b')
            OR (c.collname IN ('C.utf8', 'C.UTF-8') AND c.collprovider = 'c')
        )
    ORDER BY
        CASE c.collname WHEN 'und-x-icu' THEN 1 WHEN 'pg_c_utf8' THEN 2 ELSE 3 END, c.collname
    LIMIT 1;
    EXECUTE format(
            $fn$
            CREATE OR REPLACE FUNCTION internal.normalise_answer_text(p_text text)
            RETURNS text
            LANGUAGE sql
            IMMUTABLE
            STRICT
            PARALLEL SAFE
            AS $body$
                SELECT lower(
                    regexp_replace(
                        regexp_replace(%s, '^\s+|\s+$', '', 'g'),
                        '\s+', ' ', 'g'
                    )%s
                );
            $body$
            $fn$,
        CASE
            WHEN pg_catalog.getdatabaseencoding() = 'UTF8' THEN 'normalize(p_text, nfc)'
            ELSE 'p_text'
        END,
        CASE
            WHEN v_collation IS NOT NULL THEN format(' COLLATE pg_catalog.%I', v_collation)
            ELSE ''
        END
    );
END
$$;
COMMENT ON FUNCTION internal.normalise_answer_text(text) IS
'short_text matching form of a text: NFC, trimmed, inner whitespace collapsed to one space, lower case (by a Unicode-aware collation when the server has one: ICU root, pg_c_utf8 or C.UTF-8).';
REVOKE ALL ON FUNCTION internal.normalise_answer_text(text) FROM PUBLIC;

-- internal.answer_problem ---------------------------------------------------------

-- What is wrong with a student's answer to a question of their attempt, or
-- NULL when its form fits the question's kind. Only the form is checked: a
-- wrong answer is a valid answer.
CREATE OR REPLACE FUNCTION internal.answer_problem(p_question jsonb, p_answer jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_options jsonb := coalesce(p_question -> 'options', '[]'::jsonb);
BEGIN
    IF p_answer IS NULL THEN
        RETURN 'answer is required';
    END IF;
    CASE p_question ->> 'kind'
        WHEN 'single_choice' THEN
            IF jsonb_typeof(p_answer) <> 'string'
                OR NOT v_options @> jsonb_build_array(p_answer) THEN
                RETURN 'the answer must be one of the question''s options';
            END IF;
        WHEN 'multiple_choice' THEN
            IF jsonb_typeof(p_answer) <> 'array' THEN
                RETURN 'the answer must be a list of the question''s options';
            END IF;
            IF EXISTS (
                SELECT FROM jsonb_array_elements(p_answer) AS s (value)
                WHERE
                    jsonb_typeof(s.value) <> 'string'
                    OR NOT v_options @> jsonb_build_array(s.value)
            ) THEN
                RETURN 'every chosen answer must be one of the question''s options';
            END IF;
            IF (SELECT count(DISTINCT s.value) FROM jsonb_array_elements(p_answer) AS s (value))
                <> jsonb_array_length(p_answer) THEN
                RETURN 'an option is chosen at most once';
            END IF;
        WHEN 'true_false' THEN
            IF jsonb_typeof(p_answer) <> 'boolean' THEN
                RETURN 'the answer must be true or false';
            END IF;
        WHEN 'numeric' THEN
            IF jsonb_typeof(p_answer) <> 'number' THEN
                RETURN 'the answer must be a number';
            END IF;
        WHEN 'short_text' THEN
            IF jsonb_typeof(p_answer) <> 'string' THEN
                RETURN 'the answer must be a string';
            END IF;
            IF length(p_answer #>> '{}') > 10000 THEN
                RETURN 'the answer is longer than 10000 characters';
            END IF;
        ELSE
            RETURN 'unknown question kind';
    END CASE;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION internal.answer_problem(jsonb, jsonb) IS
'What is wrong with the form of an answer to a snapshot question (one of the options, a list of options, a boolean, a number, a string), or NULL.';
REVOKE ALL ON FUNCTION internal.answer_problem(jsonb, jsonb) FROM PUBLIC;

-- internal.grade_answer -----------------------------------------------------------

-- Points earned by an answer (NULL: unanswered, 0 points) against a snapshot
-- question, rounded to 2 decimals. Never raises: an answer of the wrong form
-- (it cannot be saved, but a row may predate a rule) earns 0.
CREATE OR REPLACE FUNCTION internal.grade_answer(p_question jsonb, p_answer jsonb)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_points numeric := coalesce((p_question ->> 'points')::numeric, 0);
    v_correct jsonb := p_question -> 'correct';
    v_fraction numeric := 0;
    v_right integer;
    v_wrong integer;
    v_expected integer;
BEGIN
    IF p_answer IS NULL OR p_answer = 'null'::jsonb THEN
        RETURN 0;
    END IF;
    CASE p_question ->> 'kind'
        WHEN 'single_choice', 'true_false' THEN
            IF jsonb_typeof(p_answer) = jsonb_typeof(v_correct) AND p_answer = v_correct THEN
                v_fraction := 1;
            END IF;
        WHEN 'multiple_choice' THEN
            -- Right choices minus wrong choices, over the number of right
            -- options, floored at 0: ticking everything earns nothing more
            -- than it should.
            IF jsonb_typeof(p_answer) = 'array' AND jsonb_typeof(v_correct) = 'array' THEN
                SELECT
                    count(*) FILTER (WHERE v_correct @> jsonb_build_array(s.value)),
                    count(*) FILTER (WHERE NOT v_correct @> jsonb_build_array(s.value))
                INTO v_right, v_wrong
                FROM (
                    SELECT DISTINCT x.value FROM jsonb_array_elements(p_answer) AS x (value)
                ) AS s;
                SELECT count(DISTINCT c.value) INTO v_expected
                FROM jsonb_array_elements(v_correct) AS c (value);
                IF v_expected > 0 THEN
                    v_fraction := greatest(0, v_right - v_wrong)::numeric / v_expected;
                END IF;
            END IF;
        WHEN 'numeric' THEN
            IF jsonb_typeof(p_answer) = 'number' AND jsonb_typeof(v_correct) = 'number'
                AND abs((p_answer #>> '{}')::numeric - (v_correct #>> '{}')::numeric)
                <= coalesce((p_question ->> 'tolerance')::numeric, 0) THEN
                v_fraction := 1;
            END IF;
        WHEN 'short_text' THEN
            IF jsonb_typeof(p_answer) = 'string' AND EXISTS (
                SELECT FROM jsonb_array_elements_text(
                    CASE
                        WHEN jsonb_typeof(v_correct) = 'array' THEN v_correct
                        ELSE jsonb_build_array(v_correct)
                    END
                ) AS a (accepted)
                WHERE internal.normalise_answer_text(a.accepted)
                    = internal.normalise_answer_text(p_answer #>> '{}')
            ) THEN
                v_fraction := 1;
            END IF;
        ELSE
            v_fraction := 0;
    END CASE;
    -- Never more than the question's points, whatever the rounding.
    RETURN trim_scale(least(v_points, round(v_points * v_fraction, 2)));
END
$$;
COMMENT ON FUNCTION internal.grade_answer(jsonb, jsonb) IS
'Points earned by an answer against a snapshot question (docs/exams.md: exact match, partial credit for multiple_choice, tolerance for numeric, normalised short_text), rounded to 2 decimals.';
REVOKE ALL ON FUNCTION internal.grade_answer(jsonb, jsonb) FROM PUBLIC;
