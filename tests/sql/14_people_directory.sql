-- 14 finding people: the admin's list of users (api.get_users) and a
-- teacher's search for a colleague or a student (api.find_teachers,
-- api.find_students). Who may call them; what a teacher finds (other active
-- teachers' names and emails; only the students they can already see);
-- filters and keyset pages of the admin's list; a role switched to without
-- its claims finds nothing (docs/exams.md).
--
-- The database is shared with other tests: every fixture's name holds
-- "Zyx" and every search is for it.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(41);

-- ---------------------------------------------------------------------------
-- Fixtures: Tess owns E1, Theo owns E2; Tara is a disabled teacher. Alice
-- took E1, Bob E2, Cara nothing; Dan took E1 and is disabled. Ada is an
-- admin, Ian an integration account.
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role, is_active) VALUES
('00000000-0000-4000-8000-000000140a01', 'pd-tess@example.org', 'x', 'Zyx Tess', 'teacher', TRUE),
('00000000-0000-4000-8000-000000140a02', 'pd-theo@example.org', 'x', 'Zyx Theo', 'teacher', TRUE),
('00000000-0000-4000-8000-000000140a03', 'pd-tara@example.org', 'x', 'Zyx Tara', 'teacher', FALSE),
('00000000-0000-4000-8000-000000140d01', 'pd-ada@example.org', 'x', 'Zyx Ada', 'admin', TRUE),
('00000000-0000-4000-8000-000000140e01', 'pd-ian@example.org', 'x', 'Zyx Ian', 'integration', TRUE),
('00000000-0000-4000-8000-000000140b01', 'pd-alice@example.org', 'x', 'Zyx Alice', 'student', TRUE),
('00000000-0000-4000-8000-000000140b02', 'pd-bob@example.org', 'x', 'Zyx Bob', 'student', TRUE),
('00000000-0000-4000-8000-000000140b03', 'pd-cara@example.org', 'x', 'Zyx Cara', 'student', TRUE),
('00000000-0000-4000-8000-000000140b04', 'pd-dan@example.org', 'x', 'Zyx Dan', 'student', FALSE);
INSERT INTO app.student_profiles (user_id) VALUES
('00000000-0000-4000-8000-000000140b01'),
('00000000-0000-4000-8000-000000140b02'),
('00000000-0000-4000-8000-000000140b03'),
('00000000-0000-4000-8000-000000140b04');
INSERT INTO app.teacher_profiles (user_id, department) VALUES
('00000000-0000-4000-8000-000000140a01', 'Physics'),
('00000000-0000-4000-8000-000000140a02', NULL);

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, max_attempts) VALUES
('00000000-0000-4000-8000-000000140f01', 'People E1', '00000000-0000-4000-8000-000000140a01', 60,
 now() - interval '1 day', now() + interval '1 day', 3),
('00000000-0000-4000-8000-000000140f02', 'People E2', '00000000-0000-4000-8000-000000140a02', 60,
 now() - interval '1 day', now() + interval '1 day', 3);
INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id) VALUES
('00000000-0000-4000-8000-000000140f01', '00000000-0000-4000-8000-000000140a01'),
('00000000-0000-4000-8000-000000140f02', '00000000-0000-4000-8000-000000140a02');
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
) VALUES
('00000000-0000-4000-8000-000000140001', '00000000-0000-4000-8000-000000140f01',
 '00000000-0000-4000-8000-000000140b01', 1, 'submitted', now() - interval '3 hours',
 now() - interval '2 hours', now() - interval '150 minutes', 4, 10, '[]', '[]'),
('00000000-0000-4000-8000-000000140002', '00000000-0000-4000-8000-000000140f02',
 '00000000-0000-4000-8000-000000140b02', 1, 'submitted', now() - interval '3 hours',
 now() - interval '2 hours', now() - interval '150 minutes', 4, 10, '[]', '[]'),
('00000000-0000-4000-8000-000000140003', '00000000-0000-4000-8000-000000140f01',
 '00000000-0000-4000-8000-000000140b04', 1, 'submitted', now() - interval '3 hours',
 now() - interval '2 hours', now() - interval '150 minutes', 4, 10, '[]', '[]');

-- The names of a list of people, in its order.
CREATE FUNCTION pg_temp.names(p_people jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(p.e ->> 'full_name' ORDER BY p.n), '{}')
    FROM jsonb_array_elements(p_people) WITH ORDINALITY AS p (e, n)
