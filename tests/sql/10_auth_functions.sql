-- 10 auth functions: who may call them, registration and user creation,
-- the login lookup and record with the lockout rule, refresh rotation with
-- reuse detection, logout, the session check of every request, and
-- disabling a user.
--
-- now() is the same all through one transaction: login attempts "in the
-- past" are inserted as the superuser with explicit times.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(106);

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000001001', 'auth-ada@example.org', 'hash-ada', 'Ada', 'admin'),
('00000000-0000-4000-8000-000000001002', 'auth-tina@example.org', 'hash-tina', 'Tina', 'teacher'),
('00000000-0000-4000-8000-000000001003', 'auth-rita@example.org', 'hash-rita', 'Rita', 'student'),
('00000000-0000-4000-8000-000000001004', 'auth-sam@example.org', 'hash-sam', 'Sam', 'student'),
('00000000-0000-4000-8000-000000001005', 'auth-lou@example.org', 'hash-lou', 'Lou', 'student'),
('00000000-0000-4000-8000-000000001006', 'auth-ivo@example.org', 'hash-ivo', 'Ivo', 'student');

-- Named values shared across roles.
CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v jsonb);
GRANT ALL ON ctx TO PUBLIC;
CREATE FUNCTION pg_temp.keep(p_key text, p_value jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pg_temp.ctx (k, v) VALUES (p_key, p_value)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v;
$$;
CREATE FUNCTION pg_temp.val(p_key text) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT v FROM pg_temp.ctx WHERE k = p_key $$;

-- A refresh token's hash, as the glue computes it (sha256 of the token).
CREATE FUNCTION pg_temp.h(p_token text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$ SELECT sha256(convert_to(p_token, 'UTF8')) $$;

-- ---------------------------------------------------------------------------
-- Who may call what
-- ---------------------------------------------------------------------------

SELECT function_privs_are(
    'internal', 'register_student', ARRAY['text', 'text', 'text'], 'anon', ARRAY['EXECUTE'],
    'anon may register'
);
SELECT function_privs_are(
    'internal', 'register_student', ARRAY['text', 'text', 'text'], 'student', ARRAY[]::text[],
    'a student may not call register_student'
);
SELECT function_privs_are(
    'internal', 'login_lookup', ARRAY['text', 'inet'], 'anon', ARRAY['EXECUTE'],
    'anon may look up a login'
);
SELECT function_privs_are(
    'internal', 'login_lookup', ARRAY['text', 'inet'], 'admin', ARRAY[]::text[],
    'not even an admin may read password hashes through login_lookup'
);
SELECT function_privs_are(
    'internal', 'login_record', ARRAY['text', 'inet', 'uuid', 'boolean', 'bytea'],
    'anon', ARRAY['EXECUTE'], 'anon may record a login'
);
SELECT function_privs_are(
    'internal', 'refresh_rotate', ARRAY['bytea', 'bytea', 'integer'],
    'anon', ARRAY['EXECUTE'], 'anon may rotate a refresh token'
);
SELECT function_privs_are(
    'internal', 'logout', ARRAY['bytea'], 'student', ARRAY['EXECUTE'], 'a student may log out'
);
SELECT function_privs_are(
    'internal', 'logout', ARRAY['bytea'], 'anon', ARRAY[]::text[], 'anon may not log out'
);
SELECT function_privs_are(
    'internal', 'create_user', ARRAY['text', 'text', 'text', 'auth.user_role', 'text'],
    'admin', ARRAY['EXECUTE'], 'an admin may create users'
);
SELECT function_privs_are(
    'internal', 'create_user', ARRAY['text', 'text', 'text', 'auth.user_role', 'text'],
    'teacher', ARRAY[]::text[], 'a teacher may not create users'
);
SELECT function_privs_are(
    'internal', 'create_user', ARRAY['text', 'text', 'text', 'auth.user_role', 'text'],
    'anon', ARRAY[]::text[], 'anon may not create users'
);
SELECT function_privs_are(
    'internal', 'set_user_active', ARRAY['uuid', 'boolean'], 'admin', ARRAY['EXECUTE'],
    'an admin may enable and disable users'
);
SELECT function_privs_are(
    'api', 'set_user_active', ARRAY['uuid', 'boolean'], 'teacher', ARRAY[]::text[],
    'a teacher may not call api.set_user_active'
);
SELECT function_privs_are(
    'internal', 'assert_session_active', ARRAY[]::text[], 'integration', ARRAY['EXECUTE'],
    'an integration account''s requests are checked too'
);
SELECT function_privs_are(
    'internal', 'assert_session_active', ARRAY[]::text[], 'analyst', ARRAY[]::text[],
    'the analyst may not call assert_session_active'
);
SELECT function_privs_are(
    'internal', 'log_security_event', ARRAY['text', 'uuid', 'text', 'inet', 'jsonb'], 'admin',
    ARRAY[]::text[], 'nobody may write the security log directly, not even an admin'
);
SELECT function_privs_are(
    'internal', 'purge_auth_records', ARRAY[]::text[], 'worker', ARRAY['EXECUTE'],
    'the worker purges expired auth records'
);
SELECT function_privs_are(
    'api', 'me', ARRAY[]::text[], 'anon', ARRAY[]::text[], 'anon may not call api.me'
);

SELECT is_definer('internal', 'login_lookup', ARRAY['text', 'inet'], 'login_lookup is SECURITY DEFINER');
SELECT isnt_definer('internal', 'create_user', ARRAY['text', 'text', 'text', 'auth.user_role', 'text'], 'create_user runs with the caller''s rights (RLS applies)');
SELECT isnt_definer('api', 'me', ARRAY[]::text[], 'api.me runs with the caller''s rights');

-- (Every SECURITY DEFINER function pins its search_path: 04_definer_hardening.sql.)
-- None is in the api schema (API functions run with the caller's rights).
SELECT is_empty(
    $$
    SELECT p.oid::regprocedure::text
    FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
    WHERE n.nspname = 'api' AND p.prosecdef
    $$,
    'no api function is SECURITY DEFINER'
);

-- ---------------------------------------------------------------------------
-- Register (anon)
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT pg_temp.keep('reg', internal.register_student('Reg.Newcomer@Example.org', 'hash-reg', 'Reg Newcomer'));
SELECT is(
    pg_temp.val('reg') - 'id',
    '{"email": "Reg.Newcomer@Example.org", "full_name": "Reg Newcomer", "role": "student"}'::jsonb,
    'register_student returns the new student (email as typed)'
);
SELECT throws_ok(
    $$ SELECT internal.register_student('reg.newcomer@example.ORG', 'hash-2', 'Someone Else') $$,
    '23505', 'an account with this email already exists',
    'registering an existing email, in another case, is 23505 with a readable message'
);
SELECT throws_ok(
    $$ SELECT internal.create_user('x-anon@example.org', 'h', 'X', 'admin', NULL) $$,
    '42501', NULL, 'anon cannot create a user of its choice'
);
SELECT tests.unbecome();

SELECT ok(
    EXISTS (SELECT FROM app.student_profiles WHERE user_id = (pg_temp.val('reg') ->> 'id')::uuid)
    AND EXISTS (
        SELECT FROM app.performance_metrics WHERE student_id = (pg_temp.val('reg') ->> 'id')::uuid
    ),
    'a registered student gets a profile and a metrics row'
);
SELECT is(
    (SELECT u.role::text || '/' || u.password_hash FROM auth.users AS u WHERE u.id = (pg_temp.val('reg') ->> 'id')::uuid),
    'student/hash-reg',
    'the user is a student and the hash is stored as given'
);

-- ---------------------------------------------------------------------------
-- Create users (admin; the DBA is a superuser)
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000001001');
SELECT pg_temp.keep('new_teacher', internal.create_user('auth-new-teacher@example.org', 'h', 'New Teacher', 'teacher', 'Physics'));
SELECT pg_temp.keep('new_student', internal.create_user('auth-new-student@example.org', 'h', 'New Student', 'student'));
SELECT pg_temp.keep('new_service', internal.create_user('auth-new-service@example.org', 'h', 'Scoring Module', 'integration'));
SELECT throws_ok(
    $$ SELECT internal.create_user('AUTH-TINA@example.org', 'h', 'Tina Again', 'teacher') $$,
    '23505', 'an account with this email already exists',
    'an admin creating an existing email gets 23505'
);
SELECT tests.become('00000000-0000-4000-8000-000000001002');
SELECT throws_ok(
    $$ SELECT internal.create_user('x-teacher@example.org', 'h', 'X', 'admin') $$,
    '42501', NULL, 'a teacher cannot create users'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT department FROM app.teacher_profiles WHERE user_id = (pg_temp.val('new_teacher') ->> 'id')::uuid),
    'Physics', 'a created teacher gets a teacher profile with the department'
);
SELECT ok(
    EXISTS (SELECT FROM app.student_profiles WHERE user_id = (pg_temp.val('new_student') ->> 'id')::uuid)
    AND EXISTS (SELECT FROM app.performance_metrics WHERE student_id = (pg_temp.val('new_student') ->> 'id')::uuid),
    'a created student gets a profile and a metrics row'
);
SELECT ok(
    NOT EXISTS (SELECT FROM app.student_profiles WHERE user_id = (pg_temp.val('new_service') ->> 'id')::uuid)
    AND NOT EXISTS (SELECT FROM app.teacher_profiles WHERE user_id = (pg_temp.val('new_service') ->> 'id')::uuid),
    'an integration account gets no profile'
);

-- ---------------------------------------------------------------------------
-- Login lookup
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT is(
    internal.login_lookup('AUTH-LOU@example.org', '192.0.2.1'),
    jsonb_build_object(
        'retry_after', 0,
        'user', jsonb_build_object(
            'id', '00000000-0000-4000-8000-000000001005', 'email', 'auth-lou@example.org',
            'full_name', 'Lou', 'role', 'student', 'password_hash', 'hash-lou', 'is_active', TRUE
        )
    ),
    'login_lookup finds the user case-insensitively, with the hash the glue checks'
);
SELECT is(
    internal.login_lookup('nobody-here@example.org', '192.0.2.1'),
    '{"retry_after": 0, "user": null}'::jsonb,
    'an unknown email: no user, not locked'
);
SELECT throws_ok(
    $$ SELECT * FROM auth.users $$, '42501', NULL, 'anon itself cannot read auth.users'
);

-- ---------------------------------------------------------------------------
-- Lockout: 5 failures of one email in 15 minutes
-- ---------------------------------------------------------------------------

SELECT internal.login_record('auth-lou@example.org', '192.0.2.1', '00000000-0000-4000-8000-000000001005', FALSE, NULL)
FROM generate_series(1, 4);
SELECT is(
    (internal.login_lookup('auth-lou@example.org', '192.0.2.9') ->> 'retry_after')::integer, 0,
    'four failures: not locked yet'
);
SELECT internal.login_record('Auth-Lou@example.org', '192.0.2.2', '00000000-0000-4000-8000-000000001005', FALSE, NULL);
SELECT pg_temp.keep('locked', internal.login_lookup('auth-lou@example.org', '192.0.2.9'));
SELECT is(
    (pg_temp.val('locked') ->> 'retry_after')::integer, 900,
    'the fifth failure locks the email for 15 minutes after the 5th-latest failure'
);
SELECT is(pg_temp.val('locked') -> 'user', 'null'::jsonb, 'while locked, no user (no password is checked)');
SELECT is(
    (internal.login_lookup('AUTH-LOU@EXAMPLE.ORG', NULL) ->> 'retry_after')::integer, 900,
    'the lock holds for the email in any case, from any address'
);
SELECT is(
    (internal.login_lookup('auth-sam@example.org', '192.0.2.1') ->> 'retry_after')::integer, 0,
    'another email from the same address is not locked'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE kind = 'login_failure' AND user_id = '00000000-0000-4000-8000-000000001005'),
    5, 'each failure is a login_failure security event'
);
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE kind = 'lockout' AND user_id = '00000000-0000-4000-8000-000000001005'
        AND details ->> 'scope' = 'email'),
    1, 'reaching the threshold is logged once as a lockout'
);
SELECT is(
    (SELECT count(*)::integer FROM auth.login_attempts WHERE lower(email) = 'auth-lou@example.org'),
    5, 'every attempt is recorded in auth.login_attempts'
);

