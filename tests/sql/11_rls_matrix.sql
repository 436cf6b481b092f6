-- 11 RLS matrix: for every table and every role, which of SELECT, INSERT,
-- UPDATE and DELETE succeed, and on which rows.
--
-- The cast: students alice (an attempt on E1), bob (an attempt on E2), carl
-- (extra time on E1, no attempt: invisible to E1's teachers) and dave (nothing); teachers tina (created
-- E1, the draft E3 and E4, which opens tomorrow), tom (created E2) and gina
-- (granted E1 by tina); the admin ada; the integration account ivy. Each
-- assertion acts as one of them (tests.become) and names the fixture rows
-- it can see (pg_temp.names), so rows committed by other tests in the same
-- database do not matter. Refusals by RLS on UPDATE and DELETE are silent:
-- the state is checked afterwards, as the superuser.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(208);

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------

CREATE TEMPORARY TABLE ids (name text PRIMARY KEY, id uuid NOT NULL UNIQUE);
GRANT SELECT ON ids TO PUBLIC;
INSERT INTO ids (name, id) VALUES
('alice', '00000000-0000-4000-8000-0000000011a1'),
('bob', '00000000-0000-4000-8000-0000000011a2'),
('carl', '00000000-0000-4000-8000-0000000011a3'),
('dave', '00000000-0000-4000-8000-0000000011a4'),
('tina', '00000000-0000-4000-8000-0000000011b1'),
('tom', '00000000-0000-4000-8000-0000000011b2'),
('gina', '00000000-0000-4000-8000-0000000011b3'),
('ada', '00000000-0000-4000-8000-0000000011c1'),
('ivy', '00000000-0000-4000-8000-0000000011d1'),
('e1', '00000000-0000-4000-8000-0000000011e1'),
('e2', '00000000-0000-4000-8000-0000000011e2'),
('e3', '00000000-0000-4000-8000-0000000011e3'),
('e4', '00000000-0000-4000-8000-0000000011e4'),
('q1', '00000000-0000-4000-8000-0000000011f1'),
('q2', '00000000-0000-4000-8000-0000000011f2'),
('q3', '00000000-0000-4000-8000-0000000011f3'),
('q4', '00000000-0000-4000-8000-0000000011f4'),
('att_alice', '00000000-0000-4000-8000-000000001171'),
('att_bob', '00000000-0000-4000-8000-000000001172'),
('an_alice', '00000000-0000-4000-8000-000000001181'),
('an_bob', '00000000-0000-4000-8000-000000001182'),
('ev_alice', '00000000-0000-4000-8000-000000001191'),
('ev_bob', '00000000-0000-4000-8000-000000001192'),
('review', '00000000-0000-4000-8000-000000001161'),
('job', '00000000-0000-4000-8000-000000001151');

CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT id FROM pg_temp.ids WHERE name = p_name $$;

-- The fixture rows a query returns (its first column: an id), by name,
-- sorted; run as the current role, so under its RLS.
CREATE FUNCTION pg_temp.names(p_query text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    v_names text[];
BEGIN
    EXECUTE format(
        'SELECT coalesce(array_agg(i.name ORDER BY i.name), ''{}'')
         FROM (%s) AS q (id) JOIN pg_temp.ids AS i ON i.id = q.id', p_query
    ) INTO v_names;
    RETURN v_names;
END
$$;

-- The events a caller reads: no request role reads app.monitoring_events
-- itself (sql/policies/monitoring.sql); each fixture attempt's timeline
-- (internal.attempt_timeline, the door of both timeline routes) is asked
-- for, and an attempt the caller may not see (VT404) gives nothing.
CREATE FUNCTION pg_temp.timeline_names() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    v_names text[] := '{}';
    v_attempt uuid;
BEGIN
    FOR v_attempt IN SELECT i.id FROM pg_temp.ids AS i WHERE i.name LIKE 'att\_%' LOOP
        BEGIN
            v_names := v_names || ARRAY(
                SELECT i.name
                FROM jsonb_array_elements(internal.attempt_timeline(v_attempt, NULL, NULL, 100)) AS e
                JOIN pg_temp.ids AS i ON i.id = (e ->> 'id')::uuid
            );
        EXCEPTION WHEN SQLSTATE 'VT404' THEN
            NULL;
        END;
    END LOOP;
    RETURN ARRAY(SELECT n FROM unnest(v_names) AS n ORDER BY n);
END
$$;

-- The same for a query of two ids (a composite key): 'e1/tina'.
CREATE FUNCTION pg_temp.pairs(p_query text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    v_pairs text[];
BEGIN
    EXECUTE format(
        'SELECT coalesce(array_agg(i.name || ''/'' || j.name ORDER BY i.name, j.name), ''{}'')
         FROM (%s) AS q (a, b)
         JOIN pg_temp.ids AS i ON i.id = q.a JOIN pg_temp.ids AS j ON j.id = q.b', p_query
    ) INTO v_pairs;
    RETURN v_pairs;
END
$$;

INSERT INTO auth.users (id, email, password_hash, full_name, role)
SELECT i.id, 'rls-' || i.name || '@example.org', 'x', initcap(i.name), r.role::auth.user_role
FROM pg_temp.ids AS i
JOIN (VALUES
    ('alice', 'student'), ('bob', 'student'), ('carl', 'student'), ('dave', 'student'),
    ('tina', 'teacher'), ('tom', 'teacher'), ('gina', 'teacher'), ('ada', 'admin'),
    ('ivy', 'integration')
) AS r (name, role) ON r.name = i.name;
INSERT INTO app.student_profiles (user_id)
SELECT pg_temp.id(n) FROM unnest(ARRAY['alice', 'bob', 'carl', 'dave']) AS n;
INSERT INTO app.performance_metrics (student_id)
SELECT pg_temp.id(n) FROM unnest(ARRAY['alice', 'bob', 'carl', 'dave']) AS n;
INSERT INTO app.teacher_profiles (user_id, department)
SELECT pg_temp.id(n), 'Testing' FROM unnest(ARRAY['tina', 'tom', 'gina', 'ada']) AS n;

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, published) VALUES
(pg_temp.id('e1'), 'E1', pg_temp.id('tina'), 60, now() - interval '1 hour', now() + interval '1 day', TRUE),
(pg_temp.id('e2'), 'E2', pg_temp.id('tom'), 60, now() - interval '1 hour', now() + interval '1 day', TRUE),
(pg_temp.id('e3'), 'E3', pg_temp.id('tina'), 60, now() - interval '1 hour', now() + interval '1 day', FALSE),
(pg_temp.id('e4'), 'E4', pg_temp.id('tina'), 60, now() + interval '1 day', now() + interval '2 days', TRUE);
INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by) VALUES
(pg_temp.id('e1'), pg_temp.id('tina'), pg_temp.id('tina')),
(pg_temp.id('e3'), pg_temp.id('tina'), pg_temp.id('tina')),
(pg_temp.id('e4'), pg_temp.id('tina'), pg_temp.id('tina')),
(pg_temp.id('e2'), pg_temp.id('tom'), pg_temp.id('tom')),
(pg_temp.id('e1'), pg_temp.id('gina'), pg_temp.id('tina'));
INSERT INTO app.questions (id, exam_id, position, kind, prompt, options, correct, points)
SELECT pg_temp.id('q' || n), pg_temp.id('e' || n), 1, 'single_choice', '2 + 2?', '["3", "4"]', '"4"', 2
FROM generate_series(1, 4) AS n;
INSERT INTO app.accommodations (exam_id, student_id, extra_minutes) VALUES
(pg_temp.id('e1'), pg_temp.id('carl'), 30);

INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, scored_against
) VALUES
(
    pg_temp.id('att_alice'), pg_temp.id('e1'), pg_temp.id('alice'), 1, 'submitted',
    now() - interval '30 minutes', now() + interval '30 minutes', now() - interval '10 minutes', 2, 2,
    jsonb_build_array(pg_temp.id('q1')),
    jsonb_build_array(jsonb_build_object('id', pg_temp.id('q1'), 'correct', '4', 'points', 2))
),
(
    pg_temp.id('att_bob'), pg_temp.id('e2'), pg_temp.id('bob'), 1, 'in_progress',
    now() - interval '5 minutes', now() + interval '25 minutes', NULL, NULL, NULL,
    jsonb_build_array(pg_temp.id('q2')),
    jsonb_build_array(jsonb_build_object('id', pg_temp.id('q2'), 'correct', '4', 'points', 2))
);
INSERT INTO app.attempt_answers (attempt_id, question_id, answer, points_awarded) VALUES
(pg_temp.id('att_alice'), pg_temp.id('q1'), '"4"', 2),
(pg_temp.id('att_bob'), pg_temp.id('q2'), '"3"', NULL);
-- tests.insert_event: as the recording functions store an event
SELECT NULL FROM (
    SELECT tests.insert_event(a.id, e.kind::app.event_type, a.started_at + interval '1 minute',
        '{}', e.name, pg_temp.id(e.name))
    FROM (VALUES ('ev_alice', 'att_alice', 'tab_hidden'), ('ev_bob', 'att_bob', 'paste')) AS e (name, attempt, kind)
    JOIN app.exam_attempts AS a ON a.id = pg_temp.id(e.attempt)
) AS stored;
INSERT INTO app.behavior_analyses (id, attempt_id, source, model, integrity_score, lmi_score, is_flagged) VALUES
(pg_temp.id('an_alice'), pg_temp.id('att_alice'), 'builtin', 'builtin-v1', 60, 0.4, TRUE),
(pg_temp.id('an_bob'), pg_temp.id('att_bob'), 'builtin', 'builtin-v1', 95, 0.05, FALSE);
INSERT INTO app.flag_reviews (id, attempt_id, analysis_id, reviewer_id, decision) VALUES
(pg_temp.id('review'), pg_temp.id('att_alice'), pg_temp.id('an_alice'), pg_temp.id('tina'), 'cleared');
INSERT INTO app.exam_metrics (exam_id, attempts, submitted) VALUES
(pg_temp.id('e1'), 1, 1), (pg_temp.id('e2'), 1, 0);
INSERT INTO app.analysis_jobs (id, attempt_id, status) VALUES
(pg_temp.id('job'), pg_temp.id('att_alice'), 'done');
INSERT INTO audit.security_events (kind, user_id, email) VALUES
('login_success', pg_temp.id('alice'), 'rls-alice@example.org');
INSERT INTO audit.log (table_schema, table_name, operation, row_pk, actor_id) VALUES
('app', 'exams', 'INSERT', jsonb_build_object('id', pg_temp.id('e1')), pg_temp.id('tina'));
INSERT INTO audit.disclosures (viewer_id, viewer_role, student_id, record_kind, record_id) VALUES
(pg_temp.id('tina'), 'teacher', pg_temp.id('alice'), 'attempt', pg_temp.id('att_alice'));

-- ---------------------------------------------------------------------------
-- Privileges: the answer key, hashes, and writes that nobody holds
-- ---------------------------------------------------------------------------

SELECT table_privs_are(
    'app', 'questions', 'student', ARRAY[]::text[],
    'a student holds no table-wide privilege on questions (column grants only)'
);
SELECT column_privs_are(
    'app', 'questions', 'correct', 'student', ARRAY[]::text[],
    'a student may not read questions.correct'
);
SELECT column_privs_are(
    'app', 'questions', 'tolerance', 'student', ARRAY[]::text[],
    'a student may not read questions.tolerance'
);
SELECT column_privs_are(
    'app', 'questions', 'prompt', 'student', ARRAY['SELECT'],
    'a student may read questions.prompt'
);
SELECT column_privs_are(
    'app', 'exam_attempts', 'scored_against', 'student', ARRAY[]::text[],
    'a student may not read exam_attempts.scored_against (the answer key snapshot)'
);
SELECT column_privs_are(
    'app', 'exam_attempts', 'scored_against', 'integration', ARRAY[]::text[],
    'an integration account may not read exam_attempts.scored_against'
);
SELECT column_privs_are(
    'app', 'exam_attempts', 'score', 'student', ARRAY['SELECT'],
    'a student may read their score, and nothing more on that column'
);
SELECT column_privs_are(
    'app', 'attempt_answers', 'points_awarded', 'student', ARRAY[]::text[],
    'a student may not read per-question marks'
);
SELECT table_privs_are(
    'app', 'exam_attempts', 'teacher', ARRAY['SELECT'], 'a teacher may only read attempts'
);
SELECT table_privs_are(
    'app', 'exam_attempts', 'admin', ARRAY['SELECT'], 'an admin may only read attempts'
);
SELECT is_empty(
    $$
    SELECT r.rolname, t.tbl, p.priv
    FROM (VALUES ('anon'), ('student'), ('teacher'), ('admin'), ('integration'), ('worker'), ('analyst')) AS r (rolname)
    CROSS JOIN (VALUES ('app.exam_attempts'), ('app.attempt_answers')) AS t (tbl)
    CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE')) AS p (priv)
    WHERE has_table_privilege(r.rolname, t.tbl, p.priv)
        OR (p.priv <> 'DELETE' AND has_any_column_privilege(r.rolname, t.tbl, p.priv))
    $$,
    'no runtime role may write attempts or answers directly (only the attempt helpers do)'
);
SELECT is_empty(
    $$
    SELECT r.rolname
    FROM (VALUES ('anon'), ('student'), ('teacher'), ('admin'), ('integration'), ('worker'), ('analyst')) AS r (rolname)
    WHERE has_column_privilege(r.rolname, 'auth.users', 'password_hash', 'SELECT, INSERT, UPDATE')
        AND r.rolname <> 'admin'
    $$,
    'no runtime role may read or change password hashes (admins only set one at creation)'
);
SELECT column_privs_are(
    'auth', 'users', 'password_hash', 'admin', ARRAY['INSERT'],
    'an admin may set a password hash at creation, never read it'
);
SELECT column_privs_are(
    'auth', 'refresh_tokens', 'token_hash', 'admin', ARRAY[]::text[],
    'nobody reads refresh token hashes, not even an admin'
);
SELECT table_privs_are(
    'app', 'monitoring_events', 'student', ARRAY[]::text[],
    'a student has no privilege on the events: recording and the timeline are the owner''s functions'
);
SELECT table_privs_are('audit', 'log', 'admin', ARRAY['SELECT'], 'an admin may only read the audit log');
SELECT table_privs_are(
    'audit', 'security_events', 'admin', ARRAY['SELECT'], 'an admin may only read the security events'
);
SELECT table_privs_are(
    'audit', 'security_events', 'teacher', ARRAY[]::text[], 'a teacher has nothing on the security events'
);
SELECT is_empty(
    $$
    SELECT c.oid::regclass::text
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'auth', 'audit', 'analytics') AND c.relkind IN ('r', 'p', 'v', 'm')
        AND (has_table_privilege('worker', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
             OR has_any_column_privilege('worker', c.oid, 'SELECT, INSERT, UPDATE'))
    $$,
    'the worker role holds no privilege on any table or view (its jobs are SECURITY DEFINER)'
);

