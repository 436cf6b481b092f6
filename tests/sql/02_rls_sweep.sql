-- 02 RLS sweep: every table holding user data has row-level security
-- enabled AND forced (FORCE subjects the owner too, so a SECURITY DEFINER
-- function owned by veritas_owner still goes through the policies).
--
-- One catalogue query names the offending tables; it is asserted empty, so
-- a new table (or a new partition) without RLS fails this test and is named
-- in its output. The second half proves that the sweep can fail: inside
-- this test's transaction (rolled back) it creates tables without RLS and
-- watches the sweep name them, then enables RLS and watches them go.

BEGIN;
SET LOCAL search_path = public, pg_catalog;
-- The probe partition below locks app.monitoring_events briefly: fail fast
-- rather than hang behind a long transaction of a live server.
SET LOCAL lock_timeout = '10s';

SELECT plan(23);

-- Every table of the given schemas, partitions included (relkind r and p;
-- a partition is relkind r or p with relispartition), with its two flags.
CREATE TEMPORARY VIEW rls_tables AS
SELECT
    format('%I.%I', n.nspname, c.relname) AS table_name,
    n.nspname::text AS schema_name,
    c.relkind::text AS relkind,
    c.relispartition AS is_partition,
    c.relrowsecurity AS rls_enabled,
    c.relforcerowsecurity AS rls_forced
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p');

-- The sweep: the tables of auth, app and audit that lack either flag.
CREATE TEMPORARY VIEW rls_offenders AS
SELECT table_name, rls_enabled, rls_forced
FROM rls_tables
WHERE schema_name IN ('auth', 'app', 'audit') AND NOT (rls_enabled AND rls_forced);

-- ===========================================================================
-- The sweep holds on the migrated database
-- ===========================================================================

SELECT is_empty(
    'SELECT table_name, rls_enabled, rls_forced FROM rls_offenders',
    'every table and partition in auth, app and audit has RLS enabled and forced'
);

-- The sweep is not vacuous: it sees the tables of sql/schema/, the
-- partitioned table and its default partition included.
SELECT set_has(
    $$ SELECT table_name FROM rls_tables WHERE schema_name IN ('auth', 'app', 'audit') $$,
    $$
    VALUES
        ('auth.users'), ('auth.refresh_token_families'), ('auth.refresh_tokens'),
        ('auth.revoked_tokens'), ('auth.login_attempts'), ('auth.role_permissions'),
        ('app.student_profiles'), ('app.teacher_profiles'), ('app.exams'), ('app.questions'),
        ('app.teacher_exam_permissions'), ('app.accommodations'), ('app.exam_attempts'),
        ('app.attempt_answers'), ('app.event_types'), ('app.monitoring_events'),
        ('app.monitoring_events_default'), ('app.behavior_analyses'), ('app.flag_reviews'),
        ('app.performance_metrics'), ('app.exam_metrics'), ('app.analysis_jobs'),
        ('audit.log'), ('audit.security_events'), ('audit.disclosures')
    $$,
    'the sweep covers every table of auth, app and audit, partitions included'
);

-- Every partition of the event table (monthly ones made by the partition
-- procedure included) carries RLS itself: its own flags apply when it is
-- queried directly.
SELECT is_empty(
    $$
    SELECT t.relid::regclass::text
    FROM pg_partition_tree('app.monitoring_events'::regclass) AS t
    JOIN pg_catalog.pg_class AS c ON c.oid = t.relid
    WHERE NOT (c.relrowsecurity AND c.relforcerowsecurity)
    $$,
    'app.monitoring_events and each of its partitions have RLS enabled and forced'
);

-- No helper or archive table slips through either: archived event
-- partitions keep holding student data.
SELECT is_empty(
    $$
    SELECT table_name, rls_enabled, rls_forced FROM rls_tables
    WHERE schema_name IN ('internal', 'archive') AND NOT (rls_enabled AND rls_forced)
    $$,
    'every table in internal and archive has RLS enabled and forced'
);

-- Policies on a table whose RLS is disabled are silently ignored: no
-- table in any schema may be left in that state.
SELECT is_empty(
    $$
    SELECT DISTINCT format('%I.%I', p.schemaname, p.tablename)
    FROM pg_catalog.pg_policies AS p
    JOIN rls_tables AS t ON t.table_name = format('%I.%I', p.schemaname, p.tablename)
    WHERE NOT t.rls_enabled
    $$,
    'no table has policies while its RLS is disabled (the policies would be ignored)'
);

-- A few by name, read straight from pg_class.
SELECT ok(
    (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
     WHERE oid = 'auth.users'::regclass),
    'auth.users has RLS enabled and forced'
);
SELECT ok(
    (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
     WHERE oid = 'app.exam_attempts'::regclass),
    'app.exam_attempts has RLS enabled and forced'
);
SELECT ok(
    (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
     WHERE oid = 'app.monitoring_events'::regclass),
    'app.monitoring_events (partitioned) has RLS enabled and forced'
);
SELECT ok(
    (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
     WHERE oid = 'app.monitoring_events_default'::regclass),
    'app.monitoring_events_default (partition) has RLS enabled and forced'
);
SELECT ok(
    (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
     WHERE oid = 'audit.log'::regclass),
    'audit.log has RLS enabled and forced'
);

-- ===========================================================================
-- The sweep can fail: a table without RLS is named, then goes
-- ===========================================================================