-- The window slides: five failures 5 to 9 minutes ago lock for 6 more
-- minutes; failures older than 15 minutes do not count; a success resets
-- the count of its email.
INSERT INTO auth.login_attempts (email, client_addr, succeeded, attempted_at)
SELECT 'auth-slide@example.org', '198.51.100.1', FALSE, now() - make_interval(mins => 4 + n)
FROM generate_series(1, 5) AS n;
INSERT INTO auth.login_attempts (email, client_addr, succeeded, attempted_at)
SELECT 'auth-stale@example.org', '198.51.100.2', FALSE, now() - make_interval(mins => 15 + n)
FROM generate_series(1, 5) AS n;
INSERT INTO auth.login_attempts (email, client_addr, succeeded, attempted_at)
SELECT 'auth-reset@example.org', '198.51.100.3', n = 3, now() - make_interval(mins => 10 - 2 * n)
FROM generate_series(0, 4) AS n;
INSERT INTO auth.login_attempts (email, client_addr, succeeded, attempted_at) VALUES
('auth-reset@example.org', '198.51.100.3', FALSE, now() - interval '1 minute');

SELECT tests.become_anon();
SELECT is(
    (internal.login_lookup('auth-slide@example.org', NULL) ->> 'retry_after')::integer, 360,
    'locked until 15 minutes after the 5th-latest failure (9 minutes ago: 6 minutes left)'
);
SELECT is(
    (internal.login_lookup('auth-stale@example.org', NULL) ->> 'retry_after')::integer, 0,
    'failures older than 15 minutes do not count'
);
SELECT is(
    internal.login_lookup('auth-reset@example.org', NULL) ->> 'retry_after', '0',
    'a success resets its email''s count (3 failures before it, 2 after)'
);

