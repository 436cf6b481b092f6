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
-- appear only by pseudonym: never user id, email or name.
--
-- Privacy (docs/security.md, "What an analyst can learn"):
-- - The group is the exam: its distinct students, whatever the status of
--   their attempts. An exam with fewer than k of them (k:
--   app.analyst_settings.min_group, 5 unless the DBA changes it) shows no
--   per-student row and no figure in any view; a view of one row per
--   student shows nothing while there are fewer than k students in all.
--   The group is counted inside the view, over the whole exam, before the
--   analyst's WHERE clause: a filter narrows the rows shown, never the
--   group they were counted in.
-- - Times about students are days (UTC dates), never instants.
-- - A student's rows per exam carry a pseudonym of that exam only (a keyed
--   hash of the student's pseudonym, the exam and
--   app.analyst_settings.pseudonym_secret): pinning one row links no other
--   exam's row, nor the student's overview.
--
-- The views over the analytics materialized views (analytics.exam_analytics,
-- analytics.exam_events_by_type) are in exam_analytics.sql, beside them:
-- this file runs first, before those exist.

-- Schema -------------------------------------------------------------------------

REVOKE ALL ON SCHEMA analytics FROM anon, student, teacher, admin, integration, worker, analyst;
GRANT USAGE ON SCHEMA analytics TO analyst, admin;

-- exam_overview ------------------------------------------------------------------

-- Every exam, with its attempts' figures when it has k students or more
-- (NULL otherwise: fewer than k, or none).
DROP VIEW IF EXISTS analytics.exam_overview;
CREATE VIEW analytics.exam_overview WITH (security_barrier) AS
WITH groups AS (
    SELECT
        a.exam_id,
        count(*) AS attempts,
        count(DISTINCT a.student_id) AS students,
        count(*) FILTER (WHERE a.status = 'submitted') AS submitted,
        count(*) FILTER (WHERE a.status = 'expired') AS expired,
        count(*) FILTER (WHERE a.status = 'abandoned') AS abandoned,
        count(*) FILTER (WHERE a.status = 'in_progress') AS in_progress,
        round(avg(a.score) FILTER (WHERE a.status IN ('submitted', 'expired')), 2) AS average_score,
        round(
            avg(a.score / nullif(a.max_score, 0) * 100)
            FILTER (WHERE a.status IN ('submitted', 'expired')),
            2
        ) AS average_percentage
    FROM app.exam_attempts AS a
    GROUP BY a.exam_id
    HAVING count(DISTINCT a.student_id) >= (SELECT s.min_group FROM app.analyst_settings AS s)
)

SELECT
    e.id AS exam_id,
    e.title,
    e.published,
    e.opens_at,
    e.closes_at,
    e.duration_minutes,
    e.max_attempts,
    g.attempts,
    g.students,
    g.submitted,
    g.expired,
    g.abandoned,
    g.in_progress,
    g.average_score,
    g.average_percentage
FROM app.exams AS e
LEFT JOIN groups AS g ON e.id = g.exam_id;

COMMENT ON VIEW analytics.exam_overview IS
'Per exam: attempts, distinct students, submitted, expired, abandoned, in progress, average score (points) and percentage of graded attempts; all NULL for an exam with fewer than k distinct students (app.analyst_settings.min_group). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

-- student_overview -----------------------------------------------------------------

-- One row per student, by the stable pseudonym: nothing while there are
-- fewer than k students in all. No exam is named, so a row here links to
-- no row of student_exam_results (per-exam pseudonyms).
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
    (m.updated_at AT TIME ZONE 'UTC')::date AS metrics_updated_on
FROM app.student_profiles AS p
LEFT JOIN app.performance_metrics AS m ON p.user_id = m.student_id
WHERE
    (SELECT count(*) FROM app.student_profiles)
    >= (SELECT s.min_group FROM app.analyst_settings AS s);

COMMENT ON VIEW analytics.student_overview IS
'Per student, keyed by the stable pseudonym (never user id, email or name; not the per-exam pseudonym of student_exam_results): exams taken, attempts, average and best score (percent), trend, latest integrity and lmi, average integrity, flags, the day (UTC) the metrics were last updated. Empty while there are fewer than k students (app.analyst_settings.min_group). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege.';

REVOKE ALL ON analytics.exam_overview, analytics.student_overview FROM PUBLIC;
GRANT SELECT ON analytics.exam_overview, analytics.student_overview TO analyst, admin;

-- student_exam_results -------------------------------------------------------------

-- Live, from the tables: per student and exam, the attempts, grades and
-- integrity, for the exams with k distinct students or more. Each attempt's
-- latest analysis and latest review (created_at, then id) count, as for
-- teachers. The student is named by a pseudonym of this exam only: the
-- first 128 bits of SHA-256 over the settings' secret, the student's
-- pseudonym and the exam id, as a uuid.
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
),

-- The exams shown: k distinct students or more, counted over all of the
-- exam's attempts.
groups AS (
    SELECT t.exam_id
    FROM attempts AS t
    GROUP BY t.exam_id
    HAVING count(DISTINCT t.student_id) >= (SELECT s.min_group FROM app.analyst_settings AS s)
),

results AS (
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
    INNER JOIN groups AS g ON t.exam_id = g.exam_id
    INNER JOIN app.student_profiles AS p ON t.student_id = p.user_id
    GROUP BY p.pseudonym, t.exam_id
)

SELECT
    left(
        encode(
            sha256(convert_to(concat_ws('/', s.pseudonym_secret, r.pseudonym, r.exam_id), 'UTF8')),
            'hex'
        ),
        32
    )::uuid AS pseudonym,
    r.exam_id,
    r.attempts,
    r.graded_attempts,
    r.best_percentage,
    r.average_percentage,
    (r.last_finished_at AT TIME ZONE 'UTC')::date AS last_finished_on,
    r.average_integrity,
    r.lowest_integrity,
    r.highest_lmi,
    r.flagged_attempts,
    r.confirmed_attempts,
    r.cleared_attempts
FROM results AS r
CROSS JOIN app.analyst_settings AS s;

COMMENT ON VIEW analytics.student_exam_results IS
'Per student and exam, live, for the exams with k distinct students or more (app.analyst_settings.min_group): attempts, graded attempts, best and average percentage of max_score, the day (UTC) of the last finish, average and lowest integrity, highest lmi, attempts whose latest analysis is flagged, attempts whose latest review confirmed or cleared the flags. The pseudonym is of this exam only (keyed hash): it links to no other exam''s row nor to student_overview; never user id, email or name. security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege.';

REVOKE ALL ON analytics.student_exam_results FROM PUBLIC;
GRANT SELECT ON analytics.student_exam_results TO analyst, admin;
