-- Deploy step: the api schema, dropped and re-created. Runs first of the
-- repeatable files (sql/repeatable.txt), so that every api function the
-- later files create is created afresh, and one deleted from the code is
-- gone from the database.

-- api ------------------------------------------------------------------------

-- The exposed schema holds only functions (and views), re-created at every
-- deploy so that a function deleted from the code disappears. Nothing else
-- may depend on an api object (policies use internal.* helpers): CASCADE
-- would drop it silently.
DROP SCHEMA IF EXISTS api CASCADE;
CREATE SCHEMA api AUTHORIZATION veritas_owner;
COMMENT ON SCHEMA api IS
'Exposed API: only functions and views that clients may call; re-created at every deploy.';
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO anon, student, teacher, admin, integration;