-- 50 failures from one address, whatever the emails.
SELECT internal.login_record(format('auth-spray-%s@example.org', n), '203.0.113.7', NULL, FALSE, NULL)
FROM generate_series(1, 49) AS n;
SELECT is(
    (internal.login_lookup('auth-sam@example.org', '203.0.113.7') ->> 'retry_after')::integer, 0,
    '49 failures from one address: not locked'
);
SELECT internal.login_record('auth-spray-50@example.org', '203.0.113.7', NULL, FALSE, NULL);
SELECT is(
    (internal.login_lookup('auth-sam@example.org', '203.0.113.7') ->> 'retry_after')::integer, 900,
    'the 50th failure from one address locks that address, for any email'
);
SELECT is(
    (internal.login_lookup('auth-sam@example.org', '203.0.113.8') ->> 'retry_after')::integer, 0,
    'another address is not locked'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE kind = 'lockout' AND client_addr = '203.0.113.7' AND details ->> 'scope' = 'client_addr'),
    1, 'the address lockout is logged once'
);

-- ---------------------------------------------------------------------------
-- Login success: a session (refresh family and first token)
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT lives_ok(
    $$ SELECT internal.login_record('AUTH-RITA@example.org', '192.0.2.50', '00000000-0000-4000-8000-000000001003',
        TRUE, pg_temp.h('rita-1')) $$,
    'a successful login is recorded'
);
SELECT throws_ok(
    $$ SELECT internal.login_record('auth-sam@example.org', '192.0.2.50', '00000000-0000-4000-8000-000000001003',
        TRUE, pg_temp.h('rita-x')) $$,
    'VT401', 'no active user has this id and email',
    'a success for a user id that does not match the email is refused'
);
SELECT throws_ok(
    $$ SELECT internal.login_record('auth-rita@example.org', '192.0.2.50', '00000000-0000-4000-8000-000000001003',
        TRUE, NULL) $$,
    '22004', NULL, 'a success without a refresh token is refused'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT count(*)::integer FROM auth.refresh_tokens AS t
     JOIN auth.refresh_token_families AS f ON f.id = t.family_id
     WHERE t.token_hash = pg_temp.h('rita-1') AND f.user_id = '00000000-0000-4000-8000-000000001003'
        AND f.revoked_at IS NULL AND t.used_at IS NULL),
    1, 'the login opened a family with its first, unused token'
);
-- The database fixes a refresh token's lifetime: no caller (not even one
-- holding the authenticator's password) chooses it.
SELECT is(
    (SELECT t.expires_at FROM auth.refresh_tokens AS t WHERE t.token_hash = pg_temp.h('rita-1')),
    now() + interval '7 days',
    'the first refresh token expires 7 days after the login, as the database decides'
);
SELECT hasnt_function(
    'internal', 'login_record', ARRAY['text', 'inet', 'uuid', 'boolean', 'bytea', 'timestamp with time zone'],
    'login_record takes no expiry from its caller'
);
SELECT hasnt_function(
    'internal', 'refresh_rotate', ARRAY['bytea', 'bytea', 'timestamp with time zone'],
    'refresh_rotate takes no expiry from its caller'
);
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE kind = 'login_success' AND user_id = '00000000-0000-4000-8000-000000001003'),
    1, 'the success is a login_success security event'
);

