-- exam_analytics: the materialized views behind the teachers' analytics and
-- dashboard, the views that show teachers their own exams' rows of them,
-- and the analysts' views over them.
--
-- Repeatable, and re-run at every migrate (after analytics.sql, in the same
-- transaction), so that it is idempotent and cheap: each materialized view
-- is declared as <name>__next WITH NO DATA and internal.install_matview
-- (sql/functions/teacher.sql) keeps the existing one when its query is the
-- same, or replaces and fills it when the query changed. Indexes are
-- CREATE ... IF NOT EXISTS (to change one, give it a new name). The views
-- that depend on the materialized views are dropped first and re-created at
-- the end of this file, so that a replaced materialized view can be dropped
-- without CASCADE.
--
-- The materialized views live in app (private: no request role has any
-- privilege on them, and schema api is dropped and re-created at every
-- deploy). They are refreshed CONCURRENTLY by internal.refresh_analytics()
-- (the worker, every 5 s), which needs the unique index each one has;
-- readers are never blocked. They read the tables with the owner's rights,
-- under the definer_helpers_read_... policies. docs/teacher-views.md has the
-- refresh rules and their cost.

-- Dependents, re-created below ---------------------------------------------------------

DROP VIEW IF EXISTS analytics.exam_analytics;
DROP VIEW IF EXISTS analytics.exam_events_by_type;
DROP VIEW IF EXISTS app.visible_exam_stats;
DROP VIEW IF EXISTS app.visible_flagged_attempts;
DROP VIEW IF EXISTS app.visible_exam_event_counts;

-- exam_stats_mv --------------------------------------------------------------------------

-- One row per exam with attempts. An attempt still in progress past its
-- deadline plus grace counts as expired (as of the refresh). Scores in
-- points and in percent of the attempt's max_score; graded = submitted or
-- expired with a score. histogram: graded attempts per tenth of the
-- percentage, [0, 10) ... [90, 100] (100 % in the last). The latest
-- analysis of each attempt (created_at, then id) gives analysed, flagged
-- and the integrity averages.
DROP MATERIALIZED VIEW IF EXISTS app.exam_stats_mv__next;
CREATE MATERIALIZED VIEW app.exam_stats_mv__next AS
WITH attempts AS (
    SELECT
        a.id AS attempt_id,
        a.exam_id,
        a.student_id,
        CASE
            WHEN
                a.status = 'in_progress'
                AND now() > a.deadline + make_interval(secs => e.grace_seconds)
                THEN 'expired'::app.attempt_status
            ELSE a.status
        END AS status,
        a.score,
        a.score / nullif(a.max_score, 0) * 100 AS percentage
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON a.exam_id = e.id
),

-- MATERIALIZED: computed once per attempt, not once per aggregate that
-- reads it (the ten histogram counts): a third of the refresh time.
graded AS MATERIALIZED (
    SELECT
        t.*,
        t.status IN ('submitted', 'expired') AND t.score IS NOT NULL AS is_graded,
        least(floor(t.percentage / 10), 9)::integer AS bucket
    FROM attempts AS t
),

latest_analyses AS (
    SELECT DISTINCT ON (b.attempt_id)
        b.attempt_id,
        b.integrity_score,
        b.lmi_score,
        b.is_flagged
    FROM app.behavior_analyses AS b
    ORDER BY b.attempt_id ASC, b.created_at DESC, b.id DESC
)

SELECT
    g.exam_id,
    count(*) AS attempts,
    count(DISTINCT g.student_id) AS students,
    count(*) FILTER (WHERE g.status = 'in_progress') AS in_progress,
    count(*) FILTER (WHERE g.status = 'submitted') AS submitted,
    count(*) FILTER (WHERE g.status = 'expired') AS expired,
    count(*) FILTER (WHERE g.status = 'abandoned') AS abandoned,
    count(*) FILTER (WHERE g.is_graded) AS graded,
    round(avg(g.score) FILTER (WHERE g.is_graded), 2) AS average_score,
    round(
        (
            percentile_cont(0.5) WITHIN GROUP (ORDER BY g.score::float8)
            FILTER (WHERE g.is_graded)
        )::numeric,
        2
    ) AS median_score,
    round(avg(g.percentage) FILTER (WHERE g.is_graded), 2) AS average_percentage,
    round(
        (
            percentile_cont(0.5) WITHIN GROUP (ORDER BY g.percentage::float8)
            FILTER (WHERE g.is_graded AND g.percentage IS NOT NULL)
        )::numeric,
        2
    ) AS median_percentage,
    ARRAY[
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 0),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 1),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 2),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 3),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 4),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 5),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 6),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 7),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 8),
        count(*) FILTER (WHERE g.is_graded AND g.bucket = 9)
    ]::integer[] AS histogram,
    count(l.attempt_id) AS analysed,
    count(*) FILTER (WHERE l.is_flagged) AS flagged,
    round(avg(l.integrity_score), 2) AS average_integrity,
    round(avg(l.lmi_score), 4) AS average_lmi
