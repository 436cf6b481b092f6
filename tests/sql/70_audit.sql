-- 70 audit, structure: every business table carries the audit triggers (a
-- catalog sweep, which a new table without them fails), the exclusions are
-- exactly the documented ones, the monitoring events are audited at
-- statement level on every partition, secret columns are handed to the
-- trigger as secrets, and the audit tables are append-only for every role
-- the application uses, the owner and a superuser included.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(156);

-- The four triggers every audited table must carry: AFTER ... FOR EACH
-- STATEMENT (tgtype bit 1 off, BEFORE bit 2 off) on INSERT (4), DELETE (8),
-- UPDATE (16) with their transition tables, and TRUNCATE (32), all running
-- internal.tg__audit, enabled.
CREATE TEMPORARY TABLE audit_triggers (tgname text, tgtype int, transition text[]);
INSERT INTO audit_triggers VALUES
('_500_audit_insert', 4, '{NULL,new_rows}'),
('_500_audit_update', 16, '{old_rows,new_rows}'),
('_500_audit_delete', 8, '{old_rows,NULL}'),
('_500_audit_truncate', 32, '{NULL,NULL}');

-- The sweep: tables of app and auth (partitions with their parent) that are
-- not excluded and lack one of the four.
CREATE FUNCTION pg_temp.unaudited_tables()
RETURNS SETOF text
LANGUAGE sql
AS $$
    SELECT DISTINCT format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    CROSS JOIN audit_triggers AS w
    WHERE
        n.nspname IN ('app', 'auth') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND format('%I.%I', n.nspname, c.relname) NOT IN (
            SELECT x.table_name FROM internal.audit_exclusions() AS x
        )
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_trigger AS t
            WHERE
                t.tgrelid = c.oid AND t.tgname = w.tgname
                AND t.tgfoid = 'internal.tg__audit()'::regprocedure
                AND t.tgtype = w.tgtype AND t.tgenabled IN ('O', 'A')
                AND ARRAY[t.tgoldtable::text, t.tgnewtable::text] IS NOT DISTINCT FROM w.transition
        )
    ORDER BY 1;
$$;

-- ===========================================================================
-- The sweep
-- ===========================================================================

SELECT cmp_ok(
    (SELECT count(DISTINCT tgrelid)::int FROM pg_catalog.pg_trigger
     WHERE tgfoid = 'internal.tg__audit()'::regprocedure), '>=', 14,
    'the audit triggers are on at least fourteen tables (the sweep is not vacuous)'
);
SELECT is_empty(
    'SELECT * FROM pg_temp.unaudited_tables()',
    'every table of app and auth but the documented exclusions has the four audit triggers'
);
SELECT set_eq(
    'SELECT table_name FROM internal.audit_exclusions()',
    ARRAY[
        'app.monitoring_events', 'app.event_rate_windows', 'app.analysis_jobs',
        'app.analytics_refreshes', 'app.performance_metrics', 'app.exam_metrics',
        'app.exam_stats', 'app.flagged_attempts', 'app.exam_event_counts', 'app.counted_attempts',
        'auth.login_attempts'
    ],
    'the tables left without the audit triggers are exactly the documented ones'
);
SELECT is_empty(
    $$ SELECT x.table_name FROM internal.audit_exclusions() AS x
       WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c
                         JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                         WHERE format('%I.%I', n.nspname, c.relname) = x.table_name) $$,
    'every exclusion names a table that exists (none lingers after a table is gone)'
);
SELECT is_empty(
    $$ SELECT t.tgrelid::regclass::text FROM pg_catalog.pg_trigger AS t
       WHERE t.tgfoid = 'internal.tg__audit()'::regprocedure
         AND t.tgrelid::regclass::text IN (SELECT table_name FROM internal.audit_exclusions()) $$,
    'an excluded table carries no audit trigger'
);
SELECT is_empty(
    $$ SELECT t.tgrelid::regclass::text FROM pg_catalog.pg_trigger AS t
       JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
       JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
       WHERE t.tgfoid = 'internal.tg__audit()'::regprocedure AND n.nspname NOT IN ('app', 'auth') $$,
    'nothing outside app and auth (the audit tables least of all) carries the audit triggers'
);

