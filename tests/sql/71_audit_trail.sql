-- 71 audit, behaviour: what a change records (table, operation, key,
-- changed columns with old and new values, request, txid), who the actor is
-- (the JWT subject for API calls, the login for direct sessions and
-- migrations; hand-set claims are not believed), secrets never copied, the
-- monitoring events audited per statement and per detach, role changes as
-- security events, and the hash chain as the sealer leaves it.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(58);

-- The database may hold history already (the HTTP tests share it): the
-- checks below look at what this file adds, after this mark.
CREATE TEMPORARY TABLE mark AS SELECT coalesce(max(id), 0) AS id FROM audit.log;
GRANT SELECT ON mark TO PUBLIC;
CREATE FUNCTION pg_temp.mark() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM mark $$;

CREATE TEMPORARY TABLE ids (name text PRIMARY KEY, id uuid);
GRANT SELECT ON ids TO PUBLIC;
INSERT INTO ids VALUES
('tina', tests.create_user('teacher')),
('alice', tests.create_user('student')),
('bob', tests.create_user('student')),
('ada', tests.create_user('admin'));
CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid LANGUAGE sql STABLE
AS $$ SELECT id FROM ids WHERE name = p_name $$;
GRANT EXECUTE ON FUNCTION pg_temp.id(text) TO PUBLIC;