FROM graded AS g
LEFT JOIN latest_analyses AS l ON g.attempt_id = l.attempt_id
GROUP BY g.exam_id
WITH NO DATA;

SELECT internal.install_matview('app', 'exam_stats_mv');

CREATE UNIQUE INDEX IF NOT EXISTS exam_stats_mv_exam_id_key ON app.exam_stats_mv (exam_id);

COMMENT ON MATERIALIZED VIEW app.exam_stats_mv IS
'Per exam with attempts: attempts, students, in_progress, submitted, expired (an overdue attempt counts as expired), abandoned, graded; average and median score (points) and percentage of graded attempts; histogram: graded attempts per tenth of percentage (10 counts, 0-10 ... 90-100); analysed, flagged (latest analysis), average integrity and lmi. Refreshed concurrently by internal.refresh_analytics(); no role may read it directly (teachers: app.visible_exam_stats; analysts: analytics.exam_analytics).';

-- flagged_attempts_mv --------------------------------------------------------------------

-- One row per attempt whose latest analysis is flagged: the dashboard's
-- alerts and pending reviews (reviews are joined live, not kept here).
DROP MATERIALIZED VIEW IF EXISTS app.flagged_attempts_mv__next;
CREATE MATERIALIZED VIEW app.flagged_attempts_mv__next AS
SELECT
    l.attempt_id,
    a.exam_id,
    a.student_id,
    l.analysis_id,
    l.analysed_at,
    l.integrity_score,
    l.lmi_score,
    l.flags_count
FROM (
    SELECT DISTINCT ON (b.attempt_id)
        b.attempt_id,
        b.id AS analysis_id,
        b.created_at AS analysed_at,
        b.integrity_score,
        b.lmi_score,
        jsonb_array_length(b.flags) AS flags_count,
        b.is_flagged
    FROM app.behavior_analyses AS b
    ORDER BY b.attempt_id ASC, b.created_at DESC, b.id DESC
) AS l
INNER JOIN app.exam_attempts AS a ON l.attempt_id = a.id
WHERE l.is_flagged
WITH NO DATA;

SELECT internal.install_matview('app', 'flagged_attempts_mv');

CREATE UNIQUE INDEX IF NOT EXISTS flagged_attempts_mv_attempt_id_key
ON app.flagged_attempts_mv (attempt_id);
CREATE INDEX IF NOT EXISTS flagged_attempts_mv_exam_id_analysed_at_idx
ON app.flagged_attempts_mv (exam_id, analysed_at DESC);

COMMENT ON MATERIALIZED VIEW app.flagged_attempts_mv IS
'Attempts whose latest behaviour analysis is flagged, with that analysis'' id, time, integrity, lmi and number of flags: the teacher dashboard''s alerts. Refreshed concurrently by internal.refresh_analytics(); teachers read it through app.visible_flagged_attempts.';

-- exam_event_counts_mv -------------------------------------------------------------------

-- Events per exam and type. The one view whose refresh grows with the event
-- table (a scan of every partition): internal.refresh_analytics() skips it
-- while no attempt is in progress (no event can arrive) and throttles it by
-- its own duration.
DROP MATERIALIZED VIEW IF EXISTS app.exam_event_counts_mv__next;
CREATE MATERIALIZED VIEW app.exam_event_counts_mv__next AS
SELECT
    m.exam_id,
    m.event_type,
    count(*) AS events
FROM app.monitoring_events AS m
GROUP BY m.exam_id, m.event_type
WITH NO DATA;

SELECT internal.install_matview('app', 'exam_event_counts_mv');

CREATE UNIQUE INDEX IF NOT EXISTS exam_event_counts_mv_exam_id_event_type_key
ON app.exam_event_counts_mv (exam_id, event_type);

