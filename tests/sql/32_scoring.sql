-- 32 scoring: the points each kind of answer earns (docs/exams.md),
-- partial credit for multiple_choice, numeric tolerance, short_text
-- normalisation; the grade across attempts by each grading method, and the
-- statistics that must agree with what the student is shown.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(48);

-- grade(question, answer): the points, as the graders compute them.
CREATE FUNCTION pg_temp.grade(p_question text, p_answer text) RETURNS numeric
LANGUAGE sql AS $$ SELECT internal.grade_answer(p_question::jsonb, p_answer::jsonb) $$;

-- ---------------------------------------------------------------------------
-- single_choice, true_false
-- ---------------------------------------------------------------------------

SELECT is(
    pg_temp.grade('{"kind": "single_choice", "options": ["3", "4"], "correct": "4", "points": 2}',
        '"4"'),
    2::numeric, 'single_choice: the correct option earns all the points'
);
SELECT is(
    pg_temp.grade('{"kind": "single_choice", "options": ["3", "4"], "correct": "4", "points": 2}',
        '"3"'),
    0::numeric, 'single_choice: another option earns nothing'
);
SELECT is(
    pg_temp.grade('{"kind": "single_choice", "options": ["3", "4"], "correct": "4", "points": 2}',
        '["4"]'),
    0::numeric, 'single_choice: an answer of the wrong form earns nothing'
);
SELECT is(
    pg_temp.grade('{"kind": "true_false", "correct": false, "points": 1}', 'false'),
    1::numeric, 'true_false: the right boolean earns the points'
);
SELECT is(
    pg_temp.grade('{"kind": "true_false", "correct": false, "points": 1}', 'true'),
    0::numeric, 'true_false: the wrong boolean earns nothing'
);
SELECT is(
    pg_temp.grade('{"kind": "true_false", "correct": false, "points": 1}', '"false"'),
    0::numeric, 'true_false: the string "false" is not the boolean false'
);
SELECT is(
    pg_temp.grade('{"kind": "true_false", "correct": true, "points": 1}', NULL),
    0::numeric, 'an unanswered question earns nothing'
);
SELECT is(
    pg_temp.grade('{"kind": "true_false", "correct": true, "points": 1}', 'null'),
    0::numeric, 'a null answer earns nothing'
);

-- ---------------------------------------------------------------------------
-- numeric
-- ---------------------------------------------------------------------------

SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 3.14, "tolerance": 0.01, "points": 2}', '3.14'),
    2::numeric, 'numeric: the exact value'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 3.14, "tolerance": 0.01, "points": 2}', '3.145'),
    2::numeric, 'numeric: within the tolerance'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 3.14, "tolerance": 0.01, "points": 2}', '3.15'),
    2::numeric, 'numeric: exactly at the tolerance counts (exact decimals, no float error)'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 3.14, "tolerance": 0.01, "points": 2}', '3.13'),
    2::numeric, 'numeric: the tolerance applies below too'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 3.14, "tolerance": 0.01, "points": 2}',
        '3.1501'),
    0::numeric, 'numeric: just outside the tolerance earns nothing'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 42, "points": 1}', '42.0'),
    1::numeric, 'numeric without tolerance: 42.0 is 42'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 42, "points": 1}', '42.001'),
    0::numeric, 'numeric without tolerance: an exact match is needed'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": -1.5, "tolerance": 0.5, "points": 1}', '-1'),
    1::numeric, 'numeric: negative values'
);
SELECT is(
    pg_temp.grade('{"kind": "numeric", "correct": 42, "points": 1}', '"42"'),
    0::numeric, 'numeric: a string is not a number'
);

-- ---------------------------------------------------------------------------
-- short_text
-- ---------------------------------------------------------------------------

SELECT is(
    pg_temp.grade('{"kind": "short_text", "correct": "Paris", "points": 1}', '"  PARIS "'),
    1::numeric, 'short_text: case and surrounding spaces do not matter'
);
SELECT is(
    pg_temp.grade('{"kind": "short_text", "correct": "New York", "points": 1}',
        '"new\t  york"'),
    1::numeric, 'short_text: inner runs of whitespace count as one space'
);
SELECT is(
    pg_temp.grade('{"kind": "short_text", "correct": ["Paris", "Lutetia"], "points": 1}',
        '"lutetia"'),
    1::numeric, 'short_text: any of the accepted answers'
);
SELECT is(
    pg_temp.grade('{"kind": "short_text", "correct": "Paris", "points": 1}', '"Paris."'),
    0::numeric, 'short_text: punctuation is kept'
);
SELECT is(
    pg_temp.grade('{"kind": "short_text", "correct": "Paris", "points": 1}', '"Pari"'),
    0::numeric, 'short_text: a different word earns nothing'
);
SELECT is(
    pg_temp.grade(
        '{"kind": "short_text", "correct": "caf' || U&'\00E9' || '", "points": 1}',
        '"cafe' || U&'\0301' || '"'
    ),
    1::numeric, 'short_text: Unicode NFC (composed and decomposed é match)'
);
SELECT CASE
    WHEN (SELECT p.prosrc ~ 'COLLATE' FROM pg_proc AS p
          WHERE p.oid = 'internal.normalise_answer_text(text)'::regprocedure)
        THEN is(
            pg_temp.grade('{"kind": "short_text", "correct": "ÉCOLE", "points": 1}', '"école"'),
            1::numeric, 'short_text: case folds beyond ASCII (a Unicode-aware collation)'
        )
    ELSE skip('no Unicode-aware collation on this server: case folds by the database''s', 1)
