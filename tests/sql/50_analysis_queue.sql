-- 50 the analysis queue: a submit queues a job, the worker claims due jobs
-- oldest first (FOR UPDATE SKIP LOCKED), runs each in its own
-- subtransaction (the analyser, then the student's figures, then the
-- exams' figures), retries a failing job with a growing delay, parks it
-- after five failures, and running a job again changes nothing.
--
-- Two real workers at once cannot be staged in one transaction (no dblink):
-- the claim's SKIP LOCKED is checked in the function's text, and what it
-- promises (a job is claimed and finished in one transaction) is what the
-- tests below show one call at a time. now() is fixed for the whole
-- transaction: time passes for a job by moving its run_after back.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(56);

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------

-- The queue starts empty here: other suites leave jobs behind in the shared
-- test database (put back by the ROLLBACK at the end).
DELETE FROM app.analysis_jobs;

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000050a01', 'q-teacher@example.org', 'x', 'Teacher', 'teacher'),
('00000000-0000-4000-8000-000000050b01', 'q-sam@example.org', 'x', 'Sam', 'student'),
('00000000-0000-4000-8000-000000050b02', 'q-kim@example.org', 'x', 'Kim', 'student');
INSERT INTO app.student_profiles (user_id) VALUES
('00000000-0000-4000-8000-000000050b01'),
('00000000-0000-4000-8000-000000050b02');

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

-- The worker's call, as the worker role.
CREATE FUNCTION pg_temp.run(p_worker text, p_limit integer DEFAULT 20) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_ran integer;
BEGIN
    PERFORM set_config('role', 'worker', TRUE);
    v_ran := internal.process_analysis_jobs(p_worker, p_limit);
    PERFORM set_config('role', 'none', TRUE);
    RETURN v_ran;
END
$$;

-- Time passes for a job: it is due again.
CREATE FUNCTION pg_temp.make_due(p_job uuid) RETURNS void
LANGUAGE sql AS $$
    UPDATE app.analysis_jobs SET run_after = now() - interval '1 second' WHERE id = p_job;
$$;

-- A job, inserted as the queue would (status queued).
CREATE FUNCTION pg_temp.job(p_key text, p_attempt uuid, p_run_after interval, p_kind text DEFAULT 'analyse_attempt')
RETURNS void
LANGUAGE sql AS $$
    WITH j AS (
        INSERT INTO app.analysis_jobs (attempt_id, kind, run_after, created_at)
        VALUES (p_attempt, p_kind, now() + p_run_after, now() + p_run_after)
        RETURNING id
    )
    SELECT pg_temp.keep(p_key, j.id::text) FROM j;
$$;

CREATE FUNCTION pg_temp.job_state(p_key text)
RETURNS TABLE (status text, attempts integer, run_after_in interval, last_error text, locked_by text)
LANGUAGE sql STABLE AS $$
    SELECT j.status::text, j.attempts, j.run_after - now(), j.last_error, j.locked_by
    FROM app.analysis_jobs AS j WHERE j.id = pg_temp.id(p_key)
$$;

-- ---------------------------------------------------------------------------
-- A submit queues a job; the worker runs it.
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000050a01');
SELECT pg_temp.keep('live_exam', api.create_exam(
    title => 'Queue live', description => NULL, duration_minutes => 30,
    opens_at => now() - interval '1 hour', closes_at => now() + interval '1 day',
    max_attempts => 1,
    questions => '[{"kind": "true_false", "prompt": "Water is wet.", "correct": true, "points": 2}]'
) ->> 'id');
SELECT tests.become('00000000-0000-4000-8000-000000050b02');
SELECT pg_temp.keep('live', api.create_exam_attempt(pg_temp.id('live_exam')) ->> 'attempt_id');
SELECT pg_temp.keep('live_q', q.id::text) FROM app.questions AS q WHERE q.exam_id = pg_temp.id('live_exam');
SELECT api.complete_exam_attempt(
    pg_temp.id('live'), jsonb_build_object(pg_temp.val('live_q'), TRUE)
);
SELECT tests.unbecome();

SELECT results_eq(
    $$ SELECT kind, status::text, attempts FROM app.analysis_jobs WHERE attempt_id = pg_temp.id('live') $$,
    $$ VALUES ('analyse_attempt', 'queued', 0) $$,
    'a submit queues one analyse_attempt job'
);
SELECT is(pg_temp.run('w0'), 1, 'the worker runs the one due job');
SELECT results_eq(
    $$ SELECT status::text, attempts, locked_by, last_error FROM app.analysis_jobs
       WHERE attempt_id = pg_temp.id('live') $$,
    $$ VALUES ('done', 1, 'w0', NULL::text) $$,
    'the job is done, by worker w0, at its first try'
);
SELECT results_eq(
    $$ SELECT source::text, integrity_score, lmi_score, is_flagged FROM app.behavior_analyses
       WHERE attempt_id = pg_temp.id('live') $$,
    $$ VALUES ('builtin', 100::numeric, 0::numeric, FALSE) $$,
    'the built-in analysis is stored (no event, no anomaly)'
);
SELECT results_eq(
    $$ SELECT integrity_score, lmi_score, exams_taken, average_score, flags_count
       FROM app.student_profiles WHERE user_id = '00000000-0000-4000-8000-000000050b02' $$,
    $$ VALUES (100::numeric, 0::numeric, 1, 100::numeric, 0) $$,
    'the student''s profile shows the analysis and the score'
);
SELECT results_eq(
    $$ SELECT average_integrity, flags_count, attempts_count FROM app.performance_metrics
       WHERE student_id = '00000000-0000-4000-8000-000000050b02' $$,
    $$ VALUES (100::numeric, 0, 1) $$,
    'the student''s performance metrics carry the integrity'
);
SELECT results_eq(
    $$ SELECT attempts, submitted, average_score, flagged FROM app.exam_metrics
       WHERE exam_id = pg_temp.id('live_exam') $$,
    $$ VALUES (1, 1, 2::numeric, 0) $$,
    'the exam''s metrics: one attempt, submitted, 2 points on average, none flagged'
);
SELECT is(pg_temp.run('w0'), 0, 'a done job is not run again');

-- ---------------------------------------------------------------------------
-- Fixtures for the queue itself: Sam's attempts of one minute (no
-- unobserved time without events), graded, finished an hour apart.
-- ---------------------------------------------------------------------------

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, max_attempts)
VALUES (
    '00000000-0000-4000-8000-000000050e01', 'Queue', '00000000-0000-4000-8000-000000050a01',
    30, '2026-01-05 09:00:00+00', '2026-01-05 18:00:00+00', 10
);

