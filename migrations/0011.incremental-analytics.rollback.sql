-- 0011.incremental-analytics rollback: the summary tables dropped and the
-- refresh bookkeeping emptied; the repeatable step of the previous release
-- re-creates its materialized views (and fills them), and its worker's
-- first refresh records them again.

-- The repeatable views over them first (the previous release's repeatable
-- step re-creates them over its materialized views).
DROP VIEW IF EXISTS analytics.exam_analytics;
DROP VIEW IF EXISTS analytics.exam_events_by_type;
DROP VIEW IF EXISTS app.visible_exam_stats;
DROP VIEW IF EXISTS app.visible_flagged_attempts;
DROP VIEW IF EXISTS app.visible_exam_event_counts;
DROP TABLE IF EXISTS app.counted_attempts;
DROP TABLE IF EXISTS app.exam_event_counts;
DROP TABLE IF EXISTS app.flagged_attempts;
DROP TABLE IF EXISTS app.exam_stats;
DELETE FROM app.analytics_refreshes;

COMMENT ON TABLE app.analytics_refreshes IS
'When each analytics materialized view was last refreshed, and up to when it is known complete; read by the teacher analytics (refreshed_at) and by the refresh itself (skip when nothing changed, throttle by duration).';
COMMENT ON COLUMN app.analytics_refreshes.view_name IS NULL;
COMMENT ON COLUMN app.analytics_refreshes.refreshed_at IS
'Clock time just before the last REFRESH began: the view holds everything committed before it.';
COMMENT ON COLUMN app.analytics_refreshes.up_to_date_at IS
'The latest time the view was known to hold everything committed before it: the last refresh, or a later check that found nothing new.';
COMMENT ON COLUMN app.analytics_refreshes.duration IS
'How long the last REFRESH took; the next one waits at least four times as long (at most a fifth of one backend).';
COMMENT ON COLUMN app.analytics_refreshes.refreshes IS NULL;
