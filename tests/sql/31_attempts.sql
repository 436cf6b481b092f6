-- 31 attempts: the life of an attempt as a student lives it. Start and
-- resume, the window and attempt limits, autosave and its checks, submit
-- (also within the grace period), abandon, expiry by the sweep and lazily
-- by a read, the state machine guard, and the answer key that no student
-- route reveals.
--
-- now() is the same all through one transaction: time passes for an
-- attempt by moving its start and deadline back (pg_temp.age_attempt, as
-- the superuser, with triggers off for that one update).
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(97);

-- ---------------------------------------------------------------------------
-- Fixtures: a teacher, two students, and exams made through the API.
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000031a01', 'att-teacher@example.org', 'x', 'Teacher', 'teacher'),
('00000000-0000-4000-8000-000000031b01', 'att-alice@example.org', 'x', 'Alice', 'student'),
('00000000-0000-4000-8000-000000031b02', 'att-bob@example.org', 'x', 'Bob', 'student');
INSERT INTO app.student_profiles (user_id) VALUES
('00000000-0000-4000-8000-000000031b01'),
('00000000-0000-4000-8000-000000031b02');

-- Named values shared across roles.
CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v text);
GRANT ALL ON ctx TO PUBLIC;
CREATE FUNCTION pg_temp.keep(p_key text, p_value text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pg_temp.ctx (k, v) VALUES (p_key, p_value)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v;
$$;
CREATE FUNCTION pg_temp.val(p_key text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT v FROM pg_temp.ctx WHERE k = p_key $$;
CREATE FUNCTION pg_temp.id(p_key text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT v::uuid FROM pg_temp.ctx WHERE k = p_key $$;

-- Moves an attempt back in time (superuser only: the guard trigger refuses
-- to move a start, rightly).
CREATE FUNCTION pg_temp.age_attempt(p_attempt_id uuid, p_by interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('session_replication_role', 'replica', TRUE);
    UPDATE app.exam_attempts
    SET started_at = started_at - p_by, deadline = deadline - p_by
    WHERE id = p_attempt_id;
    PERFORM set_config('session_replication_role', 'origin', TRUE);
END
$$;

-- One question of each kind: 2 + 3 + 1 + 1 + 1 = 8 points.
CREATE FUNCTION pg_temp.five_questions() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT '[
        {"kind": "single_choice", "prompt": "2 + 2?", "options": ["3", "4", "5"],
         "correct": "4", "points": 2},
        {"kind": "multiple_choice", "prompt": "Primes?", "options": ["2", "3", "4", "5"],
         "correct": ["2", "3", "5"], "points": 3},
        {"kind": "true_false", "prompt": "The sky is green.", "correct": false},
        {"kind": "numeric", "prompt": "Pi?", "correct": 3.14159, "tolerance": 0.01},
        {"kind": "short_text", "prompt": "Capital of France?", "correct": ["Paris"]}
    ]'::jsonb
$$;

CREATE FUNCTION pg_temp.make_exam(
    p_key text, p_opens interval, p_closes interval, p_max_attempts integer,
    p_published boolean DEFAULT TRUE, p_shuffle boolean DEFAULT FALSE,
    p_questions jsonb DEFAULT NULL
) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_temp.keep(p_key, api.create_exam(
        title => 'Attempts ' || p_key, description => NULL, duration_minutes => 30,
        opens_at => now() + p_opens, closes_at => now() + p_closes,
        max_attempts => p_max_attempts,
        questions => coalesce(p_questions, pg_temp.five_questions()),
        published => p_published, grace_seconds => 60,
        shuffle_questions => p_shuffle, shuffle_options => p_shuffle
    ) ->> 'id');
$$;

SELECT tests.become('00000000-0000-4000-8000-000000031a01');
SELECT pg_temp.make_exam('main', '-1 hour', '1 day', 2);
SELECT pg_temp.make_exam('soon', '1 hour', '2 hours', 1);
SELECT pg_temp.make_exam('closed', '-2 hours', '-1 hour', 1);
SELECT pg_temp.make_exam('draft', '-1 hour', '1 day', 1, FALSE);
SELECT pg_temp.make_exam('short', '-1 hour', '10 minutes', 1);
SELECT pg_temp.make_exam('once', '-1 hour', '1 day', 1);
SELECT pg_temp.make_exam('grace', '-1 hour', '1 day', 4);
SELECT pg_temp.make_exam('readonly', '-1 hour', '1 day', 1);
SELECT pg_temp.make_exam(
    'shuffled', '-1 hour', '1 day', 1, TRUE, TRUE,
    (
        SELECT jsonb_agg(jsonb_build_object(
            'kind', 'single_choice', 'prompt', 'Question ' || n,
            'options', '["a", "b", "c", "d", "e", "f"]'::jsonb, 'correct', 'a'
        ))
        FROM generate_series(1, 8) AS n
    )
);
SELECT tests.unbecome();

-- The questions of the main exam, by kind; the windows' messages.
SELECT pg_temp.keep('q_' || q.kind, q.id::text)
FROM app.questions AS q WHERE q.exam_id = pg_temp.id('main');
SELECT pg_temp.keep('q_other', q.id::text)
FROM app.questions AS q WHERE q.exam_id = pg_temp.id('once') AND q.position = 1;
SELECT pg_temp.keep('opens_msg', 'the exam is not open yet: it opens at ' || e.opens_at)
FROM app.exams AS e WHERE e.id = pg_temp.id('soon');
SELECT pg_temp.keep('closed_msg', 'the exam is closed: it closed at ' || e.closes_at)
FROM app.exams AS e WHERE e.id = pg_temp.id('closed');

-- ---------------------------------------------------------------------------
-- Start and resume
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b01');
SELECT pg_temp.keep('start1', api.create_exam_attempt(pg_temp.id('main'))::text);
SELECT pg_temp.keep('a1', pg_temp.val('start1')::jsonb ->> 'attempt_id');

SELECT is(
    pg_temp.val('start1')::jsonb ->> 'status', 'in_progress',
    'start: a new attempt is in_progress'
);
SELECT is(
    (pg_temp.val('start1')::jsonb -> 'resumed')::boolean, FALSE,
    'start: a new attempt is not resumed (HTTP 201)'
);
SELECT is(
    (SELECT array_agg(q ->> 'position' ORDER BY (q ->> 'position')::int)
     FROM jsonb_array_elements(pg_temp.val('start1')::jsonb -> 'questions') AS q),
    ARRAY['1', '2', '3', '4', '5'],
    'start: the five questions, positions 1 to 5'
);
SELECT is(
    (SELECT array_agg(DISTINCT k ORDER BY k)
     FROM jsonb_array_elements(pg_temp.val('start1')::jsonb -> 'questions') AS q,
         jsonb_object_keys(q) AS k),
    ARRAY['answer', 'id', 'kind', 'options', 'points', 'position', 'prompt'],
    'start: questions carry id, position, kind, prompt, options, points, answer: no key'
);
SELECT ok(
    pg_temp.val('start1') !~ '"(correct|tolerance|scored_against)"',
    'start: the answer never mentions correct, tolerance or the snapshot'
);
SELECT is(
    (pg_temp.val('start1')::jsonb ->> 'deadline')::timestamptz
    - (pg_temp.val('start1')::jsonb ->> 'started_at')::timestamptz,
    interval '30 minutes',
    'start: deadline = started_at + duration'
);

SELECT pg_temp.keep('resume1', api.create_exam_attempt(pg_temp.id('main'))::text);
SELECT is(
    pg_temp.val('resume1')::jsonb ->> 'attempt_id', pg_temp.val('a1'),
    'resume: starting again returns the attempt in progress'
);
SELECT is(
    (pg_temp.val('resume1')::jsonb -> 'resumed')::boolean, TRUE,
    'resume: resumed is true (HTTP 200)'
);
SELECT is(
    pg_temp.val('resume1')::jsonb -> 'questions', pg_temp.val('start1')::jsonb -> 'questions',
    'resume: the same questions in the same order'
);
SELECT is(
    (SELECT count(*)::int FROM app.exam_attempts WHERE exam_id = pg_temp.id('main')),
    1,
    'resume: no second attempt was made'
);

-- Shuffled: an order of its own, kept on resume.
SELECT pg_temp.keep('shuf1', api.create_exam_attempt(pg_temp.id('shuffled'))::text);
SELECT pg_temp.keep('shuf2', api.create_exam_attempt(pg_temp.id('shuffled'))::text);
SELECT pg_temp.keep('shuf1_attempt', pg_temp.val('shuf1')::jsonb ->> 'attempt_id');
SELECT is(
    pg_temp.val('shuf2')::jsonb -> 'questions', pg_temp.val('shuf1')::jsonb -> 'questions',
    'shuffle: question and option order are stable on resume'
);
SELECT tests.unbecome();
SELECT set_eq(
    $$SELECT jsonb_array_elements_text(question_order) FROM app.exam_attempts
      WHERE exam_id = pg_temp.id('shuffled')$$,
    $$SELECT id::text FROM app.questions WHERE exam_id = pg_temp.id('shuffled')$$,
    'shuffle: question_order is a permutation of the exam''s questions'
);
SELECT is(
    (SELECT array_agg(q ->> 'id' ORDER BY (q ->> 'position')::int)
     FROM jsonb_array_elements(pg_temp.val('shuf1')::jsonb -> 'questions') AS q),
    (SELECT array_agg(x ORDER BY o) FROM app.exam_attempts AS a,
         jsonb_array_elements_text(a.question_order) WITH ORDINALITY AS t (x, o)
     WHERE a.exam_id = pg_temp.id('shuffled')),
    'shuffle: the student sees the questions in the stored question_order'
);
SELECT ok(
    (SELECT bool_and(
        (SELECT array_agg(o ORDER BY o) FROM jsonb_array_elements_text(q -> 'options') AS o)
        = ARRAY['a', 'b', 'c', 'd', 'e', 'f']
     ) FROM jsonb_array_elements(pg_temp.val('shuf1')::jsonb -> 'questions') AS q),
    'shuffle: every question keeps all its options'
);

-- ---------------------------------------------------------------------------
-- Refusals at start
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b01');
SELECT throws_ok(
    $$SELECT api.create_exam_attempt(pg_temp.id('soon'))$$,
    'VT409', pg_temp.val('opens_msg'),
    'start before opens_at: 409 saying it is not open yet'
);
SELECT throws_ok(
    $$SELECT api.create_exam_attempt(pg_temp.id('closed'))$$,
    'VT409', pg_temp.val('closed_msg'),
    'start after closes_at: 409 saying it is closed'
);
SELECT throws_ok(
    $$SELECT api.create_exam_attempt(pg_temp.id('draft'))$$,
    'VT409', 'the exam is not published',
    'start of an unpublished exam: 409 saying so'
);
SELECT throws_ok(
    $$SELECT api.create_exam_attempt('00000000-0000-4000-8000-0000000310ff')$$,
    'VT404', 'exam not found',
    'start of an unknown exam: 404'
);
SELECT is(
    (SELECT (api.create_exam_attempt(pg_temp.id('short')) ->> 'deadline')::timestamptz),
    (SELECT closes_at FROM app.exams WHERE id = pg_temp.id('short')),
    'start: the deadline is capped by closes_at'
);

SELECT pg_temp.keep('once1', api.create_exam_attempt(pg_temp.id('once')) ->> 'attempt_id');
SELECT lives_ok(
    $$SELECT api.complete_exam_attempt(pg_temp.id('once1'))$$,
    'submit with no answer at all'
);
SELECT throws_ok(
    $$SELECT api.create_exam_attempt(pg_temp.id('once'))$$,
    'VT409', 'all attempts are used: 1 of 1',
    'start with every attempt used: 409 saying so'
);

-- ---------------------------------------------------------------------------
-- Autosave
-- ---------------------------------------------------------------------------

SELECT ok(
    (api.save_answer(pg_temp.id('a1'), pg_temp.id('q_single_choice'), '"3"') ->> 'saved_at')
    IS NOT NULL,
    'save: an answer is saved, with saved_at'
);
SELECT lives_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_single_choice'), '"4"')$$,
    'save: the same question again'
);
SELECT is(
    (SELECT answer FROM app.attempt_answers
     WHERE attempt_id = pg_temp.id('a1') AND question_id = pg_temp.id('q_single_choice')),
    '"4"'::jsonb,
    'save: the last write wins'
);
SELECT lives_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_true_false'), 'true')$$,
    'save: a true_false answer'
);
SELECT lives_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_true_false'), 'null')$$,
    'save: null clears an answer'
);
SELECT is(
    (SELECT count(*)::int FROM app.attempt_answers
     WHERE attempt_id = pg_temp.id('a1') AND question_id = pg_temp.id('q_true_false')),
    0,
    'save: the cleared answer is gone'
);
SELECT is(
    (SELECT q -> 'answer' FROM jsonb_array_elements(
        api.create_exam_attempt(pg_temp.id('main')) -> 'questions') AS q
     WHERE q ->> 'id' = pg_temp.val('q_single_choice')),
    '"4"'::jsonb,
    'resume: shows the answer saved so far'
);

SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_single_choice'), '"42"')$$,
    '22023',
    format('question %s: the answer must be one of the question''s options',
        pg_temp.val('q_single_choice')),
    'save single_choice: an answer that is not an option is 400'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_multiple_choice'), '"2"')$$,
    '22023',
    format('question %s: the answer must be a list of the question''s options',
        pg_temp.val('q_multiple_choice')),
    'save multiple_choice: an answer that is not a list is 400'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_multiple_choice'), '["2", "2"]')$$,
    '22023',
    format('question %s: an option is chosen at most once', pg_temp.val('q_multiple_choice')),
    'save multiple_choice: a repeated option is 400'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_true_false'), '"true"')$$,
    '22023',
    format('question %s: the answer must be true or false', pg_temp.val('q_true_false')),
    'save true_false: a string is 400'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_numeric'), '"3.14"')$$,
    '22023',
    format('question %s: the answer must be a number', pg_temp.val('q_numeric')),
    'save numeric: a string is 400'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_short_text'), '42')$$,
    '22023',
    format('question %s: the answer must be a string', pg_temp.val('q_short_text')),
    'save short_text: a number is 400'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_other'), '"4"')$$,
    'VT404',
    format('question %s is not part of this attempt', pg_temp.val('q_other')),
    'save: a question of another exam is 404'
);
SELECT tests.unbecome();

