-- 06 plpgsql_check: an outside static checker over every PL/pgSQL function
-- of ours. It plans every statement of every function (PostgreSQL itself
-- checks only the syntax at CREATE): a misspelt column, a wrong type, a
-- variable never read, an implicit cast all show here, not in production.
--
-- Each trigger function is checked against every table it is attached to,
-- with the transition tables its triggers declare (REFERENCING OLD TABLE AS
-- old_rows ...), so that the statement-level audit triggers are checked in
-- full. Findings it cannot judge are allowlisted below, each with its
-- reason; an allowlisted finding that no longer occurs fails too, so the
-- list stays short. Performance advice (which volatility a function could
-- declare) is left out: it misreads functions that write.
--
-- Needs the plpgsql_check extension on the server (Debian:
-- postgresql-15-plpgsql-check; scripts/test installs it, as it does pgTAP).
-- The extension is created inside this file's transaction, rolled back.

BEGIN;
SET LOCAL search_path = public, pg_catalog;

SELECT plan(6);

SELECT ok(
    EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'plpgsql_check'),
    'plpgsql_check is installed on the server (Debian: postgresql-15-plpgsql-check)'
);
CREATE EXTENSION IF NOT EXISTS plpgsql_check;

-- What to check: every PL/pgSQL function of our schemas; a trigger function
-- once per table it fires on, with the union of its triggers' transition
-- table names there.
CREATE TEMPORARY VIEW check_targets AS
SELECT
    p.oid AS fn,
    p.oid::regprocedure::text AS signature,
    format('%I.%I', n.nspname, p.proname) AS function_name,
    coalesce(t.tgrelid, 0)::regclass AS rel,
    t.oldtable,
    t.newtable
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
LEFT JOIN LATERAL (
    SELECT tg.tgrelid, max(tg.tgoldtable) AS oldtable, max(tg.tgnewtable) AS newtable
    FROM pg_catalog.pg_trigger AS tg
    WHERE tg.tgfoid = p.oid
    GROUP BY tg.tgrelid
) AS t ON p.prorettype = 'trigger'::regtype
WHERE
    n.nspname IN ('api', 'app', 'auth', 'audit', 'internal', 'analytics')
    AND l.lanname = 'plpgsql';

CREATE TEMPORARY VIEW check_findings AS
SELECT
    c.signature,
    c.function_name,
    c.rel::text AS rel,
    f.level,
    f.sqlstate,
    f.message,
    f.lineno
FROM check_targets AS c,
    LATERAL plpgsql_check_function_tb(
        c.fn, c.rel,
        fatal_errors => FALSE,
        extra_warnings => TRUE,
        security_warnings => TRUE,
        performance_warnings => FALSE,
        oldtable => c.oldtable,
        newtable => c.newtable
    ) AS f;

-- What it cannot judge, and why.
CREATE TEMPORARY TABLE check_allowlist (
    function_name text NOT NULL,
    message text NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (function_name, message)
);
INSERT INTO check_allowlist VALUES
-- FOR v_row IN EXECUTE: a record filled by dynamic SQL (the chain's table
-- is an argument) has no shape until it runs.
(
    'internal.seal_audit_chain', 'cannot determinate a result of dynamic SQL',
    'record filled by dynamic SQL'
),
(
    'internal.seal_audit_chain', 'record "v_row" is not assigned yet',
    'record filled by dynamic SQL'
),
(
    'internal.seal_audit_chain', 'never read variable "v_row"',
    'record filled by dynamic SQL (its fields are read)'
),
-- Parameter names are the HTTP contract's argument names (?table=, ?limit=).
(
    'api.get_audit_log', 'name of parameter "table" is reserved keyword',
    'argument name of GET /admin/audit'
),
(
    'api.get_audit_log', 'name of parameter "limit" is reserved keyword',
    'argument name of GET /admin/audit'
),
(
    'api.get_monitoring_events_for_attempt', 'name of parameter "limit" is reserved keyword',
    'argument name of GET /teacher/attempts/{attempt_id}/events'
),
(
    'api.get_users', 'name of parameter "limit" is reserved keyword',
    'argument name of GET /admin/users'
),
(
    'api.find_teachers', 'name of parameter "limit" is reserved keyword',
    'argument name of GET /teacher/colleagues'
),
(
    'api.find_students', 'name of parameter "limit" is reserved keyword',
    'argument name of GET /teacher/students'
),
-- On Citus a batch is one INSERT ... VALUES built as text: every value in
-- it is quoted by format('%L'), which the check cannot follow through
-- string_agg.
(
    'internal.record_events', 'text type variable is not sanitized',
    'every value quoted by format(%L) before string_agg'
),
-- Tables without created_at pass 'updated_at_only' (TG_ARGV), and the
-- branch that reads NEW.created_at is not taken for them.
(
    'internal.tg__timestamps', 'record "new" has no field "created_at"',
    'branch guarded by the trigger argument'
);

SELECT cmp_ok(
    (SELECT count(DISTINCT fn)::int FROM check_targets), '>', 50,
    'plpgsql_check sees our PL/pgSQL functions (the check is not vacuous)'
);
SELECT cmp_ok(
    (SELECT count(*)::int FROM check_targets WHERE oldtable IS NOT NULL), '>', 20,
    'the statement-level audit triggers are checked with their transition tables'
);

SELECT is_empty(
    $$
    SELECT f.signature, f.rel, f.level, f.sqlstate, f.message, f.lineno
    FROM check_findings AS f
    WHERE NOT EXISTS (
        SELECT FROM check_allowlist AS a
        WHERE a.function_name = f.function_name AND a.message = f.message
    )
    ORDER BY f.signature, f.rel, f.lineno
    $$,
    'plpgsql_check finds no error and no warning in our PL/pgSQL functions (but the allowlist)'
);

SELECT is_empty(
    $$
    SELECT a.function_name, a.message
    FROM check_allowlist AS a
    WHERE NOT EXISTS (
        SELECT FROM check_findings AS f
        WHERE f.function_name = a.function_name AND f.message = a.message
    )
    ORDER BY 1, 2
    $$,
    'every allowlisted finding still occurs (the allowlist keeps up with the code)'
);

-- The check can fail: a function that reads a column that does not exist
-- compiles (PostgreSQL checks only the syntax) and is named here.
CREATE FUNCTION internal.zz_check_probe() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_name text;
BEGIN
    SELECT e.no_such_column INTO v_name FROM app.exams AS e LIMIT 1;
    RETURN v_name;
END
$$;
SELECT set_eq(
    $$ SELECT signature, sqlstate FROM check_findings WHERE function_name = 'internal.zz_check_probe' $$,
    $$ VALUES ('internal.zz_check_probe()', '42703') $$,
    'plpgsql_check names a function that reads a column that does not exist'
);

SELECT * FROM finish();
ROLLBACK;
