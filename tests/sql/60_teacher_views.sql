-- 60 teacher views: what a teacher sees of their exams and students (the
-- dashboard, the flagged list, a student's detail), that another teacher
-- sees none of it (404, never "forbidden"), and the review of flags: a
-- decision of cleared or confirmed, a note to confirm, an analysis to
-- review, the flag and its reviews kept apart, the latest review winning.
--
-- Fixtures are written as the superuser; the calls are made as the users
-- (tests.become). Analytics figures: 61_analytics.sql.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(61);

-- ---------------------------------------------------------------------------
-- Fixtures: Tess owns E1 (granted to Gina), Theo owns E2. Alice took both
-- exams, Bob only E1, Carl only E2. Ada is an admin.
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000060a01', 'tv-tess@example.org', 'x', 'Tess', 'teacher'),
('00000000-0000-4000-8000-000000060a02', 'tv-theo@example.org', 'x', 'Theo', 'teacher'),
('00000000-0000-4000-8000-000000060a03', 'tv-gina@example.org', 'x', 'Gina', 'teacher'),
('00000000-0000-4000-8000-000000060d01', 'tv-ada@example.org', 'x', 'Ada', 'admin'),
('00000000-0000-4000-8000-000000060b01', 'tv-alice@example.org', 'x', 'Alice', 'student'),
('00000000-0000-4000-8000-000000060b02', 'tv-bob@example.org', 'x', 'Bob', 'student'),
('00000000-0000-4000-8000-000000060b03', 'tv-carl@example.org', 'x', 'Carl', 'student');
INSERT INTO app.student_profiles (user_id) VALUES
('00000000-0000-4000-8000-000000060b01'),
('00000000-0000-4000-8000-000000060b02'),
('00000000-0000-4000-8000-000000060b03');

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, max_attempts) VALUES
('00000000-0000-4000-8000-000000060e01', 'Teacher views E1', '00000000-0000-4000-8000-000000060a01', 60,
 now() - interval '1 day', now() + interval '1 day', 3),
('00000000-0000-4000-8000-000000060e02', 'Teacher views E2', '00000000-0000-4000-8000-000000060a02', 60,
 now() - interval '1 day', now() + interval '1 day', 3);
INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id) VALUES
('00000000-0000-4000-8000-000000060e01', '00000000-0000-4000-8000-000000060a01'),
('00000000-0000-4000-8000-000000060e01', '00000000-0000-4000-8000-000000060a03'),
('00000000-0000-4000-8000-000000060e02', '00000000-0000-4000-8000-000000060a02');

-- 060001 Alice E1 #1 submitted (flagged); 060002 Alice E1 #2 in progress
-- (no analysis); 060003 Bob E1 #1 submitted (clean); 060004 Bob E1 #2 in
-- progress past its deadline; 060005 Alice E2 #1 (flagged); 060006 Carl E2
-- #1 (flagged).
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
) VALUES
('00000000-0000-4000-8000-000000060001', '00000000-0000-4000-8000-000000060e01',
 '00000000-0000-4000-8000-000000060b01', 1, 'submitted', now() - interval '3 hours',
 now() - interval '2 hours', now() - interval '150 minutes', 4, 10, '[]', '[]'),
('00000000-0000-4000-8000-000000060002', '00000000-0000-4000-8000-000000060e01',
 '00000000-0000-4000-8000-000000060b01', 2, 'in_progress', now() - interval '10 minutes',
 now() + interval '50 minutes', NULL, NULL, NULL, '[]', '[]'),
('00000000-0000-4000-8000-000000060003', '00000000-0000-4000-8000-000000060e01',
 '00000000-0000-4000-8000-000000060b02', 1, 'submitted', now() - interval '5 hours',
 now() - interval '4 hours', now() - interval '270 minutes', 9, 10, '[]', '[]'),
