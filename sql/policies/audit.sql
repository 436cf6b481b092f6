-- audit policies: the audit log, security events, disclosures.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- Append-only: rows are written only by SECURITY DEFINER helpers and
-- triggers (running as veritas_owner, under the definer_helpers_...
-- policies), read by admins, and never updated or deleted by anyone: there
-- is no UPDATE or DELETE policy, not even for the owner. (The owner could
-- still disable RLS or TRUNCATE: the hash chain of audit.log shows it.)

-- log ------------------------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_the_audit_log ON audit.log;
CREATE POLICY admins_read_the_audit_log ON audit.log
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_append_to_the_audit_log ON audit.log;
CREATE POLICY definer_helpers_append_to_the_audit_log ON audit.log
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

-- The audit trigger reads the previous row's hash to chain the next one.
DROP POLICY IF EXISTS definer_helpers_read_the_audit_log ON audit.log;
CREATE POLICY definer_helpers_read_the_audit_log ON audit.log
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON audit.log TO admin;

-- security_events ----------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_security_events ON audit.security_events;
CREATE POLICY admins_read_security_events ON audit.security_events
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- internal.log_security_event, called by the auth helpers.
DROP POLICY IF EXISTS definer_helpers_log_security_events ON audit.security_events;
CREATE POLICY definer_helpers_log_security_events ON audit.security_events
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

GRANT SELECT ON audit.security_events TO admin;

-- disclosures ----------------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_disclosures ON audit.disclosures;
CREATE POLICY admins_read_disclosures ON audit.disclosures
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_log_disclosures ON audit.disclosures;
CREATE POLICY definer_helpers_log_disclosures ON audit.disclosures
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

GRANT SELECT ON audit.disclosures TO admin;
