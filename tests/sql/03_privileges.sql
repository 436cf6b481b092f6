-- 03 privileges: deny by default. PUBLIC holds nothing in our schemas;
-- anon and analyst cannot reach the private tables; no function is left
-- executable by PUBLIC (a NULL proacl means the built-in default, which
-- grants EXECUTE to PUBLIC).
--
-- PUBLIC is grantee 0 in aclexplode(); an object whose ACL is NULL has the
-- built-in default, read with acldefault(), so the sweeps read
-- coalesce(acl, acldefault(kind, owner)).

BEGIN;
SET LOCAL search_path = public, pg_catalog;

SELECT plan(45);

-- Our schemas, and the runtime roles (every Veritas role but the owner).
CREATE TEMPORARY VIEW our_schemas AS
SELECT n.oid, n.nspname::text AS nspname, n.nspacl, n.nspowner
FROM pg_catalog.pg_namespace AS n
WHERE n.nspname IN ('api', 'app', 'auth', 'audit', 'internal', 'analytics', 'archive', 'veritas_meta');

CREATE TEMPORARY VIEW runtime_roles AS
SELECT r.oid, r.rolname::text AS rolname
FROM pg_catalog.pg_roles AS r
WHERE r.rolname IN ('authenticator', 'anon', 'student', 'teacher', 'admin', 'integration', 'worker', 'analyst');

-- Every table (partitions included) of the private data schemas.
CREATE TEMPORARY VIEW private_tables AS
SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS table_name
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname IN ('app', 'auth', 'audit') AND c.relkind IN ('r', 'p');

-- ===========================================================================
-- Schemas
-- ===========================================================================

SELECT is(
    (SELECT count(*)::int FROM our_schemas), 8,
    'the eight schemas of Veritas exist (the sweeps below are not vacuous)'
);

SELECT is_empty(
    $$
    SELECT s.nspname, a.privilege_type
    FROM our_schemas AS s,
        LATERAL aclexplode(coalesce(s.nspacl, acldefault('n', s.nspowner))) AS a
    WHERE a.grantee = 0
    $$,
    'PUBLIC has no privilege on api, app, auth, audit, internal, analytics, archive, veritas_meta'
);

SELECT is_empty(
    $$
    SELECT r.rolname, n.nspname
    FROM runtime_roles AS r
    CROSS JOIN pg_catalog.pg_namespace AS n
    WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
        AND has_schema_privilege(r.oid, n.oid, 'CREATE')
    $$,
    'no runtime role may create objects in any schema (public included)'
);

SELECT is_empty(
    $$
    SELECT r.rolname FROM runtime_roles AS r
    WHERE has_database_privilege(r.oid, current_database(), 'CREATE')
    $$,
    'no runtime role may create schemas in the database'
);

SELECT is_empty(
    $$
    SELECT r.rolname, s.nspname
    FROM runtime_roles AS r CROSS JOIN our_schemas AS s
    WHERE s.nspname IN ('archive', 'veritas_meta') AND has_schema_privilege(r.oid, s.oid, 'USAGE')
    $$,
    'no runtime role may use the archive or veritas_meta schemas (DBA only)'
);

SELECT is_empty(
    $$
    SELECT s.nspname FROM our_schemas AS s
    WHERE s.nspname <> 'analytics' AND has_schema_privilege('analyst', s.oid, 'USAGE')
    $$,
    'analyst may use no schema of ours but analytics'
);

SELECT schema_privs_are('auth', 'analyst', ARRAY[]::name[], 'analyst has no privilege on schema auth');
SELECT schema_privs_are('app', 'analyst', ARRAY[]::name[], 'analyst has no privilege on schema app');
SELECT schema_privs_are('audit', 'analyst', ARRAY[]::name[], 'analyst has no privilege on schema audit');
SELECT schema_privs_are('audit', 'anon', ARRAY[]::name[], 'anon has no privilege on schema audit');

-- ===========================================================================
-- Functions
-- ===========================================================================

-- The sweep of functions executable by PUBLIC (procedures and aggregates
-- included), and of functions still carrying the built-in default ACL.
CREATE TEMPORARY VIEW public_functions AS
SELECT p.oid::regprocedure::text AS function_name
FROM pg_catalog.pg_proc AS p
JOIN our_schemas AS s ON s.oid = p.pronamespace,
    LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE';

CREATE TEMPORARY VIEW default_acl_functions AS
SELECT p.oid::regprocedure::text AS function_name
FROM pg_catalog.pg_proc AS p
JOIN our_schemas AS s ON s.oid = p.pronamespace
WHERE p.proacl IS NULL;

SELECT is_empty(
    'SELECT function_name FROM public_functions',
    'no function in our schemas (api, app, auth, audit, internal, ...) is executable by PUBLIC'
);
SELECT is_empty(
    'SELECT function_name FROM default_acl_functions',
    'no function in our schemas has a NULL proacl (the default grants EXECUTE to PUBLIC)'
);