('00000000-0000-4000-8000-000000060004', '00000000-0000-4000-8000-000000060e01',
 '00000000-0000-4000-8000-000000060b02', 2, 'in_progress', now() - interval '3 hours',
 now() - interval '2 hours', NULL, NULL, NULL, '[]', '[]'),
('00000000-0000-4000-8000-000000060005', '00000000-0000-4000-8000-000000060e02',
 '00000000-0000-4000-8000-000000060b01', 1, 'submitted', now() - interval '6 hours',
 now() - interval '5 hours', now() - interval '330 minutes', 7, 10, '[]', '[]'),
('00000000-0000-4000-8000-000000060006', '00000000-0000-4000-8000-000000060e02',
 '00000000-0000-4000-8000-000000060b03', 1, 'submitted', now() - interval '6 hours',
 now() - interval '5 hours', now() - interval '320 minutes', 2, 10, '[]', '[]');

INSERT INTO app.behavior_analyses (
    id, attempt_id, source, model, integrity_score, lmi_score, flags, is_flagged, created_at
) VALUES
('00000000-0000-4000-8000-0000000600a1', '00000000-0000-4000-8000-000000060001', 'builtin',
 'veritas-builtin-v1', 40, 0.6, '[{"code": "tab_hidden", "count": 7, "seconds": 95}]', TRUE,
 now() - interval '140 minutes'),
('00000000-0000-4000-8000-0000000600a2', '00000000-0000-4000-8000-000000060003', 'builtin',
 'veritas-builtin-v1', 95, 0.05, '[]', FALSE, now() - interval '260 minutes'),
('00000000-0000-4000-8000-0000000600a3', '00000000-0000-4000-8000-000000060005', 'builtin',
 'veritas-builtin-v1', 35, 0.7, '[{"code": "paste", "count": 3}]', TRUE,
 now() - interval '320 minutes'),
('00000000-0000-4000-8000-0000000600a4', '00000000-0000-4000-8000-000000060006', 'builtin',
 'veritas-builtin-v1', 20, 0.9, '[{"code": "multiple_faces", "count": 4}]', TRUE,
 now() - interval '310 minutes');

-- The dashboard reads the analytics summary tables: bring them up to date.
SELECT NULL FROM internal.refresh_analytics(TRUE);