-- ---------------------------------------------------------------------------
-- Policies: per role, never PUBLIC, exactly these
-- ---------------------------------------------------------------------------

SELECT is_empty(
    $$ SELECT polrelid::regclass::text, polname FROM pg_catalog.pg_policy WHERE 0 = ANY (polroles) $$,
    'no policy applies TO PUBLIC'
);
SELECT is_empty(
    $$
    SELECT p.polrelid::regclass::text, p.polname, r.rolname
    FROM pg_catalog.pg_policy AS p
    CROSS JOIN LATERAL unnest(p.polroles) AS x (role_oid)
    JOIN pg_catalog.pg_roles AS r ON r.oid = x.role_oid
    WHERE r.rolname NOT IN ('student', 'teacher', 'admin', 'integration', 'veritas_owner')
    $$,
    'policies name only the request roles and the owner (no anon, worker or analyst policy)'
);
SELECT is_empty(
    $$
    SELECT c.oid::regclass::text
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'auth', 'audit') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND NOT EXISTS (SELECT FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid)
    $$,
    'every table of app, auth and audit has policies'
);
SELECT policies_are(
    'auth', 'login_attempts',
    ARRAY[
        'admins_read_login_attempts',
        'definer_helpers_purge_old_login_attempts',
        'definer_helpers_read_login_attempts',
        'definer_helpers_record_login_attempts'
    ],
    'exactly the expected policies on auth.login_attempts'
);
SELECT policies_are(
    'auth', 'refresh_token_families',
    ARRAY[
        'admins_read_sessions',
        'definer_helpers_open_sessions',
        'definer_helpers_purge_empty_sessions',
        'definer_helpers_read_sessions',
        'definer_helpers_revoke_sessions'
    ],
    'exactly the expected policies on auth.refresh_token_families'
);
SELECT policies_are(
    'auth', 'refresh_tokens',
    ARRAY[
        'admins_read_refresh_tokens',
        'definer_helpers_issue_refresh_tokens',
        'definer_helpers_purge_expired_refresh_tokens',
        'definer_helpers_read_refresh_tokens',
        'definer_helpers_rotate_refresh_tokens'
    ],
    'exactly the expected policies on auth.refresh_tokens'
);
SELECT policies_are(
    'auth', 'revoked_tokens',
    ARRAY[
        'admins_read_revoked_tokens',
        'definer_helpers_purge_expired_revocations',
        'definer_helpers_read_revoked_tokens',
        'definer_helpers_revoke_tokens'
    ],
    'exactly the expected policies on auth.revoked_tokens'
);
SELECT policies_are(
    'auth', 'service_tokens',
    ARRAY[
        'admins_read_service_tokens',
        'definer_helpers_issue_service_tokens',
        'definer_helpers_read_service_tokens',
        'definer_helpers_revoke_service_tokens'
    ],
    'exactly the expected policies on auth.service_tokens'
);
SELECT table_privs_are(
    'auth', 'service_tokens', 'admin', ARRAY['SELECT'],
    'admin only reads auth.service_tokens (issuing and revoking go through definer helpers)'
);
SELECT function_privs_are(
    'internal', 'issue_service_token', ARRAY['uuid', 'text', 'integer'], 'teacher', ARRAY[]::text[],
    'a teacher may not issue service tokens'
);
SELECT function_privs_are(
    'internal', 'issue_service_token', ARRAY['uuid', 'text', 'integer'], 'admin',
    ARRAY['EXECUTE'], 'an admin may issue service tokens'
);
SELECT policies_are(
    'auth', 'role_permissions',
    ARRAY[
        'admins_read_permissions',
        'roles_read_own_permissions'
    ],
    'exactly the expected policies on auth.role_permissions'
);
SELECT policies_are(
    'auth', 'users',
    ARRAY[
        'admins_create_users',
        'admins_delete_other_users',
        'admins_read_users',
        'admins_update_users',
        'definer_helpers_read_users',
        'definer_helpers_register_students',
        'definer_helpers_update_users',
        'teachers_read_their_students',
        'users_read_own_row'
    ],
    'exactly the expected policies on auth.users'
);
SELECT policies_are(
    'audit', 'disclosures',
    ARRAY[
        'admins_read_disclosures',
        'definer_helpers_log_disclosures',
        'definer_helpers_read_disclosures',
        'students_read_own_disclosures'
    ],
    'exactly the expected policies on audit.disclosures'
);
SELECT policies_are(
    'audit', 'log',
    ARRAY[
        'admins_read_the_audit_log',
        'definer_helpers_append_to_the_audit_log',
        'definer_helpers_read_the_audit_log'
    ],
    'exactly the expected policies on audit.log'
);
SELECT policies_are(
    'audit', 'security_events',
    ARRAY[
        'admins_read_security_events',
        'definer_helpers_log_security_events',
        'definer_helpers_read_security_events'
    ],
    'exactly the expected policies on audit.security_events'
);
SELECT policies_are(
    'app', 'accommodations',
    ARRAY[
        'admins_change_extra_time',
        'admins_delete_accommodations',
        'admins_grant_extra_time',
        'admins_read_accommodations',
        'definer_helpers_read_accommodations',
        'students_read_own_accommodations',
        'teachers_change_extra_time_on_their_exams',
        'teachers_grant_extra_time_on_their_exams',
        'teachers_read_accommodations_of_their_exams'
    ],
    'exactly the expected policies on app.accommodations'
);
SELECT policies_are(
    'app', 'analysis_jobs',
    ARRAY[
        'admins_delete_jobs',
        'admins_read_jobs',
        'admins_requeue_jobs',
        'definer_helpers_purge_done_jobs',
        'definer_helpers_queue_jobs',
        'definer_helpers_read_jobs',
        'definer_helpers_run_jobs'
    ],
    'exactly the expected policies on app.analysis_jobs'
);
SELECT policies_are(
    'app', 'attempt_answers',
    ARRAY[
        'admins_read_answers',
        'definer_helpers_clear_answers',
        'definer_helpers_read_answers',
        'definer_helpers_save_answers',
        'definer_helpers_update_answers',
        'students_read_own_answers',
        'teachers_read_answers_on_their_exams'
    ],
    'exactly the expected policies on app.attempt_answers'
);
SELECT policies_are(
    'app', 'behavior_analyses',
    ARRAY[
        'admins_read_analyses',
        'admins_write_external_analyses',
        'definer_helpers_read_analyses',
        'definer_helpers_write_builtin_analyses',
        'integration_reads_analyses',
        'integration_writes_external_analyses',
        'students_read_analyses_of_own_attempts',
        'teachers_read_analyses_on_their_exams'
    ],
    'exactly the expected policies on app.behavior_analyses'
);
SELECT policies_are(
    'app', 'event_types',
    ARRAY[
        'admins_tune_event_types',
        'definer_helpers_read_event_types',
        'everyone_reads_event_types'
    ],
    'exactly the expected policies on app.event_types'
);
SELECT policies_are(
    'app', 'exam_attempts',
    ARRAY[
        'admins_read_attempts',
        'definer_helpers_read_attempts',
        'definer_helpers_start_attempts',
        'definer_helpers_update_attempts',
        'integration_reads_attempts',
        'students_read_own_attempts',
        'teachers_read_attempts_on_their_exams'
    ],
    'exactly the expected policies on app.exam_attempts'
);
SELECT policies_are(
    'app', 'exam_metrics',
    ARRAY[
        'admins_read_exam_metrics',
        'definer_helpers_create_exam_metrics',
        'definer_helpers_read_exam_metrics',
        'definer_helpers_update_exam_metrics',
        'integration_reads_exam_metrics',
        'teachers_read_metrics_of_their_exams'
    ],
    'exactly the expected policies on app.exam_metrics'
);
SELECT policies_are(
    'app', 'exams',
    ARRAY[
        'admins_create_own_exams',
        'admins_delete_exams',
        'admins_read_exams',
        'admins_update_exams',
        'definer_helpers_read_exams',
        'integration_reads_exam_grace',
        'students_read_published_exams',
        'teachers_create_own_exams',
        'teachers_read_their_exams',
        'teachers_update_their_exams'
    ],
    'exactly the expected policies on app.exams'
);
SELECT policies_are(
    'app', 'flag_reviews',
    ARRAY[
        'admins_read_reviews',
        'admins_review_flags',
        'definer_helpers_read_reviews',
        'teachers_read_reviews_on_their_exams',
        'teachers_review_flags_on_their_exams'
    ],
    'exactly the expected policies on app.flag_reviews'
);
SELECT policies_are(
    'app', 'monitoring_events',
    ARRAY[
        'definer_helpers_read_events',
        'definer_helpers_record_events'
    ],
    'exactly the expected policies on app.monitoring_events'
);
SELECT policies_are(
    'app', 'monitoring_events_default',
    ARRAY[
        'definer_helpers_move_parked_events'
    ],
    'exactly the expected policies on app.monitoring_events_default'
);
SELECT policies_are(
    'app', 'performance_metrics',
    ARRAY[
        'admins_create_metrics',
        'admins_read_metrics',
        'definer_helpers_create_metrics',
        'definer_helpers_read_metrics',
        'definer_helpers_update_metrics',
        'integration_reads_metrics',
        'students_read_own_metrics',
        'teachers_read_their_students_metrics'
    ],
    'exactly the expected policies on app.performance_metrics'
);
SELECT policies_are(
    'app', 'questions',
    ARRAY[
        'admins_add_questions',
        'admins_delete_questions',
        'admins_edit_questions',
        'admins_read_questions',
        'definer_helpers_read_questions',
        'students_read_questions_of_open_exams',
        'teachers_add_questions_to_their_exams',
        'teachers_delete_questions_of_their_exams',
        'teachers_edit_questions_of_their_exams',
        'teachers_read_questions_of_their_exams'
    ],
    'exactly the expected policies on app.questions'
);
SELECT policies_are(
    'app', 'student_profiles',
    ARRAY[
        'admins_create_student_profiles',
        'admins_read_student_profiles',
        'admins_update_student_profiles',
        'definer_helpers_create_student_profiles',
        'definer_helpers_read_student_profiles',
        'definer_helpers_update_student_profiles',
        'integration_reads_profile_statistics',
        'students_read_own_profile',
        'teachers_read_their_students_profiles'
    ],
    'exactly the expected policies on app.student_profiles'
);
SELECT policies_are(
    'app', 'teacher_exam_permissions',
    ARRAY[
        'admins_grant_permissions',
        'admins_read_permissions',
        'admins_revoke_permissions',
        'definer_helpers_read_permissions',
        'exam_owners_grant_permissions',
        'teachers_read_permissions_of_their_exams'
    ],
    'exactly the expected policies on app.teacher_exam_permissions'
);
SELECT policies_are(
    'app', 'teacher_profiles',
    ARRAY[
        'admins_create_teacher_profiles',
        'admins_read_teacher_profiles',
        'admins_update_teacher_profiles',
        'teachers_read_own_profile'
    ],
    'exactly the expected policies on app.teacher_profiles'
);