-- Acts as a request of the glue: the user's role and claims, method, path.
CREATE FUNCTION pg_temp.request(p_name text, p_method text, p_path text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.become(pg_temp.id(p_name));
    PERFORM set_config('request.method', p_method, TRUE);
    PERFORM set_config('request.path', p_path, TRUE);
END;
$$;
CREATE FUNCTION pg_temp.direct()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM tests.unbecome();
    PERFORM set_config('request.method', '', TRUE);
    PERFORM set_config('request.path', '', TRUE);
END;
$$;

-- ===========================================================================
-- API calls: the actor is the JWT subject
-- ===========================================================================

SELECT pg_temp.request('tina', 'POST', '/teacher/exams');
CREATE TEMPORARY TABLE made AS
SELECT (api.create_exam(
    title => 'Audited exam', description => NULL, duration_minutes => 30,
    opens_at => now() - interval '1 hour', closes_at => now() + interval '1 day',
    max_attempts => 2,
    questions => '[{"kind": "true_false", "prompt": "Audited?", "options": [], "correct": true, "points": 2}]'
) ->> 'id')::uuid AS exam_id, txid_current() AS txid;
SELECT pg_temp.direct();
GRANT SELECT ON made TO PUBLIC;

CREATE TEMPORARY VIEW exam_entry AS
SELECT l.* FROM audit.log AS l, made AS m
WHERE l.table_schema = 'app' AND l.table_name = 'exams' AND l.operation = 'INSERT'
  AND l.row_pk = jsonb_build_object('id', m.exam_id);

SELECT is((SELECT count(*)::int FROM exam_entry), 1, 'an exam creation is one INSERT entry of app.exams');
SELECT is((SELECT actor_id FROM exam_entry), pg_temp.id('tina'), 'its actor is the JWT subject');
SELECT is((SELECT actor_role FROM exam_entry), 'teacher', 'its actor role is the role claim');
SELECT is((SELECT db_user FROM exam_entry), session_user::text, 'db_user is the connection''s login');
SELECT is(
    (SELECT array[request_method, request_path] FROM exam_entry), ARRAY['POST', '/teacher/exams'],
    'the request''s method and path are recorded'
);
SELECT is((SELECT e.txid FROM exam_entry AS e), (SELECT txid FROM made), 'the transaction id is recorded');
SELECT is(
    (SELECT new_values ->> 'title' FROM exam_entry), 'Audited exam',
    'an INSERT records the new row'
);
SELECT ok(
    (SELECT old_values IS NULL AND changed_columns IS NULL FROM exam_entry),
    'an INSERT has no old values and no changed columns'
);
SELECT ok(
    EXISTS (SELECT FROM audit.log AS l, made AS m
            WHERE l.table_name = 'questions' AND l.new_values ->> 'exam_id' = m.exam_id::text
              AND l.actor_id = pg_temp.id('tina')),
    'the exam''s questions are recorded with the same actor'
);

-- A student starts and submits: the grade is recorded with its actor.
SELECT pg_temp.request('alice', 'POST', '/student/exams/x/start');
CREATE TEMPORARY TABLE attempt AS
SELECT (api.create_exam_attempt((SELECT exam_id FROM made)) ->> 'attempt_id')::uuid AS id;
GRANT SELECT ON attempt TO PUBLIC;
SELECT api.save_answer(
    (SELECT id FROM attempt),
    (SELECT q.id FROM app.questions AS q, made AS m WHERE q.exam_id = m.exam_id), 'true'
);
SELECT pg_temp.direct();
SELECT is(
    (SELECT array_agg(points_awarded) FROM app.attempt_answers
     WHERE attempt_id = (SELECT id FROM attempt)),
    ARRAY[NULL::numeric],
    'an autosaved answer carries no points while the attempt is in progress'
);
SELECT pg_temp.request('alice', 'POST', '/student/exams/x/submit');
SELECT api.complete_exam_attempt((SELECT id FROM attempt));
SELECT pg_temp.direct();

CREATE TEMPORARY VIEW submit_entry AS
SELECT l.* FROM audit.log AS l, attempt AS a
WHERE l.table_name = 'exam_attempts' AND l.operation = 'UPDATE'
  AND l.row_pk = jsonb_build_object('id', a.id);

SELECT is((SELECT count(*)::int FROM submit_entry), 1, 'a submit is one UPDATE entry of the attempt');
SELECT is((SELECT actor_id FROM submit_entry), pg_temp.id('alice'), 'by the submitting student');
SELECT is((SELECT request_path FROM submit_entry), '/student/exams/x/submit', 'from the submit request');
SELECT ok(
    (SELECT changed_columns @> ARRAY['finished_at', 'score', 'status'] FROM submit_entry),
    'it names the changed columns'
);
SELECT is(
    (SELECT array[old_values ->> 'status', new_values ->> 'status', old_values ->> 'score', new_values ->> 'score']
     FROM submit_entry),
    ARRAY['in_progress', 'submitted', NULL, '2'],
    'with their old and new values'
);
SELECT ok(
    (SELECT NOT (old_values ? 'question_order') AND NOT (new_values ? 'started_at') FROM submit_entry),
    'an UPDATE records only the columns that changed'
);
SELECT ok(
    EXISTS (SELECT FROM audit.log AS l, attempt AS a
            WHERE l.table_name = 'attempt_answers' AND l.operation = 'UPDATE'
              AND l.row_pk = jsonb_build_object('attempt_id', a.id, 'question_id',
                  (SELECT q.id FROM app.questions AS q, made AS m WHERE q.exam_id = m.exam_id))
              AND l.new_values ->> 'points_awarded' = '2'),
    'the points awarded to each answer are recorded, keyed by the composite primary key'
);

-- A submit that carries its final answers stores each one graded: one
-- INSERT entry per answer, with its points, and no second write of it.
SELECT pg_temp.request('bob', 'POST', '/student/exams/x/start');
CREATE TEMPORARY TABLE bobs_attempt AS
SELECT (api.create_exam_attempt((SELECT exam_id FROM made)) ->> 'attempt_id')::uuid AS id;
GRANT SELECT ON bobs_attempt TO PUBLIC;
SELECT pg_temp.request('bob', 'POST', '/student/exams/x/submit');
SELECT api.complete_exam_attempt(
    (SELECT id FROM bobs_attempt),
    (SELECT jsonb_build_object(q.id, TRUE) FROM app.questions AS q, made AS m WHERE q.exam_id = m.exam_id)
);
SELECT pg_temp.direct();
CREATE TEMPORARY VIEW bobs_answer_entries AS
SELECT l.* FROM audit.log AS l, bobs_attempt AS a
WHERE l.table_name = 'attempt_answers' AND l.row_pk ->> 'attempt_id' = a.id::text;
SELECT is(
    (SELECT array_agg(operation || ':' || (new_values ->> 'points_awarded')) FROM bobs_answer_entries),
    ARRAY['INSERT:2'],
    'final answers in the submit are stored graded: one INSERT entry with the points, no UPDATE'
);
SELECT is(
    (SELECT score FROM app.exam_attempts WHERE id = (SELECT id FROM bobs_attempt)), 2::numeric,
    'and the attempt is scored on them'
);

-- ===========================================================================
-- Direct sessions: the actor is the login
-- ===========================================================================

UPDATE app.attempt_answers SET points_awarded = 1 WHERE attempt_id = (SELECT id FROM attempt);
CREATE TEMPORARY VIEW dba_entry AS
SELECT l.* FROM audit.log AS l, attempt AS a
WHERE l.table_name = 'attempt_answers' AND l.operation = 'UPDATE'
  AND l.row_pk ->> 'attempt_id' = a.id::text AND l.new_values ->> 'points_awarded' = '1';
SELECT is((SELECT count(*)::int FROM dba_entry), 1, 'a DBA''s direct grade change is recorded');
SELECT ok((SELECT actor_id IS NULL FROM dba_entry), 'with no API user');
SELECT is(
    (SELECT array[actor_role, db_user] FROM dba_entry), ARRAY[session_user::text, session_user::text],
    'and the login as the actor'
);
SELECT ok(
    (SELECT request_method IS NULL AND request_path IS NULL FROM dba_entry),
    'and no request'
);

-- A migration runs as veritas_owner under the DBA's login.
SET LOCAL ROLE veritas_owner;
UPDATE auth.users SET full_name = 'Alice, renamed by a migration' WHERE id = pg_temp.id('alice');
RESET ROLE;
SELECT is(
    (SELECT array[actor_role, db_user] FROM audit.log
     WHERE table_name = 'users' AND row_pk = jsonb_build_object('id', pg_temp.id('alice'))
       AND operation = 'UPDATE'),
    ARRAY['veritas_owner', session_user::text],
    'a migration''s change names the owner role and the DBA''s login'
);

-- Claims set by hand, without the role, are not believed.
SELECT set_config(
    'request.jwt.claims', jsonb_build_object('sub', pg_temp.id('ada'), 'role', 'admin')::text, TRUE
);
UPDATE app.event_types SET description = description || ' ' WHERE event_type = 'copy';
SELECT pg_temp.direct();
SELECT is(
    (SELECT array[actor_id::text, actor_role] FROM audit.log
     WHERE table_name = 'event_types' AND row_pk = '{"event_type": "copy"}' AND id > pg_temp.mark()),
    ARRAY[NULL, session_user::text],
    'hand-set claims without the matching role do not make an actor'
);

-- The worker is its role.
SET LOCAL ROLE worker;
SELECT internal.seal_audit_log() >= 0 AS sealed;
RESET ROLE;
UPDATE app.exams SET title = 'Audited exam, renamed' WHERE id = (SELECT exam_id FROM made);
SELECT is(
    (SELECT changed_columns FROM audit.log
     WHERE table_name = 'exams' AND operation = 'UPDATE'
       AND row_pk = jsonb_build_object('id', (SELECT exam_id FROM made))),
    ARRAY['title', 'updated_at'],
    'changed columns are listed in name order'
);
UPDATE app.exams SET title = title WHERE id = (SELECT exam_id FROM made);
SELECT is(
    (SELECT count(*)::int FROM audit.log
     WHERE table_name = 'exams' AND operation = 'UPDATE'
       AND row_pk = jsonb_build_object('id', (SELECT exam_id FROM made))),
    2,
    'an UPDATE that changes a value (here updated_at only) is recorded'
);
UPDATE app.event_types SET severity = severity WHERE event_type = 'heartbeat';
SELECT is_empty(
    $$ SELECT 1 FROM audit.log WHERE table_name = 'event_types' AND row_pk = '{"event_type": "heartbeat"}'
       AND id > pg_temp.mark() $$,
    'an UPDATE that changes nothing is not recorded'
);
UPDATE app.event_types SET description = description || '!' WHERE severity = 3;
SELECT is(
    (SELECT count(*)::int FROM audit.log WHERE table_name = 'event_types' AND id > pg_temp.mark()
     AND new_values ->> 'description' LIKE '%!'),
    (SELECT count(*)::int FROM app.event_types WHERE severity = 3),
    'a statement changing several rows records one entry per row'
);
UPDATE auth.role_permissions SET permission = 'view_audit_trail'
WHERE role = 'admin' AND permission = 'view_audit';
SELECT set_eq(
    $$ SELECT row_pk ->> 'permission' AS pk, old_values ->> 'permission' AS old,
              new_values ->> 'permission' AS new
       FROM audit.log WHERE table_name = 'role_permissions' AND id > pg_temp.mark() $$,
    $$ VALUES ('view_audit', 'view_audit', NULL), ('view_audit_trail', NULL, 'view_audit_trail') $$,
    'an UPDATE of a primary key records the row under its old key and its new one'
);
TRUNCATE app.flag_reviews;
SELECT is(
    (SELECT array[operation, actor_role] FROM audit.log WHERE table_name = 'flag_reviews'
     AND id > pg_temp.mark()),
    ARRAY['TRUNCATE', session_user::text],
    'a TRUNCATE of a business table is recorded'
);
DELETE FROM app.accommodations WHERE FALSE;
INSERT INTO app.accommodations (exam_id, student_id, extra_minutes)
VALUES ((SELECT exam_id FROM made), pg_temp.id('bob'), 15);
DELETE FROM app.accommodations WHERE student_id = pg_temp.id('bob');
SELECT is(
    (SELECT old_values ->> 'extra_minutes' FROM audit.log
     WHERE table_name = 'accommodations' AND operation = 'DELETE'
       AND row_pk ->> 'student_id' = pg_temp.id('bob')::text),
    '15',
    'a DELETE records the old row'
);

-- ===========================================================================
-- Secrets never copied
-- ===========================================================================

UPDATE auth.users SET password_hash = '$2b$12$secretsecretsecretsecreOnlyInTheUsersTableXXXXXXXXXX'
WHERE id = pg_temp.id('bob');
SELECT ok(
    (SELECT 'password_hash' = ANY (changed_columns) FROM audit.log
     WHERE table_name = 'users' AND operation = 'UPDATE' AND row_pk = jsonb_build_object('id', pg_temp.id('bob'))),
    'a password change is recorded as a changed column'
);
SELECT is_empty(
    $$ SELECT 1 FROM audit.log WHERE table_name = 'users'
       AND (old_values ? 'password_hash' OR new_values ? 'password_hash') $$,
    'but the hash is never copied (insert or update)'
);

-- A login's refresh token, and its rotation.
SELECT internal.login_record(
    (SELECT email FROM auth.users WHERE id = pg_temp.id('bob')), '203.0.113.9', pg_temp.id('bob'), TRUE,
    sha256('bob-refresh-token-1')
);
SELECT internal.refresh_rotate(
    sha256('bob-refresh-token-1'), sha256('bob-refresh-token-2')
);
SELECT cmp_ok(
    (SELECT count(*)::int FROM audit.log WHERE table_name = 'refresh_tokens'), '>=', 3,
    'refresh tokens are audited (issued, used, replaced)'
);
SELECT is_empty(
    $$ SELECT l.id FROM audit.log AS l
       WHERE position(encode(sha256('bob-refresh-token-1'), 'hex') IN l::text) > 0
          OR position(encode(sha256('bob-refresh-token-2'), 'hex') IN l::text) > 0
          OR position('OnlyInTheUsersTable' IN l::text) > 0 $$,
    'no audit row contains a token hash or a password hash anywhere'
);
SELECT is_empty(
    $$ SELECT l.id FROM audit.log AS l,
       LATERAL (SELECT jsonb_object_keys(coalesce(l.old_values, '{}') || coalesce(l.new_values, '{}')) AS k) AS k
       WHERE k.k ~* '(hash|passw|secret)' $$,
    'no audit row copies a column named like a secret'
);

-- ===========================================================================
-- Security events: logins, refreshes, role changes
-- ===========================================================================

SELECT is(
    (SELECT host(client_addr) FROM audit.security_events
     WHERE kind = 'login_success' AND user_id = pg_temp.id('bob')),
    '203.0.113.9',
    'a login is a security event with its client address'
);
SELECT ok(
    EXISTS (SELECT FROM audit.security_events WHERE kind = 'refresh' AND user_id = pg_temp.id('bob')),
    'a refresh is a security event'
);
SELECT is(
    (SELECT details ->> 'to' FROM audit.security_events
     WHERE kind = 'role_change' AND user_id = pg_temp.id('tina')),
    'teacher',
    'creating a teacher is a role_change (grant) security event'
);
UPDATE auth.users SET role = 'teacher' WHERE id = pg_temp.id('bob');
SELECT is(
    (SELECT array[details ->> 'action', details ->> 'from', details ->> 'to', details ->> 'by_role']
     FROM audit.security_events WHERE kind = 'role_change' AND user_id = pg_temp.id('bob')),
    ARRAY['change', 'student', 'teacher', session_user::text],
    'a DBA''s role change is a role_change security event, by the login'
);
SELECT pg_temp.request('ada', 'POST', '/admin/users/x/active');
SELECT api.set_user_active(pg_temp.id('bob'), FALSE);
SELECT pg_temp.direct();
SELECT is(
    (SELECT details ->> 'action' FROM audit.security_events
     WHERE kind = 'role_change' AND user_id = pg_temp.id('bob') ORDER BY id DESC LIMIT 1),
    'disable',
    'disabling a user is a role_change security event'
);
SELECT is(
    (SELECT actor_id FROM audit.log
     WHERE table_name = 'users' AND operation = 'UPDATE' AND 'is_active' = ANY (changed_columns)
       AND row_pk = jsonb_build_object('id', pg_temp.id('bob'))),
    pg_temp.id('ada'),
    'and its row change names the admin (through a SECURITY DEFINER helper)'
);

-- ===========================================================================
-- Monitoring events: per statement, never per row
-- ===========================================================================

INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, question_order, scored_against
) VALUES (
    '00000000-0000-4000-8000-00000000a771', (SELECT exam_id FROM made), pg_temp.id('alice'), 2,
    'in_progress', now(), now() + interval '30 minutes', '[]', '[]'
);
CREATE TEMPORARY TABLE log_mark AS SELECT coalesce(max(id), 0) AS id FROM audit.log;
GRANT SELECT ON log_mark TO PUBLIC;
INSERT INTO app.monitoring_events (
    attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at, severity,
    is_anomaly, client_event_id
)
SELECT a.id, a.started_at, a.exam_id, a.student_id, 'tab_hidden', now(), 2, TRUE, 'audit-' || n
FROM app.exam_attempts AS a, generate_series(1, 5) AS n
WHERE a.id = '00000000-0000-4000-8000-00000000a771';
SELECT is_empty(
    $$ SELECT 1 FROM audit.log WHERE id > (SELECT id FROM log_mark) $$,
    'recording events adds nothing to the audit log'
);
UPDATE app.monitoring_events SET payload = '{"edited": true}'
WHERE attempt_id = '00000000-0000-4000-8000-00000000a771' AND client_event_id IN ('audit-1', 'audit-2');
SELECT is(
    (SELECT array[operation, table_name, new_values ->> 'rows', changed_columns::text]
     FROM audit.log WHERE id > (SELECT id FROM log_mark)),
    ARRAY['UPDATE', 'monitoring_events', '2', '{payload}'],
    'an UPDATE of events is one statement-level entry: how many rows, which columns'
);
SELECT is(
    (SELECT new_values -> 'attempt_ids' FROM audit.log WHERE id > (SELECT id FROM log_mark)),
    '["00000000-0000-4000-8000-00000000a771"]'::jsonb,
    'and which attempts'
);
DELETE FROM app.monitoring_events WHERE attempt_id = '00000000-0000-4000-8000-00000000a771'
AND client_event_id = 'audit-3';
SELECT is(
    (SELECT array[operation, old_values ->> 'rows', actor_role] FROM audit.log
     WHERE id > (SELECT id FROM log_mark) ORDER BY id DESC LIMIT 1),
    ARRAY['DELETE', '1', session_user::text],
    'a DELETE of events is one statement-level entry, with its actor'
);
DELETE FROM app.monitoring_events_default WHERE attempt_id = '00000000-0000-4000-8000-00000000a771';
DELETE FROM app.monitoring_events WHERE attempt_id = '00000000-0000-4000-8000-00000000a771';
SELECT is(
    (SELECT count(*)::int FROM audit.log WHERE id > (SELECT id FROM log_mark)
     AND table_name LIKE 'monitoring_events%' AND operation = 'DELETE'),
    2,
    'a DELETE aimed at one partition is caught there; a DELETE that removes nothing is not recorded'
);
SELECT pg_temp.direct();