CREATE TABLE app.zz_rls_probe (id integer PRIMARY KEY, note text);

SELECT set_eq(
    'SELECT table_name, rls_enabled, rls_forced FROM rls_offenders',
    $$ VALUES ('app.zz_rls_probe', FALSE, FALSE) $$,
    'the sweep names a new app table created without RLS'
);

ALTER TABLE app.zz_rls_probe ENABLE ROW LEVEL SECURITY;

SELECT set_eq(
    'SELECT table_name, rls_enabled, rls_forced FROM rls_offenders',
    $$ VALUES ('app.zz_rls_probe', TRUE, FALSE) $$,
    'the sweep still names it with RLS enabled but not forced'
);

ALTER TABLE app.zz_rls_probe FORCE ROW LEVEL SECURITY;

SELECT is_empty(
    'SELECT table_name FROM rls_offenders',
    'the sweep is empty again once RLS is enabled and forced on the new table'
);

-- Forced but not enabled is no RLS at all: still named.
ALTER TABLE app.zz_rls_probe DISABLE ROW LEVEL SECURITY;

SELECT set_eq(
    'SELECT table_name, rls_enabled, rls_forced FROM rls_offenders',
    $$ VALUES ('app.zz_rls_probe', FALSE, TRUE) $$,
    'the sweep names a table whose RLS is forced but disabled'
);

DROP TABLE app.zz_rls_probe;

-- A new partition does not inherit its parent's RLS flags: the sweep names
-- it. (The range is far in the past: nothing in the default partition moves.)
CREATE TABLE app.zz_monitoring_events_probe PARTITION OF app.monitoring_events
FOR VALUES FROM ('1900-01-01 00:00+00') TO ('1900-02-01 00:00+00');

SELECT set_eq(
    'SELECT table_name, rls_enabled, rls_forced FROM rls_offenders',
    $$ VALUES ('app.zz_monitoring_events_probe', FALSE, FALSE) $$,
    'the sweep names a new partition of app.monitoring_events created without RLS'
);

ALTER TABLE app.zz_monitoring_events_probe ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.zz_monitoring_events_probe FORCE ROW LEVEL SECURITY;

SELECT is_empty(
    'SELECT table_name FROM rls_offenders',
    'the sweep is empty again once the new partition has RLS enabled and forced'
);

-- A table in audit and one in auth are swept as well.
CREATE TABLE audit.zz_rls_probe (id integer PRIMARY KEY);
CREATE TABLE auth.zz_rls_probe (id integer PRIMARY KEY);

SELECT set_eq(
    'SELECT table_name FROM rls_offenders',
    $$ VALUES ('audit.zz_rls_probe'), ('auth.zz_rls_probe') $$,
    'the sweep names new tables without RLS in audit and auth'
);

-- A table outside the three schemas is not its business (the public
-- schema belongs to extensions such as pgTAP).
DROP TABLE audit.zz_rls_probe;
DROP TABLE auth.zz_rls_probe;
CREATE TEMPORARY TABLE zz_rls_probe_temp (id integer);

SELECT is_empty(
    'SELECT table_name FROM rls_offenders',
    'the sweep ignores tables outside auth, app and audit'
);

-- And the probes leave nothing behind once dropped: the sweep is back to the
-- migrated state.
DROP TABLE app.zz_monitoring_events_probe;

SELECT hasnt_table('app', 'zz_rls_probe', 'the probe table is gone');
SELECT hasnt_table('app', 'zz_monitoring_events_probe', 'the probe partition is gone');

-- ---------------------------------------------------------------------------
-- Policies call our helpers once per statement, not once per row
-- ---------------------------------------------------------------------------

-- A helper call in a USING clause is wrapped in a sub-select, "(SELECT
-- internal.f())", so that PostgreSQL evaluates it once (an InitPlan), not
-- for every row the statement reads. A helper that needs the row's values
-- is written inline as an EXISTS over indexed columns instead.
CREATE TEMPORARY VIEW per_row_policy_calls AS
SELECT format('%s.%s %s', p.schemaname, p.tablename, p.policyname) AS policy
FROM pg_catalog.pg_policies AS p
WHERE
    p.schemaname IN ('app', 'auth', 'audit')
    AND regexp_count(p.qual, 'internal\.\w+\(')
    > regexp_count(p.qual, '\(\s*SELECT\s+internal\.\w+\(');

SELECT cmp_ok(
    (SELECT count(*)::int FROM pg_catalog.pg_policies AS p WHERE p.qual ~ '\(\s*SELECT\s+internal\.'),
    '>', 20,
    'policies call helpers inside sub-selects (the sweep below is not vacuous)'
);
SELECT is_empty(
    'SELECT policy FROM per_row_policy_calls ORDER BY 1',
    'no policy''s USING clause calls a helper once per row'
);

-- The sweep catches one that does.
CREATE POLICY zz_per_row_probe ON app.student_profiles
AS PERMISSIVE FOR SELECT TO teacher
USING (internal.teacher_can_see_student(user_id));
SELECT set_eq(
    'SELECT policy FROM per_row_policy_calls',
    $$ VALUES ('app.student_profiles zz_per_row_probe') $$,
    'the sweep names a policy that calls a helper for every row'
);
DROP POLICY zz_per_row_probe ON app.student_profiles;

SELECT * FROM finish();
ROLLBACK;