$$;
CREATE FUNCTION pg_temp.emails(p_people jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(p.e ->> 'email' ORDER BY p.n), '{}')
    FROM jsonb_array_elements(p_people) WITH ORDINALITY AS p (e, n)
$$;

-- ---------------------------------------------------------------------------
-- Who may call what
-- ---------------------------------------------------------------------------

SELECT function_privs_are(
    'api', 'get_users', ARRAY['text', 'boolean', 'text', 'text', 'integer'], 'admin',
    ARRAY['EXECUTE'], 'an admin lists users'
);
SELECT function_privs_are(
    'api', 'get_users', ARRAY['text', 'boolean', 'text', 'text', 'integer'], 'teacher',
    ARRAY[]::text[], 'a teacher may not list users'
);
SELECT function_privs_are(
    'api', 'get_users', ARRAY['text', 'boolean', 'text', 'text', 'integer'], 'student',
    ARRAY[]::text[], 'a student may not list users'
);
SELECT function_privs_are(
    'api', 'get_users', ARRAY['text', 'boolean', 'text', 'text', 'integer'], 'integration',
    ARRAY[]::text[], 'an integration account may not list users'
);
SELECT function_privs_are(
    'api', 'find_teachers', ARRAY['text', 'integer'], 'teacher', ARRAY['EXECUTE'],
    'a teacher finds colleagues'
);
SELECT function_privs_are(
    'api', 'find_teachers', ARRAY['text', 'integer'], 'student', ARRAY[]::text[],
    'a student may not search for teachers'
);
SELECT function_privs_are(
    'api', 'find_students', ARRAY['text', 'integer'], 'student', ARRAY[]::text[],
    'a student may not search for students'
);
SELECT function_privs_are(
    'api', 'find_students', ARRAY['text', 'integer'], 'integration', ARRAY[]::text[],
    'an integration account may not search for students'
);
SELECT function_privs_are(
    'internal', 'find_active_teachers', ARRAY['text', 'integer'], 'student', ARRAY[]::text[],
    'a student may not call the staff directory helper'
);
SELECT is_definer(
    'internal', 'find_active_teachers', ARRAY['text', 'integer'],
    'the staff directory crosses the policies of auth.users, narrowly'
);
SELECT isnt_definer(
    'api', 'find_students', ARRAY['text', 'integer'],
    'the student search runs with the caller''s rights: the policies decide'
);
SELECT isnt_definer(
    'api', 'get_users', ARRAY['text', 'boolean', 'text', 'text', 'integer'],
    'the admin''s list runs with the caller''s rights'
);

-- ---------------------------------------------------------------------------
-- A teacher's search
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000140a01');  -- Tess
SELECT is(
    pg_temp.names(api.find_teachers('zyx')), ARRAY['Zyx Theo'],
    'Tess finds the other active teachers only: not herself, a disabled teacher, an admin, an integration account or a student'
);
SELECT is(
    pg_temp.names(api.find_teachers('PD-THEO@')), ARRAY['Zyx Theo'],
    'by email too, case-insensitively'
);
SELECT is(
    (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(api.find_teachers('zyx theo') -> 0) AS k),
    ARRAY['email', 'full_name', 'id'],
    'a colleague is an id, a name and an email, nothing more'
);
SELECT is(
    pg_temp.names(api.find_students('zyx')), ARRAY['Zyx Alice'],
    'Tess finds only the students she can see: Alice (her exam), not Bob (another teacher''s), Cara (no attempt) or Dan (disabled)'
);
SELECT is(
    api.find_students('pd-bob@example.org'), '[]'::jsonb,
    'a student she cannot see is not found, even by exact email'
);
SELECT is(
    api.find_students('%'), '[]'::jsonb,
    'a LIKE wildcard matches itself, not every student'
);
SELECT throws_ok(
    $$ SELECT api.find_students('zyx', 0) $$, '22023', NULL,
    'a limit of 0 is refused'
);
SELECT throws_ok(
    $$ SELECT api.find_teachers(repeat('z', 201)) $$, '22023', NULL,
    'a search of more than 200 characters is refused'
);
SELECT throws_ok(
    $$ SELECT api.get_users() $$, '42501', NULL,
    'a teacher cannot list users'
);

