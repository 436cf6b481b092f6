-- 52 external analyses and the metrics API: an integration account (or an
-- admin) writes an analysis in its own name; every analysis is kept and the
-- latest wins; the student's and the exam's figures follow at once; who
-- may read an attempt's analysis; update_performance_metrics and
-- update_student_profile_stats recompute from the data.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(55);

-- ---------------------------------------------------------------------------
-- Fixtures: Tess owns the exam, Theo teaches elsewhere; Alice took it, Bob
-- did not; Ivy is the LLM engine's account, Ada an admin.
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000052a01', 'ext-tess@example.org', 'x', 'Tess', 'teacher'),
('00000000-0000-4000-8000-000000052a02', 'ext-theo@example.org', 'x', 'Theo', 'teacher'),
('00000000-0000-4000-8000-000000052b01', 'ext-alice@example.org', 'x', 'Alice', 'student'),
('00000000-0000-4000-8000-000000052b02', 'ext-bob@example.org', 'x', 'Bob', 'student'),
('00000000-0000-4000-8000-000000052c01', 'ext-ivy@example.org', 'x', 'Ivy', 'integration'),
('00000000-0000-4000-8000-000000052d01', 'ext-ada@example.org', 'x', 'Ada', 'admin');
INSERT INTO app.student_profiles (user_id) VALUES
('00000000-0000-4000-8000-000000052b01'),
('00000000-0000-4000-8000-000000052b02');

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, max_attempts)
VALUES (
    '00000000-0000-4000-8000-000000052e01', 'External', '00000000-0000-4000-8000-000000052a01',
    30, '2026-01-05 09:00:00+00', '2026-01-05 18:00:00+00', 5
);

-- Alice's attempts: 1 submitted (8 of 10 points), 2 in progress.
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
) VALUES
(
    '00000000-0000-4000-8000-000000052001', '00000000-0000-4000-8000-000000052e01',
    '00000000-0000-4000-8000-000000052b01', 1, 'submitted', '2026-01-05 10:00:00+00',
    '2026-01-05 10:30:00+00', '2026-01-05 10:01:00+00', 8, 10, '[]', '[]'
),
(
    '00000000-0000-4000-8000-000000052002', '00000000-0000-4000-8000-000000052e01',
    '00000000-0000-4000-8000-000000052b01', 2, 'in_progress', '2026-01-05 11:00:00+00',
    '2026-01-05 11:30:00+00', NULL, NULL, NULL, '[]', '[]'
);

CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v text);
GRANT ALL ON ctx TO PUBLIC;
CREATE FUNCTION pg_temp.keep(p_key text, p_value text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pg_temp.ctx (k, v) VALUES (p_key, p_value)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v;
$$;
CREATE FUNCTION pg_temp.val(p_key text) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT v::jsonb FROM pg_temp.ctx WHERE k = p_key $$;

-- The built-in analysis comes first (as the worker would): clean.
SELECT pg_temp.keep('builtin', internal.analyse_attempt('00000000-0000-4000-8000-000000052001')::text);

-- ---------------------------------------------------------------------------
-- Who may write
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000052b01');
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 100, 0) $$,
    '42501', NULL,
    'a student cannot write an analysis, not even of their own attempt (403)'
);
SELECT tests.become('00000000-0000-4000-8000-000000052a01');
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 100, 0) $$,
    '42501', NULL,
    'a teacher cannot write an analysis, not even on their own exam (403)'
);

SELECT tests.become('00000000-0000-4000-8000-000000052c01');
SELECT pg_temp.keep('ext1', api.save_behavior_analysis(
    attempt_id => '00000000-0000-4000-8000-000000052001',
    integrity_score => 55.5,
    lmi_score => 0.62,
    flags => '[{"code": "answer_style_shift", "evidence": "questions 3 and 4", "event_ids": []}]',
    summary => 'The style of two answers differs from the rest.',
    model => 'veritas-llm-2026-01'
)::text);
SELECT tests.unbecome();