-- The default that makes this hold for every new function of the owner.
SELECT ok(
    EXISTS (
        SELECT FROM pg_catalog.pg_default_acl AS d
        WHERE d.defaclrole = 'veritas_owner'::regrole AND d.defaclobjtype = 'f' AND d.defaclnamespace = 0
    )
    AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_default_acl AS d, LATERAL aclexplode(d.defaclacl) AS a
        WHERE d.defaclrole = 'veritas_owner'::regrole AND d.defaclobjtype = 'f' AND a.grantee = 0
    ),
    'default privileges of veritas_owner grant EXECUTE on new functions to no PUBLIC'
);

-- The sweeps can fail: a function made by another role keeps the built-in
-- default and is named; one made by veritas_owner is not.
CREATE FUNCTION internal.zz_priv_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1';

SELECT set_eq(
    'SELECT function_name FROM public_functions',
    $$ VALUES ('internal.zz_priv_probe()') $$,
    'the sweep names a function executable by PUBLIC'
);
SELECT set_eq(
    'SELECT function_name FROM default_acl_functions',
    $$ VALUES ('internal.zz_priv_probe()') $$,
    'the sweep names a function with a NULL proacl'
);

DROP FUNCTION internal.zz_priv_probe();
SET LOCAL ROLE veritas_owner;
CREATE FUNCTION internal.zz_priv_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1';
RESET ROLE;

SELECT is_empty(
    'SELECT function_name FROM public_functions UNION ALL SELECT function_name FROM default_acl_functions',
    'a function created by veritas_owner is born without EXECUTE for PUBLIC'
);
SELECT function_privs_are(
    'internal', 'zz_priv_probe', ARRAY[]::name[], 'anon', ARRAY[]::text[],
    'anon cannot execute a new function of veritas_owner until it is granted'
);

DROP FUNCTION internal.zz_priv_probe();

-- ===========================================================================
-- Tables, views and sequences
-- ===========================================================================

SELECT is_empty(
    $$
    SELECT c.oid::regclass::text, c.relkind, a.privilege_type
    FROM pg_catalog.pg_class AS c
    JOIN our_schemas AS s ON s.oid = c.relnamespace,
        LATERAL aclexplode(coalesce(
            c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)
        )) AS a
    WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f') AND a.grantee = 0
    $$,
    'no table, view, materialized view or sequence of ours grants anything to PUBLIC'
);

SELECT is_empty(
    $$
    SELECT c.oid::regclass::text, t.attname, a.privilege_type
    FROM pg_catalog.pg_attribute AS t
    JOIN pg_catalog.pg_class AS c ON c.oid = t.attrelid
    JOIN our_schemas AS s ON s.oid = c.relnamespace,
        LATERAL aclexplode(t.attacl) AS a
    WHERE t.attacl IS NOT NULL AND a.grantee = 0
    $$,
    'no column of ours grants anything to PUBLIC'
);

SELECT cmp_ok(
    (SELECT count(*)::int FROM private_tables), '>=', 25,
    'the table sweeps below see every table of app, auth and audit'
);

-- anon and analyst: no table privilege, and no column privilege either, on
-- any table (or partition) of app, auth and audit.
SELECT is_empty(
    $$
    SELECT t.table_name, p.privilege
    FROM private_tables AS t
    CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p (privilege)
    WHERE has_table_privilege('anon', t.oid, p.privilege)
        OR (p.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
            AND has_any_column_privilege('anon', t.oid, p.privilege))
    $$,
    'anon holds no table or column privilege on any table of app, auth and audit'
);
SELECT is_empty(
    $$
    SELECT t.table_name, p.privilege
    FROM private_tables AS t
    CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p (privilege)
    WHERE has_table_privilege('analyst', t.oid, p.privilege)
        OR (p.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
            AND has_any_column_privilege('analyst', t.oid, p.privilege))
    $$,
    'analyst holds no table or column privilege on any table of app, auth and audit'
);
SELECT is_empty(
    $$
    SELECT c.oid::regclass::text, r.rolname
    FROM pg_catalog.pg_class AS c
    JOIN our_schemas AS s ON s.oid = c.relnamespace
    CROSS JOIN (VALUES ('anon'), ('analyst')) AS r (rolname)
    WHERE c.relkind = 'S' AND has_sequence_privilege(r.rolname, c.oid, 'USAGE, SELECT, UPDATE')
    $$,
    'neither anon nor analyst may use any sequence of ours'
);