END;

-- ---------------------------------------------------------------------------
-- multiple_choice: points x max(0, right - wrong) / number of right options
-- ---------------------------------------------------------------------------

CREATE FUNCTION pg_temp.mc(p_answer text) RETURNS numeric
LANGUAGE sql AS $$
    SELECT pg_temp.grade(
        '{"kind": "multiple_choice", "options": ["a", "b", "c", "d"], "correct": ["a", "b"],
          "points": 2}',
        p_answer
    )
$$;

SELECT is(pg_temp.mc('["a", "b"]'), 2::numeric, 'multiple_choice: exactly the right options');
SELECT is(pg_temp.mc('["b", "a"]'), 2::numeric, 'multiple_choice: order does not matter');
SELECT is(pg_temp.mc('["a"]'), 1::numeric, 'multiple_choice: half the right options, half');
SELECT is(
    pg_temp.mc('["a", "b", "c"]'), 1::numeric,
    'multiple_choice: a wrong choice cancels a right one'
);
SELECT is(
    pg_temp.mc('["a", "b", "c", "d"]'), 0::numeric,
    'multiple_choice: ticking everything earns nothing'
);
SELECT is(pg_temp.mc('["c"]'), 0::numeric, 'multiple_choice: never below 0');
SELECT is(pg_temp.mc('[]'), 0::numeric, 'multiple_choice: no choice, no points');
SELECT is(
    pg_temp.grade(
        '{"kind": "multiple_choice", "options": ["a", "b", "c", "d"], "correct": ["a", "b", "c"],
          "points": 1}',
        '["a"]'
    ),
    0.33::numeric, 'multiple_choice: a third of a point, rounded to 2 decimals'
);
SELECT is(
    pg_temp.grade(
        '{"kind": "multiple_choice", "options": ["a", "b", "c", "d"], "correct": ["a", "b", "c"],
          "points": 1}',
        '["a", "b"]'
    ),
    0.67::numeric, 'multiple_choice: two thirds, rounded'
);
SELECT is(
    pg_temp.grade('{"kind": "single_choice", "options": ["a", "b"], "correct": "a",
        "points": 0.335}', '"a"'),
    0.335::numeric, 'rounding never gives more than the question''s points'
);

-- ---------------------------------------------------------------------------
-- The form of an answer (checked at save; a wrong answer is a valid answer)
-- ---------------------------------------------------------------------------

SELECT is(
    internal.answer_problem(
        '{"kind": "multiple_choice", "options": ["a", "b"]}', '["a", 1]'
    ),
    'every chosen answer must be one of the question''s options',
    'answer form: a multiple_choice list of something else'
);
SELECT is(
    internal.answer_problem('{"kind": "multiple_choice", "options": ["a", "b"]}', '[]'),
    NULL,
    'answer form: an empty multiple_choice list is an answer (choosing nothing)'
);
SELECT is(
    internal.answer_problem('{"kind": "numeric"}', '1e3'),
    NULL,
    'answer form: any JSON number for numeric'
);

-- ---------------------------------------------------------------------------
-- Grades across attempts, and the statistics
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000032a01', 'score-teacher@example.org', 'x', 'Teacher', 'teacher'),
('00000000-0000-4000-8000-000000032b01', 'score-carol@example.org', 'x', 'Carol', 'student');
INSERT INTO app.student_profiles (user_id) VALUES ('00000000-0000-4000-8000-000000032b01');

CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v text);
GRANT ALL ON ctx TO PUBLIC;

-- Four true_false questions, all true, one point each.
SELECT tests.become('00000000-0000-4000-8000-000000032a01');
INSERT INTO ctx (k, v)
SELECT m, api.create_exam(
    title => 'Scoring ' || m, description => NULL, duration_minutes => 30,
    opens_at => now() - interval '1 hour', closes_at => now() + interval '1 day',
    max_attempts => 3, grading_method => m,
    questions => (
        SELECT jsonb_agg(jsonb_build_object(
            'kind', 'true_false', 'prompt', 'Statement ' || n, 'correct', TRUE
        ))
        FROM generate_series(1, 4) AS n
    )
) ->> 'id'
FROM unnest(ARRAY['highest', 'average', 'first', 'last']) AS m;
SELECT tests.unbecome();

