-- teacher policies: the analytics summary tables and their refresh
-- bookkeeping, and the grants of the views through which teachers read them.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- (and view) privilege of app before this file runs. Policies name their
-- roles, never PUBLIC. The flag reviews' policies are in analysis.sql.
--
-- The summary tables (app.exam_stats, app.flagged_attempts,
-- app.exam_event_counts, app.counted_attempts) grant nothing to anyone: only
-- their owner (internal.refresh_analytics, the views of
-- sql/views/exam_analytics.sql) reads and writes them. Teachers and admins
-- read them through the app.visible_... views, which keep the rows of the
-- caller's exams; analysts through the analytics schema.

-- analytics_refreshes ------------------------------------------------------------

-- When each view was refreshed: no student data; the analytics answers
-- show it as refreshed_at.
DROP POLICY IF EXISTS staff_read_refresh_times ON app.analytics_refreshes;
CREATE POLICY staff_read_refresh_times ON app.analytics_refreshes
AS PERMISSIVE FOR SELECT TO teacher, admin
USING (TRUE);

-- internal.refresh_analytics (the worker), and the analysts' views.
DROP POLICY IF EXISTS definer_helpers_read_refresh_times ON app.analytics_refreshes;
CREATE POLICY definer_helpers_read_refresh_times ON app.analytics_refreshes
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_record_refreshes ON app.analytics_refreshes;
CREATE POLICY definer_helpers_record_refreshes ON app.analytics_refreshes
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_refresh_times ON app.analytics_refreshes;
CREATE POLICY definer_helpers_update_refresh_times ON app.analytics_refreshes
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

GRANT SELECT ON app.analytics_refreshes TO teacher, admin;

-- The summary tables ---------------------------------------------------------------

-- Owner only: internal.refresh_analytics() writes them, the views of
-- sql/views/exam_analytics.sql read them. No request role has a privilege
-- on them.
DROP POLICY IF EXISTS definer_helpers_read_exam_stats ON app.exam_stats;
CREATE POLICY definer_helpers_read_exam_stats ON app.exam_stats
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_add_exam_stats ON app.exam_stats;
CREATE POLICY definer_helpers_add_exam_stats ON app.exam_stats
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_exam_stats ON app.exam_stats;
CREATE POLICY definer_helpers_update_exam_stats ON app.exam_stats
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_remove_exam_stats ON app.exam_stats;
CREATE POLICY definer_helpers_remove_exam_stats ON app.exam_stats
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_flagged_attempts ON app.flagged_attempts;
CREATE POLICY definer_helpers_read_flagged_attempts ON app.flagged_attempts
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_add_flagged_attempts ON app.flagged_attempts;
CREATE POLICY definer_helpers_add_flagged_attempts ON app.flagged_attempts
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_flagged_attempts ON app.flagged_attempts;
CREATE POLICY definer_helpers_update_flagged_attempts ON app.flagged_attempts
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_remove_flagged_attempts ON app.flagged_attempts;
CREATE POLICY definer_helpers_remove_flagged_attempts ON app.flagged_attempts
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_exam_event_counts ON app.exam_event_counts;
CREATE POLICY definer_helpers_read_exam_event_counts ON app.exam_event_counts
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_add_exam_event_counts ON app.exam_event_counts;
CREATE POLICY definer_helpers_add_exam_event_counts ON app.exam_event_counts
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_exam_event_counts ON app.exam_event_counts;
CREATE POLICY definer_helpers_update_exam_event_counts ON app.exam_event_counts
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_remove_exam_event_counts ON app.exam_event_counts;
CREATE POLICY definer_helpers_remove_exam_event_counts ON app.exam_event_counts
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_counted_attempts ON app.counted_attempts;
CREATE POLICY definer_helpers_read_counted_attempts ON app.counted_attempts
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_add_counted_attempts ON app.counted_attempts;
CREATE POLICY definer_helpers_add_counted_attempts ON app.counted_attempts
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_counted_attempts ON app.counted_attempts;
CREATE POLICY definer_helpers_update_counted_attempts ON app.counted_attempts
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_remove_counted_attempts ON app.counted_attempts;
CREATE POLICY definer_helpers_remove_counted_attempts ON app.counted_attempts
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (TRUE);

-- analyst_settings -----------------------------------------------------------------

-- The analysts' views read it with their owner's rights; the DBA (a member
-- of veritas_owner) changes it, or puts the row back. No runtime role has
-- any privilege on it, and no policy allows a DELETE: without the row the
-- analytics views show no student figure at all.
DROP POLICY IF EXISTS definer_helpers_read_analyst_settings ON app.analyst_settings;
CREATE POLICY definer_helpers_read_analyst_settings ON app.analyst_settings
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS owner_sets_analyst_settings ON app.analyst_settings;
CREATE POLICY owner_sets_analyst_settings ON app.analyst_settings
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS owner_changes_analyst_settings ON app.analyst_settings;
CREATE POLICY owner_changes_analyst_settings ON app.analyst_settings
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

-- The teachers' views of the analytics ------------------------------------------

GRANT SELECT ON app.visible_exam_stats TO teacher, admin;
GRANT SELECT ON app.visible_flagged_attempts TO teacher, admin;
GRANT SELECT ON app.visible_exam_event_counts TO teacher, admin;