SELECT is(
    pg_temp.val('ext1') - 'id' - 'created_at',
    jsonb_build_object(
        'attempt_id', '00000000-0000-4000-8000-000000052001',
        'source', 'external',
        'model', 'veritas-llm-2026-01',
        'integrity_score', 55.5,
        'lmi_score', 0.62,
        'is_flagged', TRUE,
        'flags', '[{"code": "answer_style_shift", "evidence": "questions 3 and 4", "event_ids": []}]'::jsonb,
        'summary', 'The style of two answers differs from the rest.',
        'created_by', '00000000-0000-4000-8000-000000052c01'
    ),
    'an integration account writes an external analysis in its own name; lmi >= 0.5 flags it'
);
SELECT ok(
    (pg_temp.val('ext1') ->> 'created_at')::timestamptz > (pg_temp.val('builtin') ->> 'created_at')::timestamptz,
    'written after the built-in one (created_at is the clock, not the transaction start)'
);

-- ---------------------------------------------------------------------------
-- The latest wins, all are kept, the figures follow
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000052b01');
SELECT is(
    api.get_behavior_analysis('00000000-0000-4000-8000-000000052001'),
    pg_temp.val('ext1'),
    'the student reads the latest analysis of their attempt: the external one'
);
SELECT tests.unbecome();

SELECT results_eq(
    $$ SELECT source::text, model FROM app.behavior_analyses
       WHERE attempt_id = '00000000-0000-4000-8000-000000052001' ORDER BY created_at $$,
    $$ VALUES ('builtin', 'veritas-builtin-v1'), ('external', 'veritas-llm-2026-01') $$,
    'both analyses are kept'
);
SELECT results_eq(
    $$ SELECT integrity_score, lmi_score, flags_count FROM app.student_profiles
       WHERE user_id = '00000000-0000-4000-8000-000000052b01' $$,
    $$ VALUES (55.5, 0.62, 1) $$,
    'the student''s profile shows the external analysis at once'
);
SELECT results_eq(
    $$ SELECT average_integrity, flags_count, average_score FROM app.performance_metrics
       WHERE student_id = '00000000-0000-4000-8000-000000052b01' $$,
    $$ VALUES (55.5, 1, 80::numeric) $$,
    'the student''s metrics: the latest analysis counts, the score too (80%)'
);
SELECT results_eq(
    $$ SELECT attempts, submitted, average_score, flagged FROM app.exam_metrics
       WHERE exam_id = '00000000-0000-4000-8000-000000052e01' $$,
    $$ VALUES (2, 1, 8::numeric, 1) $$,
    'the exam''s metrics: two attempts, one graded (8 points), one flagged'
);

-- A second opinion, with the defaults: model "external", no flags.
SELECT tests.become('00000000-0000-4000-8000-000000052c01');
SELECT pg_temp.keep('ext2', api.save_behavior_analysis(
    '00000000-0000-4000-8000-000000052001', 90, 0.2
)::text);
SELECT tests.unbecome();
SELECT is(
    pg_temp.val('ext2') - 'id' - 'created_at' - 'attempt_id' - 'created_by',
    '{"source": "external", "model": "external", "integrity_score": 90, "lmi_score": 0.2,
      "is_flagged": false, "flags": [], "summary": null}'::jsonb,
    'model defaults to "external", flags to [], summary to null; lmi 0.2 is not flagged'
);
SELECT tests.become('00000000-0000-4000-8000-000000052a01');
SELECT is(
    api.get_behavior_analysis('00000000-0000-4000-8000-000000052001') ->> 'id',
    pg_temp.val('ext2') ->> 'id',
    'the teacher of the exam reads the newest analysis'
);
SELECT tests.unbecome();
SELECT results_eq(
    $$ SELECT integrity_score, lmi_score, flags_count FROM app.student_profiles
       WHERE user_id = '00000000-0000-4000-8000-000000052b01' $$,
    $$ VALUES (90::numeric, 0.2, 0) $$,
    'the profile follows the newest analysis: no flag any more'
);
SELECT is(
    (SELECT flagged FROM app.exam_metrics WHERE exam_id = '00000000-0000-4000-8000-000000052e01'),
    0,
    'the exam has no flagged attempt any more'
);