-- ---------------------------------------------------------------------------
-- Refresh: rotation and reuse detection
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT pg_temp.keep('r2', internal.refresh_rotate(pg_temp.h('rita-1'), pg_temp.h('rita-2')));
SELECT is(
    pg_temp.val('r2'),
    '{"status": "ok", "steps": 1, "user": {"id": "00000000-0000-4000-8000-000000001003", "email": "auth-rita@example.org", "full_name": "Rita", "role": "student"}}'::jsonb,
    'a fresh token rotates: ok, with the user'
);
SELECT tests.unbecome();

SELECT ok(
    (SELECT t1.used_at IS NOT NULL AND t1.replaced_by = t2.id AND t1.family_id = t2.family_id AND t2.used_at IS NULL
     FROM auth.refresh_tokens AS t1, auth.refresh_tokens AS t2
     WHERE t1.token_hash = pg_temp.h('rita-1') AND t2.token_hash = pg_temp.h('rita-2')),
    'the old token is marked used and replaced by the new one, in the same family'
);
SELECT is(
    (SELECT t.expires_at FROM auth.refresh_tokens AS t WHERE t.token_hash = pg_temp.h('rita-2')),
    now() + interval '7 days',
    'the rotated token expires 7 days after the rotation, as the database decides'
);

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('rita-1'), pg_temp.h('rita-3')),
    '{"status": "reuse"}'::jsonb,
    'presenting the used token again is a reuse'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('rita-2'), pg_temp.h('rita-4')),
    '{"status": "invalid"}'::jsonb,
    'after a reuse, the legitimate latest token of the family is dead too'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('never-issued'), pg_temp.h('rita-5')),
    '{"status": "invalid"}'::jsonb,
    'an unknown token is invalid'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT f.revoked_reason FROM auth.refresh_token_families AS f
     JOIN auth.refresh_tokens AS t ON t.family_id = f.id
     WHERE t.token_hash = pg_temp.h('rita-1') AND f.revoked_at IS NOT NULL),
    'reuse_detected', 'the reuse revoked the whole family (committed: no exception was raised)'
);
SELECT is(
    (SELECT count(*)::integer FROM auth.refresh_tokens
     WHERE token_hash IN (pg_temp.h('rita-3'), pg_temp.h('rita-4'), pg_temp.h('rita-5'))),
    0, 'no token was issued by a refused rotation'
);
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE kind = 'reuse_detected' AND user_id = '00000000-0000-4000-8000-000000001003'),
    1, 'the reuse is a reuse_detected security event'
);