-- Carol takes an exam answering the first p_right questions right.
CREATE FUNCTION pg_temp.take(p_method text, p_right integer) RETURNS jsonb
LANGUAGE sql AS $$
    WITH started AS (
        SELECT api.create_exam_attempt((SELECT v::uuid FROM pg_temp.ctx WHERE k = p_method)) AS s
    )
    SELECT api.complete_exam_attempt(
        (started.s ->> 'attempt_id')::uuid,
        (SELECT jsonb_object_agg(q ->> 'id', (q ->> 'position')::int <= p_right)
         FROM jsonb_array_elements(started.s -> 'questions') AS q)
    )
    FROM started;
$$;

-- 25 %, then 75 %, then 50 % on each exam, one round after the other.
CREATE TEMPORARY TABLE taken (round integer, method text, result jsonb);
GRANT ALL ON taken TO PUBLIC;
SELECT tests.become('00000000-0000-4000-8000-000000032b01');
INSERT INTO taken
SELECT 1, m, pg_temp.take(m, 1) FROM unnest(ARRAY['highest', 'average', 'first', 'last']) AS m;
INSERT INTO taken
SELECT 2, m, pg_temp.take(m, 3) FROM unnest(ARRAY['highest', 'average', 'first', 'last']) AS m;
INSERT INTO taken
SELECT 3, m, pg_temp.take(m, 2) FROM unnest(ARRAY['highest', 'average', 'first', 'last']) AS m;
SELECT is(
    (SELECT array_agg((result ->> 'percentage')::numeric ORDER BY method, round) FROM taken),
    ARRAY[25, 75, 50, 25, 75, 50, 25, 75, 50, 25, 75, 50]::numeric [],
    'three attempts on each exam: 25 %, 75 %, 50 %'
);
SELECT is(
    (SELECT jsonb_object_agg(g.grading_method, g.percentage)
     FROM internal.student_exam_grades('00000000-0000-4000-8000-000000032b01') AS g),
    '{"highest": 75, "average": 50, "first": 25, "last": 50}'::jsonb,
    'the grade on each exam by its method: highest, average, first, last'
);
SELECT is(
    (SELECT jsonb_object_agg(m, api.get_student_exam_detail(v::uuid) -> 'grade' -> 'percentage')
     FROM ctx, unnest(ARRAY['highest', 'average', 'first', 'last']) AS m WHERE k = m),
    '{"highest": 75, "average": 50, "first": 25, "last": 50}'::jsonb,
    'the student is shown the same grades'
);
SELECT is(
    (SELECT g.attempt_id FROM internal.student_exam_grades('00000000-0000-4000-8000-000000032b01')
         AS g WHERE g.grading_method = 'highest'),
    (SELECT a.id FROM app.exam_attempts AS a
     WHERE a.exam_id = (SELECT v::uuid FROM ctx WHERE k = 'highest') AND a.attempt_number = 2),
    'highest: the grade is the second attempt''s'
);
SELECT is(
    (SELECT g.attempt_id FROM internal.student_exam_grades('00000000-0000-4000-8000-000000032b01')
         AS g WHERE g.grading_method = 'average'),
    NULL,
    'average: no single attempt gives the grade'
);
SELECT is(
    (api.get_student_dashboard_data() -> 'metrics') - 'updated_at' - 'trend',
    '{"exams_taken": 4, "attempts_count": 12, "average_score": 50, "best_score": 75,
      "average_integrity": null, "flags_count": 0}'::jsonb,
    'metrics: four exams, twelve attempts, the mean and the best of the four grades'
);
SELECT is(
    api.get_student_dashboard_data() -> 'profile' -> 'average_score',
    api.get_student_dashboard_data() -> 'metrics' -> 'average_score',
    'profile and metrics show the same average'
);
SELECT is(
    (SELECT avg((e -> 'grade' ->> 'percentage')::numeric)
     FROM ctx, LATERAL (SELECT api.get_student_exam_detail(ctx.v::uuid) AS e) AS d
     WHERE ctx.k IN ('highest', 'average', 'first', 'last')),
    (api.get_student_dashboard_data() -> 'metrics' ->> 'average_score')::numeric,
    'the metrics'' average is the mean of the grades the student is shown'
);
SELECT tests.unbecome();
SELECT isnt(
    (SELECT trend FROM app.performance_metrics
     WHERE student_id = '00000000-0000-4000-8000-000000032b01'),
    NULL,
    'trend: a slope once there are two graded attempts or more'
);

-- The attempt's own figures agree with its answers.
SELECT is(
    (SELECT count(*)::int FROM app.exam_attempts AS a
     WHERE a.student_id = '00000000-0000-4000-8000-000000032b01'
         AND a.score <> (SELECT sum(points_awarded) FROM app.attempt_answers AS aa
                         WHERE aa.attempt_id = a.id)),
    0,
    'every attempt''s score is the sum of its answers'' points'
);
SELECT is(
    (SELECT DISTINCT max_score FROM app.exam_attempts
     WHERE student_id = '00000000-0000-4000-8000-000000032b01'),
    4::numeric,
    'max_score is the sum of the points of all the questions'
);

SELECT * FROM finish();
ROLLBACK;