-- A built-in analysis run again (a retried job) does not push itself over
-- the newer external one.
SELECT internal.analyse_attempt('00000000-0000-4000-8000-000000052001');
SELECT is(
    (SELECT count(*)::int FROM app.behavior_analyses WHERE attempt_id = '00000000-0000-4000-8000-000000052001'),
    3,
    'three analyses kept: the built-in one is not stored again'
);
SELECT tests.become('00000000-0000-4000-8000-000000052d01');
SELECT is(
    api.get_behavior_analysis('00000000-0000-4000-8000-000000052001') ->> 'id',
    pg_temp.val('ext2') ->> 'id',
    '... and the external one is still the latest (admin reads it)'
);

-- An admin may write one too, in their own name.
SELECT pg_temp.keep('ext3', api.save_behavior_analysis(
    '00000000-0000-4000-8000-000000052001', 40, 0.5, '[]', 'Confirmed by hand.', 'human review'
)::text);
SELECT tests.unbecome();
SELECT is(
    pg_temp.val('ext3') ->> 'created_by', '00000000-0000-4000-8000-000000052d01',
    'an admin writes an external analysis in their own name'
);
SELECT is((pg_temp.val('ext3') ->> 'is_flagged')::boolean, TRUE, 'lmi exactly 0.5 is flagged');

-- ---------------------------------------------------------------------------
-- Values the database refuses (400), attempts it will not analyse
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000052c01');
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 100.01, 0) $$,
    '22023', 'integrity_score must be a number from 0 to 100',
    'integrity_score above 100 is refused'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', -1, 0) $$,
    '22023', 'integrity_score must be a number from 0 to 100',
    'a negative integrity_score is refused'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', NULL, 0) $$,
    '22023', 'integrity_score must be a number from 0 to 100',
    'integrity_score is required'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, 1.01) $$,
    '22023', 'lmi_score must be a number from 0 to 1',
    'lmi_score above 1 is refused'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, -0.1) $$,
    '22023', 'lmi_score must be a number from 0 to 1',
    'a negative lmi_score is refused'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, 'NaN') $$,
    '22023', 'lmi_score must be a number from 0 to 1',
    'NaN is not a score'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, 0.1, '{"code": "x"}') $$,
    '22023', 'flags must be a list of objects',
    'flags must be a list'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, 0.1, '["tab"]') $$,
    '22023', 'flags must be a list of objects',
    'each flag must be an object'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, 0.1, '[]', repeat('x', 20001)) $$,
    '22023', 'summary holds at most 20000 characters',
    'a summary over 20000 characters is refused'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052001', 50, 0.1, '[]', NULL, repeat('m', 201)) $$,
    '22023', 'model holds at most 200 characters',
    'a model name over 200 characters is refused'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-0000000520ff', 50, 0.1) $$,
    'VT404', 'attempt not found',
    'an unknown attempt is 404'
);
SELECT throws_ok(
    $$ SELECT api.save_behavior_analysis('00000000-0000-4000-8000-000000052002', 50, 0.1) $$,
    'VT409', 'the attempt is in_progress: only a submitted or expired attempt is analysed',
    'an attempt in progress is not analysed (409)'
);
-- The table's own checks stand behind the function's.
SELECT throws_ok(
    $$ INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, created_by)
       VALUES ('00000000-0000-4000-8000-000000052001', 'external', 'm', 50, 2,
               '00000000-0000-4000-8000-000000052c01') $$,
    '23514', NULL,
    'a direct insert with lmi 2 breaks the table''s check (23514, 400)'
);
SELECT throws_ok(
    $$ INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, created_by)
       VALUES ('00000000-0000-4000-8000-000000052001', 'external', 'm', 50, 0.5,
               '00000000-0000-4000-8000-000000052d01') $$,
    '42501', NULL,
    'an integration account cannot write in someone else''s name'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT count(*)::int FROM app.behavior_analyses WHERE attempt_id = '00000000-0000-4000-8000-000000052001'),
    4,
    'nothing refused was stored'
);