-- An expired token, and a token of a disabled user.
INSERT INTO auth.refresh_token_families (id, user_id) VALUES
('00000000-0000-4000-8000-000000001f01', '00000000-0000-4000-8000-000000001004'),
('00000000-0000-4000-8000-000000001f02', '00000000-0000-4000-8000-000000001006');
INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, issued_at, expires_at) VALUES
('00000000-0000-4000-8000-000000001f01', '00000000-0000-4000-8000-000000001004', pg_temp.h('sam-old'),
 now() - interval '8 days', now() - interval '2 days'),
('00000000-0000-4000-8000-000000001f02', '00000000-0000-4000-8000-000000001006', pg_temp.h('ivo-1'),
 now(), now() + interval '7 days');
UPDATE auth.users SET is_active = FALSE WHERE id = '00000000-0000-4000-8000-000000001006';

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('sam-old'), pg_temp.h('sam-new')) ->> 'status',
    'invalid', 'an expired token is invalid'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ivo-1'), pg_temp.h('ivo-2')) ->> 'status',
    'invalid', 'a disabled user''s token is invalid'
);
SELECT tests.unbecome();
UPDATE auth.users SET is_active = TRUE WHERE id = '00000000-0000-4000-8000-000000001006';

-- ---------------------------------------------------------------------------
-- The session check of every request
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000001004');
SELECT lives_ok($$ SELECT internal.assert_session_active() $$, 'a fresh token of an active user passes');
SELECT tests.unbecome();

