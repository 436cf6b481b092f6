-- Schemas of Veritas, and the defaults that keep PUBLIC out of them.
--
-- Run as veritas_owner (SET ROLE veritas_owner), after 00_roles.sql.
-- No privilege is granted to a runtime role here: grants live beside the
-- policies in sql/policies/. The public schema is not ours and is left alone.

-- Exposed API: only functions (and views) that clients may call.
CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
'Exposed API: only functions and views that clients may call; re-created at every deploy.';

-- Private business tables: profiles, exams, attempts, events, analyses, jobs.
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS
'Business tables (profiles, exams, questions, attempts, answers, events, analyses, metrics, jobs), read through RLS.';

-- Users, tokens, login attempts and the role x permission matrix.
CREATE SCHEMA auth;
COMMENT ON SCHEMA auth IS
'Users, refresh-token families and tokens, revoked access tokens, login attempts, role permissions.';

-- The audit trail: append-only.
CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS
'Append-only audit trail: row changes, security events, disclosures of student data.';

-- Private helpers: claim readers, trigger functions, SECURITY DEFINER helpers.
CREATE SCHEMA internal;
COMMENT ON SCHEMA internal IS
'Private helpers: claim readers, trigger functions, SECURITY DEFINER helpers, partition procedures.';

-- Pseudonymous views for analysts.
CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS
'Secured, pseudonymous views for the analyst login.';

-- Detached, archived monitoring-event partitions.
CREATE SCHEMA archive;
COMMENT ON SCHEMA archive IS
'Detached, archived monitoring-event partitions; DBA only.';

-- Deny by default: PUBLIC has no privilege on any of our schemas.
REVOKE ALL ON SCHEMA api, app, auth, audit, internal, analytics, archive FROM PUBLIC;

-- ... nor on anything veritas_owner creates from now on (functions would
-- otherwise be executable by PUBLIC).
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner REVOKE ALL ON SEQUENCES FROM PUBLIC;