-- Detaching a partition (retention) is recorded too.
SET LOCAL ROLE veritas_owner;
CREATE TABLE app.monitoring_events_p200001 PARTITION OF app.monitoring_events
FOR VALUES FROM ('2000-01-01 00:00:00+00') TO ('2000-02-01 00:00:00+00');
RESET ROLE;
SELECT is(
    (SELECT array_agg(x ORDER BY x) FROM internal.archive_event_partitions('30 days') AS x),
    ARRAY['archive.monitoring_events_p200001'],
    'retention detaches the old partition'
);
SELECT is(
    (SELECT array[operation, table_name, new_values ->> 'archived_as'] FROM audit.log
     WHERE operation = 'DETACH' AND id > pg_temp.mark()),
    ARRAY['DETACH', 'monitoring_events_p200001', 'archive.monitoring_events_p200001'],
    'and the detach is an audit entry'
);

-- ===========================================================================
-- The hash chain
-- ===========================================================================

SELECT cmp_ok(internal.seal_audit_log(), '>', 0, 'the sealer seals what is waiting');
SELECT is(internal.seal_audit_log(), 0, 'and nothing twice');

-- The chain of one table recomputed from scratch: the positions where it
-- breaks (positions 1..n without a gap, each hash that of the row's content
-- after the hash before; each seal continuing the one before it).
CREATE FUNCTION pg_temp.chain_breaks(p_chain text)
RETURNS SETOF bigint
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        $q$
        WITH rows AS (
            SELECT s.first_position + u.ord - 1 AS position, u.stored,
                   internal.audit_content(r) AS content
            FROM audit.seals AS s
            CROSS JOIN LATERAL unnest(s.row_ids, s.row_hashes) WITH ORDINALITY AS u (id, stored, ord)
            LEFT JOIN audit.%1$I AS r ON r.id = u.id
            WHERE s.chain = %1$L
        ),
        chained AS (
            SELECT position, stored, content,
                   coalesce(lag(stored) OVER (ORDER BY position), decode(repeat('00', 32), 'hex')) AS before,
                   row_number() OVER (ORDER BY position) AS n
            FROM rows
        )
        SELECT position FROM chained
        WHERE position <> n OR content IS NULL
           OR stored <> sha256(before || convert_to(position::text || '|' || content, 'UTF8'))
        UNION ALL
        SELECT s.seal_no FROM (
            SELECT seal_no, prev_hash, last_hash, row_hashes,
                   lag(last_hash) OVER (ORDER BY seal_no) AS before
            FROM audit.seals WHERE chain = %1$L
        ) AS s
        WHERE s.prev_hash <> coalesce(s.before, decode(repeat('00', 32), 'hex'))
           OR s.last_hash <> coalesce(s.row_hashes[cardinality(s.row_hashes)], s.prev_hash)
        $q$,
        p_chain
    );