-- Attempt n (1-9) started at 10:00 + (n - 1) hours, one minute long.
CREATE FUNCTION pg_temp.attempt(p_n integer, p_score numeric, p_status app.attempt_status DEFAULT 'submitted')
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO app.exam_attempts (
        id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
        score, max_score, question_order, scored_against
    ) VALUES (
        ('00000000-0000-4000-8000-00000005000' || p_n)::uuid,
        '00000000-0000-4000-8000-000000050e01', '00000000-0000-4000-8000-000000050b01', p_n,
        p_status,
        '2026-01-05 10:00:00+00'::timestamptz + make_interval(hours => p_n - 1),
        '2026-01-05 10:01:00+00'::timestamptz + make_interval(hours => p_n - 1),
        CASE WHEN p_status <> 'in_progress'
            THEN '2026-01-05 10:01:00+00'::timestamptz + make_interval(hours => p_n - 1) END,
        p_score, 2, '[]', '[]'
    );
    SELECT pg_temp.keep('x' || p_n, '00000000-0000-4000-8000-00000005000' || p_n);
$$;

SELECT pg_temp.attempt(1, 2);
SELECT pg_temp.attempt(2, 1);
SELECT pg_temp.attempt(3, 0);
SELECT pg_temp.attempt(4, 2);
SELECT pg_temp.attempt(7, NULL, 'in_progress');

-- Attempt 2: developer tools opened twice -> penalty 30, weight 0.7:
-- integrity 70, lmi 0.7, flagged.
-- tests.insert_event: as the recording functions store an event
SELECT NULL FROM (
    SELECT tests.insert_event(a.id, 'devtools_open', a.started_at + s * interval '1 second')
    FROM app.exam_attempts AS a, (VALUES (10), (20)) AS v (s)
    WHERE a.id = pg_temp.id('x2')
) AS stored;

-- ---------------------------------------------------------------------------
-- Claim order: oldest run_after first, never before it is due
-- ---------------------------------------------------------------------------