-- ---------------------------------------------------------------------------
-- Who may read (404 for an attempt the caller may not see)
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000052b02');
SELECT throws_ok(
    $$ SELECT api.get_behavior_analysis('00000000-0000-4000-8000-000000052001') $$,
    'VT404', 'no analysis of this attempt',
    'another student gets 404'
);
SELECT tests.become('00000000-0000-4000-8000-000000052a02');
SELECT throws_ok(
    $$ SELECT api.get_behavior_analysis('00000000-0000-4000-8000-000000052001') $$,
    'VT404', 'no analysis of this attempt',
    'a teacher without permission on the exam gets 404'
);
-- Granted the exam, Theo sees it.
SELECT tests.unbecome();
INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by)
VALUES ('00000000-0000-4000-8000-000000052e01', '00000000-0000-4000-8000-000000052a02',
        '00000000-0000-4000-8000-000000052a01');
SELECT tests.become('00000000-0000-4000-8000-000000052a02');
SELECT is(
    api.get_behavior_analysis('00000000-0000-4000-8000-000000052001') ->> 'id',
    pg_temp.val('ext3') ->> 'id',
    'a teacher granted the exam reads the latest analysis'
);
SELECT tests.become('00000000-0000-4000-8000-000000052c01');
SELECT is(
    api.get_behavior_analysis('00000000-0000-4000-8000-000000052001') ->> 'id',
    pg_temp.val('ext3') ->> 'id',
    'the integration account reads it too (the engine builds on it)'
);
SELECT tests.become('00000000-0000-4000-8000-000000052d01');
SELECT throws_ok(
    $$ SELECT api.get_behavior_analysis('00000000-0000-4000-8000-000000052002') $$,
    'VT404', 'no analysis of this attempt',
    'an attempt without analysis is 404, even for an admin'
);
SELECT tests.unbecome();

SELECT volatility_is('api', 'get_behavior_analysis', ARRAY['uuid'], 'volatile',
    'get_behavior_analysis is VOLATILE: a teacher''s read is logged as a disclosure');
SELECT isnt_definer('api', 'save_behavior_analysis', ARRAY['uuid', 'numeric', 'numeric', 'jsonb', 'text', 'text'],
    'save_behavior_analysis runs with the caller''s rights (RLS decides)');
SELECT function_privs_are(
    'api', 'save_behavior_analysis', ARRAY['uuid', 'numeric', 'numeric', 'jsonb', 'text', 'text'],
    'integration', ARRAY['EXECUTE'], 'integration may write analyses'
);
SELECT function_privs_are(
    'api', 'save_behavior_analysis', ARRAY['uuid', 'numeric', 'numeric', 'jsonb', 'text', 'text'],
    'student', ARRAY[]::text[], 'students may not write analyses'
);
SELECT function_privs_are(
    'api', 'save_behavior_analysis', ARRAY['uuid', 'numeric', 'numeric', 'jsonb', 'text', 'text'],
    'teacher', ARRAY[]::text[], 'teachers may not write analyses'
);
SELECT function_privs_are(
    'api', 'get_behavior_analysis', ARRAY['uuid'], 'anon', ARRAY[]::text[],
    'anonymous callers may not read analyses'
);

-- ---------------------------------------------------------------------------
-- update_performance_metrics, update_student_profile_stats
-- ---------------------------------------------------------------------------