-- Every column named like a secret is passed to the trigger as one (its
-- second argument), so its value is never copied.
SELECT is_empty(
    $$ SELECT format('%s.%s', a.attrelid::regclass, a.attname)
       FROM pg_catalog.pg_trigger AS t
       JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.tgrelid
       WHERE t.tgfoid = 'internal.tg__audit()'::regprocedure AND a.attnum > 0 AND NOT a.attisdropped
         AND a.attname ~* '(hash|passw|secret)'
         AND NOT a.attname::text = ANY (
             (string_to_array(encode(t.tgargs, 'escape'), '\000'))[2]::text[]
         ) $$,
    'every secret-named column of an audited table is handed to the trigger as a secret'
);
SELECT ok(
    (SELECT 'password_hash' = ANY ((string_to_array(encode(t.tgargs, 'escape'), '\000'))[2]::text[])
     FROM pg_catalog.pg_trigger AS t
     WHERE t.tgrelid = 'auth.users'::regclass AND t.tgname = '_500_audit_update'),
    'auth.users hands password_hash to the trigger as a secret'
);
SELECT ok(
    (SELECT 'token_hash' = ANY ((string_to_array(encode(t.tgargs, 'escape'), '\000'))[2]::text[])
     FROM pg_catalog.pg_trigger AS t
     WHERE t.tgrelid = 'auth.refresh_tokens'::regclass AND t.tgname = '_500_audit_insert'),
    'auth.refresh_tokens hands token_hash to the trigger as a secret'
);
SELECT is(
    (SELECT (string_to_array(encode(t.tgargs, 'escape'), '\000'))[1]
     FROM pg_catalog.pg_trigger AS t
     WHERE t.tgrelid = 'app.attempt_answers'::regclass AND t.tgname = '_500_audit_update'),
    '{attempt_id,question_id}',
    'the trigger knows each table''s primary key (app.attempt_answers: attempt_id, question_id)'
);

-- A table added later without the triggers fails the sweep (until the next
-- deploy attaches them: the repeatable step reads the catalog).
CREATE TABLE app.audit_sweep_probe (id integer PRIMARY KEY, api_secret text);
SELECT results_eq(
    'SELECT * FROM pg_temp.unaudited_tables()',
    ARRAY['app.audit_sweep_probe'],
    'a new business table without the audit triggers fails the sweep'
);
CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.audit_sweep_probe
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');
SELECT results_eq(
    'SELECT * FROM pg_temp.unaudited_tables()',
    ARRAY['app.audit_sweep_probe'],
    'one trigger of four is not enough'
);
SELECT internal.audit_attach('app.audit_sweep_probe');
SELECT is_empty(
    'SELECT * FROM pg_temp.unaudited_tables()',
    'and it passes once the deploy''s helper attached them'
);
INSERT INTO app.audit_sweep_probe VALUES (1, 'hunter2'), (2, 'swordfish');
SELECT is(
    (SELECT array_agg(new_values::text ORDER BY id) FROM audit.log WHERE table_name = 'audit_sweep_probe'),
    ARRAY['{"id": 1}', '{"id": 2}'],
    'the helper found its secret column from the catalog: never copied'
);
CREATE TABLE app.audit_sweep_keyless (id integer);
SELECT throws_ok(
    $$ SELECT internal.audit_attach('app.audit_sweep_keyless') $$, '42P16', NULL,
    'a table without a primary key is refused: its entries could not name their rows'
);
DROP TABLE app.audit_sweep_probe, app.audit_sweep_keyless;

-- ===========================================================================
-- Monitoring events: statement level, on the table and every partition
-- ===========================================================================

SELECT is_empty(
    $$ SELECT c.oid::regclass::text
       FROM pg_catalog.pg_class AS c
       WHERE (c.oid = 'app.monitoring_events'::regclass
              OR c.oid IN (SELECT inhrelid FROM pg_catalog.pg_inherits
                           WHERE inhparent = 'app.monitoring_events'::regclass))
         AND (SELECT count(*) FROM pg_catalog.pg_trigger AS t
              WHERE t.tgrelid = c.oid
                AND t.tgfoid = 'internal.tg_monitoring_events__audit()'::regprocedure
                AND t.tgname IN ('_500_audit_update', '_500_audit_delete', '_500_audit_truncate')
                AND t.tgtype & 1 = 0 AND t.tgenabled IN ('O', 'A')) <> 3 $$,
    'app.monitoring_events and each of its partitions have the three statement-level audit triggers'
);
SELECT cmp_ok(
    (SELECT count(*)::int FROM pg_catalog.pg_inherits
     WHERE inhparent = 'app.monitoring_events'::regclass), '>=', 2,
    'there are partitions to check (the default one and the months made by migrate)'
);
SELECT is_empty(
    $$ SELECT t.tgname FROM pg_catalog.pg_trigger AS t
       WHERE t.tgrelid = 'app.monitoring_events'::regclass AND t.tgtype & 1 = 1
         AND t.tgfoid = 'internal.tg__audit()'::regprocedure $$,
    'monitoring events are not copied row by row'
);

