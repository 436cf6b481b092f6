-- audit policies: the audit log, security events, disclosures.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- Append-only. Rows are written only by the SECURITY DEFINER helpers and
-- triggers of sql/functions/audit.sql and auth.sql (running as
-- veritas_owner, under the definer_helpers_... policies), the seals by
-- internal.seal_audit_log, read by admins (and a student reads their own
-- disclosures). Nobody, the owner included, holds UPDATE, DELETE or
-- TRUNCATE: the owner revokes them from itself below. An owner can grant
-- them back to itself, and a superuser ignores privileges: the triggers of
-- sql/functions/audit.sql refuse them all the same, short of disabling the
-- triggers, and the hash chains show any change made that way.

-- The owner's own privileges -----------------------------------------------------------

REVOKE UPDATE, DELETE, TRUNCATE
ON audit.log, audit.security_events, audit.disclosures, audit.seals
FROM veritas_owner;

-- log ------------------------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_the_audit_log ON audit.log;
CREATE POLICY admins_read_the_audit_log ON audit.log
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- internal.tg__audit, tg_monitoring_events__audit, audit_operation.
DROP POLICY IF EXISTS definer_helpers_append_to_the_audit_log ON audit.log;
CREATE POLICY definer_helpers_append_to_the_audit_log ON audit.log
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

-- The sealer reads the rows it seals.
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

DROP POLICY IF EXISTS definer_helpers_read_security_events ON audit.security_events;
CREATE POLICY definer_helpers_read_security_events ON audit.security_events
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON audit.security_events TO admin;

-- disclosures ----------------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_disclosures ON audit.disclosures;
CREATE POLICY admins_read_disclosures ON audit.disclosures
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- FERPA: a student may inspect the record of disclosures of their records.
DROP POLICY IF EXISTS students_read_own_disclosures ON audit.disclosures;
CREATE POLICY students_read_own_disclosures ON audit.disclosures
AS PERMISSIVE FOR SELECT TO student
USING (student_id = (SELECT internal.current_user_id()));

-- internal.log_disclosure(s).
DROP POLICY IF EXISTS definer_helpers_log_disclosures ON audit.disclosures;
CREATE POLICY definer_helpers_log_disclosures ON audit.disclosures
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

-- The sealer; internal.disclosure_viewer_name.
DROP POLICY IF EXISTS definer_helpers_read_disclosures ON audit.disclosures;
CREATE POLICY definer_helpers_read_disclosures ON audit.disclosures
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON audit.disclosures TO admin;
GRANT USAGE ON SCHEMA audit TO student;
GRANT SELECT (
    id, occurred_at, viewer_id, viewer_role, student_id, record_kind, record_id
) ON audit.disclosures TO student;

-- seals ------------------------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_seals ON audit.seals;
CREATE POLICY admins_read_seals ON audit.seals
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- internal.seal_audit_log: reads the last seal of a chain, appends the next.
DROP POLICY IF EXISTS definer_helpers_read_seals ON audit.seals;
CREATE POLICY definer_helpers_read_seals ON audit.seals
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_append_seals ON audit.seals;
CREATE POLICY definer_helpers_append_seals ON audit.seals
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

GRANT SELECT ON audit.seals TO admin;