SELECT pg_temp.job('j1', pg_temp.id('x1'), '-3 minutes');
SELECT pg_temp.job('j2', pg_temp.id('x2'), '-2 minutes');
SELECT pg_temp.job('j3', pg_temp.id('x3'), '1 hour');

SELECT is(pg_temp.run('w1', 1), 1, 'with a limit of 1, one job runs');
SELECT is((SELECT status FROM pg_temp.job_state('j1')), 'done', '... the one due first');
SELECT is((SELECT status FROM pg_temp.job_state('j2')), 'queued', '... the next one waits');
SELECT results_eq(
    $$ SELECT average_integrity, flags_count FROM app.performance_metrics
       WHERE student_id = '00000000-0000-4000-8000-000000050b01' $$,
    $$ VALUES (100::numeric, 0) $$,
    'after the first job: Sam''s average integrity is that of attempt 1'
);

SELECT is(pg_temp.run('w2', 10), 1, 'the next call runs the other due job only');
SELECT results_eq(
    $$ SELECT status, attempts, locked_by FROM pg_temp.job_state('j2') $$,
    $$ VALUES ('done', 1, 'w2') $$,
    'job 2 done by worker w2'
);
SELECT results_eq(
    $$ SELECT status, attempts FROM pg_temp.job_state('j3') $$,
    $$ VALUES ('queued', 0) $$,
    'a job whose run_after is still ahead is not claimed'
);
SELECT is(pg_temp.run('w2', 10), 0, 'nothing else is due');

SELECT results_eq(
    $$ SELECT integrity_score, lmi_score, is_flagged FROM app.behavior_analyses
       WHERE attempt_id = pg_temp.id('x2') $$,
    $$ VALUES (70::numeric, 0.7, TRUE) $$,
    'attempt 2 is analysed: devtools twice, integrity 70, lmi 0.7, flagged'
);
SELECT results_eq(
    $$ SELECT average_integrity, flags_count FROM app.performance_metrics
       WHERE student_id = '00000000-0000-4000-8000-000000050b01' $$,
    $$ VALUES (85::numeric, 1) $$,
    'Sam''s metrics: average integrity (100 + 70) / 2 = 85, one flagged attempt'
);
SELECT results_eq(
    $$ SELECT integrity_score, lmi_score, flags_count FROM app.student_profiles
       WHERE user_id = '00000000-0000-4000-8000-000000050b01' $$,
    $$ VALUES (70::numeric, 0.7, 1) $$,
    'Sam''s profile: the latest analysed attempt''s integrity and lmi'
);
SELECT results_eq(
    $$ SELECT attempts, submitted, average_score, flagged FROM app.exam_metrics
       WHERE exam_id = '00000000-0000-4000-8000-000000050e01' $$,
    $$ VALUES (5, 4, 1.25, 1) $$,
    'exam metrics: 5 attempts, 4 graded, (2 + 1 + 0 + 2) / 4 = 1.25 points, 1 flagged'
);

-- ---------------------------------------------------------------------------
-- Retries with backoff, then parking
-- ---------------------------------------------------------------------------

SELECT pg_temp.job('bad', pg_temp.id('x1'), '-1 minute', 'bogus_kind');

SELECT is(pg_temp.run('w1'), 1, 'a failing job is run (and counted)');
SELECT results_eq(
    $$ SELECT status, attempts, run_after_in, last_error FROM pg_temp.job_state('bad') $$,
    $$ VALUES ('failed', 1, interval '10 seconds', '22023: unknown job kind ''bogus_kind''') $$,
    'first failure: failed, 1 try, retried in 5 * 2^1 = 10 s, the error kept'
);
SELECT is(pg_temp.run('w1'), 0, 'a failed job is not retried before its run_after');