-- Another student sees nothing of Alice's attempt.
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_single_choice'), '"5"')$$,
    'VT404', 'attempt not found',
    'another student saving into Alice''s attempt: 404'
);
SELECT throws_ok(
    $$SELECT api.complete_exam_attempt(pg_temp.id('a1'))$$,
    'VT404', 'attempt not found',
    'another student submitting Alice''s attempt: 404'
);
SELECT throws_ok(
    $$SELECT api.abandon_exam_attempt(pg_temp.id('a1'))$$,
    'VT404', 'attempt not found',
    'another student abandoning Alice''s attempt: 404'
);
SELECT is(
    jsonb_array_length(api.get_student_dashboard_data() -> 'recent_attempts'), 0,
    'another student''s dashboard shows none of Alice''s attempts'
);
SELECT is(
    (SELECT count(*)::int FROM app.exam_attempts WHERE id = pg_temp.id('a1')),
    0,
    'another student cannot select Alice''s attempt'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Submit
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b01');
-- Saved: single_choice "4" (2 points). Final: 2 of 3 primes and a wrong one
-- (partial credit 1), true_false right (1), numeric within tolerance (1),
-- short_text in another case (1). 6 of 8.
SELECT pg_temp.keep('submit1', api.complete_exam_attempt(
    pg_temp.id('a1'),
    jsonb_build_object(
        pg_temp.val('q_multiple_choice'), '["2", "3", "4"]'::jsonb,
        pg_temp.val('q_true_false'), 'false'::jsonb,
        pg_temp.val('q_numeric'), '3.145'::jsonb,
        pg_temp.val('q_short_text'), '"  paris "'::jsonb
    )
)::text);
SELECT is(
    pg_temp.val('submit1')::jsonb - 'submitted_at',
    jsonb_build_object(
        'attempt_id', pg_temp.val('a1'), 'status', 'submitted',
        'score', 6, 'max_score', 8, 'percentage', 75
    ),
    'submit: saves the final answers and grades the attempt (6 of 8)'
);
SELECT is(
    api.complete_exam_attempt(pg_temp.id('a1'), '{}'),
    pg_temp.val('submit1')::jsonb,
    'submit again: the same result, nothing changed'
);
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('a1'), pg_temp.id('q_single_choice'), '"5"')$$,
    'VT409', 'the attempt is not in progress: it is submitted',
    'save after submit: 409'
);
SELECT throws_ok(
    $$SELECT api.abandon_exam_attempt(pg_temp.id('a1'))$$,
    'VT409', 'the attempt is not in progress: it is submitted',
    'abandon after submit: 409'
);
SELECT is(
    (SELECT (r ->> 'score')::numeric FROM jsonb_array_elements(
        api.get_student_dashboard_data() -> 'recent_attempts') AS r
     WHERE r ->> 'attempt_id' = pg_temp.val('a1')),
    6::numeric,
    'dashboard: the submitted attempt with its score'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT array_agg(kind || ':' || status) FROM app.analysis_jobs
     WHERE attempt_id = pg_temp.id('a1')),
    ARRAY['analyse_attempt:queued'],
    'submit: one analysis job queued in the same transaction'
);
SELECT is(
    (SELECT jsonb_build_object('exams', exams_taken, 'attempts', attempts_count,
        'average', average_score, 'best', best_score)
     FROM app.performance_metrics WHERE student_id = '00000000-0000-4000-8000-000000031b01'),
    '{"exams": 2, "attempts": 2, "average": 37.5, "best": 75}'::jsonb,
    'submit: performance metrics up to date (75% here, 0% on the other exam)'
);
SELECT is(
    (SELECT jsonb_build_object('exams', exams_taken, 'average', average_score, 'best', best_score)
     FROM app.student_profiles WHERE user_id = '00000000-0000-4000-8000-000000031b01'),
    '{"exams": 2, "average": 37.5, "best": 75}'::jsonb,
    'submit: profile statistics agree with the metrics'
);
SELECT is(
    (SELECT jsonb_object_agg(question_id, points_awarded)
     FROM app.attempt_answers WHERE attempt_id = pg_temp.id('a1')),
    jsonb_build_object(
        pg_temp.val('q_single_choice'), 2, pg_temp.val('q_multiple_choice'), 1,
        pg_temp.val('q_true_false'), 1, pg_temp.val('q_numeric'), 1,
        pg_temp.val('q_short_text'), 1
    ),
    'submit: each answer carries the points it earned'
);

