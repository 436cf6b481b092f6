-- 62 analyst privacy: what the analyst login can and cannot learn from the
-- analytics views (docs/security.md). An exam with fewer than k distinct
-- students (app.analyst_settings.min_group, 5 by default) shows no
-- per-student row and no figure, however the analyst filters; the DBA
-- changes k; students' times are UTC days; a student's rows carry a
-- pseudonym per exam; and the analyst login's bounds, which it cannot lift.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(43);

-- ---------------------------------------------------------------------------
-- Fixtures: Tara's two exams. "Four" was sat by Sam 1 to 4, "Five" by Sam 1
-- to 5; every attempt finished two days ago at 23:30 UTC (in Kiribati, UTC+14,
-- already the next day; in Samoa, UTC-11, still the same day). One event on
-- each exam.
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000062a01', 'pr-tara@example.org', 'x', 'Tara', 'teacher'),
('00000000-0000-4000-8000-000000062b01', 'pr-sam1@example.org', 'x', 'Sam 1', 'student'),
('00000000-0000-4000-8000-000000062b02', 'pr-sam2@example.org', 'x', 'Sam 2', 'student'),
('00000000-0000-4000-8000-000000062b03', 'pr-sam3@example.org', 'x', 'Sam 3', 'student'),
('00000000-0000-4000-8000-000000062b04', 'pr-sam4@example.org', 'x', 'Sam 4', 'student'),
('00000000-0000-4000-8000-000000062b05', 'pr-sam5@example.org', 'x', 'Sam 5', 'student');
INSERT INTO app.student_profiles (user_id, pseudonym)
SELECT
    format('00000000-0000-4000-8000-000000062b0%s', n)::uuid,
    format('00000000-0000-4000-8000-000000062f0%s', n)::uuid
FROM generate_series(1, 5) AS n;

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at) VALUES
('00000000-0000-4000-8000-000000062e04', 'Privacy four', '00000000-0000-4000-8000-000000062a01', 60,
 now() - interval '10 days', now() - interval '1 day'),
('00000000-0000-4000-8000-000000062e05', 'Privacy five', '00000000-0000-4000-8000-000000062a01', 60,
 now() - interval '10 days', now() - interval '1 day');

CREATE TEMPORARY TABLE fixture ON COMMIT DROP AS
SELECT
    (now() AT TIME ZONE 'UTC')::date - 2 AS finish_day,
    (((now() AT TIME ZONE 'UTC')::date - 2) + time '23:30') AT TIME ZONE 'UTC' AS finished_at;
GRANT SELECT ON fixture TO analyst;

INSERT INTO app.exam_attempts (
    exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
)
SELECT
    x.exam_id::uuid, format('00000000-0000-4000-8000-000000062b0%s', n)::uuid, 1, 'submitted',
    f.finished_at - interval '30 minutes', f.finished_at + interval '30 minutes', f.finished_at,
    n, 10, '[]', '[]'
FROM (VALUES
    ('00000000-0000-4000-8000-000000062e04', 4),
    ('00000000-0000-4000-8000-000000062e05', 5)
) AS x (exam_id, students)
CROSS JOIN generate_series(1, x.students) AS n
CROSS JOIN fixture AS f;

-- tests.insert_event: as the recording functions store an event
SELECT NULL FROM (
    SELECT tests.insert_event(a.id, 'paste', a.started_at)
    FROM app.exam_attempts AS a
    WHERE
        a.student_id = '00000000-0000-4000-8000-000000062b01'
        AND a.exam_id IN ('00000000-0000-4000-8000-000000062e04', '00000000-0000-4000-8000-000000062e05')
) AS stored;

-- Sam 1's metrics, last updated at the same 23:30 UTC (the timestamps
-- trigger, which would write now(), is off for this insert).
SET LOCAL session_replication_role = replica;
INSERT INTO app.performance_metrics (student_id, attempts_count, updated_at)
SELECT '00000000-0000-4000-8000-000000062b01', 2, f.finished_at FROM fixture AS f;
SET LOCAL session_replication_role = origin;

SELECT NULL FROM internal.refresh_analytics(TRUE);

