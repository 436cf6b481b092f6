-- 05 catalog rules: the conventions of docs/architecture.md ("Rules the
-- catalog checks"), read from the catalog, each one query that names every
-- function breaking it (so the first offender is in the failure's output).
--
-- Rules checked elsewhere, not repeated here: every table has RLS enabled
-- and forced (02_rls_sweep.sql); every SECURITY DEFINER function pins a
-- search_path naming pg_temp last (04_definer_hardening.sql); plpgsql_check
-- finds nothing (06_plpgsql_check.sql).
--
-- The grant rules must hold without the owner's default privileges (which
-- revoke EXECUTE from PUBLIC on every new function): tests/test_pgtap.py
-- also runs this file against a database whose repeatable SQL was applied
-- with PostgreSQL's built-in default (EXECUTE for PUBLIC), so a file that
-- forgets its REVOKE ... FROM PUBLIC fails here. This file therefore uses
-- pgTAP only, none of the helpers of tests/sql/setup/.

BEGIN;
SET LOCAL search_path = public, pg_catalog;

SELECT plan(13);

-- The functions (and procedures) of the two schemas the rules are about.
CREATE TEMPORARY VIEW ruled_functions AS
SELECT
    p.oid,
    p.oid::regprocedure::text AS signature,
    format('%I.%I', n.nspname, p.proname) AS function_name,
    n.nspname::text AS schema_name,
    p.proacl,
    p.proconfig
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname IN ('api', 'internal');

-- ===========================================================================
-- search_path: one convention, with its exceptions named
-- ===========================================================================

-- Every function sets search_path = pg_catalog, pg_temp, except these, each
-- for the reason given (docs/architecture.md says the same). An exception
-- names a function whose every name is schema-qualified or a built-in.
CREATE TEMPORARY TABLE search_path_exceptions (function_name text PRIMARY KEY, reason text NOT NULL);
INSERT INTO search_path_exceptions VALUES
-- The monitoring hot path (sql/functions/monitoring/): a SET clause costs a
-- configuration save and restore per call.
('api.record_monitoring_events', 'monitoring hot path'),
('api.record_monitoring_event', 'monitoring hot path'),
('internal.event_problem', 'monitoring hot path; inlined'),
('internal.parse_events', 'monitoring hot path; inlined'),
('api.get_monitoring_events_for_attempt', 'monitoring timeline, same file convention'),
('api.get_attempt_monitoring_events', 'monitoring timeline, same file convention'),
-- SQL functions written to be inlined into their caller's query: a SET
-- clause forbids inlining.
('internal.audit_pk', 'inlined into the audit trigger''s queries'),
('internal.audit_content', 'inlined into the sealer''s query'),
('internal.student_attempts', 'inlined into the readers'' queries'),
('internal.student_exam_grades', 'inlined into the readers'' queries'),
('internal.normalise_answer_text', 'inlined into grading'),
-- The claim readers and the timestamps trigger: called many times a
-- request, or once per row written; a SET clause doubles a claim read's
-- cost (about 5 to 10 microseconds).
('internal.jwt_claims', 'claim reader, called many times a request'),
('internal.current_user_id', 'claim reader, called many times a request'),
('internal.current_app_role', 'claim reader, called many times a request'),
('internal.tg__timestamps', 'row trigger on every table with updated_at');

SELECT cmp_ok(
    (SELECT count(*)::int FROM ruled_functions), '>', 100,
    'the rules below see the functions of api and internal (they are not vacuous)'
);

CREATE TEMPORARY VIEW unpinned_functions AS
SELECT f.signature
FROM ruled_functions AS f
WHERE
    NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (f.proconfig), FALSE)
    AND f.function_name NOT IN (SELECT x.function_name FROM search_path_exceptions AS x);

SELECT is_empty(
    'SELECT signature FROM unpinned_functions ORDER BY 1',
    'every function of api and internal sets search_path = pg_catalog, pg_temp, but the named exceptions'
);

SELECT is_empty(
    $$
    SELECT x.function_name
    FROM search_path_exceptions AS x
    WHERE NOT EXISTS (
        SELECT FROM ruled_functions AS f
        WHERE f.function_name = x.function_name AND f.proconfig IS NULL
    )
    ORDER BY 1
    $$,
    'every named exception exists and sets nothing (the list keeps up with the code)'
);