-- ---------------------------------------------------------------------------
-- Abandon
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b01');
SELECT pg_temp.keep('a2', api.create_exam_attempt(pg_temp.id('main')) ->> 'attempt_id');
SELECT is(
    api.create_exam_attempt(pg_temp.id('main')) ->> 'attempt_id', pg_temp.val('a2'),
    'a second attempt once the first is submitted (max_attempts 2)'
);
SELECT is(
    api.abandon_exam_attempt(pg_temp.id('a2')),
    jsonb_build_object('attempt_id', pg_temp.val('a2'), 'status', 'abandoned'),
    'abandon: {attempt_id, status: abandoned}'
);
SELECT is(
    api.abandon_exam_attempt(pg_temp.id('a2')),
    jsonb_build_object('attempt_id', pg_temp.val('a2'), 'status', 'abandoned'),
    'abandon again: the same answer, nothing changed'
);
SELECT throws_ok(
    $$SELECT api.complete_exam_attempt(pg_temp.id('a2'))$$,
    'VT409', 'the attempt is not in progress: it is abandoned',
    'submit after abandon: 409'
);
SELECT throws_ok(
    $$SELECT api.create_exam_attempt(pg_temp.id('main'))$$,
    'VT409', 'all attempts are used: 2 of 2',
    'an abandoned attempt counts against max_attempts'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT jsonb_build_object('score', score, 'jobs', (
        SELECT count(*) FROM app.analysis_jobs AS j WHERE j.attempt_id = a.id))
     FROM app.exam_attempts AS a WHERE a.id = pg_temp.id('a2')),
    '{"score": null, "jobs": 0}'::jsonb,
    'abandon: not graded, no analysis job'
);

