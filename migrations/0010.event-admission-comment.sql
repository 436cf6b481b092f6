-- 0010.event-admission-comment: the per-attempt event counter is now kept by
-- internal.admit_events and admit_event_batch (sql/functions/monitoring/
-- recording.sql); internal.take_event_budget is gone. Run by yoyo as
-- veritas_owner.
COMMENT ON TABLE app.event_rate_windows IS
'Events recorded per attempt in the current minute (the flood bound of internal.admit_events and admit_event_batch); unlogged.';