SELECT tests.become('00000000-0000-4000-8000-000000140a02');  -- Theo
SELECT is(
    pg_temp.names(api.find_students('zyx')), ARRAY['Zyx Bob'],
    'Theo finds Bob, of his exam, and nobody else'
);
SELECT is(
    pg_temp.names(api.find_teachers('zyx')), ARRAY['Zyx Tess'],
    'and Tess among the teachers'
);

-- ---------------------------------------------------------------------------
-- The admin's list and search
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000140d01');  -- Ada
SELECT is(
    pg_temp.names(api.find_students('zyx')), ARRAY['Zyx Alice', 'Zyx Bob', 'Zyx Cara'],
    'an admin finds every active student'
);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx')),
    ARRAY['pd-ada@example.org', 'pd-alice@example.org', 'pd-bob@example.org', 'pd-cara@example.org',
          'pd-dan@example.org', 'pd-ian@example.org', 'pd-tara@example.org', 'pd-tess@example.org',
          'pd-theo@example.org'],
    'the admin''s list: every user matching, by email'
);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx', role => 'teacher')),
    ARRAY['pd-tara@example.org', 'pd-tess@example.org', 'pd-theo@example.org'],
    'filtered by role'
);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx', role => 'integration')),
    ARRAY['pd-ian@example.org'],
    'integration accounts included'
);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx', active => FALSE)),
    ARRAY['pd-dan@example.org', 'pd-tara@example.org'],
    'filtered by activity: the disabled accounts'
);
SELECT is(
    (api.get_users(q => 'pd-tess') -> 0) - 'created_at',
    '{"id": "00000000-0000-4000-8000-000000140a01", "email": "pd-tess@example.org", "full_name": "Zyx Tess", "role": "teacher", "is_active": true, "department": "Physics", "sessions_revoked_at": null}'::jsonb,
    'a user as the admin sees them: role, activity, department, sessions revoked'
);
SELECT set_config('response.next_page', '', TRUE);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx', "limit" => 4)),
    ARRAY['pd-ada@example.org', 'pd-alice@example.org', 'pd-bob@example.org', 'pd-cara@example.org'],
    'a page of 4'
);
SELECT is(
    current_setting('response.next_page', TRUE)::jsonb, '{"after_email": "pd-cara@example.org"}'::jsonb,
    'a page that is not the last names the next (its last email)'
);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx', "limit" => 4, after_email => 'pd-cara@example.org')),
    ARRAY['pd-dan@example.org', 'pd-ian@example.org', 'pd-tara@example.org', 'pd-tess@example.org'],
    'the next page'
);
SELECT set_config('response.next_page', '', TRUE);
SELECT is(
    pg_temp.emails(api.get_users(q => 'zyx', "limit" => 4, after_email => 'PD-TESS@example.org')),
    ARRAY['pd-theo@example.org'],
    'the last page (after_email compared case-insensitively)'
);
SELECT is(current_setting('response.next_page', TRUE), '', 'the last page names no next one');
SELECT throws_ok(
    $$ SELECT api.get_users(role => 'wizard') $$, '22023', NULL,
    'an unknown role is refused'
);
SELECT throws_ok(
    $$ SELECT api.get_users("limit" => 501) $$, '22023', NULL,
    'a limit over 500 is refused'
);

-- ---------------------------------------------------------------------------
-- Students and integration accounts, and roles without their claims
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000140b01');  -- Alice
SELECT throws_ok($$ SELECT api.find_students('zyx') $$, '42501', NULL, 'a student cannot search students');
SELECT throws_ok($$ SELECT api.find_teachers('zyx') $$, '42501', NULL, 'a student cannot search teachers');
SELECT tests.become('00000000-0000-4000-8000-000000140e01');  -- Ian
SELECT throws_ok($$ SELECT api.get_users() $$, '42501', NULL, 'an integration account cannot list users');

-- A login that switches to a role without the claims of a user of it.
SELECT tests.unbecome();
SELECT set_config('role', 'teacher', TRUE);
SELECT is(api.find_teachers('zyx'), '[]'::jsonb, 'the teacher role without claims finds no colleague');
SELECT set_config('role', 'admin', TRUE);
SELECT throws_ok($$ SELECT api.get_users() $$, '42501', NULL, 'the admin role without claims lists nobody');
SELECT tests.unbecome();

SELECT * FROM finish();
ROLLBACK;