-- ---------------------------------------------------------------------------
-- The grace period, and after it
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT pg_temp.keep('g1', api.create_exam_attempt(pg_temp.id('grace')) ->> 'attempt_id');
SELECT pg_temp.keep('g_single', q ->> 'id')
FROM jsonb_array_elements(api.create_exam_attempt(pg_temp.id('grace')) -> 'questions') AS q
WHERE q ->> 'kind' = 'single_choice';
SELECT tests.unbecome();
-- 30 s past the deadline: inside the 60 s of grace.
SELECT pg_temp.age_attempt(pg_temp.id('g1'), interval '30 minutes 30 seconds');
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT lives_ok(
    $$SELECT api.save_answer(pg_temp.id('g1'), pg_temp.id('g_single'), '"4"')$$,
    'save within the grace period is accepted'
);
SELECT is(
    api.complete_exam_attempt(pg_temp.id('g1')) - 'submitted_at' - 'attempt_id',
    '{"status": "submitted", "score": 2, "max_score": 8, "percentage": 25}'::jsonb,
    'submit within the grace period counts'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT finished_at FROM app.exam_attempts WHERE id = pg_temp.id('g1')),
    now(),
    'submitted within grace: finished when it arrived'
);

SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT pg_temp.keep('g2', api.create_exam_attempt(pg_temp.id('grace')) ->> 'attempt_id');
SELECT lives_ok(
    $$SELECT api.save_answer(pg_temp.id('g2'), pg_temp.id('g_single'), '"4"')$$,
    'save before the deadline'
);
SELECT tests.unbecome();
-- Two minutes past the deadline: grace is over.
SELECT pg_temp.age_attempt(pg_temp.id('g2'), interval '32 minutes');
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT throws_ok(
    $$SELECT api.save_answer(pg_temp.id('g2'), pg_temp.id('g_single'), '"5"')$$,
    'VT409', 'the deadline has passed: the attempt is expired and graded on its saved answers',
    'save after deadline + grace: 409'
);
SELECT throws_ok(
    $$SELECT api.complete_exam_attempt(pg_temp.id('g2'))$$,
    'VT409', 'the deadline has passed: the attempt is expired and graded on its saved answers',
    'submit after deadline + grace: 409'
);
SELECT throws_ok(
    $$SELECT api.abandon_exam_attempt(pg_temp.id('g2'))$$,
    'VT409', 'the deadline has passed: the attempt is expired and graded on its saved answers',
    'abandon after deadline + grace: 409'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Expiry: the sweep, run by the worker
-- ---------------------------------------------------------------------------

SET LOCAL ROLE worker;
SELECT cmp_ok(
    internal.expire_overdue_attempts(), '>=', 1,
    'the worker''s sweep closes the overdue attempt'
);
RESET ROLE;
SELECT is(
    (SELECT jsonb_build_object('status', status, 'score', score, 'max_score', max_score,
        'finished_at_is_deadline', finished_at = deadline)
     FROM app.exam_attempts WHERE id = pg_temp.id('g2')),
    '{"status": "expired", "score": 2, "max_score": 8, "finished_at_is_deadline": true}'::jsonb,
    'expired: graded on its saved answers, finished at its deadline'
);
SELECT is(
    (SELECT count(*)::int FROM app.analysis_jobs
     WHERE attempt_id = pg_temp.id('g2') AND kind = 'analyse_attempt' AND status = 'queued'),
    1,
    'expired: its analysis job is queued'
);
SELECT is(
    internal.expire_overdue_attempts(), 0,
    'a second sweep finds nothing left to close'
);
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT throws_ok(
    $$SELECT api.complete_exam_attempt(pg_temp.id('g2'))$$,
    'VT409', 'the deadline has passed: the attempt is expired and graded on its saved answers',
    'submit of an expired attempt: 409'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Expiry, lazily: a start or a read closes an overdue attempt first
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT pg_temp.keep('g3', api.create_exam_attempt(pg_temp.id('grace')) ->> 'attempt_id');
SELECT tests.unbecome();
SELECT pg_temp.age_attempt(pg_temp.id('g3'), interval '40 minutes');
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT pg_temp.keep('g4', api.create_exam_attempt(pg_temp.id('grace'))::text);
SELECT isnt(
    pg_temp.val('g4')::jsonb ->> 'attempt_id', pg_temp.val('g3'),
    'start after the attempt in progress ran out: a new attempt, not a resume'
);
SELECT is(
    (SELECT status::text FROM app.exam_attempts WHERE id = pg_temp.id('g3')),
    'expired',
    'start: the overdue attempt was expired first'
);
SELECT tests.unbecome();
SELECT pg_temp.age_attempt((pg_temp.val('g4')::jsonb ->> 'attempt_id')::uuid, interval '40 minutes');
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT is(
    (SELECT r ->> 'status' FROM jsonb_array_elements(
        api.get_student_dashboard_data() -> 'recent_attempts') AS r
     WHERE r ->> 'attempt_id' = pg_temp.val('g4')::jsonb ->> 'attempt_id'),
    'expired',
    'dashboard: an attempt past deadline + grace shows as expired'
);
SELECT is(
    (SELECT jsonb_build_object('status', status, 'finished_at_is_deadline', finished_at = deadline)
     FROM app.exam_attempts WHERE id = (pg_temp.val('g4')::jsonb ->> 'attempt_id')::uuid),
    '{"status": "expired", "finished_at_is_deadline": true}'::jsonb,
    'dashboard: reading it closed it (lazy expiry)'
);
SELECT is(
    (SELECT jsonb_build_object('exams', exams_taken, 'attempts', attempts_count, 'best', best_score)
     FROM app.performance_metrics WHERE student_id = '00000000-0000-4000-8000-000000031b02'),
    '{"exams": 1, "attempts": 4, "best": 25}'::jsonb,
    'expired attempts count in the metrics like submitted ones'
);
SELECT is(
    (api.get_student_exam_detail(pg_temp.id('grace')) -> 'grade' ->> 'percentage')::numeric,
    (SELECT best_score FROM app.performance_metrics
     WHERE student_id = '00000000-0000-4000-8000-000000031b02'),
    'the grade the student is shown agrees with performance_metrics'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- The state machine guard, whoever writes
-- ---------------------------------------------------------------------------

SELECT throws_ok(
    $$UPDATE app.exam_attempts SET status = 'in_progress', finished_at = NULL
      WHERE id = pg_temp.id('a1')$$,
    'VT409', 'the attempt is submitted: a finished attempt cannot change',
    'guard: submitted -> in_progress is refused'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET status = 'submitted' WHERE id = pg_temp.id('g2')$$,
    'VT409', 'the attempt is expired: a finished attempt cannot change',
    'guard: expired -> submitted is refused'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET status = 'submitted' WHERE id = pg_temp.id('a2')$$,
    'VT409', 'the attempt is abandoned: a finished attempt cannot change',
    'guard: abandoned -> submitted is refused'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET score = 8 WHERE id = pg_temp.id('a1')$$,
    'VT409', 'the attempt is submitted: a finished attempt cannot change',
    'guard: a finished attempt''s score is frozen'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET started_at = started_at + interval '1 minute'
      WHERE id = pg_temp.id('shuf1_attempt')$$,
    'VT409',
    'an attempt''s exam, student, number, start time and questions are fixed at its start',
    'guard: the start time never moves'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET scored_against = '[]' WHERE id = pg_temp.id('shuf1_attempt')$$,
    'VT409',
    'an attempt''s exam, student, number, start time and questions are fixed at its start',
    'guard: the snapshot never changes'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET deadline = now() - interval '1 minute'
      WHERE id = pg_temp.id('shuf1_attempt')$$,
    'VT409', 'a running attempt''s deadline cannot be moved before now',
    'guard: a running deadline is never moved before now'
);
SELECT lives_ok(
    $$UPDATE app.exam_attempts SET deadline = deadline + interval '5 minutes'
      WHERE id = pg_temp.id('shuf1_attempt')$$,
    'guard: a running deadline may be extended'
);

-- ---------------------------------------------------------------------------
-- The answer key, by every route a student has
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b01');
SELECT throws_ok(
    $$SELECT correct FROM app.questions$$, '42501', NULL,
    'a student cannot select questions.correct'
);
SELECT throws_ok(
    $$SELECT scored_against FROM app.exam_attempts$$, '42501', NULL,
    'a student cannot select the attempt''s snapshot'
);
SELECT throws_ok(
    $$SELECT * FROM app.exam_attempts$$, '42501', NULL,
    'a student cannot select every column of attempts'
);
SELECT throws_ok(
    $$UPDATE app.exam_attempts SET status = 'submitted' WHERE id = pg_temp.id('shuf1_attempt')$$,
    '42501', NULL,
    'a student cannot write an attempt''s status'
);
SELECT throws_ok(
    $$UPDATE app.attempt_answers SET points_awarded = 100$$, '42501', NULL,
    'a student cannot award points'
);
SELECT throws_ok(
    $$SELECT internal.close_attempts(ARRAY[pg_temp.id('shuf1_attempt')], 'submitted')$$,
    '42501', NULL,
    'a student cannot call the internal closing helper'
);
SELECT throws_ok(
    $$SELECT internal.store_answers(pg_temp.id('shuf1_attempt'), '[]', '{}', TRUE)$$,
    '42501', NULL,
    'a student cannot call the internal answer writer'
);
SELECT ok(
    api.get_student_dashboard_data()::text !~ '"(correct|tolerance|scored_against)"'
    AND api.get_available_exams_for_student()::text !~ '"(correct|tolerance|scored_against)"'
    AND api.get_student_exam_detail(pg_temp.id('main'))::text
    !~ '"(correct|tolerance|scored_against)"'
    AND api.create_exam_attempt(pg_temp.id('shuffled'))::text
    !~ '"(correct|tolerance|scored_against)"',
    'no student read (dashboard, exams, exam detail, start) carries the key'
);
SELECT is(
    internal.attempt_paper(pg_temp.id('g1')), '[]'::jsonb,
    'the paper of someone else''s attempt is empty'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Reads
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000031b01');
SELECT set_eq(
    $$SELECT e ->> 'title' FROM jsonb_array_elements(api.get_available_exams_for_student()) AS e
      WHERE e ->> 'title' LIKE 'Attempts %'$$,
    ARRAY[
        'Attempts main', 'Attempts soon', 'Attempts short', 'Attempts once', 'Attempts grace',
        'Attempts readonly', 'Attempts shuffled'
    ],
    'available exams: published, open now or later (not the closed one, not the draft)'
);
SELECT is(
    (SELECT (e ->> 'attempts_used')::int FROM jsonb_array_elements(
        api.get_available_exams_for_student()) AS e WHERE e ->> 'id' = pg_temp.val('main')),
    2,
    'available exams: attempts_used counts every attempt'
);
SELECT is(
    (SELECT array_agg(a ->> 'status' ORDER BY (a ->> 'attempt_number')::int)
     FROM jsonb_array_elements(api.get_student_exam_detail(pg_temp.id('main')) -> 'attempts') AS a),
    ARRAY['submitted', 'abandoned'],
    'exam detail: the student''s own attempts, in order'
);
SELECT is(
    api.get_student_exam_detail(pg_temp.id('main')) -> 'exam' -> 'attempts_left',
    '0'::jsonb,
    'exam detail: no attempt left'
);
SELECT throws_ok(
    $$SELECT api.get_student_exam_detail(pg_temp.id('draft'))$$,
    'VT404', 'exam not found',
    'exam detail of an unpublished exam never attempted: 404'
);
SELECT ok(
    (api.get_student_dashboard_data() -> 'profile') ?& ARRAY['integrity_score', 'lmi_score'],
    'dashboard: the profile carries integrity_score and lmi_score'
);
SELECT tests.unbecome();

-- Last: a read-only transaction (an HTTP GET) cannot close an overdue
-- attempt, but shows it as expired all the same.
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT pg_temp.keep('ro', api.create_exam_attempt(pg_temp.id('readonly')) ->> 'attempt_id');
SELECT tests.unbecome();
SELECT pg_temp.age_attempt(pg_temp.id('ro'), interval '40 minutes');
SET TRANSACTION READ ONLY;
SELECT tests.become('00000000-0000-4000-8000-000000031b02');
SELECT is(
    (SELECT r ->> 'status' FROM jsonb_array_elements(
        api.get_student_dashboard_data() -> 'recent_attempts') AS r
     WHERE r ->> 'attempt_id' = pg_temp.val('ro')),
    'expired',
    'read-only dashboard: an overdue attempt shows as expired'
);
SELECT tests.unbecome();

SELECT * FROM finish();
ROLLBACK;
