-- 61 analytics: the per-exam figures teachers read from the analytics
-- summary tables, checked against a hand-built exam (attempts, analyses and
-- events written as the superuser, then refreshed as the worker); what a
-- pass recomputes (only what changed) and how events are counted once; and
-- the analysts' pseudonymous views.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(44);

-- ---------------------------------------------------------------------------
-- Fixtures: Tess's exam E, worked by hand. Theo teaches elsewhere.
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000061a01', 'an-tess@example.org', 'x', 'Tess', 'teacher'),
('00000000-0000-4000-8000-000000061a02', 'an-theo@example.org', 'x', 'Theo', 'teacher'),
('00000000-0000-4000-8000-000000061d01', 'an-ada@example.org', 'x', 'Ada', 'admin'),
('00000000-0000-4000-8000-000000061b01', 'an-anna@example.org', 'x', 'Anna', 'student'),
('00000000-0000-4000-8000-000000061b02', 'an-ben@example.org', 'x', 'Ben', 'student'),
('00000000-0000-4000-8000-000000061b03', 'an-cleo@example.org', 'x', 'Cleo', 'student'),
('00000000-0000-4000-8000-000000061b04', 'an-dan@example.org', 'x', 'Dan', 'student');
INSERT INTO app.student_profiles (user_id, pseudonym) VALUES
('00000000-0000-4000-8000-000000061b01', '00000000-0000-4000-8000-000000061f01'),
('00000000-0000-4000-8000-000000061b02', '00000000-0000-4000-8000-000000061f02'),
('00000000-0000-4000-8000-000000061b03', '00000000-0000-4000-8000-000000061f03'),
('00000000-0000-4000-8000-000000061b04', '00000000-0000-4000-8000-000000061f04');

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, max_attempts) VALUES
('00000000-0000-4000-8000-000000061e01', 'Analytics E', '00000000-0000-4000-8000-000000061a01', 30,
 now() - interval '1 day', now() + interval '1 day', 3),
('00000000-0000-4000-8000-000000061e03', 'Analytics empty', '00000000-0000-4000-8000-000000061a01', 30,
 now() - interval '1 day', now() + interval '1 day', 3);

-- Seven attempts by four students (all out of 10 points):
--   s1 Anna submitted 2   s2 Ben submitted 5   s3 Cleo expired 9
--   s4 Dan submitted 10   s5 Anna abandoned    s6 Ben in progress
--   s7 Cleo in progress, two hours past its deadline: counts as expired
-- graded: 2, 5, 9, 10 -> average 6.5, median 7; percent 20, 50, 90, 100 ->
-- average 65, median 70; histogram: one in 20-30, one in 50-60, two in 90-100.
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
)
SELECT
    x.id::uuid, '00000000-0000-4000-8000-000000061e01', x.student::uuid, x.n, x.status::app.attempt_status,
    now() - x.ago, now() - x.ago + interval '30 minutes',
    CASE WHEN x.status <> 'in_progress' THEN now() - x.ago + interval '20 minutes' END,
    x.score, CASE WHEN x.status <> 'in_progress' THEN 10 END, '[]', '[]'
FROM (VALUES
    ('00000000-0000-4000-8000-000000061001', '00000000-0000-4000-8000-000000061b01', 1, 'submitted', interval '5 hours', 2),
    ('00000000-0000-4000-8000-000000061002', '00000000-0000-4000-8000-000000061b02', 1, 'submitted', interval '5 hours', 5),
    ('00000000-0000-4000-8000-000000061003', '00000000-0000-4000-8000-000000061b03', 1, 'expired', interval '5 hours', 9),
    ('00000000-0000-4000-8000-000000061004', '00000000-0000-4000-8000-000000061b04', 1, 'submitted', interval '5 hours', 10),
    ('00000000-0000-4000-8000-000000061005', '00000000-0000-4000-8000-000000061b01', 2, 'abandoned', interval '4 hours', NULL),
    ('00000000-0000-4000-8000-000000061006', '00000000-0000-4000-8000-000000061b02', 2, 'in_progress', interval '5 minutes', NULL),
    ('00000000-0000-4000-8000-000000061007', '00000000-0000-4000-8000-000000061b03', 2, 'in_progress', interval '150 minutes', NULL)
) AS x (id, student, n, status, ago, score);

