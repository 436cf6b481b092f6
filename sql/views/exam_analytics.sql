-- exam_analytics: the views through which teachers and analysts read the
-- analytics summary tables (app.exam_stats, app.flagged_attempts,
-- app.exam_event_counts: sql/schema/50_analysis.sql), which
-- internal.refresh_analytics() (the worker, every 5 s) keeps up to date,
-- exam by exam (sql/functions/teacher/refresh_analytics.sql).
--
-- Repeatable: dropped and re-created at every migrate (after analytics.sql,
-- in the same transaction). No request role has any privilege on the
-- summary tables; these views read them with their owner's rights, under
-- the definer_helpers_read_... policies (sql/policies/teacher.sql).
-- docs/teacher-views.md has the refresh rules and their cost.

DROP VIEW IF EXISTS analytics.exam_analytics;
DROP VIEW IF EXISTS analytics.exam_events_by_type;
DROP VIEW IF EXISTS app.visible_exam_stats;
DROP VIEW IF EXISTS app.visible_flagged_attempts;
DROP VIEW IF EXISTS app.visible_exam_event_counts;

-- What teachers see of them ----------------------------------------------------------------

-- The rows of the exams the caller may access, by the rule of the tables'
-- policies (an admin every exam, a teacher those they created or were
-- granted). security_barrier, owner's rights (not security_invoker: the
-- callers hold no privilege on the summary tables): the filter runs
-- before any function of the caller's query sees a row. Both initplans are
-- evaluated once per query; a caller's exam_id = ... (leakproof) still
-- reaches the unique index. SELECT granted in sql/policies/teacher.sql.

CREATE VIEW app.visible_exam_stats WITH (security_barrier) AS
SELECT s.*
FROM app.exam_stats AS s
WHERE
    (SELECT internal.current_app_role()) = 'admin'
    OR s.exam_id = any((SELECT internal.staff_exam_ids())::uuid[]);


COMMENT ON VIEW app.visible_exam_stats IS
'The rows of app.exam_stats for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: the callers hold no privilege on the summary table.';

CREATE VIEW app.visible_flagged_attempts WITH (security_barrier) AS
SELECT f.*
FROM app.flagged_attempts AS f
WHERE
    (SELECT internal.current_app_role()) = 'admin'
    OR f.exam_id = any((SELECT internal.staff_exam_ids())::uuid[]);


COMMENT ON VIEW app.visible_flagged_attempts IS
'The rows of app.flagged_attempts for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: the callers hold no privilege on the summary table.';

CREATE VIEW app.visible_exam_event_counts WITH (security_barrier) AS
SELECT
    c.exam_id,
    c.event_type,
    c.events
FROM app.exam_event_counts AS c
WHERE
    (SELECT internal.current_app_role()) = 'admin'
    OR c.exam_id = any((SELECT internal.staff_exam_ids())::uuid[]);


COMMENT ON VIEW app.visible_exam_event_counts IS
'The rows of app.exam_event_counts (exam_id, event_type, events) for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: the callers hold no privilege on the summary table.';

-- What analysts see of them --------------------------------------------------------------

-- Owner's rights WITH (security_barrier), like every analytics view (see
-- analytics.sql): the analyst holds no privilege on app, so a
-- security_invoker view would show nothing; security_barrier keeps the
-- analyst's own functions from seeing rows before the view's joins. No
-- student appears in them at all (per exam, per event type), and an exam
-- with fewer than k distinct students (app.analyst_settings.min_group)
-- does not appear: its figures would describe one student, or a handful.
-- The students are counted by exam_stats in the same recomputation as its
-- figures (a live count could let through figures computed when the exam
-- had fewer); the event counts go by the same count.

CREATE VIEW analytics.exam_analytics WITH (security_barrier) AS
SELECT
    s.exam_id,
    e.title,
    s.attempts,
    s.students,
    s.in_progress,
    s.submitted,
    s.expired,
    s.abandoned,
    s.graded,
    s.average_score,
    s.median_score,
    s.average_percentage,
    s.median_percentage,
    s.histogram AS score_histogram,
    s.analysed,
    s.flagged,
    s.average_integrity,
    s.average_lmi,
    s.integrity_histogram,
    r.up_to_date_at AS refreshed_at
FROM app.exam_stats AS s
INNER JOIN app.exams AS e ON s.exam_id = e.id
LEFT JOIN app.analytics_refreshes AS r ON r.view_name = 'exam_stats'
WHERE s.students >= (SELECT k.min_group FROM app.analyst_settings AS k);

COMMENT ON VIEW analytics.exam_analytics IS
'Per exam with k distinct students or more (app.analyst_settings.min_group), as teachers see it (from app.exam_stats, complete up to refreshed_at): attempts, students, in progress, submitted, expired, abandoned, graded; average and median score (points) and percentage; score_histogram (graded attempts per tenth of percentage, 0-10 ... 90-100); analysed, flagged, average integrity and lmi; integrity_histogram (analysed attempts per tenth of integrity, 0-10 ... 90-100). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

REVOKE ALL ON analytics.exam_analytics FROM PUBLIC;
GRANT SELECT ON analytics.exam_analytics TO analyst, admin;

CREATE VIEW analytics.exam_events_by_type WITH (security_barrier) AS
SELECT
    c.exam_id,
    c.event_type,
    t.severity,
    t.is_anomaly,
    c.events,
    r.up_to_date_at AS refreshed_at
FROM app.exam_event_counts AS c
INNER JOIN app.event_types AS t ON c.event_type = t.event_type
INNER JOIN app.exam_stats AS s ON c.exam_id = s.exam_id
LEFT JOIN app.analytics_refreshes AS r ON r.view_name = 'exam_event_counts'
WHERE
    c.events > 0
    AND s.students >= (SELECT k.min_group FROM app.analyst_settings AS k);

COMMENT ON VIEW analytics.exam_events_by_type IS
'Monitoring events per exam and event type, for the exams with k distinct students or more (app.analyst_settings.min_group, as counted by app.exam_stats), with the type''s current severity and anomaly flag (from app.exam_event_counts, complete up to refreshed_at). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

REVOKE ALL ON analytics.exam_events_by_type FROM PUBLIC;
GRANT SELECT ON analytics.exam_events_by_type TO analyst, admin;