SELECT pg_temp.make_due(pg_temp.id('bad'));
SELECT is(pg_temp.run('w1'), 1, 'once due, the failed job is retried');
SELECT results_eq(
    $$ SELECT status, attempts, run_after_in FROM pg_temp.job_state('bad') $$,
    $$ VALUES ('failed', 2, interval '20 seconds') $$,
    'second failure: retried in 20 s'
);
SELECT pg_temp.make_due(pg_temp.id('bad'));
SELECT pg_temp.run('w1');
SELECT results_eq(
    $$ SELECT status, attempts, run_after_in FROM pg_temp.job_state('bad') $$,
    $$ VALUES ('failed', 3, interval '40 seconds') $$,
    'third failure: retried in 40 s'
);
SELECT pg_temp.make_due(pg_temp.id('bad'));
SELECT pg_temp.run('w1');
SELECT results_eq(
    $$ SELECT status, attempts, run_after_in FROM pg_temp.job_state('bad') $$,
    $$ VALUES ('failed', 4, interval '80 seconds') $$,
    'fourth failure: retried in 80 s'
);
SELECT pg_temp.make_due(pg_temp.id('bad'));
SELECT is(pg_temp.run('w1'), 1, 'the fifth try runs');
SELECT results_eq(
    $$ SELECT status, attempts, run_after_in, last_error FROM pg_temp.job_state('bad') $$,
    $$ VALUES ('parked', 5, interval '-1 second', '22023: unknown job kind ''bogus_kind''') $$,
    'fifth failure: parked, its run_after left as it was'
);
SELECT is(pg_temp.run('w1'), 0, 'a parked job is never claimed, even when due');

-- An admin requeues it (sql/policies/analysis.sql lets them).
SELECT tests.become(tests.create_user('admin'));
UPDATE app.analysis_jobs SET status = 'queued', attempts = 0 WHERE id = pg_temp.id('bad');
SELECT tests.unbecome();
SELECT is((SELECT status FROM pg_temp.job_state('bad')), 'queued', 'an admin can requeue a parked job');
DELETE FROM app.analysis_jobs WHERE id = pg_temp.id('bad');

-- ---------------------------------------------------------------------------
-- One failure does not spoil the batch
-- ---------------------------------------------------------------------------

SELECT pg_temp.job('j7', pg_temp.id('x7'), '-30 seconds');
SELECT pg_temp.job('j4', pg_temp.id('x4'), '-20 seconds');

SELECT is(pg_temp.run('w3'), 2, 'a batch of two: both run');
SELECT results_eq(
    $$ SELECT status, attempts, last_error FROM pg_temp.job_state('j7') $$,
    $$ VALUES ('failed', 1,
        'VT409: the attempt is in_progress: only a submitted or expired attempt is analysed') $$,
    'the job of an attempt in progress fails with the analyser''s error'
);
SELECT results_eq(
    $$ SELECT status, attempts, last_error FROM pg_temp.job_state('j4') $$,
    $$ VALUES ('done', 1, NULL::text) $$,
    'the other job of the batch is done'
);
SELECT is(
    (SELECT count(*)::int FROM app.behavior_analyses WHERE attempt_id = pg_temp.id('x4')),
    1,
    '... and its analysis kept'
);
SELECT is(
    (SELECT count(*)::int FROM app.behavior_analyses WHERE attempt_id = pg_temp.id('x7')),
    0,
    'the failed job left nothing behind (its subtransaction rolled back)'
);

-- ---------------------------------------------------------------------------
-- Running a job again changes nothing
-- ---------------------------------------------------------------------------

SELECT pg_temp.keep('metrics_before', (
    SELECT to_jsonb(m) - 'updated_at' FROM app.performance_metrics AS m
    WHERE m.student_id = '00000000-0000-4000-8000-000000050b01'
)::text);
SELECT pg_temp.keep('exam_before', (
    SELECT to_jsonb(m) - 'updated_at' FROM app.exam_metrics AS m
    WHERE m.exam_id = '00000000-0000-4000-8000-000000050e01'
)::text);
UPDATE app.analysis_jobs SET status = 'queued', run_after = now() - interval '1 second'
WHERE id IN (pg_temp.id('j1'), pg_temp.id('j2'));

SELECT is(pg_temp.run('w4'), 2, 'two done jobs, queued again, run again');
SELECT is(
    (SELECT count(*)::int FROM app.behavior_analyses WHERE attempt_id IN (pg_temp.id('x1'), pg_temp.id('x2'))),
    2,
    'no second analysis of the same attempts (the analyser is idempotent)'
);
SELECT is(
    (SELECT to_jsonb(m) - 'updated_at' FROM app.performance_metrics AS m
     WHERE m.student_id = '00000000-0000-4000-8000-000000050b01'),
    pg_temp.val('metrics_before')::jsonb,
    'the student''s metrics are the same'
);
SELECT is(
    (SELECT to_jsonb(m) - 'updated_at' FROM app.exam_metrics AS m
     WHERE m.exam_id = '00000000-0000-4000-8000-000000050e01'),
    pg_temp.val('exam_before')::jsonb,
    'the exam''s metrics are the same'
);
SELECT is(
    (SELECT sum(attempts)::int FROM app.analysis_jobs WHERE id IN (pg_temp.id('j1'), pg_temp.id('j2'))),
    4,
    'each run counts as a try'
);