-- s1: flagged, then a newer clean analysis (the latest wins); s2 flagged;
-- s3 clean. analysed 3, flagged 1, average integrity (90 + 40 + 80) / 3 = 70.
INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, is_flagged, created_at) VALUES
('00000000-0000-4000-8000-000000061001', 'builtin', 'veritas-builtin-v1', 30, 0.8, TRUE, now() - interval '2 hours'),
('00000000-0000-4000-8000-000000061001', 'external', 'llm-x', 90, 0.1, FALSE, now() - interval '1 hour'),
('00000000-0000-4000-8000-000000061002', 'builtin', 'veritas-builtin-v1', 40, 0.7, TRUE, now() - interval '2 hours'),
('00000000-0000-4000-8000-000000061003', 'builtin', 'veritas-builtin-v1', 80, 0.2, FALSE, now() - interval '2 hours');

-- Events: s1 three tab_hidden and two heartbeats, s2 one paste.
-- tests.insert_event: as the recording functions store an event.
CREATE FUNCTION pg_temp.add_events(p_attempt_id uuid, p_type app.event_type, p_count integer)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tests.insert_event(a.id, p_type, a.started_at + k * interval '1 second')
    FROM app.exam_attempts AS a
    CROSS JOIN generate_series(1, p_count) AS k
    WHERE a.id = p_attempt_id;
END;
$$;
SELECT NULL FROM pg_temp.add_events('00000000-0000-4000-8000-000000061001', 'tab_hidden', 3);
SELECT NULL FROM pg_temp.add_events('00000000-0000-4000-8000-000000061001', 'heartbeat', 2);
SELECT NULL FROM pg_temp.add_events('00000000-0000-4000-8000-000000061002', 'paste', 1);

-- Every event type, with these counts (0 for the others).
CREATE FUNCTION pg_temp.events_by_type(p_counts jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_object_agg(t.event_type, coalesce((p_counts ->> t.event_type::text)::integer, 0))
    FROM unnest(enum_range(NULL::app.event_type)) AS t (event_type);
$$;

-- The worker's refresh.
SET LOCAL ROLE worker;
SELECT NULL FROM internal.refresh_analytics(TRUE);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The figures, as Tess reads them
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000061a01');
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01')
    - 'refreshed_at' - 'score_histogram' - 'integrity_histogram' - 'events_by_type',
    jsonb_build_object(
        'exam_id', '00000000-0000-4000-8000-000000061e01',
        'title', 'Analytics E',
        'attempts', 7, 'students', 4, 'in_progress', 1, 'submitted', 3, 'expired', 2,
        'abandoned', 1, 'graded', 4,
        'average_score', 6.50, 'median_score', 7.00,
        'average_percentage', 65.00, 'median_percentage', 70.00,
        'analysed', 3, 'flagged', 1, 'average_integrity', 70.00
    ),
    'E: 7 attempts by 4 students; 3 submitted, 2 expired (one past its deadline), 1 abandoned, 1 in progress; average 6.5 and median 7 points (65 % and 70 %); 3 analysed, 1 flagged (the latest analysis counts), integrity 70'
);
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'score_histogram',
    '[{"from": 0, "to": 10, "count": 0}, {"from": 10, "to": 20, "count": 0},
      {"from": 20, "to": 30, "count": 1}, {"from": 30, "to": 40, "count": 0},
      {"from": 40, "to": 50, "count": 0}, {"from": 50, "to": 60, "count": 1},
      {"from": 60, "to": 70, "count": 0}, {"from": 70, "to": 80, "count": 0},
      {"from": 80, "to": 90, "count": 0}, {"from": 90, "to": 100, "count": 2}]'::jsonb,
    'the histogram: tenths of percentage, 100 % in the last bucket'
);
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'events_by_type',
    pg_temp.events_by_type('{"tab_hidden": 3, "heartbeat": 2, "paste": 1}'),
    'events_by_type: every type, 3 tab_hidden, 2 heartbeats, 1 paste, 0 for the others'
);
SELECT ok(
    (api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') ->> 'refreshed_at')::timestamptz
    >= now(),
    'refreshed_at: the refresh began after every row above was written'
);
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e03')
    - 'refreshed_at' - 'score_histogram' - 'integrity_histogram' - 'events_by_type' - 'title',
    jsonb_build_object(
        'exam_id', '00000000-0000-4000-8000-000000061e03',
        'attempts', 0, 'students', 0, 'in_progress', 0, 'submitted', 0, 'expired', 0,
        'abandoned', 0, 'graded', 0,
        'average_score', NULL, 'median_score', NULL,
        'average_percentage', NULL, 'median_percentage', NULL,
        'analysed', 0, 'flagged', 0, 'average_integrity', NULL
    ),
    'an exam without attempts: zeros, and no average or median'
);
SELECT is(
    (
        SELECT sum((b.value ->> 'count')::integer)::integer
        FROM jsonb_array_elements(
            api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e03') -> 'score_histogram'
        ) AS b (value)
    ),
    0, '... ten empty buckets'
);
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e03') -> 'events_by_type',
    pg_temp.events_by_type('{}'),
    '... and a zero for every event type'
);
SELECT set_eq(
    'SELECT exam_id FROM app.visible_exam_stats',
    ARRAY['00000000-0000-4000-8000-000000061e01'::uuid],
    'Tess''s view of the statistics: her exam with attempts, nobody else''s'
);

