-- analytics: the views the analyst login reads (psql, a BI tool).
--
-- Repeatable: dropped and re-created at every deploy. The analyst holds
-- USAGE on this schema and SELECT on these views, and nothing on any table
-- (no USAGE on app, auth or audit): these views are its only way in.
--
-- Owner's rights, deliberately: a view reads its tables with the privileges
-- and row-level security of its owner (veritas_owner, under the
-- definer_helpers_read_... policies), not of the caller, unless it is
-- security_invoker. The analyst has no table privilege, so an invoker view
-- would show it nothing; these views are owner-rights views WITH
-- (security_barrier), so that a function in the analyst's WHERE clause can
-- never run on rows before the view's own filters and aggregates. Students
-- appear only by student_profiles.pseudonym: never user id, email or name.
--
-- The views over the analytics materialized views (analytics.exam_analytics,
-- analytics.exam_events_by_type) are in exam_analytics.sql, beside them:
-- this file runs first, before those exist.

-- Schema -------------------------------------------------------------------------

REVOKE ALL ON SCHEMA analytics FROM anon, student, teacher, admin, integration, worker, analyst;
GRANT USAGE ON SCHEMA analytics TO analyst, admin;

-- exam_overview ------------------------------------------------------------------

DROP VIEW IF EXISTS analytics.exam_overview;
CREATE VIEW analytics.exam_overview WITH (security_barrier) AS
SELECT
    e.id AS exam_id,
    e.title,
    e.published,
    e.opens_at,
    e.closes_at,
    e.duration_minutes,
    e.max_attempts,
    count(a.id) AS attempts,
    count(DISTINCT a.student_id) AS students,
    count(a.id) FILTER (WHERE a.status = 'submitted') AS submitted,
    count(a.id) FILTER (WHERE a.status = 'expired') AS expired,
    count(a.id) FILTER (WHERE a.status = 'abandoned') AS abandoned,
    count(a.id) FILTER (WHERE a.status = 'in_progress') AS in_progress,
    round(avg(a.score) FILTER (WHERE a.status IN ('submitted', 'expired')), 2) AS average_score,
    round(
        avg(a.score / nullif(a.max_score, 0) * 100)
        FILTER (WHERE a.status IN ('submitted', 'expired')),
        2
    ) AS average_percentage
FROM app.exams AS e
LEFT JOIN app.exam_attempts AS a ON e.id = a.exam_id
GROUP BY e.id;

COMMENT ON VIEW analytics.exam_overview IS
'Per exam: attempts, distinct students, submitted, expired, abandoned, in progress, average score (points) and percentage of graded attempts. security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

-- student_overview -----------------------------------------------------------------

DROP VIEW IF EXISTS analytics.student_overview;
CREATE VIEW analytics.student_overview WITH (security_barrier) AS
SELECT
    p.pseudonym,
    p.exams_taken,
    m.attempts_count,
    p.average_score,
    p.best_score,
    m.trend,
    p.integrity_score,
    p.lmi_score,
    m.average_integrity,
    p.flags_count,
    m.updated_at AS metrics_updated_at
FROM app.student_profiles AS p
LEFT JOIN app.performance_metrics AS m ON p.user_id = m.student_id;

COMMENT ON VIEW analytics.student_overview IS
'Per student, keyed by the pseudonym (never user id, email or name): exams taken, attempts, average and best score (percent), trend, latest integrity and lmi, average integrity, flags. security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege.';

REVOKE ALL ON analytics.exam_overview, analytics.student_overview FROM PUBLIC;
GRANT SELECT ON analytics.exam_overview, analytics.student_overview TO analyst, admin;

-- student_exam_results -------------------------------------------------------------

-- Live, from the tables: per student (by pseudonym) and exam, the attempts,
-- grades and integrity. Each attempt's latest analysis and latest review
-- (created_at, then id) count, as for teachers.
DROP VIEW IF EXISTS analytics.student_exam_results;
CREATE VIEW analytics.student_exam_results WITH (security_barrier) AS
WITH latest_analyses AS (
    SELECT DISTINCT ON (b.attempt_id)
        b.attempt_id,
        b.integrity_score,
        b.lmi_score,
        b.is_flagged
    FROM app.behavior_analyses AS b
    ORDER BY b.attempt_id ASC, b.created_at DESC, b.id DESC
),

latest_reviews AS (
    SELECT DISTINCT ON (r.attempt_id)
        r.attempt_id,
        r.decision
    FROM app.flag_reviews AS r
    ORDER BY r.attempt_id ASC, r.created_at DESC, r.id DESC
),

attempts AS (
    SELECT
        a.student_id,
        a.exam_id,
        a.status,
        a.finished_at,
        a.status IN ('submitted', 'expired') AND a.score IS NOT NULL AS is_graded,
        round(a.score / nullif(a.max_score, 0) * 100, 2) AS percentage,
        l.integrity_score,
        l.lmi_score,
        l.is_flagged,
        rv.decision
    FROM app.exam_attempts AS a
    LEFT JOIN latest_analyses AS l ON a.id = l.attempt_id
    LEFT JOIN latest_reviews AS rv ON a.id = rv.attempt_id
)

SELECT
    p.pseudonym,
    t.exam_id,
    count(*) AS attempts,
    count(*) FILTER (WHERE t.is_graded) AS graded_attempts,
    max(t.percentage) FILTER (WHERE t.is_graded) AS best_percentage,
    round(avg(t.percentage) FILTER (WHERE t.is_graded), 2) AS average_percentage,
    max(t.finished_at) AS last_finished_at,
    round(avg(t.integrity_score), 2) AS average_integrity,
    min(t.integrity_score) AS lowest_integrity,
    round(max(t.lmi_score), 4) AS highest_lmi,
    count(*) FILTER (WHERE t.is_flagged) AS flagged_attempts,
    count(*) FILTER (WHERE t.decision = 'confirmed') AS confirmed_attempts,
    count(*) FILTER (WHERE t.decision = 'cleared') AS cleared_attempts
FROM attempts AS t
INNER JOIN app.student_profiles AS p ON t.student_id = p.user_id
GROUP BY p.pseudonym, t.exam_id;

COMMENT ON VIEW analytics.student_exam_results IS
'Per student (by pseudonym: never user id, email or name) and exam, live: attempts, graded attempts, best and average percentage of max_score, last finished, average and lowest integrity, highest lmi, attempts whose latest analysis is flagged, attempts whose latest review confirmed or cleared the flags. security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege.';

REVOKE ALL ON analytics.student_exam_results FROM PUBLIC;
GRANT SELECT ON analytics.student_exam_results TO analyst, admin;