-- Sessions revoked after the token was issued / long before.
UPDATE auth.users SET sessions_revoked_at = clock_timestamp() + interval '1 minute'
WHERE id = '00000000-0000-4000-8000-000000001004';
SELECT tests.become('00000000-0000-4000-8000-000000001004');
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'a token issued before the user''s sessions were revoked is refused'
);
SELECT tests.unbecome();
UPDATE auth.users SET sessions_revoked_at = now() - interval '1 day'
WHERE id = '00000000-0000-4000-8000-000000001004';
SELECT tests.become('00000000-0000-4000-8000-000000001004');
SELECT lives_ok(
    $$ SELECT internal.assert_session_active() $$,
    'a token issued after the revocation passes'
);

-- Claims that do not hold: an unknown user, a stale role, no jti, none.
SELECT set_config('request.jwt.claims', tests.claims_for(gen_random_uuid(), 'student')::text, TRUE);
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'a token of a user that does not exist is refused'
);
SELECT set_config('request.jwt.claims', tests.claims_for('00000000-0000-4000-8000-000000001002', 'student')::text, TRUE);
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'a token whose role is no longer the user''s (a teacher''s id with role student) is refused'
);
SELECT set_config(
    'request.jwt.claims',
    (tests.claims_for('00000000-0000-4000-8000-000000001004', 'student') - 'jti')::text, TRUE
);
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'a token without a jti is refused'
);
SELECT set_config('request.jwt.claims', '', TRUE);
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'no claims at all is refused'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Logout
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT internal.login_record('auth-sam@example.org', NULL, '00000000-0000-4000-8000-000000001004',
    TRUE, pg_temp.h('sam-1'));
