-- 72 audit, reading it: the disclosure log (a teacher or admin shown a
-- student's records is recorded, nobody else is), a student's own view of
-- it, and the admins' readers: newest first, filters, keyset pages,
-- refused to everyone else.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(36);

CREATE TEMPORARY TABLE ids (name text PRIMARY KEY, id uuid);
GRANT SELECT ON ids TO PUBLIC;
INSERT INTO ids VALUES
('tina', tests.create_user('teacher')),
('alice', tests.create_user('student')),
('bob', tests.create_user('student')),
('ada', tests.create_user('admin')),
('ivy', tests.create_user('integration'));
ALTER TABLE ids ADD COLUMN full_name text;
UPDATE ids SET full_name = u.full_name FROM auth.users AS u WHERE u.id = ids.id;
CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid LANGUAGE sql STABLE
AS $$ SELECT id FROM ids WHERE name = p_name $$;
GRANT EXECUTE ON FUNCTION pg_temp.id(text) TO PUBLIC;

-- ===========================================================================
-- The disclosure log
-- ===========================================================================

SELECT function_privs_are(
    'internal', 'log_disclosure', ARRAY['uuid', 'text', 'uuid'], 'teacher', ARRAY['EXECUTE'],
    'a teacher may record a disclosure'
);
SELECT function_privs_are(
    'internal', 'log_disclosure', ARRAY['uuid', 'text', 'uuid'], 'admin', ARRAY['EXECUTE'],
    'an admin may record a disclosure'
);
SELECT function_privs_are(
    'internal', 'log_disclosure', ARRAY['uuid', 'text', 'uuid'], 'student', ARRAY['EXECUTE'],
    'a student may call it (api.get_behavior_analysis does), and it records nothing for them'
);
SELECT function_privs_are(
    'internal', 'log_disclosures', ARRAY['uuid[]', 'text', 'uuid[]'], 'teacher', ARRAY['EXECUTE'],
    'a teacher may record disclosures of a list'
);

-- The records read: tina's exam, attempts by alice and bob, an analysis of
-- each; carl never attempted it.
INSERT INTO ids (name, id) VALUES ('carl', tests.create_user('student'));
GRANT INSERT ON ids TO PUBLIC;
SELECT tests.become(pg_temp.id('tina'));
INSERT INTO ids (name, id)
SELECT 'exam', (api.create_exam(
    title => 'Disclosed', description => '', duration_minutes => 30,
    opens_at => now() - interval '1 hour', closes_at => now() + interval '1 day', max_attempts => 1,
    questions => '[{"kind": "true_false", "prompt": "Recorded?", "correct": true}]'
) ->> 'id')::uuid;
SELECT tests.become(pg_temp.id('alice'));
INSERT INTO ids (name, id) SELECT 'att_alice', (api.create_exam_attempt(pg_temp.id('exam')) ->> 'attempt_id')::uuid;
SELECT tests.become(pg_temp.id('bob'));
INSERT INTO ids (name, id) SELECT 'att_bob', (api.create_exam_attempt(pg_temp.id('exam')) ->> 'attempt_id')::uuid;
SELECT tests.unbecome();
INSERT INTO app.behavior_analyses (id, attempt_id, source, model, integrity_score, lmi_score) VALUES
('00000000-0000-4000-8000-00000000d002', pg_temp.id('att_alice'), 'builtin', 'builtin-v1', 90, 0.1),
('00000000-0000-4000-8000-00000000d003', pg_temp.id('att_bob'), 'builtin', 'builtin-v1', 40, 0.6);

SELECT tests.become(pg_temp.id('tina'));
SELECT internal.log_disclosure(pg_temp.id('alice'), 'profile', pg_temp.id('alice'));
SELECT internal.log_disclosure(pg_temp.id('alice'), 'monitoring_events', pg_temp.id('att_alice'));
SELECT internal.log_disclosures(
    ARRAY[pg_temp.id('alice'), pg_temp.id('bob'), pg_temp.id('bob')], 'analysis',
    ARRAY['00000000-0000-4000-8000-00000000d002', '00000000-0000-4000-8000-00000000d003',
          '00000000-0000-4000-8000-00000000d003']::uuid[]
);

-- A disclosure is written only by the read it records: a row must name a
-- record of the student that the caller may read.
SELECT throws_ok(
    $$ SELECT internal.log_disclosure(pg_temp.id('carl'), 'profile', pg_temp.id('carl')) $$,
    '42501', 'a disclosure is recorded only by the read it records',
    'tina cannot log a disclosure about a student she cannot see'
);
SELECT throws_ok(
    $$ SELECT internal.log_disclosure(pg_temp.id('alice'), 'monitoring_events', pg_temp.id('att_bob')) $$,
    '42501', 'a disclosure is recorded only by the read it records',
    'nor one that pins bob''s attempt on alice'
);
SELECT throws_ok(
    $$ SELECT internal.log_disclosures(
        ARRAY[pg_temp.id('alice'), pg_temp.id('carl')], 'profile',
        ARRAY[pg_temp.id('alice'), pg_temp.id('carl')]) $$,
    '42501', 'a disclosure is recorded only by the read it records',
    'nor a list with one student she cannot see'
);
SELECT throws_ok(
    $$ SELECT internal.log_disclosure(pg_temp.id('alice'), 'gossip', pg_temp.id('alice')) $$,
    '22023', NULL,
    'nor one of a kind no read records'
);
SELECT tests.become(pg_temp.id('ada'));
SELECT internal.log_disclosure(pg_temp.id('bob'), 'monitoring_events', pg_temp.id('att_bob'));
SELECT tests.become(pg_temp.id('alice'));
SELECT internal.log_disclosure(pg_temp.id('alice'), 'analysis', NULL);
SELECT tests.unbecome();
-- A DBA's session (no claims) records nothing, nor did alice's own read above.
SELECT internal.log_disclosure(pg_temp.id('bob'), 'profile', NULL);

SELECT set_eq(
    $$ SELECT viewer_id, viewer_role, student_id, record_kind, record_id FROM audit.disclosures
       WHERE viewer_id IN (pg_temp.id('tina'), pg_temp.id('ada')) $$,
    $$ VALUES
        (pg_temp.id('tina'), 'teacher', pg_temp.id('alice'), 'profile', pg_temp.id('alice')),
        (pg_temp.id('tina'), 'teacher', pg_temp.id('alice'), 'monitoring_events', pg_temp.id('att_alice')),
        (pg_temp.id('tina'), 'teacher', pg_temp.id('alice'), 'analysis', '00000000-0000-4000-8000-00000000d002'::uuid),
        (pg_temp.id('tina'), 'teacher', pg_temp.id('bob'), 'analysis', '00000000-0000-4000-8000-00000000d003'::uuid),
        (pg_temp.id('ada'), 'admin', pg_temp.id('bob'), 'monitoring_events', pg_temp.id('att_bob')) $$,
    'teachers and admins reading student records are recorded: who, whose, which (a list once per record); refused calls wrote nothing'
);

-- A student reads their own disclosure history, and nobody else's.
SELECT tests.become(pg_temp.id('alice'));
SELECT is(
    (SELECT jsonb_array_length(api.get_my_disclosures())), 3,
    'alice sees the three disclosures of her records'
);
SELECT is(
    (SELECT array_agg(e ->> 'record_kind') FROM jsonb_array_elements(api.get_my_disclosures()) AS e),
    ARRAY['analysis', 'monitoring_events', 'profile'],
    'newest first'
);
SELECT is(
    (SELECT api.get_my_disclosures() -> 0 ->> 'viewer_name'),
    (SELECT full_name FROM ids WHERE name = 'tina'),
    'with the name of who was shown them'
);
SELECT is(
    (SELECT api.get_my_disclosures() -> 0 ->> 'viewer_role'), 'teacher',
    'and their role'
);
SELECT is(
    (SELECT array_agg(e ->> 'record_kind')
     FROM jsonb_array_elements(api.get_my_disclosures("limit" => 1,
         before => (api.get_my_disclosures("limit" => 1) -> 0 ->> 'id')::bigint)) AS e),
    ARRAY['monitoring_events'],
    'in keyset pages'
);
SELECT is(
    (SELECT count(*)::int FROM audit.disclosures), 3,
    'alice reads only her own rows of the disclosure log'
);
SELECT ok(
    internal.disclosure_viewer_name(pg_temp.id('ada')) IS NULL,
    'she learns no name of someone who was not shown her records'
);
SELECT throws_ok(
    'SELECT api.get_my_disclosures("limit" => 0)', '22023', NULL,
    'a limit below 1 is refused'
);
SELECT throws_ok(
    'SELECT api.get_audit_log()', '42501', NULL, 'a student cannot read the audit log'
);
SELECT throws_ok(
    'SELECT api.get_disclosure_log()', '42501', NULL, 'nor the whole disclosure log'
);
SELECT tests.become(pg_temp.id('bob'));
SELECT is(
    (SELECT array_agg(e ->> 'viewer_role' ORDER BY e ->> 'viewer_role')
     FROM jsonb_array_elements(api.get_my_disclosures()) AS e),
    ARRAY['admin', 'teacher'],
    'bob sees his own two'
);

SELECT tests.become(pg_temp.id('tina'));
SELECT throws_ok('SELECT api.get_audit_log()', '42501', NULL, 'a teacher cannot read the audit log');
SELECT throws_ok('SELECT api.get_my_disclosures()', '42501', NULL, 'nor has a disclosure history');
SELECT throws_ok('SELECT 1 FROM audit.disclosures', '42501', NULL, 'nor reads the disclosure table');
SELECT tests.become(pg_temp.id('ivy'));
SELECT throws_ok('SELECT api.get_audit_log()', '42501', NULL, 'an integration cannot read the audit log');
SELECT tests.become_anon();
SELECT throws_ok('SELECT api.get_audit_log()', '42501', NULL, 'nor can anonymous callers');
SELECT tests.unbecome();

-- ===========================================================================
-- The admins' readers
-- ===========================================================================

SELECT function_privs_are(
    'api', 'get_audit_log', ARRAY['text', 'uuid', 'timestamp with time zone', 'integer', 'bigint'],
    'admin', ARRAY['EXECUTE'], 'an admin may read the audit log'
);

-- A few changes to find: tina edits her name three times.
SELECT tests.become(pg_temp.id('ada'));
UPDATE auth.users SET full_name = 'Tina One' WHERE id = pg_temp.id('tina');
UPDATE auth.users SET full_name = 'Tina Two' WHERE id = pg_temp.id('tina');
UPDATE auth.users SET full_name = 'Tina Three' WHERE id = pg_temp.id('tina');

SELECT is(
    (SELECT array_agg(e -> 'new_values' ->> 'full_name')
     FROM jsonb_array_elements(api.get_audit_log("table" => 'users', actor => pg_temp.id('ada'))) AS e),
    ARRAY['Tina Three', 'Tina Two', 'Tina One'],
    'the audit log, by table and actor, newest first'
);
SELECT is(
    (SELECT jsonb_array_length(api.get_audit_log("table" => 'auth.users', actor => pg_temp.id('ada')))),
    3,
    'the table may be named with its schema'
);
SELECT is(
    (SELECT jsonb_array_length(api.get_audit_log("table" => 'app.users'))),
    0,
    'and the schema counts'
);
SELECT is(
    (SELECT array_agg(e -> 'new_values' ->> 'full_name')
     FROM jsonb_array_elements(api.get_audit_log(
         "table" => 'users', actor => pg_temp.id('ada'), "limit" => 2,
         before => (api.get_audit_log("table" => 'users', actor => pg_temp.id('ada'), "limit" => 2) -> 1 ->> 'id')::bigint
     )) AS e),
    ARRAY['Tina One'],
    'keyset pagination: before = the last id of the previous page'
);
SELECT is(
    (SELECT jsonb_array_length(api.get_audit_log("table" => 'users', since => now() + interval '1 minute'))),
    0,
    'since filters by time'
);
SELECT ok(
    (SELECT e ->> 'occurred_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$'
     FROM jsonb_array_elements(api.get_audit_log("limit" => 1)) AS e),
    'times are UTC'
);
SELECT is(
    (SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(api.get_audit_log("limit" => 1) -> 0) AS k)),
    ARRAY['actor_id', 'actor_role', 'changed_columns', 'db_user', 'id', 'new_values', 'occurred_at',
          'old_values', 'operation', 'request_method', 'request_path', 'row_pk', 'table', 'txid'],
    'an entry says what, where, who, from which request'
);
SELECT throws_ok(
    'SELECT api.get_audit_log("limit" => 1001)', '22023', NULL, 'a limit above 1000 is refused'
);
SELECT is(
    (SELECT jsonb_array_length(api.get_disclosure_log(student_id => pg_temp.id('bob')))), 2,
    'an admin reads who was shown a student''s records'
);
SELECT is(
    (SELECT api.get_security_events(kind => 'role_change', user_id => pg_temp.id('tina')) -> 0 -> 'details' ->> 'to'),
    'teacher',
    'and the security events'
);
SELECT tests.unbecome();

SELECT * FROM finish();
ROLLBACK;