-- ---------------------------------------------------------------------------
-- Students: alice
-- ---------------------------------------------------------------------------

SELECT tests.become(pg_temp.id('alice'));
SELECT is(pg_temp.names('SELECT id FROM auth.users'), ARRAY['alice'], 'alice reads only her own user row');
SELECT is(pg_temp.names('SELECT user_id FROM app.student_profiles'), ARRAY['alice'], 'alice reads only her own profile');
SELECT is(pg_temp.names('SELECT student_id FROM app.performance_metrics'), ARRAY['alice'], 'alice reads only her own metrics');
SELECT is(pg_temp.names('SELECT id FROM app.exams'), ARRAY['e1', 'e2', 'e4'], 'alice reads the published exams, not the draft');
SELECT is(
    pg_temp.names('SELECT id FROM app.questions'), ARRAY['q1', 'q2'],
    'alice reads the questions of published exams that have opened (not the draft''s, not tomorrow''s)'
);
SELECT is(pg_temp.pairs('SELECT exam_id, student_id FROM app.accommodations'), ARRAY[]::text[], 'alice does not see carl''s extra time');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_alice'], 'alice reads only her own attempts');
SELECT is(pg_temp.names('SELECT attempt_id FROM app.attempt_answers'), ARRAY['att_alice'], 'alice reads only her own answers');
SELECT is(pg_temp.timeline_names(), ARRAY['ev_alice'], 'alice reads only her own events');
SELECT throws_ok('SELECT 1 FROM app.monitoring_events', '42501', NULL, 'alice cannot read the events table itself');
SELECT is(pg_temp.names('SELECT id FROM app.behavior_analyses'), ARRAY['an_alice'], 'alice reads only the analyses of her own attempts');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts WHERE id = ''00000000-0000-4000-8000-000000001172'''), ARRAY[]::text[], 'asking for bob''s attempt by id gives nothing');

SELECT throws_ok('SELECT correct FROM app.questions', '42501', NULL, 'alice cannot read questions.correct');
SELECT throws_ok('SELECT tolerance FROM app.questions', '42501', NULL, 'alice cannot read questions.tolerance');
SELECT throws_ok('SELECT * FROM app.questions', '42501', NULL, 'alice cannot SELECT * from questions (it includes the key)');
SELECT throws_ok('SELECT scored_against FROM app.exam_attempts', '42501', NULL, 'alice cannot read exam_attempts.scored_against');
SELECT throws_ok('SELECT to_jsonb(a) FROM app.exam_attempts AS a', '42501', NULL, 'alice cannot read a whole attempt row (it includes the key)');
SELECT throws_ok('SELECT points_awarded FROM app.attempt_answers', '42501', NULL, 'alice cannot read per-question marks');
SELECT throws_ok('SELECT password_hash FROM auth.users', '42501', NULL, 'alice cannot read password hashes');
SELECT throws_ok('SELECT 1 FROM app.flag_reviews', '42501', NULL, 'alice cannot read flag reviews');
SELECT throws_ok('SELECT 1 FROM app.teacher_exam_permissions', '42501', NULL, 'alice cannot read teacher permissions');
SELECT throws_ok('SELECT 1 FROM app.teacher_profiles', '42501', NULL, 'alice cannot read teacher profiles');
SELECT throws_ok('SELECT 1 FROM app.exam_metrics', '42501', NULL, 'alice cannot read exam metrics');
SELECT throws_ok('SELECT 1 FROM auth.refresh_tokens', '42501', NULL, 'alice cannot read refresh tokens');
SELECT throws_ok('SELECT 1 FROM auth.login_attempts', '42501', NULL, 'alice cannot read login attempts');
SELECT throws_ok('SELECT 1 FROM audit.log', '42501', NULL, 'alice cannot read the audit log');

SELECT throws_ok(
    $$ UPDATE app.exam_attempts SET score = 0 WHERE id = pg_temp.id('att_alice') $$,
    '42501', NULL, 'alice cannot change her score'
);
SELECT throws_ok(
    $$ UPDATE app.exam_attempts SET status = 'abandoned', finished_at = now() WHERE id = pg_temp.id('att_bob') $$,
    '42501', NULL, 'alice cannot change bob''s attempt'
);
SELECT throws_ok(
    $$ INSERT INTO app.exam_attempts (exam_id, student_id, attempt_number, deadline, question_order, scored_against)
       VALUES (pg_temp.id('e2'), pg_temp.id('alice'), 1, now() + interval '1 hour', '[]', '[]') $$,
    '42501', NULL, 'alice cannot insert an attempt directly'
);
SELECT throws_ok(
    $$ DELETE FROM app.exam_attempts WHERE id = pg_temp.id('att_bob') $$,
    '42501', NULL, 'alice cannot delete attempts'
);
SELECT throws_ok(
    $$ INSERT INTO app.attempt_answers (attempt_id, question_id, answer) VALUES (pg_temp.id('att_bob'), pg_temp.id('q2'), '"4"') $$,
    '42501', NULL, 'alice cannot write answers directly'
);
SELECT throws_ok(
    $$ UPDATE auth.users SET full_name = 'Mallory' WHERE id = pg_temp.id('bob') $$,
    '42501', NULL, 'alice cannot change user rows'
);
SELECT throws_ok(
    $$ UPDATE app.student_profiles SET integrity_score = 100 WHERE user_id = pg_temp.id('alice') $$,
    '42501', NULL, 'alice cannot raise her own integrity score'
);
SELECT throws_ok(
    $$ SELECT api.record_monitoring_events(jsonb_build_object(
           'attempt_id', pg_temp.id('att_alice'), 'event_type', 'heartbeat', 'occurred_at', now())) $$,
    'VT409', NULL, 'alice cannot record events for her finished attempt'
);
SELECT throws_ok(
    $$ INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, student_id, event_type,
           occurred_at, severity, is_anomaly)
       VALUES (pg_temp.id('att_bob'), now() - interval '5 minutes', pg_temp.id('e2'), pg_temp.id('bob'),
           'heartbeat', now(), 0, FALSE) $$,
    '42501', NULL, 'alice cannot insert an event row in bob''s name'
);

SELECT tests.become(pg_temp.id('carl'));
SELECT is(
    pg_temp.pairs('SELECT exam_id, student_id FROM app.accommodations'), ARRAY['e1/carl'],
    'carl reads his own extra time'
);

-- ---------------------------------------------------------------------------
-- Students: bob records events of his attempt in progress
-- ---------------------------------------------------------------------------

SELECT tests.become(pg_temp.id('bob'));
SELECT lives_ok(
    $$ SELECT api.record_monitoring_events(jsonb_build_object(
           'attempt_id', pg_temp.id('att_bob'), 'event_type', 'gaze_away', 'occurred_at', now(),
           'client_event_id', 'bob-1')) $$,
    'bob records an event of his attempt in progress'
);
SELECT throws_ok(
    $$ INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, student_id, event_type,
           occurred_at, severity, is_anomaly)
       SELECT a.id, a.started_at, a.exam_id, a.student_id, 'paste', now(), 0, FALSE
       FROM app.exam_attempts AS a WHERE a.id = pg_temp.id('att_bob') $$,
    '42501', NULL, 'bob cannot insert a downgraded anomaly himself (severity and flag come from the event type)'
);
SELECT throws_ok(
    $$ INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, student_id, event_type,
           occurred_at, severity, is_anomaly)
       SELECT a.id, a.started_at, pg_temp.id('e1'), a.student_id, 'heartbeat', now(), 0, FALSE
       FROM app.exam_attempts AS a WHERE a.id = pg_temp.id('att_bob') $$,
    '42501', NULL, 'bob cannot file an event under another exam'
);
SELECT throws_ok(
    $$ UPDATE app.monitoring_events SET is_anomaly = FALSE WHERE attempt_id = pg_temp.id('att_bob') $$,
    '42501', NULL, 'events are append-only: bob cannot update his'
);
SELECT throws_ok(
    $$ DELETE FROM app.monitoring_events WHERE attempt_id = pg_temp.id('att_bob') $$,
    '42501', NULL, 'events are append-only: bob cannot delete his'
);
SELECT tests.become(pg_temp.id('ada'));
SELECT is(
    jsonb_array_length(internal.attempt_timeline(pg_temp.id('att_bob'), NULL, NULL, 100)),
    2, 'bob''s attempt has the fixture event and the one he recorded'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Teachers: tom (E2 only) sees nothing of tina's exams
-- ---------------------------------------------------------------------------

SELECT tests.become(pg_temp.id('tom'));
SELECT is(pg_temp.names('SELECT id FROM auth.users'), ARRAY['bob', 'tom'], 'tom reads himself and the students of his exam');
SELECT is(pg_temp.names('SELECT user_id FROM app.student_profiles'), ARRAY['bob'], 'tom reads the profiles of his exam''s students');
SELECT is(pg_temp.names('SELECT student_id FROM app.performance_metrics'), ARRAY['bob'], 'tom reads the metrics of his exam''s students');
SELECT is(pg_temp.names('SELECT id FROM app.exams'), ARRAY['e2'], 'tom reads only his exam');
SELECT is(pg_temp.names('SELECT id FROM app.questions'), ARRAY['q2'], 'tom reads only his exam''s questions');
SELECT is(pg_temp.pairs('SELECT exam_id, teacher_id FROM app.teacher_exam_permissions'), ARRAY['e2/tom'], 'tom reads only the permissions of his exam');
SELECT is(pg_temp.pairs('SELECT exam_id, student_id FROM app.accommodations'), ARRAY[]::text[], 'tom reads no extra time on tina''s exam');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_bob'], 'tom reads only the attempts on his exam');
SELECT is(pg_temp.names('SELECT attempt_id FROM app.attempt_answers'), ARRAY['att_bob'], 'tom reads only the answers on his exam');
SELECT is(pg_temp.timeline_names(), ARRAY['ev_bob'], 'tom reads only the events on his exam');
SELECT is(pg_temp.names('SELECT id FROM app.behavior_analyses'), ARRAY['an_bob'], 'tom reads only the analyses on his exam');
SELECT is(pg_temp.names('SELECT id FROM app.flag_reviews'), ARRAY[]::text[], 'tom reads no review on tina''s exam');
SELECT is(pg_temp.names('SELECT exam_id FROM app.exam_metrics'), ARRAY['e2'], 'tom reads only his exam''s metrics');
SELECT is(pg_temp.names('SELECT user_id FROM app.teacher_profiles'), ARRAY['tom'], 'tom reads only his own teacher profile');

-- Writes on tina's exam: silently nothing (RLS), or refused (WITH CHECK).
SELECT lives_ok(
    $$ UPDATE app.exams SET title = 'Hijacked' WHERE id = pg_temp.id('e1') $$,
    'tom updating tina''s exam raises nothing...'
);
SELECT lives_ok(
    $$ DELETE FROM app.questions WHERE id = pg_temp.id('q1') $$,
    'tom deleting a question of tina''s exam raises nothing...'
);
SELECT lives_ok(
    $$ UPDATE app.accommodations SET extra_minutes = 600 WHERE exam_id = pg_temp.id('e1') $$,
    'tom changing extra time on tina''s exam raises nothing...'
);
SELECT throws_ok(
    $$ INSERT INTO app.questions (exam_id, position, kind, prompt, correct) VALUES (pg_temp.id('e1'), 9, 'true_false', 'Sneaky?', 'true') $$,
    '42501', NULL, 'tom cannot add a question to tina''s exam'
);
SELECT throws_ok(
    $$ INSERT INTO app.accommodations (exam_id, student_id, extra_minutes) VALUES (pg_temp.id('e1'), pg_temp.id('dave'), 60) $$,
    '42501', NULL, 'tom cannot grant extra time on tina''s exam'
);
SELECT throws_ok(
    $$ INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by) VALUES (pg_temp.id('e1'), pg_temp.id('tom'), pg_temp.id('tom')) $$,
    '42501', NULL, 'tom cannot grant himself tina''s exam'
);
SELECT throws_ok(
    $$ INSERT INTO app.flag_reviews (attempt_id, reviewer_id, decision, note) VALUES (pg_temp.id('att_alice'), pg_temp.id('tom'), 'confirmed', 'cheated') $$,
    '42501', NULL, 'tom cannot review an attempt on tina''s exam'
);
SELECT throws_ok(
    $$ INSERT INTO app.exams (title, created_by, duration_minutes, opens_at, closes_at) VALUES ('Forged', pg_temp.id('tina'), 10, now(), now() + interval '1 hour') $$,
    '42501', NULL, 'tom cannot create an exam in tina''s name'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT title FROM app.exams WHERE id = pg_temp.id('e1')), 'E1',
    '...and tina''s exam kept its title'
);
SELECT ok(
    EXISTS (SELECT FROM app.questions WHERE id = pg_temp.id('q1')),
    '...and tina''s question still exists'
);
SELECT is(
    (SELECT extra_minutes FROM app.accommodations WHERE exam_id = pg_temp.id('e1') AND student_id = pg_temp.id('carl')),
    30, '...and carl''s extra time is unchanged'
);

-- ---------------------------------------------------------------------------
-- Teachers: tina (created E1, E3, E4) and gina (granted E1)
-- ---------------------------------------------------------------------------

SELECT tests.become(pg_temp.id('tina'));
SELECT is(
    pg_temp.names('SELECT id FROM auth.users'), ARRAY['alice', 'tina'],
    'tina reads herself and the student who attempted E1, not carl who only has extra time on it'
);
SELECT is(pg_temp.names('SELECT user_id FROM app.student_profiles'), ARRAY['alice'], 'tina reads her students'' profiles (attempts, not extra time)');
SELECT is(pg_temp.names('SELECT student_id FROM app.performance_metrics'), ARRAY['alice'], 'tina reads her students'' metrics (attempts, not extra time)');
SELECT is(pg_temp.names('SELECT id FROM app.exams'), ARRAY['e1', 'e3', 'e4'], 'tina reads her exams, the draft included');
SELECT is(pg_temp.names('SELECT id FROM app.questions'), ARRAY['q1', 'q3', 'q4'], 'tina reads her exams'' questions');
SELECT is(
    (SELECT correct FROM app.questions WHERE id = pg_temp.id('q1')), '"4"'::jsonb,
    'tina reads the answer key of her exam'
);
SELECT is(
    pg_temp.pairs('SELECT exam_id, teacher_id FROM app.teacher_exam_permissions'),
    ARRAY['e1/gina', 'e1/tina', 'e3/tina', 'e4/tina'], 'tina reads who shares her exams'
);
SELECT is(pg_temp.pairs('SELECT exam_id, student_id FROM app.accommodations'), ARRAY['e1/carl'], 'tina reads the extra time on her exam');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_alice'], 'tina reads the attempts on her exams');
SELECT is(
    (SELECT jsonb_array_length(scored_against) FROM app.exam_attempts WHERE id = pg_temp.id('att_alice')), 1,
    'tina reads an attempt''s snapshot'
);
SELECT is(pg_temp.names('SELECT attempt_id FROM app.attempt_answers'), ARRAY['att_alice'], 'tina reads the answers on her exams');
SELECT is(pg_temp.timeline_names(), ARRAY['ev_alice'], 'tina reads the events on her exams');
SELECT is(pg_temp.names('SELECT id FROM app.behavior_analyses'), ARRAY['an_alice'], 'tina reads the analyses on her exams');
SELECT is(pg_temp.names('SELECT id FROM app.flag_reviews'), ARRAY['review'], 'tina reads the reviews on her exams');
SELECT is(pg_temp.names('SELECT exam_id FROM app.exam_metrics'), ARRAY['e1'], 'tina reads her exams'' metrics');
SELECT throws_ok('SELECT 1 FROM audit.log', '42501', NULL, 'tina cannot read the audit log');
SELECT throws_ok('SELECT 1 FROM app.analysis_jobs', '42501', NULL, 'tina cannot read the job queue');
SELECT throws_ok(
    $$ DELETE FROM app.exams WHERE id = pg_temp.id('e3') $$, '42501', NULL,
    'tina cannot delete exams (admins only)'
);

SELECT tests.become(pg_temp.id('gina'));
SELECT is(pg_temp.names('SELECT id FROM app.exams'), ARRAY['e1'], 'gina reads the exam she was granted');
SELECT is(pg_temp.names('SELECT id FROM auth.users'), ARRAY['alice', 'gina'], 'gina reads the granted exam''s students');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_alice'], 'gina reads the granted exam''s attempts');
SELECT lives_ok(
    $$ UPDATE app.exams SET description = 'Edited by gina' WHERE id = pg_temp.id('e1') $$,
    'gina edits the exam she was granted'
);
SELECT throws_ok(
    $$ INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by) VALUES (pg_temp.id('e1'), pg_temp.id('tom'), pg_temp.id('gina')) $$,
    '42501', NULL, 'only the creator grants access: gina cannot pass E1 on'
);

SELECT tests.become(pg_temp.id('tina'));
SELECT lives_ok(
    $$ INSERT INTO app.questions (exam_id, position, kind, prompt, correct) VALUES (pg_temp.id('e3'), 2, 'true_false', 'Ready?', 'true') $$,
    'tina adds a question to her draft'
);
SELECT lives_ok(
    $$ INSERT INTO app.accommodations (exam_id, student_id, extra_minutes) VALUES (pg_temp.id('e1'), pg_temp.id('dave'), 15) $$,
    'tina grants dave extra time on E1'
);
SELECT throws_ok(
    $$ INSERT INTO app.accommodations (exam_id, student_id, extra_minutes) VALUES (pg_temp.id('e1'), pg_temp.id('tom'), 15) $$,
    '42501', NULL, 'extra time is for students only'
);
SELECT is(
    pg_temp.names('SELECT id FROM auth.users'), ARRAY['alice', 'tina'],
    'dave, now accommodated on E1, stays invisible to tina: extra time is no licence to read a student'
);
SELECT throws_ok(
    $$ INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by) VALUES (pg_temp.id('e1'), pg_temp.id('alice'), pg_temp.id('tina')) $$,
    '42501', NULL, 'access to an exam is granted to teachers only'
);
SELECT lives_ok(
    $$ INSERT INTO app.flag_reviews (attempt_id, analysis_id, reviewer_id, decision, note) VALUES (pg_temp.id('att_alice'), pg_temp.id('an_alice'), pg_temp.id('tina'), 'confirmed', 'Pasted the answers.') $$,
    'tina reviews a flag on her exam'
);
SELECT throws_ok(
    $$ INSERT INTO app.flag_reviews (attempt_id, reviewer_id, decision) VALUES (pg_temp.id('att_alice'), pg_temp.id('gina'), 'cleared') $$,
    '42501', NULL, 'a review is in the reviewer''s own name'
);
SELECT throws_ok(
    $$ INSERT INTO app.flag_reviews (attempt_id, analysis_id, reviewer_id, decision) VALUES (pg_temp.id('att_alice'), pg_temp.id('an_bob'), pg_temp.id('tina'), 'cleared') $$,
    '42501', NULL, 'a review names an analysis of the same attempt'
);
SELECT lives_ok(
    $$ INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by) VALUES (pg_temp.id('e1'), pg_temp.id('tom'), pg_temp.id('tina')) $$,
    'tina grants tom access to E1'
);
SELECT tests.become(pg_temp.id('tom'));
SELECT is(pg_temp.names('SELECT id FROM app.exams'), ARRAY['e1', 'e2'], 'once granted, tom reads E1 too');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_alice', 'att_bob'], '...and its attempts');
SELECT tests.unbecome();

SELECT is(
    (SELECT description FROM app.exams WHERE id = pg_temp.id('e1')), 'Edited by gina',
    'gina''s edit of the granted exam was written'
);

-- ---------------------------------------------------------------------------
-- Admin: ada reads everything, changes through the API, never the audit trail
-- ---------------------------------------------------------------------------

SELECT tests.become(pg_temp.id('ada'));
SELECT is(
    pg_temp.names('SELECT id FROM auth.users'),
    ARRAY['ada', 'alice', 'bob', 'carl', 'dave', 'gina', 'ivy', 'tina', 'tom'], 'ada reads every user'
);
SELECT is(pg_temp.names('SELECT id FROM app.exams'), ARRAY['e1', 'e2', 'e3', 'e4'], 'ada reads every exam');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_alice', 'att_bob'], 'ada reads every attempt');
SELECT is(pg_temp.timeline_names(), ARRAY['ev_alice', 'ev_bob'], 'ada reads every event');
SELECT is(pg_temp.names('SELECT id FROM app.analysis_jobs'), ARRAY['job'], 'ada reads the job queue');
-- (The audit triggers add entries of their own: only the hand-made rows here.)
SELECT is(
    pg_temp.names($$ SELECT actor_id FROM audit.log WHERE table_name = 'exams' AND actor_id IS NOT NULL
        AND row_pk = jsonb_build_object('id', pg_temp.id('e1')) AND operation = 'INSERT' $$),
    ARRAY['tina'], 'ada reads the audit log'
);
SELECT is(
    pg_temp.names($$ SELECT user_id FROM audit.security_events WHERE kind = 'login_success' $$),
    ARRAY['alice'], 'ada reads the security events'
);
SELECT is(pg_temp.names('SELECT student_id FROM audit.disclosures'), ARRAY['alice'], 'ada reads the disclosures');
SELECT throws_ok('SELECT password_hash FROM auth.users', '42501', NULL, 'ada cannot read password hashes');
SELECT throws_ok('SELECT token_hash FROM auth.refresh_tokens', '42501', NULL, 'ada cannot read refresh token hashes');
SELECT throws_ok($$ DELETE FROM audit.log $$, '42501', NULL, 'ada cannot delete from the audit log');
SELECT throws_ok($$ UPDATE audit.security_events SET kind = 'logout' $$, '42501', NULL, 'ada cannot rewrite security events');
SELECT throws_ok(
    $$ INSERT INTO audit.log (operation) VALUES ('EXPORT') $$, '42501', NULL,
    'ada cannot forge audit rows'
);
SELECT throws_ok(
    $$ UPDATE app.exam_attempts SET score = 0 WHERE id = pg_temp.id('att_alice') $$,
    '42501', NULL, 'not even ada rewrites a score directly'
);
SELECT throws_ok(
    $$ UPDATE auth.users SET role = 'admin' WHERE id = pg_temp.id('tom') $$,
    '42501', NULL, 'roles do not change by a plain UPDATE (sessions would outlive it)'
);
SELECT lives_ok(
    $$ UPDATE auth.users SET full_name = 'Dave Renamed' WHERE id = pg_temp.id('dave') $$,
    'ada renames a user'
);
SELECT lives_ok(
    $$ DELETE FROM app.exams WHERE id = pg_temp.id('e4') $$,
    'ada deletes an exam without attempts'
);
SELECT tests.unbecome();
SELECT ok(
    NOT EXISTS (SELECT FROM app.exams WHERE id = pg_temp.id('e4'))
    AND (SELECT full_name FROM auth.users WHERE id = pg_temp.id('dave')) = 'Dave Renamed',
    'ada''s changes were written'
);

-- ---------------------------------------------------------------------------
-- Integration: ivy
-- ---------------------------------------------------------------------------

-- alice's figures before ivy tries to write them.
SELECT tests.unbecome();
CREATE TEMPORARY TABLE alice_figures AS
SELECT m.flags_count::text || '/' || coalesce(p.integrity_score::text, '-') AS figures
FROM app.performance_metrics AS m
JOIN app.student_profiles AS p ON p.user_id = m.student_id
WHERE m.student_id = pg_temp.id('alice');
SELECT tests.become(pg_temp.id('ivy'));
SELECT is(pg_temp.names('SELECT id FROM auth.users'), ARRAY['ivy'], 'ivy reads only her own user row');
SELECT is(pg_temp.names('SELECT id FROM app.exam_attempts'), ARRAY['att_alice', 'att_bob'], 'ivy reads every attempt...');
SELECT throws_ok('SELECT scored_against FROM app.exam_attempts', '42501', NULL, '...but never the answer key snapshot');
SELECT throws_ok('SELECT question_order FROM app.exam_attempts', '42501', NULL, '...nor the questions');
SELECT throws_ok('SELECT 1 FROM app.questions', '42501', NULL, 'ivy cannot read questions');
SELECT throws_ok('SELECT title FROM app.exams', '42501', NULL, 'ivy cannot read exams, only their grace period');
SELECT throws_ok('SELECT 1 FROM app.attempt_answers', '42501', NULL, 'ivy cannot read answers');
SELECT throws_ok('SELECT student_number FROM app.student_profiles', '42501', NULL, 'ivy reads profile statistics, not identity');
SELECT is(pg_temp.timeline_names(), ARRAY['ev_alice', 'ev_bob'], 'ivy reads every event (timelines for analysis)');
SELECT is(pg_temp.names('SELECT id FROM app.behavior_analyses'), ARRAY['an_alice', 'an_bob'], 'ivy reads every analysis');
SELECT lives_ok(
    $$ SELECT api.record_monitoring_events(jsonb_build_object(
           'attempt_id', pg_temp.id('att_bob'), 'event_type', 'face_missing', 'occurred_at', now())) $$,
    'ivy records an event of an attempt in progress'
);
SELECT throws_ok(
    $$ SELECT api.record_monitoring_events(jsonb_build_object(
           'attempt_id', pg_temp.id('att_alice'), 'event_type', 'heartbeat', 'occurred_at', now())) $$,
    'VT409', NULL, 'ivy cannot record events of a finished attempt'
);
SELECT lives_ok(
    $$ INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, created_by)
       VALUES (pg_temp.id('att_alice'), 'external', 'llm-1', 40, 0.7, pg_temp.id('ivy')) $$,
    'ivy writes an external analysis in her own name'
);
SELECT throws_ok(
    $$ INSERT INTO app.behavior_analyses (attempt_id, source, model, integrity_score, lmi_score, created_by)
       VALUES (pg_temp.id('att_alice'), 'builtin', 'builtin-v1', 100, 0, NULL) $$,
    '42501', NULL, 'ivy cannot pose as the built-in analyser'
);
-- Metrics and profile statistics are derived: only the definer statistics
-- helpers write them (api.update_performance_metrics recomputes them).
SELECT throws_ok(
    $$ UPDATE app.performance_metrics SET flags_count = 3 WHERE student_id = pg_temp.id('alice') $$,
    '42501', NULL, 'ivy cannot write a student''s metrics'
);
SELECT throws_ok(
    $$ INSERT INTO app.performance_metrics (student_id, flags_count) VALUES (pg_temp.id('dave'), 9) $$,
    '42501', NULL, 'ivy cannot create a metrics row'
);
SELECT throws_ok(
    $$ UPDATE app.exam_metrics SET flagged = 9 WHERE exam_id = pg_temp.id('e1') $$,
    '42501', NULL, 'ivy cannot write an exam''s metrics'
);
SELECT throws_ok(
    $$ UPDATE app.student_profiles SET integrity_score = 40, lmi_score = 0.7 WHERE user_id = pg_temp.id('alice') $$,
    '42501', NULL, 'ivy cannot write a student''s profile statistics'
);
SELECT throws_ok(
    $$ UPDATE app.student_profiles SET student_number = 'X1' WHERE user_id = pg_temp.id('alice') $$,
    '42501', NULL, 'ivy cannot change a student''s identity'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT m.flags_count::text || '/' || coalesce(p.integrity_score::text, '-') FROM app.performance_metrics AS m
     JOIN app.student_profiles AS p ON p.user_id = m.student_id WHERE m.student_id = pg_temp.id('alice')),
    (SELECT figures FROM pg_temp.alice_figures),
    'ivy''s refused writes changed nothing'
);

-- ---------------------------------------------------------------------------
-- anon and worker: nothing on tables
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT throws_ok('SELECT 1 FROM app.exams', '42501', NULL, 'anon cannot read exams');
SELECT throws_ok('SELECT api.me()', '42501', NULL, 'anon cannot call api.me');
SELECT tests.unbecome();
SET LOCAL ROLE worker;
SELECT throws_ok('SELECT 1 FROM app.exam_attempts', '42501', NULL, 'the worker role cannot read attempts itself');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The authorisation checks over /rpc (docs/security.md)
-- ---------------------------------------------------------------------------

SELECT tests.become(pg_temp.id('alice'));
SELECT ok(api.can_access_exam(pg_temp.id('e1')), 'alice may access a published exam');
SELECT ok(NOT api.can_access_exam(pg_temp.id('e3')), 'alice may not access a draft');
SELECT ok(api.can_access_student_data(pg_temp.id('alice')), 'alice may access her own data');
SELECT ok(NOT api.can_access_student_data(pg_temp.id('bob')), 'alice may not access bob''s data');
SELECT tests.become(pg_temp.id('gina'));
SELECT ok(api.can_access_exam(pg_temp.id('e1')), 'gina may access the exam she was granted');
SELECT ok(NOT api.can_access_exam(pg_temp.id('e3')), 'gina may not access tina''s draft');
SELECT ok(api.can_access_student_data(pg_temp.id('alice')), 'gina may access a student who attempted her exam');
SELECT ok(NOT api.can_access_student_data(pg_temp.id('carl')), 'gina may not access a student who only has extra time on her exam');
SELECT ok(NOT api.can_access_student_data(pg_temp.id('bob')), 'gina may not access a student of another exam');
SELECT tests.become(pg_temp.id('ada'));
SELECT ok(api.can_access_exam(pg_temp.id('e3')), 'ada may access any exam');
SELECT ok(api.can_access_student_data(pg_temp.id('bob')), 'ada may access any student');
SELECT tests.become(pg_temp.id('ivy'));
SELECT ok(NOT api.can_access_exam(pg_temp.id('e1')), 'an integration account accesses no exam this way');
SELECT ok(NOT api.can_access_student_data(pg_temp.id('alice')), 'an integration account accesses no student this way');
SELECT tests.unbecome();

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
