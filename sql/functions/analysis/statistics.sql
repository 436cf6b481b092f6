-- analysis: the figures recomputed from the attempts and their analyses:
-- per student (performance_metrics and the profile's statistics) and per
-- exam (exam_metrics). Called on submit and expiry
-- (internal.close_attempts), by the queue after each analysis, after an
-- external analysis, and by the metrics API (api.sql).
--
-- The worker role holds no table privilege: the queue, the analyser and the
-- statistics are SECURITY DEFINER helpers owned by veritas_owner, with a
-- pinned search_path and qualified names, running under the
-- definer_helpers_... policies (sql/policies/analysis.sql). Rules, formula
-- and weights: docs/analysis.md.

-- internal.refresh_student_metrics ------------------------------------------------

-- Brings performance_metrics (upserted) and student_profiles up to date for
-- some students (one: ARRAY[id]), from their graded attempts: exams_taken, attempts_count,
-- average_score and best_score (of the per-exam grades, percent), trend
-- (slope of the last 10 graded attempts, percentage points per attempt),
-- and the integrity figures, from each graded attempt's latest behaviour
-- analysis (the latest wins, built-in or external): average_integrity (their
-- mean), flags_count (attempts whose latest analysis is flagged), and the
-- profile's integrity_score and lmi_score (the latest analysis of the most
-- recently finished attempt that has one). Recomputed from the data every
-- time: idempotent. Called on submit and expiry (internal.close_attempts),
-- by the analysis queue after each analysis, after an external analysis
-- (queue.sql, api.sql), and by api.update_performance_metrics and
-- api.update_student_profile_stats. The per-exam twin: refresh_exam_metrics.
-- Rules in docs/analysis.md.
CREATE OR REPLACE FUNCTION internal.refresh_student_metrics(p_student_ids uuid[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO app.performance_metrics AS m (
        student_id, exams_taken, attempts_count, average_score, best_score, average_integrity,
        flags_count, trend, updated_at
    )
    SELECT
        s.student_id,
        coalesce(g.exams_taken, 0),
        coalesce(c.attempts_count, 0),
        g.average_score,
        g.best_score,
        i.average_integrity,
        coalesce(i.flags_count, 0),
        t.trend,
        now()
    FROM (
        SELECT DISTINCT x.id AS student_id
        FROM unnest(p_student_ids) AS x (id)
        WHERE x.id IS NOT NULL
    ) AS s
    LEFT JOIN LATERAL (
        SELECT
            count(*)::integer AS exams_taken,
            trim_scale(round(avg(eg.percentage), 2)) AS average_score,
            max(eg.percentage) AS best_score
        FROM internal.student_exam_grades(s.student_id) AS eg
    ) AS g ON TRUE
    LEFT JOIN LATERAL (
        SELECT count(*)::integer AS attempts_count
        FROM app.exam_attempts AS a
        WHERE
            a.student_id = s.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
    ) AS c ON TRUE
    LEFT JOIN LATERAL (
        -- Slope of the last 10 graded attempts, oldest first: percentage
        -- points per attempt; NULL with fewer than two.
        SELECT round(regr_slope(r.percentage, r.n)::numeric, 4) AS trend
        FROM (
            SELECT
                l.percentage,
                row_number() OVER (ORDER BY l.finished_at, l.id) AS n
            FROM (
                SELECT
                    a.id,
                    a.finished_at,
                    a.score / a.max_score * 100 AS percentage
                FROM app.exam_attempts AS a
                WHERE
                    a.student_id = s.student_id
                    AND a.status IN ('submitted', 'expired')
                    AND a.score IS NOT NULL
                    AND a.max_score > 0
                ORDER BY a.finished_at DESC, a.id DESC
                LIMIT 10
            ) AS l
        ) AS r
    ) AS t ON TRUE
    LEFT JOIN LATERAL (
        -- Each graded attempt's latest analysis.
        SELECT
            trim_scale(round(avg(l.integrity_score), 2)) AS average_integrity,
            (count(*) FILTER (WHERE l.is_flagged))::integer AS flags_count
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT b.integrity_score, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l
        WHERE
            a.student_id = s.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
    ) AS i ON TRUE
    ON CONFLICT (student_id) DO UPDATE SET
        exams_taken = excluded.exams_taken,
        attempts_count = excluded.attempts_count,
        average_score = excluded.average_score,
        best_score = excluded.best_score,
        average_integrity = excluded.average_integrity,
        flags_count = excluded.flags_count,
        trend = excluded.trend,
        updated_at = excluded.updated_at;

    -- The profile shows the same figures, and the integrity of the latest
    -- analysed attempt.
    UPDATE app.student_profiles AS p SET
        exams_taken = m.exams_taken,
        average_score = m.average_score,
        best_score = m.best_score,
        flags_count = m.flags_count,
        integrity_score = l.integrity_score,
        lmi_score = l.lmi_score
    FROM app.performance_metrics AS m
    LEFT JOIN LATERAL (
        SELECT b.integrity_score, b.lmi_score
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT x.integrity_score, x.lmi_score
            FROM app.behavior_analyses AS x
            WHERE x.attempt_id = a.id
            ORDER BY x.created_at DESC, x.id DESC
            LIMIT 1
        ) AS b
        WHERE
            a.student_id = m.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
        ORDER BY a.finished_at DESC, a.id DESC
        LIMIT 1
    ) AS l ON TRUE
    WHERE m.student_id = ANY (p_student_ids) AND p.user_id = m.student_id;
END
$$;
COMMENT ON FUNCTION internal.refresh_student_metrics(uuid[]) IS
'Recompute performance_metrics (exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend) and student_profiles (exams_taken, average_score, best_score, flags_count, integrity_score, lmi_score) of the given students from their graded attempts and their latest analyses; percentages of max_score, per-exam grades by grading method. Idempotent.';
REVOKE ALL ON FUNCTION internal.refresh_student_metrics(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_student_metrics(uuid[]) TO worker, integration, admin;

-- internal.refresh_exam_metrics ----------------------------------------------------

-- Recomputes app.exam_metrics (upserted, in exam id order) of some exams
-- from their attempts: attempts (all, whatever their status), submitted
-- (graded: submitted or expired), average_score (of the graded ones, in
-- points, 2 decimals) and flagged (attempts whose latest analysis is
-- flagged). Idempotent.
CREATE OR REPLACE FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO app.exam_metrics AS m (exam_id, attempts, submitted, average_score, flagged)
    SELECT
        e.id,
        count(a.id)::integer,
        (count(a.id) FILTER (WHERE a.status IN ('submitted', 'expired')))::integer,
        trim_scale(round(
            avg(a.score) FILTER (WHERE a.status IN ('submitted', 'expired')), 2
        )),
        (count(a.id) FILTER (WHERE l.is_flagged))::integer
    FROM app.exams AS e
    LEFT JOIN app.exam_attempts AS a ON a.exam_id = e.id
    LEFT JOIN LATERAL (
        SELECT b.is_flagged
        FROM app.behavior_analyses AS b
        WHERE b.attempt_id = a.id
        ORDER BY b.created_at DESC, b.id DESC
        LIMIT 1
    ) AS l ON TRUE
    WHERE e.id = ANY (p_exam_ids)
    GROUP BY e.id
    ORDER BY e.id
    ON CONFLICT (exam_id) DO UPDATE SET
        attempts = excluded.attempts,
        submitted = excluded.submitted,
        average_score = excluded.average_score,
        flagged = excluded.flagged;
END
$$;
COMMENT ON FUNCTION internal.refresh_exam_metrics(uuid[]) IS
'Recompute exam_metrics of the given exams from their attempts: attempts (all), submitted (submitted or expired), average_score (graded attempts, points), flagged (latest analysis flagged). Idempotent.';
REVOKE ALL ON FUNCTION internal.refresh_exam_metrics(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_exam_metrics(uuid[]) TO worker, integration, admin;

-- internal.refresh_analysis_figures ------------------------------------------------

-- After a new analysis of an attempt: its student's performance_metrics and
-- profile (internal.refresh_student_metrics) and its exam's exam_metrics.
-- Recomputes only, so it is safe for every role it is granted to.
CREATE OR REPLACE FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.student_id, a.exam_id INTO v_attempt
    FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id;
    IF FOUND THEN
        PERFORM internal.refresh_student_metrics(ARRAY[v_attempt.student_id]);
        PERFORM internal.refresh_exam_metrics(ARRAY[v_attempt.exam_id]);
    END IF;
END
$$;
COMMENT ON FUNCTION internal.refresh_analysis_figures(uuid) IS
'Recompute the figures an analysis of this attempt feeds: the student''s performance_metrics and profile statistics, the exam''s exam_metrics.';
REVOKE ALL ON FUNCTION internal.refresh_analysis_figures(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_analysis_figures(uuid) TO worker, integration, admin;
