-- 0010.event-admission-comment rollback: the comment as 0001 wrote it.
COMMENT ON TABLE app.event_rate_windows IS
'Events recorded per attempt in the current minute (the flood bound of internal.take_event_budget); unlogged.';