SELECT tests.become('00000000-0000-4000-8000-000000061a02');
SELECT throws_ok(
    $$ SELECT api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') $$,
    'VT404', 'exam not found', 'Theo gets 404 for the analytics of Tess''s exam'
);
SELECT is_empty(
    $$ SELECT 1 FROM app.visible_exam_event_counts WHERE exam_id = '00000000-0000-4000-8000-000000061e01' $$,
    '... and sees none of its event counts'
);

SELECT tests.become('00000000-0000-4000-8000-000000061d01');
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'median_score',
    '7.00'::jsonb, 'an admin reads the same figures'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- The refresh: only what changed since the last pass is recomputed
-- ---------------------------------------------------------------------------

SELECT set_eq(
    'SELECT view_name FROM app.analytics_refreshes',
    ARRAY['exam_stats', 'flagged_attempts', 'exam_event_counts'],
    'each summary table''s pass is recorded'
);
SELECT tests.become('00000000-0000-4000-8000-000000061a01');
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'integrity_histogram',
    '[{"from": 0, "to": 10, "count": 0}, {"from": 10, "to": 20, "count": 0},
      {"from": 20, "to": 30, "count": 0}, {"from": 30, "to": 40, "count": 0},
      {"from": 40, "to": 50, "count": 1}, {"from": 50, "to": 60, "count": 0},
      {"from": 60, "to": 70, "count": 0}, {"from": 70, "to": 80, "count": 0},
      {"from": 80, "to": 90, "count": 1}, {"from": 90, "to": 100, "count": 1}]'::jsonb,
    'integrity_histogram: every analysed attempt by its latest analysis (90, 40, 80), flagged or not'
);
SELECT tests.unbecome();

-- A second exam of Tess's, F, with one submitted attempt; a forced pass
-- computes both.
INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at) VALUES
('00000000-0000-4000-8000-000000061e02', 'Analytics F', '00000000-0000-4000-8000-000000061a01', 30,
 now() - interval '1 day', now() + interval '1 day');
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
) VALUES (
    '00000000-0000-4000-8000-000000061f09', '00000000-0000-4000-8000-000000061e02',
    '00000000-0000-4000-8000-000000061b04', 1, 'submitted', now() - interval '3 hours',
    now() - interval '150 minutes', now() - interval '160 minutes', 4, 10, '[]', '[]'
);
CREATE TEMPORARY TABLE refreshed ON COMMIT DROP AS SELECT internal.refresh_analytics(TRUE) AS up_to;
SELECT is(
    (SELECT up_to FROM refreshed),
    (SELECT min(up_to_date_at) FROM app.analytics_refreshes),
    'refresh_analytics answers the time up to which all the tables are complete'
);
CREATE TEMPORARY TABLE before_pass ON COMMIT DROP AS
SELECT exam_id, computed_at, computations FROM app.exam_stats;

-- Every row so far was written at now(), the transaction's start: make the
-- last pass begin after it, so that the next pass sees only what comes
-- next. Then Ben's flagged attempt gets a newer, clean analysis (its
-- created_at is the clock's: after that pass).
UPDATE app.analytics_refreshes SET refreshed_at = clock_timestamp() + interval '1 minute';
INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, is_flagged) VALUES
('00000000-0000-4000-8000-000000061002', 'external', 'llm-x', 95, 0.05, FALSE);
SET LOCAL ROLE worker;
SELECT NULL FROM internal.refresh_analytics();
RESET ROLE;

SELECT is(
    (SELECT s.computations - b.computations FROM app.exam_stats AS s JOIN before_pass AS b USING (exam_id)
     WHERE s.exam_id = '00000000-0000-4000-8000-000000061e01'),
    1::bigint,
    'a new analysis: the next pass recomputes its exam'
);
SELECT is(
    (SELECT s.computed_at = b.computed_at AND s.computations = b.computations
     FROM app.exam_stats AS s JOIN before_pass AS b USING (exam_id)
     WHERE s.exam_id = '00000000-0000-4000-8000-000000061e02'),
    TRUE,
    '... and leaves the exam nobody touched alone (same computed_at, same count)'
);
SELECT tests.become('00000000-0000-4000-8000-000000061a01');
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'flagged',
    '0'::jsonb, '... whose figures follow: Ben''s attempt is no longer flagged'
);
SELECT is(
    (api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e02') - 'refreshed_at' - 'title'
     - 'score_histogram' - 'integrity_histogram' - 'events_by_type') ->> 'average_score',
    '4.00', 'F''s figures, computed by the forced pass, are still there'
);
SELECT is_empty(
    $$ SELECT 1 FROM app.visible_flagged_attempts WHERE attempt_id = '00000000-0000-4000-8000-000000061002' $$,
    '... and its alert is gone from the flagged attempts'
);
SELECT tests.unbecome();