-- The limit is honoured, and 0 claims nothing.
SELECT pg_temp.make_due(pg_temp.id('j3'));
SELECT is(pg_temp.run('w5', 0), 0, 'a limit of 0 claims nothing');
SELECT is((SELECT status FROM pg_temp.job_state('j3')), 'queued', '... and leaves the job queued');

-- ---------------------------------------------------------------------------
-- The claim, and who may run the queue
-- ---------------------------------------------------------------------------

SELECT matches(
    pg_get_functiondef('internal.process_analysis_jobs(text, integer)'::regprocedure),
    'FOR UPDATE SKIP LOCKED',
    'jobs are claimed FOR UPDATE SKIP LOCKED (a job held by another worker is skipped)'
);
SELECT matches(
    pg_get_functiondef('internal.process_analysis_jobs(text, integer)'::regprocedure),
    'EXCEPTION WHEN OTHERS',
    'each job runs in its own subtransaction'
);
SELECT is_definer('internal', 'process_analysis_jobs', ARRAY['text', 'integer'],
    'the queue is SECURITY DEFINER (the worker holds no table privilege)');
SELECT function_privs_are(
    'internal', 'process_analysis_jobs', ARRAY['text', 'integer'], 'worker', ARRAY['EXECUTE'],
    'the worker may run the queue'
);
SELECT function_privs_are(
    'internal', 'process_analysis_jobs', ARRAY['text', 'integer'], 'admin', ARRAY[]::text[],
    'an admin may not run the queue'
);
SELECT function_privs_are(
    'internal', 'process_analysis_jobs', ARRAY['text', 'integer'], 'integration', ARRAY[]::text[],
    'an integration account may not run the queue'
);
SELECT tests.become('00000000-0000-4000-8000-000000050b01');
SELECT throws_ok(
    $$ SELECT internal.process_analysis_jobs('student', 10) $$,
    '42501', NULL,
    'a student calling the queue gets 42501'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT has_table_privilege('worker', 'app.analysis_jobs', 'SELECT, INSERT, UPDATE, DELETE')),
    FALSE,
    'the worker role holds no privilege on the job table itself'
);

-- ---------------------------------------------------------------------------
-- Purging finished jobs
-- ---------------------------------------------------------------------------

-- j1 done 8 days ago, j2 done an hour ago, j3 still queued long ago.
ALTER TABLE app.analysis_jobs DISABLE TRIGGER USER;
UPDATE app.analysis_jobs SET status = 'done', updated_at = now() - interval '8 days'
WHERE id = pg_temp.id('j1');
UPDATE app.analysis_jobs SET status = 'done', updated_at = now() - interval '1 hour'
WHERE id = pg_temp.id('j2');
UPDATE app.analysis_jobs SET status = 'queued', updated_at = now() - interval '30 days'
WHERE id = pg_temp.id('j3');
ALTER TABLE app.analysis_jobs ENABLE TRIGGER USER;
SET LOCAL ROLE worker;
SELECT is(internal.purge_finished_jobs(), 1, 'the worker purges one finished job');
RESET ROLE;
SELECT is(
    (SELECT count(*)::int FROM app.analysis_jobs WHERE id = pg_temp.id('j1')), 0,
    'a job done more than 7 days ago is forgotten'
);
SELECT is(
    (SELECT status FROM pg_temp.job_state('j2')), 'done',
    'a job done an hour ago stays'
);
SELECT is(
    (SELECT status FROM pg_temp.job_state('j3')), 'queued',
    'a queued job stays, however old'
);
SELECT function_privs_are(
    'internal', 'purge_finished_jobs', ARRAY[]::text[], 'admin', ARRAY[]::text[],
    'only the worker may purge the queue'
);

SELECT * FROM finish();
ROLLBACK;