-- ===========================================================================
-- EXECUTE: explicit grants, none for PUBLIC
-- ===========================================================================

-- A NULL proacl is PostgreSQL's default, which lets PUBLIC execute: each
-- file REVOKEs ALL FROM PUBLIC beside every function, then GRANTs per role.
CREATE TEMPORARY VIEW default_acl_functions AS
SELECT f.signature FROM ruled_functions AS f WHERE f.proacl IS NULL;

CREATE TEMPORARY VIEW public_functions AS
SELECT f.signature
FROM ruled_functions AS f, LATERAL aclexplode(f.proacl) AS a
WHERE a.grantee = 0;

-- An api function nobody may call is dead code or a forgotten grant.
CREATE TEMPORARY VIEW ungranted_api_functions AS
SELECT f.signature
FROM ruled_functions AS f
WHERE
    f.schema_name = 'api'
    AND NOT EXISTS (
        SELECT FROM aclexplode(f.proacl) AS a
        WHERE
            a.privilege_type = 'EXECUTE'
            AND a.grantee IN (
                SELECT r.oid FROM pg_catalog.pg_roles AS r
                WHERE r.rolname IN ('anon', 'student', 'teacher', 'admin', 'integration')
            )
    );

SELECT is_empty(
    'SELECT signature FROM default_acl_functions ORDER BY 1',
    'every function of api and internal has explicit privileges (its file revokes from PUBLIC)'
);
SELECT is_empty(
    'SELECT signature FROM public_functions ORDER BY 1',
    'no function of api and internal is executable by PUBLIC'
);
SELECT is_empty(
    'SELECT signature FROM ungranted_api_functions ORDER BY 1',
    'every api function is granted EXECUTE to at least one request role'
);

-- ===========================================================================
-- The api schema: commented functions (and views), nothing else
-- ===========================================================================

CREATE TEMPORARY VIEW uncommented_api_functions AS
SELECT f.signature
FROM ruled_functions AS f
WHERE f.schema_name = 'api' AND coalesce(obj_description(f.oid, 'pg_proc'), '') = '';

SELECT is_empty(
    'SELECT signature FROM uncommented_api_functions ORDER BY 1',
    'every api function has a COMMENT (the OpenAPI document is built from it)'
);

SELECT is_empty(
    $$
    SELECT c.oid::regclass::text
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = 'api'::regnamespace AND c.relkind NOT IN ('v')
    ORDER BY 1
    $$,
    'the api schema holds no table, sequence or materialized view'
);

-- ===========================================================================
-- The rules can fail
-- ===========================================================================

-- A function made without the conventions (by this superuser, so no default
-- privilege of the owner applies): every rule names it.
CREATE FUNCTION api.zz_rule_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1';

SELECT set_eq(
    'SELECT signature FROM unpinned_functions',
    $$ VALUES ('api.zz_rule_probe()') $$,
    'the search_path rule names a function without SET search_path'
);
SELECT set_eq(
    'SELECT signature FROM default_acl_functions',
    $$ VALUES ('api.zz_rule_probe()') $$,
    'the grant rule names a function left with the default privileges'
);
SELECT set_eq(
    'SELECT signature FROM uncommented_api_functions',
    $$ VALUES ('api.zz_rule_probe()') $$,
    'the comment rule names an api function without a COMMENT'
);

-- Given its REVOKE and a GRANT it passes those; granted to PUBLIC it fails again.
REVOKE ALL ON FUNCTION api.zz_rule_probe() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.zz_rule_probe() TO student;
SELECT is_empty(
    $$
    SELECT signature FROM default_acl_functions
    UNION ALL SELECT signature FROM ungranted_api_functions
    $$,
    'a REVOKE from PUBLIC and a GRANT to a role satisfy the grant rules'
);
GRANT EXECUTE ON FUNCTION api.zz_rule_probe() TO PUBLIC;
SELECT set_eq(
    'SELECT signature FROM public_functions',
    $$ VALUES ('api.zz_rule_probe()') $$,
    'the grant rule names a function executable by PUBLIC'
);

SELECT * FROM finish();
ROLLBACK;