CREATE FUNCTION pg_temp.ids(p_rows jsonb, p_key text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$ SELECT x.value ->> p_key FROM jsonb_array_elements(p_rows) AS x (value) $$;

-- ---------------------------------------------------------------------------
-- The functions: who may call them, with whose rights
-- ---------------------------------------------------------------------------

SELECT function_privs_are(
    'api', 'get_teacher_dashboard_data', ARRAY[]::name[], 'teacher', ARRAY['EXECUTE'],
    'a teacher may call get_teacher_dashboard_data'
);
SELECT function_privs_are(
    'api', 'get_teacher_dashboard_data', ARRAY[]::name[], 'student', ARRAY[]::text[],
    'a student may not call get_teacher_dashboard_data'
);
SELECT function_privs_are(
    'api', 'get_flagged_students_for_exam', ARRAY['uuid'], 'integration', ARRAY[]::text[],
    'an integration account may not call get_flagged_students_for_exam'
);
SELECT function_privs_are(
    'api', 'review_attempt', ARRAY['uuid', 'text', 'text'], 'admin', ARRAY['EXECUTE'],
    'an admin may call review_attempt'
);
SELECT function_privs_are(
    'api', 'review_attempt', ARRAY['uuid', 'text', 'text'], 'student', ARRAY[]::text[],
    'a student may not call review_attempt'
);
SELECT function_privs_are(
    'internal', 'refresh_analytics', ARRAY['boolean'], 'worker', ARRAY['EXECUTE'],
    'the worker may call internal.refresh_analytics'
);
SELECT function_privs_are(
    'internal', 'refresh_analytics', ARRAY['boolean'], 'teacher', ARRAY[]::text[],
    'a teacher may not call internal.refresh_analytics'
);
SELECT is_definer(
    'internal', 'refresh_analytics', ARRAY['boolean'],
    'internal.refresh_analytics is SECURITY DEFINER (REFRESH needs the owner)'
);
SELECT is_empty(
    $$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc AS p
    WHERE p.pronamespace = 'api'::regnamespace AND p.prosecdef AND p.proname IN (
        'get_teacher_dashboard_data', 'get_teacher_exam_analytics', 'get_flagged_students_for_exam',
        'get_student_detail_for_teacher', 'review_attempt'
    )
    $$,
    'the teacher API functions run with the caller''s rights (SECURITY INVOKER)'
);
SELECT set_eq(
    $$
    SELECT p.proname::text, p.provolatile::text FROM pg_catalog.pg_proc AS p
    WHERE p.pronamespace = 'api'::regnamespace AND p.proname IN (
        'get_teacher_dashboard_data', 'get_teacher_exam_analytics', 'get_flagged_students_for_exam',
        'get_student_detail_for_teacher', 'review_attempt'
    )
    $$,
    $$
    VALUES ('get_teacher_dashboard_data', 'v'), ('get_teacher_exam_analytics', 's'),
        ('get_flagged_students_for_exam', 'v'), ('get_student_detail_for_teacher', 'v'),
        ('review_attempt', 'v')
    $$,
    'analytics is STABLE (read-only); reads that disclose student records are VOLATILE (they log it)'
);

-- ---------------------------------------------------------------------------
-- Tess sees her exam; Theo sees none of it
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000060a01');
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01'), 'attempt_id') $$,
    ARRAY['00000000-0000-4000-8000-000000060001'],
    'Tess''s flagged list of E1: Alice''s flagged attempt, not Bob''s clean one'
);
SELECT is(
    (api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01') -> 0)
    - 'analysed_at' - 'reviewed_at',
    jsonb_build_object(
        'student_id', '00000000-0000-4000-8000-000000060b01', 'student_name', 'Alice',
        'attempt_id', '00000000-0000-4000-8000-000000060001',
        'attempt_number', 1,
        'status', 'submitted',
        'integrity_score', 40,
        'lmi_score', 0.6,
        'flags', '[{"code": "tab_hidden", "count": 7, "seconds": 95}]'::jsonb,
        'analysis_id', '00000000-0000-4000-8000-0000000600a1',
        'model', 'veritas-builtin-v1',
        'review_status', 'pending'
    ),
    'a flagged row: student, attempt, integrity, lmi, flags with evidence, review_status pending'
);
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_teacher_dashboard_data() -> 'exams', 'id') $$,
    ARRAY['00000000-0000-4000-8000-000000060e01'],
    'Tess''s dashboard lists her exam only'
);
SELECT is(
    api.get_teacher_dashboard_data() -> 'summary',
    '{"exams": 1, "attempts": 4, "submitted": 2, "flagged": 1, "pending_reviews": 1}'::jsonb,
    'Tess''s summary: 1 exam, 4 attempts, 2 submitted, 1 flagged, 1 pending review'
);
SELECT is(
    (api.get_teacher_dashboard_data() -> 'alerts' -> 0) - 'flagged_at',
    jsonb_build_object(
        'attempt_id', '00000000-0000-4000-8000-000000060001',
        'exam_id', '00000000-0000-4000-8000-000000060e01',
        'exam_title', 'Teacher views E1',
        'student_id', '00000000-0000-4000-8000-000000060b01',
        'student_name', 'Alice',
        'analysis_id', '00000000-0000-4000-8000-0000000600a1',
        'integrity_score', 40,
        'lmi_score', 0.6,
        'flags_count', 1
    ),
    'Tess''s alert: Alice''s flagged attempt at E1, by name'
);
SELECT is(
    jsonb_array_length(api.get_teacher_dashboard_data() -> 'alerts'), 1,
    '... and no alert from Theo''s exam'
);
SELECT ok(
    (api.get_teacher_dashboard_data() ->> 'refreshed_at') IS NOT NULL,
    'the dashboard says up to when its counts are complete'
);
SELECT throws_ok(
    $$ SELECT api.get_flagged_students_for_exam('00000000-0000-4000-8000-0000000060ff') $$,
    'VT404', 'exam not found', 'an exam that does not exist is 404'
);
SELECT throws_ok(
    $$ SELECT api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b03') $$,
    'VT404', 'student not found', 'Carl, who took only Theo''s exam, is 404 to Tess'
);