SELECT tests.become('00000000-0000-4000-8000-000000001004');
SELECT pg_temp.keep('sam_claims', current_setting('request.jwt.claims')::jsonb);
SELECT lives_ok(
    $$ SELECT internal.logout(pg_temp.h('rita-2')) $$,
    'logging out with someone else''s refresh token is accepted (and ignored)'
);
SELECT lives_ok($$ SELECT internal.logout(pg_temp.h('sam-1')) $$, 'logging out twice is harmless');
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'after logout, the same access token is refused (revoked jti)'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT r.user_id::text || ' ' || (r.expires_at = to_timestamp((pg_temp.val('sam_claims') ->> 'exp')::bigint))::text
     FROM auth.revoked_tokens AS r WHERE r.jti = (pg_temp.val('sam_claims') ->> 'jti')::uuid),
    '00000000-0000-4000-8000-000000001004 true',
    'the jti is revoked until the token''s exp'
);
SELECT is(
    (SELECT f.revoked_reason FROM auth.refresh_token_families AS f
     JOIN auth.refresh_tokens AS t ON t.family_id = f.id WHERE t.token_hash = pg_temp.h('sam-1')),
    'logout', 'logout revokes the caller''s refresh family'
);
SELECT is(
    (SELECT f.revoked_reason FROM auth.refresh_token_families AS f
     JOIN auth.refresh_tokens AS t ON t.family_id = f.id WHERE t.token_hash = pg_temp.h('rita-2')),
    'reuse_detected', 'someone else''s family is left as it was'
);
SELECT tests.become('00000000-0000-4000-8000-000000001004');
SELECT lives_ok(
    $$ SELECT internal.assert_session_active() $$,
    'a new token of the same user (another jti) still works'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE kind = 'logout' AND user_id = '00000000-0000-4000-8000-000000001004'),
    2, 'each logout is a security event'
);

-- ---------------------------------------------------------------------------
-- Disabling a user ends all their sessions
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT internal.login_record('auth-ivo@example.org', NULL, '00000000-0000-4000-8000-000000001006',
    TRUE, pg_temp.h('ivo-2'));
SELECT tests.become('00000000-0000-4000-8000-000000001006');
-- Issued well before the disabling (now() is the transaction's start).
SELECT pg_temp.keep(
    'ivo_claims',
    current_setting('request.jwt.claims')::jsonb
    || jsonb_build_object('iat', floor(extract(EPOCH FROM now()))::bigint - 10)
);

SELECT tests.become('00000000-0000-4000-8000-000000001002');
SELECT throws_ok(
    $$ SELECT api.set_user_active('00000000-0000-4000-8000-000000001006', FALSE) $$,
    '42501', NULL, 'a teacher cannot disable a user'
);
SELECT tests.become('00000000-0000-4000-8000-000000001001');
SELECT is(
    api.set_user_active('00000000-0000-4000-8000-000000001006', FALSE),
    '{"id": "00000000-0000-4000-8000-000000001006", "email": "auth-ivo@example.org", "full_name": "Ivo", "role": "student", "is_active": false}'::jsonb,
    'an admin disables a user'
);
SELECT throws_ok(
    $$ SELECT api.set_user_active('00000000-0000-4000-8000-000000001001', FALSE) $$,
    'VT409', 'you cannot disable your own account', 'an admin cannot disable themself'
);
SELECT throws_ok(
    $$ SELECT api.set_user_active(gen_random_uuid(), FALSE) $$,
    'VT404', 'no such user', 'disabling an unknown user is 404'
);

-- The disabled user's token, issued before, now fails the session check.
SELECT tests.unbecome();
SELECT set_config('request.jwt.claims', pg_temp.val('ivo_claims')::text, TRUE);
SET LOCAL ROLE student;
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'a disabled user''s existing token is refused at once'
);
SELECT tests.unbecome();

