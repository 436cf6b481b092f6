-- Partition upkeep (sql/functions/monitoring_partitions.sql) runs as the
-- owner, to which forced row-level security applies too: it must see and
-- move the events parked in the default partition when their month's
-- partition is created. Nobody else has any privilege on the partition.
-- (No DROP POLICY IF EXISTS: 00_reset.sql has dropped it; Citus would send
-- this whole file to the workers, monitoring.sql says why.)
CREATE POLICY definer_helpers_move_parked_events ON app.monitoring_events_default
AS PERMISSIVE FOR ALL TO veritas_owner
USING (TRUE) WITH CHECK (TRUE);

-- Attaching a partition validates its events' foreign key to their attempts
-- under the owner's (forced) row-level security: the owner must see them,
-- which definer_helpers_read_attempts (sql/policies/attempts.sql) allows.