SELECT tests.become('00000000-0000-4000-8000-000000060a02');
SELECT throws_ok(
    $$ SELECT api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01') $$,
    'VT404', 'exam not found', 'Theo asking for E1''s flagged list gets 404, as for no exam at all'
);
SELECT throws_ok(
    $$ SELECT api.get_teacher_exam_analytics('00000000-0000-4000-8000-000000060e01') $$,
    'VT404', 'exam not found', '... and for its analytics'
);
SELECT throws_ok(
    $$ SELECT api.review_attempt('00000000-0000-4000-8000-000000060001', 'cleared') $$,
    'VT404', 'attempt not found', '... and reviewing one of its attempts'
);
SELECT throws_ok(
    $$ SELECT api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b02') $$,
    'VT404', 'student not found', '... and Bob, who took only E1'
);
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b01') -> 'attempts', 'attempt_id') $$,
    ARRAY['00000000-0000-4000-8000-000000060005'],
    'Theo sees Alice''s attempt at his exam only, not those at E1'
);
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_teacher_dashboard_data() -> 'alerts', 'attempt_id') $$,
    ARRAY['00000000-0000-4000-8000-000000060005', '00000000-0000-4000-8000-000000060006'],
    'Theo''s alerts: the two flagged attempts at his exam'
);
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_teacher_dashboard_data() -> 'exams', 'id') $$,
    ARRAY['00000000-0000-4000-8000-000000060e02'],
    'Theo''s dashboard lists his exam only'
);
SELECT is_empty(
    $$ SELECT exam_id FROM app.visible_exam_stats WHERE exam_id = '00000000-0000-4000-8000-000000060e01' $$,
    'Theo''s view of the analytics holds no row of E1'
);

SELECT tests.become('00000000-0000-4000-8000-000000060a03');
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01'), 'attempt_id') $$,
    ARRAY['00000000-0000-4000-8000-000000060001'],
    'Gina, granted E1, sees its flagged list'
);

SELECT tests.become('00000000-0000-4000-8000-000000060d01');
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e02'), 'attempt_id') $$,
    ARRAY['00000000-0000-4000-8000-000000060005', '00000000-0000-4000-8000-000000060006'],
    'an admin sees any exam''s flagged list'
);
SELECT throws_ok(
    $$ SELECT api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060a01') $$,
    'VT404', 'student not found', 'a user who is not a student has no student detail'
);
SELECT is(
    (SELECT count(*)::integer FROM app.visible_exam_stats
     WHERE exam_id IN ('00000000-0000-4000-8000-000000060e01', '00000000-0000-4000-8000-000000060e02')),
    2, 'an admin''s view of the analytics holds both exams'
);

SELECT tests.become('00000000-0000-4000-8000-000000060b01');
SELECT throws_ok(
    $$ SELECT api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01') $$,
    '42501', NULL, 'a student may not call the teacher functions (403)'
);
SELECT throws_ok(
    $$ SELECT 1 FROM app.visible_exam_stats $$,
    '42501', NULL, '... nor read the teachers'' view of the analytics'
);

-- Tess's role, with claims that name Ada the admin: nothing.
SELECT tests.become('00000000-0000-4000-8000-000000060a01');
SELECT NULL FROM set_config(
    'request.jwt.claims', tests.claims_for('00000000-0000-4000-8000-000000060d01', 'admin')::text, TRUE
);
SELECT throws_ok(
    $$ SELECT api.get_teacher_dashboard_data() $$,
    '42501', 'only teachers and admins may do this', 'claims that are not the role in effect open nothing'
);
SELECT tests.unbecome();

