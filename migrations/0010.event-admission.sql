-- 0010.event-admission: the per-attempt event counter is now kept by
-- internal.admit_events and admit_event_batch (sql/functions/monitoring/
-- recording.sql); internal.take_event_budget is gone. Run by yoyo as
-- veritas_owner.
COMMENT ON TABLE app.event_rate_windows IS
'Events recorded per attempt in the current minute (the flood bound of internal.admit_events and admit_event_batch); unlogged.';

-- Functions are repeatable, but two could not be replaced in place: the
-- budget helper gave way to the admission helpers, and record_events lost a
-- result column (first_id), which CREATE OR REPLACE cannot change. Dropped
-- here, once; the repeatable step then creates the new ones.
DROP FUNCTION IF EXISTS internal.take_event_budget(uuid, integer);
DROP FUNCTION IF EXISTS internal.record_events(jsonb);