-- Events: a new one for Ben's attempt in progress. An exam with an attempt
-- in progress is recounted at every pass (events are not probed
-- themselves).
SELECT NULL FROM pg_temp.add_events('00000000-0000-4000-8000-000000061006', 'paste', 1);
SET LOCAL ROLE worker;
SELECT NULL FROM internal.refresh_analytics();
RESET ROLE;
SELECT tests.become('00000000-0000-4000-8000-000000061a01');
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'events_by_type' -> 'paste',
    '2'::jsonb, 'a new event of an attempt in progress is counted by the next pass'
);
SELECT tests.unbecome();

-- Closed attempts are counted once, a minute after they closed: here, as
-- if that minute had passed (the window ends a second from now).
SET LOCAL ROLE veritas_owner;
CREATE TEMPORARY TABLE counted ON COMMIT DROP AS
SELECT internal.count_closed_attempts(now() - interval '1 day', now() + interval '1 second', now()) AS exams;
SELECT ok(
    (SELECT ARRAY['00000000-0000-4000-8000-000000061e01'::uuid, '00000000-0000-4000-8000-000000061e02']
        <@ exams FROM counted),
    'counting the closed attempts touches their exams (E and F, and any other of the database)'
);
SELECT is(
    (SELECT count(*)::integer FROM app.counted_attempts
     WHERE exam_id = '00000000-0000-4000-8000-000000061e01'),
    5, '... the five closed attempts of E (the two in progress wait, the overdue one too)'
);
SELECT is(
    cardinality(internal.count_closed_attempts(now() - interval '1 day', now() + interval '1 second', now())),
    0, '... and once only: a second count finds nothing'
);
SELECT is(
    (SELECT sum(settled_events)::integer FROM app.exam_event_counts
     WHERE exam_id = '00000000-0000-4000-8000-000000061e01'),
    6, 'the settled events are those of the closed attempts (3 tab_hidden, 2 heartbeats, 1 paste)'
);
RESET ROLE;
SET LOCAL ROLE worker;
SELECT NULL FROM internal.refresh_analytics();
RESET ROLE;
SELECT tests.become('00000000-0000-4000-8000-000000061a01');
SELECT is(
    api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000061e01') -> 'events_by_type',
    pg_temp.events_by_type('{"tab_hidden": 3, "heartbeat": 2, "paste": 2}'),
    'settled plus live: every event counted once'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Analysts: pseudonyms, aggregates, no base table
-- ---------------------------------------------------------------------------

-- The analysts' views show nothing of an exam with fewer than five
-- students: Eve, a fifth, starts an attempt and abandons it (no grade, no
-- analysis, no event), and the views are refreshed.
INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000061b05', 'an-eve@example.org', 'x', 'Eve', 'student');
INSERT INTO app.student_profiles (user_id, pseudonym) VALUES
('00000000-0000-4000-8000-000000061b05', '00000000-0000-4000-8000-000000061f05');
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    question_order, scored_against
) VALUES (
    '00000000-0000-4000-8000-000000061008', '00000000-0000-4000-8000-000000061e01',
    '00000000-0000-4000-8000-000000061b05', 1, 'abandoned', now() - interval '3 hours',
    now() - interval '150 minutes', now() - interval '170 minutes', '[]', '[]'
);
SELECT NULL FROM internal.refresh_analytics(TRUE);

CREATE TEMPORARY TABLE exam_pseudonyms ON COMMIT DROP AS
SELECT
    tests.exam_pseudonym('00000000-0000-4000-8000-000000061f01', '00000000-0000-4000-8000-000000061e01') AS anna,
    tests.exam_pseudonym('00000000-0000-4000-8000-000000061f02', '00000000-0000-4000-8000-000000061e01') AS ben;
GRANT SELECT ON exam_pseudonyms TO analyst;

