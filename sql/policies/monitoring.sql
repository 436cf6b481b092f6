-- monitoring policies: event types and monitoring events.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- Events are append-only: nobody has UPDATE or DELETE (retention detaches
-- whole partitions: monitoring_partitions.sql). Privileges and policies are
-- those of the partitioned table app.monitoring_events; its partitions grant
-- nothing to anyone, so they cannot be reached directly.
--
-- No request role has any privilege on the events: they are recorded and
-- read only through SECURITY DEFINER functions (recording.sql, timeline.sql,
-- the analyser and the analytics refresh), which decide on the attempt who
-- may record or read (internal.admit_events, internal.attempt_timeline).
-- The reason is Citus (docs/scaling.md#4-citus): the events are distributed there, and
-- a row policy on them runs on the workers, where it can reach neither the
-- attempts and teacher permissions it would ask about (Citus also refuses a
-- policy with a subquery on a distributed table), nor the request's claims.
-- So the only role that queries the events, and so the only one that ever
-- reaches a Citus worker, is the owner. One design for both engines.

-- event_types --------------------------------------------------------------------

DROP POLICY IF EXISTS everyone_reads_event_types ON app.event_types;
CREATE POLICY everyone_reads_event_types ON app.event_types
AS PERMISSIVE FOR SELECT TO student, teacher, admin, integration
USING (TRUE);

DROP POLICY IF EXISTS admins_tune_event_types ON app.event_types;
CREATE POLICY admins_tune_event_types ON app.event_types
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_event_types ON app.event_types;
CREATE POLICY definer_helpers_read_event_types ON app.event_types
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON app.event_types TO student, teacher, admin, integration;
GRANT UPDATE (severity, is_anomaly, description) ON app.event_types TO admin;

-- monitoring_events --------------------------------------------------------------

-- No DROP POLICY IF EXISTS here: 00_reset.sql has dropped every policy, and
-- on Citus a DROP POLICY on a distributed table is sent to the workers as
-- the whole text of this file, which they refuse (several commands).

-- The recording functions (internal.record_event, record_events), after
-- internal.admit_events: exam_id, student_id, attempt_started_at, severity
-- and is_anomaly are copied from the attempt and the event type there.
CREATE POLICY definer_helpers_record_events ON app.monitoring_events
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

-- The timeline (internal.attempt_timeline), the built-in analyser (worker)
-- and the analytics refresh.
CREATE POLICY definer_helpers_read_events ON app.monitoring_events
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- event_rate_windows ----------------------------------------------------------------

-- Written only by internal.admit_events and admit_event_batch (SECURITY
-- DEFINER), which check the attempt is one the caller may record for;
-- nobody else may touch it.
DROP POLICY IF EXISTS definer_helpers_count_events ON app.event_rate_windows;
CREATE POLICY definer_helpers_count_events ON app.event_rate_windows
AS PERMISSIVE FOR ALL TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);