SELECT ok(
    (SELECT NOT is_active AND sessions_revoked_at IS NOT NULL FROM auth.users
     WHERE id = '00000000-0000-4000-8000-000000001006'),
    'disabling sets is_active = false and sessions_revoked_at'
);
SELECT is(
    (SELECT count(*)::integer FROM auth.refresh_token_families
     WHERE user_id = '00000000-0000-4000-8000-000000001006' AND revoked_at IS NULL),
    0, 'disabling revokes every refresh family of the user'
);
SELECT is(
    (SELECT details ->> 'action' FROM audit.security_events
     WHERE kind = 'role_change' AND user_id = '00000000-0000-4000-8000-000000001006'),
    'disable', 'the change is a role_change security event'
);

SELECT tests.become('00000000-0000-4000-8000-000000001001');
SELECT is(
    api.set_user_active('00000000-0000-4000-8000-000000001006', TRUE) ->> 'is_active', 'true',
    'an admin enables the user again'
);
SELECT tests.unbecome();
SELECT set_config('request.jwt.claims', pg_temp.val('ivo_claims')::text, TRUE);
SET LOCAL ROLE student;
SELECT throws_ok(
    $$ SELECT internal.assert_session_active() $$, 'VT401', 'the session has ended',
    'enabling does not bring the old sessions back'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- me, has_permission
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000001003');
SELECT is(
    api.me(),
    '{"id": "00000000-0000-4000-8000-000000001003", "email": "auth-rita@example.org", "full_name": "Rita", "role": "student"}'::jsonb,
    'api.me returns the caller'
);
SELECT ok(api.has_permission('take_exam'), 'a student may take exams');
SELECT ok(NOT api.has_permission('create_exam'), 'a student may not create exams');
SELECT is(
    (SELECT array_agg(DISTINCT role::text) FROM auth.role_permissions),
    ARRAY['student'], 'a role reads only its own rows of the permission matrix'
);
SELECT tests.become('00000000-0000-4000-8000-000000001001');
SELECT ok(api.has_permission('view_audit'), 'an admin may view the audit trail');
SELECT tests.become('00000000-0000-4000-8000-000000001002');
SELECT ok(api.has_permission('review_flags'), 'a teacher may review flags');
SELECT ok(NOT api.has_permission('manage_users'), 'a teacher may not manage users');
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Purge
-- ---------------------------------------------------------------------------

INSERT INTO auth.revoked_tokens (jti, user_id, expires_at) VALUES
('00000000-0000-4000-8000-000000001e01', '00000000-0000-4000-8000-000000001003', now() - interval '1 hour'),
('00000000-0000-4000-8000-000000001e02', '00000000-0000-4000-8000-000000001003', now() + interval '1 hour');
INSERT INTO auth.login_attempts (email, succeeded, attempted_at) VALUES
('auth-purge@example.org', FALSE, now() - interval '31 days'),
('auth-purge@example.org', FALSE, now() - interval '29 days');
SET LOCAL ROLE worker;
SELECT lives_ok($$ SELECT internal.purge_auth_records() $$, 'the worker purges');
RESET ROLE;
SELECT set_eq(
    $$ SELECT jti FROM auth.revoked_tokens WHERE jti IN ('00000000-0000-4000-8000-000000001e01', '00000000-0000-4000-8000-000000001e02') $$,
    $$ VALUES ('00000000-0000-4000-8000-000000001e02'::uuid) $$,
    'only revocations past their expiry are purged'
);
SELECT is(
    (SELECT count(*)::integer FROM auth.login_attempts WHERE email = 'auth-purge@example.org'),
    1, 'only login attempts older than 30 days are purged'
);
SELECT is(
    (SELECT count(*)::integer FROM auth.refresh_tokens WHERE token_hash = pg_temp.h('sam-old')),
    0, 'refresh tokens expired for more than a day are purged'
);

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
