-- 0010.event-admission rollback: the comment as 0001 wrote it. The
-- functions are the repeatable step's: it re-creates those of the code deployed.
COMMENT ON TABLE app.event_rate_windows IS
'Events recorded per attempt in the current minute (the flood bound of internal.take_event_budget); unlogged.';