-- A partition made by the upkeep function gets them too.
SELECT ok(
    (SELECT count(*) = 3 FROM pg_catalog.pg_trigger AS t
     JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
     WHERE c.relname = internal.event_partition_name(
               (date_trunc('month', now()) + interval '2 months')::date)
       AND t.tgname LIKE '\_500\_audit\_%'),
    'a partition created by internal.create_event_partitions carries the statement-level triggers'
);

-- ===========================================================================
-- Append-only: for every role the application uses
-- ===========================================================================

-- Something to refuse to change, sealed and not yet.
INSERT INTO audit.log (table_schema, table_name, operation) VALUES ('app', 'exams', 'EXPORT');
INSERT INTO audit.security_events (kind, email) VALUES ('login_failure', 'append@example.org');
INSERT INTO audit.disclosures (viewer_role, student_id, record_kind)
VALUES ('teacher', gen_random_uuid(), 'profile');
SELECT internal.seal_audit_log();
INSERT INTO audit.log (table_schema, table_name, operation) VALUES ('app', 'exams', 'EXPORT');

-- Runs one statement as a role; the role ends with it.
CREATE FUNCTION pg_temp.as_role(p_role text, p_sql text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('role', p_role, TRUE);
    EXECUTE p_sql;
    PERFORM set_config('role', 'none', TRUE);
END;
$$;

CREATE TEMPORARY TABLE audit_tables (ord int, table_name text, a_column text);
INSERT INTO audit_tables VALUES
(1, 'audit.log', 'occurred_at'), (2, 'audit.security_events', 'occurred_at'),
(3, 'audit.disclosures', 'occurred_at'), (4, 'audit.seals', 'sealed_at');
CREATE TEMPORARY TABLE verbs (ord int, verb text, statement text);
INSERT INTO verbs VALUES
(1, 'UPDATE', 'UPDATE %t SET %c = %c - interval ''1 day'''),
(2, 'DELETE', 'DELETE FROM %t'),
(3, 'TRUNCATE', 'TRUNCATE %t');

SELECT throws_ok(
    format('SELECT pg_temp.as_role(%L, %L)', r.role_name,
           replace(replace(v.statement, '%t', t.table_name), '%c', t.a_column)),
    '42501', NULL,
    format('%s cannot %s %s', r.role_name, v.verb, t.table_name)
)
FROM (VALUES
    (1, 'anon'), (2, 'student'), (3, 'teacher'), (4, 'admin'), (5, 'integration'),
    (6, 'worker'), (7, 'analyst'), (8, 'authenticator'), (9, 'veritas_owner')
) AS r (ord, role_name)
CROSS JOIN audit_tables AS t
CROSS JOIN verbs AS v
ORDER BY r.ord, t.ord, v.ord;

-- A superuser ignores privileges, not the triggers (which fire even when
-- no row matches).
SELECT throws_ok(
    replace(replace(v.statement, '%t', t.table_name), '%c', t.a_column) || ' WHERE FALSE',
    '42501', NULL,
    format('even a superuser cannot %s %s (the append-only trigger)', v.verb, t.table_name)
)
FROM audit_tables AS t
CROSS JOIN verbs AS v
WHERE v.verb <> 'TRUNCATE'
ORDER BY t.ord, v.ord;
SELECT throws_ok(
    format('TRUNCATE %s', t.table_name), '42501', NULL,
    format('even a superuser cannot TRUNCATE %s (the append-only trigger)', t.table_name)
)
FROM audit_tables AS t
ORDER BY t.ord;

-- Nor with session_replication_role = replica (the guards fire ALWAYS).
SET LOCAL session_replication_role = replica;
SELECT throws_ok(
    'DELETE FROM audit.log', '42501', NULL,
    'the guards fire under session_replication_role = replica too'
);
RESET session_replication_role;

-- Privileges behind it: the owner revoked its own.
SELECT ok(
    NOT has_table_privilege('veritas_owner', t.table_name, p.privilege),
    format('the owner holds no %s on %s', p.privilege, t.table_name)
)
FROM audit_tables AS t
CROSS JOIN (VALUES (1, 'UPDATE'), (2, 'DELETE'), (3, 'TRUNCATE')) AS p (ord, privilege)
ORDER BY t.ord, p.ord;
SELECT ok(
    NOT has_any_column_privilege('veritas_owner', t.table_name, 'UPDATE'),
    format('the owner may not update any column of %s', t.table_name)
)
FROM audit_tables AS t
ORDER BY t.ord;

SELECT * FROM finish();
ROLLBACK;
