-- The policies step starts from nothing: which role may use which schema,
-- then a clean slate on every table of app, auth and audit (every policy
-- dropped, every privilege of PUBLIC and the runtime roles revoked), so that
-- the files after this one (in the order of sql/repeatable.txt, in the same
-- transaction) are the whole truth: a policy or grant deleted from them does
-- not linger.
--
-- api: sql/functions/deploy/api_schema.sql (re-created at every deploy);
-- analytics: sql/views/analytics.sql.

-- Schemas ------------------------------------------------------------------------

REVOKE ALL ON SCHEMA app, auth, audit, internal
FROM anon, student, teacher, admin, integration, worker, analyst;

-- Tables, through RLS and the grants of each domain's file.
GRANT USAGE ON SCHEMA app, auth TO student, teacher, admin, integration;

-- The audit trail: read by admins only (written by SECURITY DEFINER helpers).
GRANT USAGE ON SCHEMA audit TO admin;

-- Helpers, EXECUTE granted per function: the auth functions (anon), the
-- claim readers and access helpers of the policies and the session check
-- (request roles), the scheduled work (worker, SECURITY DEFINER: no table
-- privilege of its own).
GRANT USAGE ON SCHEMA internal TO anon, student, teacher, admin, integration, worker;

-- Clean slate ------------------------------------------------------------------

SELECT internal.drop_policies(
    VARIADIC array(
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE n.nspname IN ('app', 'auth', 'audit') AND c.relkind IN ('r', 'p')
        ORDER BY c.oid
    )
);

REVOKE ALL ON ALL TABLES IN SCHEMA app, auth, audit
FROM PUBLIC, anon, student, teacher, admin, integration, worker, analyst;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA app, auth, audit
FROM PUBLIC, anon, student, teacher, admin, integration, worker, analyst;