-- A function of the analyst's own that raises if it is ever shown a row of
-- exam Four: a filter the view must not run before its own.
CREATE FUNCTION pg_temp.spy(p_exam_id uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF p_exam_id = '00000000-0000-4000-8000-000000062e04' THEN
        RAISE EXCEPTION 'the analyst''s function was shown a row of an exam of four students';
    END IF;
    RETURN TRUE;
END;
$$;


-- ---------------------------------------------------------------------------
-- k: one row of settings, 5 unless the DBA changes it; the analyst never
-- reads it
-- ---------------------------------------------------------------------------

SELECT is((SELECT min_group FROM app.analyst_settings), 5, 'k is 5 by default');

SET LOCAL ROLE analyst;
SELECT throws_ok(
    'SELECT min_group, pseudonym_secret FROM app.analyst_settings', '42501', NULL,
    'the analyst cannot read the settings, nor the pseudonyms'' secret'
);
SELECT throws_ok(
    'UPDATE app.analyst_settings SET min_group = 1', '42501', NULL,
    '... nor lower k'
);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- At k = 5: exam Four shows nothing of its students, exam Five everything
-- ---------------------------------------------------------------------------

SET LOCAL ROLE analyst;
SELECT is_empty(
    $$ SELECT 1 FROM analytics.student_exam_results WHERE exam_id = '00000000-0000-4000-8000-000000062e04' $$,
    'an exam of four students shows no per-student row, even asked for by its id'
);
SELECT is(
    (SELECT count(*)::integer FROM analytics.student_exam_results
     WHERE exam_id = '00000000-0000-4000-8000-000000062e05'),
    5, 'an exam of five shows its five students'
);
SELECT is(
    (SELECT title FROM analytics.exam_overview WHERE exam_id = '00000000-0000-4000-8000-000000062e04'),
    'Privacy four', 'the exam of four is listed in the overview'
);
SELECT is(
    (SELECT num_nonnulls(attempts, students, submitted, expired, abandoned, in_progress, average_score,
                         average_percentage)
     FROM analytics.exam_overview WHERE exam_id = '00000000-0000-4000-8000-000000062e04'),
    0, '... with none of its attempts'' figures'
);
SELECT is(
    (SELECT format('%s %s %s', attempts, students, average_score) FROM analytics.exam_overview
     WHERE exam_id = '00000000-0000-4000-8000-000000062e05'),
    '5 5 3.00', 'the exam of five has its figures in the overview'
);
SELECT is_empty(
    $$ SELECT 1 FROM analytics.exam_analytics WHERE exam_id = '00000000-0000-4000-8000-000000062e04' $$,
    'the exam of four has no analytics row'
);
SELECT is(
    (SELECT students FROM analytics.exam_analytics WHERE exam_id = '00000000-0000-4000-8000-000000062e05'),
    5::bigint, 'the exam of five has its analytics row'
);
SELECT is_empty(
    $$ SELECT 1 FROM analytics.exam_events_by_type WHERE exam_id = '00000000-0000-4000-8000-000000062e04' $$,
    'the exam of four has no event counts'
);
SELECT is(
    (SELECT events FROM analytics.exam_events_by_type
     WHERE exam_id = '00000000-0000-4000-8000-000000062e05' AND event_type = 'paste'),
    1::bigint, 'the exam of five has its event counts'
);

-- A filter never runs before the view's own: the spy sees no row of Four.
SELECT lives_ok(
    'SELECT count(*) FROM analytics.student_exam_results WHERE pg_temp.spy(exam_id)',
    'the analyst''s function in a WHERE clause is shown no per-student row of the exam of four'
);
SELECT lives_ok(
    'SELECT count(*) FROM analytics.exam_analytics WHERE pg_temp.spy(exam_id)',
    '... no analytics row of it'
);
SELECT lives_ok(
    'SELECT count(*) FROM analytics.exam_events_by_type WHERE pg_temp.spy(exam_id)',
    '... and no event count of it'
);
RESET ROLE;

-- A filter down to one student does not narrow the group it is counted in.
CREATE TEMPORARY TABLE sam1_five ON COMMIT DROP AS
SELECT tests.exam_pseudonym('00000000-0000-4000-8000-000000062f01', '00000000-0000-4000-8000-000000062e05') AS p;
GRANT SELECT ON sam1_five TO analyst;
SET LOCAL ROLE analyst;
SELECT is(
    (SELECT best_percentage FROM analytics.student_exam_results
     WHERE pseudonym = (SELECT p FROM sam1_five) AND exam_id = '00000000-0000-4000-8000-000000062e05'),
    10.00, 'a filter down to one student of the exam of five still finds that student (the group is the exam)'
);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The DBA changes k
-- ---------------------------------------------------------------------------

-- The DBA login is a member of veritas_owner (not necessarily a superuser).
SET LOCAL ROLE veritas_owner;
UPDATE app.analyst_settings SET min_group = 4;
SELECT is((SELECT min_group FROM app.analyst_settings), 4, 'the owner changes k (to 4)');
DELETE FROM app.analyst_settings;
SELECT is((SELECT count(*)::integer FROM app.analyst_settings), 1, '... but cannot delete the row');
SELECT throws_ok(
    'UPDATE app.analyst_settings SET min_group = 0', '23514', NULL, 'k is at least 1'
);
SELECT throws_ok(
    'INSERT INTO app.analyst_settings (singleton) VALUES (TRUE)', '23505', NULL, 'there is one row of settings'
);
RESET ROLE;

SET LOCAL ROLE analyst;
SELECT is(
    (SELECT count(*)::integer FROM analytics.student_exam_results
     WHERE exam_id = '00000000-0000-4000-8000-000000062e04'),
    4, 'at k = 4 the exam of four shows its four students'
);
SELECT is(
    (SELECT students FROM analytics.exam_analytics WHERE exam_id = '00000000-0000-4000-8000-000000062e04'),
    4::bigint, '... and its analytics'
);
RESET ROLE;

UPDATE app.analyst_settings SET min_group = 6;
SET LOCAL ROLE analyst;
SELECT is_empty(
    $$ SELECT 1 FROM analytics.student_exam_results WHERE exam_id = '00000000-0000-4000-8000-000000062e05' $$,
    'at k = 6 the exam of five shows no per-student row'
);
SELECT is(
    (SELECT num_nonnulls(attempts, students, average_score) FROM analytics.exam_overview
     WHERE exam_id = '00000000-0000-4000-8000-000000062e05'),
    0, '... no figure in the overview'
);
SELECT is_empty(
    $$ SELECT 1 FROM analytics.exam_events_by_type WHERE exam_id = '00000000-0000-4000-8000-000000062e05' $$,
    '... and no event count'
);
RESET ROLE;

-- One row per student: nothing while there are fewer than k students in all.
UPDATE app.analyst_settings SET min_group = (SELECT count(*) + 1 FROM app.student_profiles);
SET LOCAL ROLE analyst;
SELECT is_empty(
    'SELECT 1 FROM analytics.student_overview',
    'the student overview is empty while there are fewer than k students in all'
);
RESET ROLE;
UPDATE app.analyst_settings SET min_group = (SELECT count(*) FROM app.student_profiles);
SET LOCAL ROLE analyst;
SELECT isnt_empty(
    'SELECT 1 FROM analytics.student_overview',
    '... and shows them once there are k'
);
RESET ROLE;

-- Without the row (only a superuser can delete it): nothing at all.
DELETE FROM app.analyst_settings;
SET LOCAL ROLE analyst;
SELECT is_empty(
    $$
    SELECT exam_id FROM analytics.student_exam_results
    UNION ALL SELECT exam_id FROM analytics.exam_analytics
    UNION ALL SELECT exam_id FROM analytics.exam_events_by_type
    UNION ALL SELECT exam_id FROM analytics.exam_overview WHERE students IS NOT NULL
    UNION ALL SELECT NULL FROM analytics.student_overview
    $$,
    'without the settings row, no view shows any student figure'
);
RESET ROLE;
INSERT INTO app.analyst_settings (singleton, min_group) VALUES (TRUE, 4);

-- ---------------------------------------------------------------------------
-- Days, not instants
-- ---------------------------------------------------------------------------

SELECT is_empty(
    $$
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'analytics'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
        AND a.atttypid IN (
            'timestamptz'::regtype, 'timestamp'::regtype, 'time'::regtype, 'timetz'::regtype
        )
        AND a.attname NOT IN ('opens_at', 'closes_at', 'refreshed_at')
    $$,
    'no analytics view shows a time finer than a day, but the exam''s schedule and the refresh time'
);

SET LOCAL ROLE analyst;
SET LOCAL TimeZone = 'Pacific/Kiritimati';
SELECT is(
    (SELECT last_finished_on FROM analytics.student_exam_results
     WHERE exam_id = '00000000-0000-4000-8000-000000062e05' AND best_percentage = 10),
    (SELECT finish_day FROM fixture),
    'a finish at 23:30 UTC is that UTC day, in a session at UTC+14'
);
SELECT is(
    (SELECT metrics_updated_on FROM analytics.student_overview
     WHERE pseudonym = '00000000-0000-4000-8000-000000062f01'),
    (SELECT finish_day FROM fixture),
    '... and so is a metrics update'
);
SET LOCAL TimeZone = 'Pacific/Pago_Pago';
SELECT is(
    (SELECT last_finished_on FROM analytics.student_exam_results
     WHERE exam_id = '00000000-0000-4000-8000-000000062e05' AND best_percentage = 10),
    (SELECT finish_day FROM fixture),
    '... and in a session at UTC-11'
);
RESET TimeZone;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Pseudonyms per exam
-- ---------------------------------------------------------------------------

CREATE TEMPORARY TABLE seen ON COMMIT DROP AS
SELECT exam_id, pseudonym FROM analytics.student_exam_results
WHERE exam_id IN ('00000000-0000-4000-8000-000000062e04', '00000000-0000-4000-8000-000000062e05');

SELECT is_empty(
    $$
    SELECT pseudonym FROM seen WHERE exam_id = '00000000-0000-4000-8000-000000062e04'
    INTERSECT
    SELECT pseudonym FROM seen WHERE exam_id = '00000000-0000-4000-8000-000000062e05'
    $$,
    'the four students who sat both exams have a different pseudonym in each'
);
SELECT is_empty(
    $$
    SELECT pseudonym FROM seen
    INTERSECT
    SELECT pseudonym FROM app.student_profiles
    $$,
    'no per-exam pseudonym is a student''s overview pseudonym'
);
SELECT set_eq(
    $$ SELECT pseudonym FROM seen WHERE exam_id = '00000000-0000-4000-8000-000000062e05' $$,
    $$
    SELECT tests.exam_pseudonym(p.pseudonym, '00000000-0000-4000-8000-000000062e05')
    FROM app.student_profiles AS p
    WHERE p.user_id IN (
        SELECT a.student_id FROM app.exam_attempts AS a WHERE a.exam_id = '00000000-0000-4000-8000-000000062e05'
    )
    $$,
    'a per-exam pseudonym is the keyed hash of the student''s pseudonym and the exam'
);
UPDATE app.analyst_settings SET pseudonym_secret = gen_random_uuid();
SELECT is_empty(
    $$
    SELECT pseudonym FROM seen
    INTERSECT
    SELECT pseudonym FROM analytics.student_exam_results
    $$,
    'a new secret gives every exam row a new pseudonym'
);

-- ---------------------------------------------------------------------------
-- The analyst login's bounds
-- ---------------------------------------------------------------------------

SELECT is(
    (SELECT rolconnlimit FROM pg_catalog.pg_roles WHERE rolname = 'analyst'), 5,
    'the analyst login has at most 5 sessions at once'
);
SELECT set_has(
    $$
    SELECT unnest(s.setconfig) FROM pg_catalog.pg_db_role_setting AS s
    WHERE s.setdatabase = 0 AND s.setrole = 'analyst'::regrole
    $$,
    $$ VALUES ('statement_timeout=2min'), ('idle_in_transaction_session_timeout=10min'), ('temp_file_limit=1GB') $$,
    'the analyst login: statements of at most 2 minutes, idle transactions of at most 10, 1 GB of temporary files'
);

SET LOCAL ROLE analyst;
SELECT throws_ok(
    'SET temp_file_limit = -1', '42501', NULL, 'the analyst cannot lift its temp_file_limit in a session'
);
SELECT throws_ok(
    'ALTER ROLE analyst SET temp_file_limit = -1', '42501', NULL, '... nor on its role'
);
SELECT throws_ok(
    'ALTER ROLE analyst RESET temp_file_limit', '42501', NULL, '... nor reset it'
);
SELECT throws_ok(
    'ALTER ROLE analyst CONNECTION LIMIT -1', '42501', NULL, '... nor lift its connection limit'
);
RESET ROLE;

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