-- No runtime role holds a privilege that escapes RLS or the append-only
-- rule: TRUNCATE ignores policies, REFERENCES and TRIGGER are DDL-ish, and
-- the audit trail is never updated or deleted from.
SELECT is_empty(
    $$
    SELECT t.table_name, r.rolname, p.privilege
    FROM private_tables AS t
    CROSS JOIN runtime_roles AS r
    CROSS JOIN unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p (privilege)
    WHERE has_table_privilege(r.oid, t.oid, p.privilege)
    $$,
    'no runtime role may TRUNCATE, REFERENCE or put triggers on a table of app, auth and audit'
);
SELECT is_empty(
    $$
    SELECT t.table_name, r.rolname, p.privilege
    FROM private_tables AS t
    CROSS JOIN runtime_roles AS r
    CROSS JOIN unnest(ARRAY['UPDATE', 'DELETE']) AS p (privilege)
    WHERE t.table_name LIKE 'audit.%'
        AND (has_table_privilege(r.oid, t.oid, p.privilege)
             OR (p.privilege = 'UPDATE' AND has_any_column_privilege(r.oid, t.oid, 'UPDATE')))
    $$,
    'no runtime role may UPDATE or DELETE the audit trail'
);
-- Insert and update grants name their columns: no runtime role holds a
-- table-wide INSERT or UPDATE (a new column would silently become writable).
SELECT is_empty(
    $$
    SELECT c.oid::regclass::text, a.grantee::regrole::text, a.privilege_type
    FROM pg_catalog.pg_class AS c
    JOIN our_schemas AS s ON s.oid = c.relnamespace,
        LATERAL aclexplode(c.relacl) AS a
    WHERE c.relkind IN ('r', 'p') AND c.relacl IS NOT NULL
        AND a.privilege_type IN ('INSERT', 'UPDATE')
        AND a.grantee IN (SELECT oid FROM runtime_roles)
    $$,
    'INSERT and UPDATE on tables are granted per column, never table-wide'
);

SELECT table_privs_are('auth', 'users', 'anon', ARRAY[]::name[], 'anon has no privilege on auth.users');
SELECT table_privs_are('auth', 'refresh_tokens', 'anon', ARRAY[]::name[], 'anon has no privilege on auth.refresh_tokens');
SELECT table_privs_are('app', 'exam_attempts', 'anon', ARRAY[]::name[], 'anon has no privilege on app.exam_attempts');
SELECT table_privs_are('app', 'monitoring_events', 'anon', ARRAY[]::name[], 'anon has no privilege on app.monitoring_events');
SELECT table_privs_are('auth', 'users', 'analyst', ARRAY[]::name[], 'analyst has no privilege on auth.users');
SELECT table_privs_are('app', 'exam_attempts', 'analyst', ARRAY[]::name[], 'analyst has no privilege on app.exam_attempts');
SELECT table_privs_are('app', 'student_profiles', 'analyst', ARRAY[]::name[], 'analyst has no privilege on app.student_profiles');
SELECT table_privs_are('audit', 'log', 'analyst', ARRAY[]::name[], 'analyst has no privilege on audit.log');
SELECT any_column_privs_are(
    'auth', 'users', 'anon', ARRAY[]::name[], 'anon has no column privilege on auth.users'
);
SELECT any_column_privs_are(
    'auth', 'users', 'analyst', ARRAY[]::name[], 'analyst has no column privilege on auth.users'
);

-- ===========================================================================
-- Behaviour: the refusals, as the roles themselves
-- ===========================================================================

SET LOCAL ROLE analyst;
SELECT throws_ok('SELECT * FROM auth.users', '42501', NULL, 'analyst reading auth.users is refused (42501)');
SELECT throws_ok('SELECT * FROM app.exam_attempts', '42501', NULL, 'analyst reading app.exam_attempts is refused (42501)');
SELECT throws_ok('SELECT * FROM app.monitoring_events', '42501', NULL, 'analyst reading app.monitoring_events is refused (42501)');
SELECT throws_ok('SELECT * FROM audit.log', '42501', NULL, 'analyst reading audit.log is refused (42501)');
RESET ROLE;

SET LOCAL ROLE anon;
SELECT throws_ok('SELECT * FROM app.exam_attempts', '42501', NULL, 'anon reading app.exam_attempts is refused (42501)');
SELECT throws_ok('SELECT * FROM auth.users', '42501', NULL, 'anon reading auth.users is refused (42501)');
SELECT throws_ok('SELECT * FROM auth.refresh_tokens', '42501', NULL, 'anon reading auth.refresh_tokens is refused (42501)');
SELECT throws_ok(
    $$ INSERT INTO auth.users (email, password_hash, full_name) VALUES ('mallory@example.org', 'x', 'Mallory') $$,
    '42501', NULL, 'anon inserting into auth.users directly is refused (42501)'
);
RESET ROLE;

SELECT is(current_user, session_user, 'the role switches were undone');

SELECT * FROM finish();
ROLLBACK;