COMMENT ON MATERIALIZED VIEW app.exam_event_counts_mv IS
'Monitoring events per exam and event type (events of archived partitions are no longer counted). Refreshed concurrently by internal.refresh_analytics(); teachers read it through app.visible_exam_event_counts, analysts through analytics.exam_events_by_type.';

-- What teachers see of them ----------------------------------------------------------------

-- A materialized view has no row-level security, so these views stand in
-- for it: the rows of the exams the caller may access, by the rule of the
-- tables' policies (an admin every exam, a teacher those they created or
-- were granted). security_barrier, owner's rights (not security_invoker:
-- the callers hold no privilege on the materialized views): the filter runs
-- before any function of the caller's query sees a row. Both initplans are
-- evaluated once per query; a caller's exam_id = ... (leakproof) still
-- reaches the unique index. SELECT granted in sql/policies/teacher.sql.

CREATE VIEW app.visible_exam_stats WITH (security_barrier) AS
SELECT s.*
FROM app.exam_stats_mv AS s
WHERE
    (SELECT internal.current_app_role()) = 'admin'
    OR s.exam_id = any((SELECT internal.staff_exam_ids())::uuid[]);


COMMENT ON VIEW app.visible_exam_stats IS
'The rows of app.exam_stats_mv for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: it stands in for row-level security, which a materialized view cannot have.';

CREATE VIEW app.visible_flagged_attempts WITH (security_barrier) AS
SELECT f.*
FROM app.flagged_attempts_mv AS f
WHERE
    (SELECT internal.current_app_role()) = 'admin'
    OR f.exam_id = any((SELECT internal.staff_exam_ids())::uuid[]);


COMMENT ON VIEW app.visible_flagged_attempts IS
'The rows of app.flagged_attempts_mv for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: it stands in for row-level security, which a materialized view cannot have.';

CREATE VIEW app.visible_exam_event_counts WITH (security_barrier) AS
SELECT c.*
FROM app.exam_event_counts_mv AS c
WHERE
    (SELECT internal.current_app_role()) = 'admin'
    OR c.exam_id = any((SELECT internal.staff_exam_ids())::uuid[]);


COMMENT ON VIEW app.visible_exam_event_counts IS
'The rows of app.exam_event_counts_mv for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: it stands in for row-level security, which a materialized view cannot have.';

-- What analysts see of them --------------------------------------------------------------

-- Owner's rights WITH (security_barrier), like every analytics view (see
-- analytics.sql): the analyst holds no privilege on app, so a
-- security_invoker view would show nothing; security_barrier keeps the
-- analyst's own functions from seeing rows before the view's joins. No
-- student appears in them at all (per exam, per event type), and an exam
-- with fewer than k distinct students (app.analyst_settings.min_group)
-- does not appear: its figures would describe one student, or a handful.
-- The students are counted by exam_stats_mv in the same refresh as its
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
    r.up_to_date_at AS refreshed_at
FROM app.exam_stats_mv AS s
INNER JOIN app.exams AS e ON s.exam_id = e.id
LEFT JOIN app.analytics_refreshes AS r ON r.view_name = 'exam_stats_mv'
WHERE s.students >= (SELECT k.min_group FROM app.analyst_settings AS k);

COMMENT ON VIEW analytics.exam_analytics IS
'Per exam with k distinct students or more (app.analyst_settings.min_group), as teachers see it (from the materialized view, complete up to refreshed_at): attempts, students, in progress, submitted, expired, abandoned, graded; average and median score (points) and percentage; score_histogram (graded attempts per tenth of percentage, 0-10 ... 90-100); analysed, flagged, average integrity and lmi. security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

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
FROM app.exam_event_counts_mv AS c
INNER JOIN app.event_types AS t ON c.event_type = t.event_type
INNER JOIN app.exam_stats_mv AS s ON c.exam_id = s.exam_id
LEFT JOIN app.analytics_refreshes AS r ON r.view_name = 'exam_event_counts_mv'
WHERE s.students >= (SELECT k.min_group FROM app.analyst_settings AS k);

COMMENT ON VIEW analytics.exam_events_by_type IS
'Monitoring events per exam and event type, for the exams with k distinct students or more (app.analyst_settings.min_group, as counted by exam_stats_mv), with the type''s current severity and anomaly flag (from the materialized view, complete up to refreshed_at). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

REVOKE ALL ON analytics.exam_events_by_type FROM PUBLIC;
GRANT SELECT ON analytics.exam_events_by_type TO analyst, admin;
