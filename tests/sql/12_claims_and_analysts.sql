-- 12 claims and analysts: the claim readers trust the claims only under the
-- database role they name; claims set by hand gain nothing (a student
-- claiming to be an admin, the analyst login claiming to be anyone); the
-- analyst reads the pseudonymous analytics views and nothing else.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(37);

-- ---------------------------------------------------------------------------
-- Fixtures: an admin, a teacher's exam, a student with a submitted attempt,
-- and four classmates with theirs (the analysts' views show nothing of an
-- exam with fewer than five students).
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000001201', 'claims-ada@example.org', 'x', 'Ada', 'admin'),
('00000000-0000-4000-8000-000000001202', 'claims-tina@example.org', 'x', 'Tina', 'teacher'),
('00000000-0000-4000-8000-000000001203', 'claims-alice@example.org', 'x', 'Alice', 'student');
INSERT INTO app.student_profiles (user_id, pseudonym, average_score) VALUES
('00000000-0000-4000-8000-000000001203', '00000000-0000-4000-8000-0000000012f3', 50);
INSERT INTO app.performance_metrics (student_id, attempts_count) VALUES
('00000000-0000-4000-8000-000000001203', 1);
INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at) VALUES
('00000000-0000-4000-8000-0000000012e1', 'Claims exam', '00000000-0000-4000-8000-000000001202', 30,
 now() - interval '1 hour', now() + interval '1 hour');
INSERT INTO app.exam_attempts (
    exam_id, student_id, attempt_number, status, started_at, deadline, finished_at, score,
    max_score, question_order, scored_against
) VALUES (
    '00000000-0000-4000-8000-0000000012e1', '00000000-0000-4000-8000-000000001203', 1, 'submitted',
    now() - interval '20 minutes', now() + interval '10 minutes', now() - interval '5 minutes',
    3, 4, '[]', '[]'
);
INSERT INTO app.exam_attempts (
    exam_id, student_id, attempt_number, status, started_at, deadline, finished_at, score,
    max_score, question_order, scored_against
)
SELECT
    '00000000-0000-4000-8000-0000000012e1', tests.create_user('student'), 1, 'submitted',
    now() - interval '20 minutes', now() + interval '10 minutes', now() - interval '5 minutes',
    3, 4, '[]', '[]'
FROM generate_series(1, 4);

-- ---------------------------------------------------------------------------
-- The claim readers
-- ---------------------------------------------------------------------------

SELECT set_config('request.jwt.claims', 'not json at all', TRUE);
SELECT is(internal.jwt_claims(), NULL, 'claims that are not JSON read as NULL');
SELECT set_config('request.jwt.claims', '[1, 2]', TRUE);
SELECT is(internal.jwt_claims(), NULL, 'claims that are not a JSON object read as NULL');
SELECT set_config('request.jwt.claims', '', TRUE);
SELECT is(internal.jwt_claims(), NULL, 'empty claims read as NULL');
SELECT set_config('request.jwt.claims', '{"sub": "x"}', TRUE);
SELECT is(internal.jwt_claims(), '{"sub": "x"}'::jsonb, 'a JSON object reads as itself');

-- As the student, with the student's claims.
SELECT tests.become('00000000-0000-4000-8000-000000001203');
SELECT is(internal.current_user_id(), '00000000-0000-4000-8000-000000001203'::uuid, 'the student''s id, from sub');
SELECT is(internal.current_app_role(), 'student', 'the student''s role, from the role claim');

-- The same database role, claiming to be the admin: the claims do not hold.
SELECT set_config(
    'request.jwt.claims', tests.claims_for('00000000-0000-4000-8000-000000001201', 'admin')::text, TRUE
);
SELECT is(internal.current_user_id(), NULL, 'a role claim that is not the database role: no user id');
SELECT is(internal.current_app_role(), NULL, '... and no role');
SELECT is((SELECT count(*)::integer FROM auth.users), 0, 'a student claiming to be an admin sees no user at all');
SELECT is((SELECT count(*)::integer FROM app.exam_attempts), 0, '... and no attempt');
SELECT throws_ok($$ SELECT api.me() $$, 'VT401', 'the session has ended', 'api.me refuses such claims');
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'and so does the session check'
);
SELECT ok(
    NOT api.can_access_exam('00000000-0000-4000-8000-0000000012e1'),
    'the admin''s claims do not open the access helpers to the student role'
);
SELECT throws_ok('SELECT 1 FROM audit.log', '42501', NULL, 'the student role reads no audit log whatever it claims');