SELECT tests.allow_temporary_tables('analyst');
SET LOCAL ROLE analyst;
SELECT is(
    (SELECT format('%s %s %s %s %s', attempts, median_score, score_histogram, flagged, integrity_histogram)
     FROM analytics.exam_analytics WHERE exam_id = '00000000-0000-4000-8000-000000061e01'),
    '8 7.00 {0,0,1,0,0,1,0,0,0,2} 0 {0,0,0,0,0,0,0,0,1,2}',
    'the analyst reads the exam''s analytics, the integrity distribution too (Ben''s newer analysis: 95)'
);
SELECT set_eq(
    $$
    SELECT event_type::text, events FROM analytics.exam_events_by_type
    WHERE exam_id = '00000000-0000-4000-8000-000000061e01'
    $$,
    $$ VALUES ('tab_hidden', 3::bigint), ('heartbeat', 2), ('paste', 2) $$,
    'the analyst reads the events by type'
);
SELECT is(
    (SELECT severity FROM analytics.exam_events_by_type
     WHERE exam_id = '00000000-0000-4000-8000-000000061e01' AND event_type = 'paste'),
    3::smallint, '... with each type''s severity'
);
SELECT is(
    (SELECT format('%s %s %s %s %s', attempts, graded_attempts, best_percentage, average_integrity, flagged_attempts)
     FROM analytics.student_exam_results
     WHERE pseudonym = (SELECT anna FROM exam_pseudonyms)
        AND exam_id = '00000000-0000-4000-8000-000000061e01'),
    '2 1 20.00 90.00 0',
    'per student by pseudonym: Anna''s 2 attempts, 1 graded at 20 %, integrity 90, none flagged now'
);
SELECT is(
    (SELECT format('%s %s', flagged_attempts, lowest_integrity) FROM analytics.student_exam_results
     WHERE pseudonym = (SELECT ben FROM exam_pseudonyms)
        AND exam_id = '00000000-0000-4000-8000-000000061e01'),
    '0 95', '... Ben''s attempt, unflagged by its newer analysis'
);
SELECT throws_ok('SELECT 1 FROM app.exam_stats', '42501', NULL, 'the analyst cannot read the summary tables');
SELECT throws_ok('SELECT 1 FROM app.visible_exam_stats', '42501', NULL, '... nor the teachers'' views of them');
SELECT throws_ok('SELECT 1 FROM app.analytics_refreshes', '42501', NULL, '... nor the refresh bookkeeping');
SELECT throws_ok('SELECT 1 FROM app.behavior_analyses', '42501', NULL, '... nor any base table');
RESET ROLE;

SELECT columns_are(
    'analytics', 'exam_analytics',
    ARRAY[
        'exam_id', 'title', 'attempts', 'students', 'in_progress', 'submitted', 'expired', 'abandoned',
        'graded', 'average_score', 'median_score', 'average_percentage', 'median_percentage',
        'score_histogram', 'analysed', 'flagged', 'average_integrity', 'average_lmi',
        'integrity_histogram', 'refreshed_at'
    ],
    'analytics.exam_analytics: per exam, no student'
);
SELECT columns_are(
    'analytics', 'exam_events_by_type',
    ARRAY['exam_id', 'event_type', 'severity', 'is_anomaly', 'events', 'refreshed_at'],
    'analytics.exam_events_by_type: per exam and type, no student'
);
SELECT columns_are(
    'analytics', 'student_exam_results',
    ARRAY[
        'pseudonym', 'exam_id', 'attempts', 'graded_attempts', 'best_percentage', 'average_percentage',
        'last_finished_on', 'average_integrity', 'lowest_integrity', 'highest_lmi', 'flagged_attempts',
        'confirmed_attempts', 'cleared_attempts'
    ],
    'analytics.student_exam_results names students by pseudonym only'
);
SELECT is_empty(
    $$
    SELECT r.pseudonym FROM analytics.student_exam_results AS r
    WHERE r.pseudonym IN (SELECT u.id FROM auth.users AS u)
    $$,
    'a pseudonym is never a user id'
);
SELECT table_privs_are(
    'analytics', 'exam_analytics', 'analyst', ARRAY['SELECT'], 'the analyst may read exam_analytics'
);
SELECT table_privs_are(
    'analytics', 'exam_events_by_type', 'analyst', ARRAY['SELECT'], 'the analyst may read exam_events_by_type'
);
SELECT table_privs_are(
    'analytics', 'student_exam_results', 'analyst', ARRAY['SELECT'], 'the analyst may read student_exam_results'
);
SELECT table_privs_are(
    'analytics', 'exam_analytics', 'teacher', ARRAY[]::text[], 'a teacher may not read the analysts'' views'
);
SELECT table_privs_are(
    'app', 'exam_event_counts', 'analyst', ARRAY[]::text[],
    'the analyst has no privilege on the summary tables'
);

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