-- Damage the figures by hand: the functions put them right from the data.
UPDATE app.performance_metrics SET average_integrity = 1, flags_count = 9, exams_taken = 7
WHERE student_id = '00000000-0000-4000-8000-000000052b01';
UPDATE app.student_profiles SET integrity_score = 1, lmi_score = 1
WHERE user_id = '00000000-0000-4000-8000-000000052b01';

SELECT tests.become('00000000-0000-4000-8000-000000052c01');
SELECT pg_temp.keep('metrics', api.update_performance_metrics('00000000-0000-4000-8000-000000052b01')::text);
SELECT is(
    pg_temp.val('metrics') - 'updated_at',
    '{"student_id": "00000000-0000-4000-8000-000000052b01", "exams_taken": 1, "attempts_count": 1,
      "average_score": 80, "best_score": 80, "average_integrity": 40, "flags_count": 1, "trend": null}'::jsonb,
    'update_performance_metrics recomputes from the data (latest analysis: integrity 40, flagged)'
);
SELECT is(
    api.update_performance_metrics('00000000-0000-4000-8000-000000052b01') - 'updated_at',
    pg_temp.val('metrics') - 'updated_at',
    'calling it again changes nothing'
);
SELECT pg_temp.keep('profile', api.update_student_profile_stats('00000000-0000-4000-8000-000000052b01')::text);
SELECT is(
    pg_temp.val('profile') - 'updated_at',
    '{"student_id": "00000000-0000-4000-8000-000000052b01", "integrity_score": 40, "lmi_score": 0.5,
      "exams_taken": 1, "average_score": 80, "best_score": 80, "flags_count": 1}'::jsonb,
    'update_student_profile_stats recomputes the profile: the latest analysis of the latest attempt'
);
SELECT is(
    api.update_student_profile_stats('00000000-0000-4000-8000-000000052b02') - 'updated_at',
    '{"student_id": "00000000-0000-4000-8000-000000052b02", "integrity_score": null, "lmi_score": null,
      "exams_taken": 0, "average_score": null, "best_score": null, "flags_count": 0}'::jsonb,
    'a student without attempts has empty figures'
);
SELECT throws_ok(
    $$ SELECT api.update_performance_metrics('00000000-0000-4000-8000-000000052a01') $$,
    'VT404', 'student not found',
    'a teacher''s id is not a student: 404'
);
SELECT throws_ok(
    $$ SELECT api.update_student_profile_stats('00000000-0000-4000-8000-0000000520ff') $$,
    'VT404', 'student not found',
    'an unknown student is 404'
);
SELECT tests.become('00000000-0000-4000-8000-000000052d01');
SELECT is(
    api.update_performance_metrics('00000000-0000-4000-8000-000000052b01') ->> 'average_integrity',
    '40',
    'an admin may recompute too'
);
SELECT tests.become('00000000-0000-4000-8000-000000052b01');
SELECT throws_ok(
    $$ SELECT api.update_performance_metrics('00000000-0000-4000-8000-000000052b01') $$,
    '42501', NULL,
    'a student may not call update_performance_metrics, not even for themself'
);
SELECT throws_ok(
    $$ SELECT api.update_student_profile_stats('00000000-0000-4000-8000-000000052b01') $$,
    '42501', NULL,
    'a student may not call update_student_profile_stats'
);
SELECT tests.become('00000000-0000-4000-8000-000000052a01');
SELECT throws_ok(
    $$ SELECT api.update_performance_metrics('00000000-0000-4000-8000-000000052b01') $$,
    '42501', NULL,
    'a teacher may not call update_performance_metrics'
);
SELECT tests.unbecome();

SELECT function_privs_are('api', 'update_performance_metrics', ARRAY['uuid'], 'integration', ARRAY['EXECUTE'],
    'integration may call update_performance_metrics');
SELECT function_privs_are('api', 'update_student_profile_stats', ARRAY['uuid'], 'teacher', ARRAY[]::text[],
    'teachers may not call update_student_profile_stats');

SELECT * FROM finish();
ROLLBACK;