SELECT table_privs_are(
    'app', 'exam_stats', 'teacher', ARRAY[]::text[],
    'a teacher has no privilege on the summary table itself'
);
SELECT table_privs_are(
    'app', 'flagged_attempts', 'admin', ARRAY[]::text[],
    'nor an admin (the app.visible_... views stand in for row-level security)'
);

-- ---------------------------------------------------------------------------
-- A student's detail, lazy expiry, the disclosure log
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000060a01');
SELECT set_eq(
    $$ SELECT pg_temp.ids(api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b01') -> 'attempts', 'attempt_id') $$,
    ARRAY['00000000-0000-4000-8000-000000060001', '00000000-0000-4000-8000-000000060002'],
    'Tess sees Alice''s attempts at E1, not the one at Theo''s exam'
);
SELECT is(
    api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b01') -> 'student' ->> 'full_name',
    'Alice', 'the detail names the student'
);
SELECT is(
    (
        SELECT jsonb_build_object(
            'flagged', x.value -> 'analysis' -> 'is_flagged', 'review', x.value -> 'review_status'
        )
        FROM jsonb_array_elements(
            api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b01') -> 'attempts'
        ) AS x (value)
        WHERE x.value ->> 'attempt_id' = '00000000-0000-4000-8000-000000060001'
    ),
    '{"flagged": true, "review": "pending"}'::jsonb,
    'an attempt in the detail carries its latest analysis and review status'
);
SELECT is(
    (
        SELECT x.value -> 'analysis'
        FROM jsonb_array_elements(
            api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b01') -> 'attempts'
        ) AS x (value)
        WHERE x.value ->> 'attempt_id' = '00000000-0000-4000-8000-000000060002'
    ),
    'null'::jsonb,
    'an attempt in progress has no analysis'
);
SELECT is(
    (
        SELECT x.value ->> 'status'
        FROM jsonb_array_elements(
            api.get_student_detail_for_teacher('00000000-0000-4000-8000-000000060b02') -> 'attempts'
        ) AS x (value)
        WHERE x.value ->> 'attempt_id' = '00000000-0000-4000-8000-000000060004'
    ),
    'expired',
    'Bob''s attempt past its deadline shows as expired'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT status::text FROM app.exam_attempts WHERE id = '00000000-0000-4000-8000-000000060004'),
    'expired', '... because the teacher''s read expired it (graded, analysis queued)'
);
SELECT ok(
    EXISTS (
        SELECT FROM audit.disclosures
        WHERE viewer_id = '00000000-0000-4000-8000-000000060a01'
            AND student_id = '00000000-0000-4000-8000-000000060b01' AND record_kind = 'profile'
    ),
    'showing Tess Alice''s detail is in the disclosure log'
);
SELECT ok(
    EXISTS (
        SELECT FROM audit.disclosures
        WHERE viewer_id = '00000000-0000-4000-8000-000000060a01' AND record_kind = 'analysis'
            AND record_id = '00000000-0000-4000-8000-0000000600a1'
    ),
    '... and so is each flagged analysis her list showed'
);