-- A sub that is not a UUID.
SELECT set_config('request.jwt.claims', '{"sub": "1 OR 1=1", "role": "student"}', TRUE);
SELECT is(internal.current_user_id(), NULL, 'a sub that is not a UUID is no user id');
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- The analyst: a direct login that sets an admin's claims by hand
-- ---------------------------------------------------------------------------

SET LOCAL ROLE analyst;
SELECT set_config(
    'request.jwt.claims', tests.claims_for('00000000-0000-4000-8000-000000001201', 'admin')::text, TRUE
);
SELECT throws_ok('SELECT 1 FROM auth.users', '42501', NULL, 'the analyst with admin claims cannot read auth.users');
SELECT throws_ok('SELECT 1 FROM app.exam_attempts', '42501', NULL, '... nor app.exam_attempts');
SELECT throws_ok('SELECT 1 FROM app.student_profiles', '42501', NULL, '... nor app.student_profiles');
SELECT throws_ok('SELECT 1 FROM app.monitoring_events', '42501', NULL, '... nor app.monitoring_events');
SELECT throws_ok('SELECT 1 FROM audit.security_events', '42501', NULL, '... nor the audit trail');
SELECT throws_ok('SELECT internal.current_user_id()', '42501', NULL, '... nor call the internal helpers');
SELECT throws_ok('SELECT api.me()', '42501', NULL, '... nor call the API');

SELECT is(
    (SELECT format('%s %s %s', attempts, submitted, average_score) FROM analytics.exam_overview
     WHERE exam_id = '00000000-0000-4000-8000-0000000012e1'),
    '5 5 3.00', 'the analyst reads the exam overview'
);
SELECT is(
    (SELECT average_score FROM analytics.student_overview
     WHERE pseudonym = '00000000-0000-4000-8000-0000000012f3'),
    50::numeric, 'the analyst reads a student''s overview by pseudonym'
);
RESET ROLE;
SELECT tests.unbecome();

-- ... nor become a request role: SET ROLE is checked against the login (the
-- session user), which for the analyst is a member of no other role. (Not
-- testable by SET ROLE here: this session's user is a superuser.)
SELECT is_empty(
    $$
    SELECT r.rolname FROM pg_catalog.pg_roles AS r
    WHERE r.rolname <> 'analyst' AND pg_has_role('analyst', r.oid, 'MEMBER')
    $$,
    'the analyst login is a member of no other role'
);

-- ---------------------------------------------------------------------------
-- The analytics views
-- ---------------------------------------------------------------------------

SELECT columns_are(
    'analytics', 'student_overview',
    ARRAY[
        'pseudonym', 'exams_taken', 'attempts_count', 'average_score', 'best_score', 'trend',
        'integrity_score', 'lmi_score', 'average_integrity', 'flags_count', 'metrics_updated_on'
    ],
    'student_overview names students by pseudonym only: no user id, email or name'
);
SELECT is_empty(
    $$
    SELECT c.relname, a.attname
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'analytics' AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname IN ('user_id', 'student_id', 'email', 'full_name', 'student_number', 'password_hash')
    $$,
    'no analytics view exposes a user id, email, name or student number'
);
SELECT is_empty(
    $$
    SELECT c.relname
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'analytics' AND c.relkind = 'v'
        AND NOT coalesce(c.reloptions @> ARRAY['security_barrier=true'], FALSE)
    $$,
    'every analytics view is a security_barrier view'
);
SELECT is_empty(
    $$
    SELECT c.relname
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'analytics' AND c.relkind IN ('v', 'm')
        AND obj_description(c.oid, 'pg_class') !~ '(security_barrier|security_invoker)'
    $$,
    'every analytics view says in its comment whether it is security_barrier or security_invoker'
);
SELECT table_privs_are(
    'analytics', 'exam_overview', 'analyst', ARRAY['SELECT'], 'the analyst may read exam_overview'
);
SELECT table_privs_are(
    'analytics', 'student_overview', 'analyst', ARRAY['SELECT'], 'the analyst may read student_overview'
);
SELECT table_privs_are(
    'analytics', 'student_overview', 'student', ARRAY[]::text[], 'a student may not read the analytics views'
);
SELECT schema_privs_are('analytics', 'analyst', ARRAY['USAGE'], 'the analyst may use the analytics schema');
SELECT schema_privs_are('analytics', 'teacher', ARRAY[]::text[], 'a teacher may not use the analytics schema');
SELECT schema_privs_are('internal', 'analyst', ARRAY[]::text[], 'the analyst may not use the internal schema');

SET LOCAL ROLE worker;
SELECT throws_ok('SELECT 1 FROM analytics.exam_overview', '42501', NULL, 'the worker role cannot read the analytics views');
RESET ROLE;

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