END;
$$;

SELECT is_empty(
    $$ SELECT 'log', l.id FROM audit.log AS l
       WHERE NOT EXISTS (SELECT FROM audit.seals AS s WHERE s.chain = 'log' AND l.id = ANY (s.row_ids))
       UNION ALL
       SELECT 'security_events', e.id FROM audit.security_events AS e
       WHERE NOT EXISTS (SELECT FROM audit.seals AS s WHERE s.chain = 'security_events' AND e.id = ANY (s.row_ids))
       UNION ALL
       SELECT 'disclosures', d.id FROM audit.disclosures AS d
       WHERE NOT EXISTS (SELECT FROM audit.seals AS s WHERE s.chain = 'disclosures' AND d.id = ANY (s.row_ids)) $$,
    'every committed row of the three tables is sealed'
);
SELECT is_empty($$ SELECT pg_temp.chain_breaks('log') $$, 'audit.log is one unbroken chain');
SELECT is_empty(
    $$ SELECT pg_temp.chain_breaks('security_events') $$, 'audit.security_events is one unbroken chain'
);
SELECT is_empty(
    $$ SELECT pg_temp.chain_breaks('disclosures') $$, 'audit.disclosures is one unbroken chain'
);
SELECT function_privs_are(
    'internal', 'seal_audit_log', ARRAY[]::text[], 'worker', ARRAY['EXECUTE'],
    'the worker may seal'
);
SELECT function_privs_are(
    'internal', 'seal_audit_log', ARRAY[]::text[], 'admin', ARRAY[]::text[],
    'an admin may not'
);

SELECT * FROM finish();
ROLLBACK;