-- ---------------------------------------------------------------------------
-- Reviews
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000060a01');
SELECT throws_ok(
    $$ SELECT api.review_attempt('00000000-0000-4000-8000-000000060001', 'maybe') $$,
    '22023', 'decision must be cleared or confirmed', 'a decision other than cleared or confirmed is 400'
);
SELECT throws_ok(
    $$ SELECT api.review_attempt('00000000-0000-4000-8000-000000060001', NULL) $$,
    '22023', 'decision must be cleared or confirmed', '... and so is none'
);
SELECT throws_ok(
    $$ SELECT api.review_attempt('00000000-0000-4000-8000-000000060001', 'confirmed') $$,
    '22023', 'a note is required to confirm: say what was found', 'confirming without a note is 400'
);
SELECT throws_ok(
    $$ SELECT api.review_attempt('00000000-0000-4000-8000-000000060001', 'confirmed', '   ') $$,
    '22023', 'a note is required to confirm: say what was found', '... and a blank note is no note'
);
SELECT throws_ok(
    $$ SELECT api.review_attempt('00000000-0000-4000-8000-000000060002', 'cleared') $$,
    'VT409', 'the attempt has no behaviour analysis to review yet',
    'an attempt without an analysis cannot be reviewed (409)'
);
SELECT is(
    (api.review_attempt('00000000-0000-4000-8000-000000060001', 'cleared') - 'id' - 'created_at'),
    jsonb_build_object(
        'attempt_id', '00000000-0000-4000-8000-000000060001',
        'analysis_id', '00000000-0000-4000-8000-0000000600a1',
        'reviewer_id', '00000000-0000-4000-8000-000000060a01',
        'decision', 'cleared',
        'note', NULL,
        'review_status', 'cleared'
    ),
    'Tess clears Alice''s flags without a note: the review names the analysis it is about'
);
SELECT is(
    api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01') -> 0 ->> 'review_status',
    'cleared', 'the flagged list shows the review at once'
);
SELECT is(
    api.get_teacher_dashboard_data() -> 'summary' -> 'pending_reviews', '0'::jsonb,
    '... and the dashboard has no pending review left'
);
SELECT is(
    jsonb_array_length(api.get_teacher_dashboard_data() -> 'alerts'), 0,
    '... nor an alert'
);
SELECT is(
    api.review_attempt(
        '00000000-0000-4000-8000-000000060001', 'confirmed', 'Pasted the answer to question 3.'
    ) ->> 'note',
    'Pasted the answer to question 3.', 'a second look: Tess confirms, with a note'
);
SELECT is(
    api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01') -> 0 ->> 'review_status',
    'confirmed', 'the latest review is the review status'
);
SELECT tests.unbecome();
SELECT set_eq(
    $$
    SELECT decision::text, reviewer_id::text FROM app.flag_reviews
    WHERE attempt_id = '00000000-0000-4000-8000-000000060001'
    $$,
    $$
    VALUES ('cleared', '00000000-0000-4000-8000-000000060a01'),
        ('confirmed', '00000000-0000-4000-8000-000000060a01')
    $$,
    'both reviews are kept, each with its reviewer'
);
SELECT is(
    (SELECT format('%s %s %s', count(*), bool_and(is_flagged), min(integrity_score))
     FROM app.behavior_analyses WHERE attempt_id = '00000000-0000-4000-8000-000000060001'),
    '1 t 40',
    'the analysis under review is left as it was: the flag and its reviews are separate records'
);
SELECT throws_ok(
    $$
    INSERT INTO app.flag_reviews (attempt_id, reviewer_id, decision)
    VALUES ('00000000-0000-4000-8000-000000060001', '00000000-0000-4000-8000-000000060a01', 'confirmed')
    $$,
    '23514', NULL, 'the table itself refuses a confirmation without a note, whoever writes'
);

-- An external engine's newer, clean analysis: the attempt leaves the list.
INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, is_flagged)
VALUES ('00000000-0000-4000-8000-000000060001', 'external', 'llm-x', 90, 0.1, FALSE);
SELECT tests.become('00000000-0000-4000-8000-000000060a01');
SELECT is(
    api.get_flagged_students_for_exam('00000000-0000-4000-8000-000000060e01'), '[]'::jsonb,
    'the latest analysis wins: a newer clean one takes the attempt off the flagged list'
);

SELECT tests.become('00000000-0000-4000-8000-000000060d01');
SELECT is(
    api.review_attempt('00000000-0000-4000-8000-000000060006', 'cleared') ->> 'reviewer_id',
    '00000000-0000-4000-8000-000000060d01', 'an admin reviews any exam''s attempt, in their own name'
);
SELECT tests.unbecome();

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
