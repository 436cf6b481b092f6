-- teacher: the dashboard and an exam's analytics, read from the analytics
-- summary tables (sql/schema/50_analysis.sql, kept by
-- internal.refresh_analytics). Teachers hold no privilege on them: they
-- read them through the app.visible_... views (sql/views/exam_analytics.sql),
-- which keep only the rows of the caller's exams (internal.staff_exam_ids(),
-- below). The dashboard's alerts show students:
-- a disclosure, so it is VOLATILE (internal.log_disclosures); the analytics
-- are aggregates: STABLE, read-only.
--
-- Who sees what. The API functions run with the caller's rights (SECURITY
-- INVOKER): row-level security on app.exams, app.exam_attempts,
-- app.behavior_analyses, app.flag_reviews and auth.users decides what a
-- teacher sees (the exams they created or were granted,
-- internal.teacher_exam_ids()); an admin sees everything. An exam, attempt
-- or student the caller may not see is VT404, exactly like one that does
-- not exist. Rules and query plans: docs/teacher-views.md.

-- internal.assert_staff_caller -----------------------------------------------------

CREATE OR REPLACE FUNCTION internal.assert_staff_caller()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id constant uuid := internal.current_user_id();
BEGIN
    IF v_user_id IS NULL OR internal.current_app_role() NOT IN ('teacher', 'admin') THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501', MESSAGE = 'only teachers and admins may do this';
    END IF;
    RETURN v_user_id;
END
$$;
COMMENT ON FUNCTION internal.assert_staff_caller() IS
'The calling teacher''s or admin''s user id, or 42501 for anyone else (or claims that do not hold).';
REVOKE ALL ON FUNCTION internal.assert_staff_caller() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.assert_staff_caller() TO teacher, admin;

-- internal.staff_exam_ids ----------------------------------------------------------

-- The row filter of the app.visible_... views, beside "the caller is an
-- admin": the exams of the calling teacher, nothing for anyone else.
-- SECURITY DEFINER so that admins may call it too (internal.teacher_exam_ids
-- is granted to teachers only, and a view checks EXECUTE on every function
-- of its filter, whichever branch runs).
CREATE OR REPLACE FUNCTION internal.staff_exam_ids()
RETURNS uuid[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN internal.current_app_role() = 'teacher' THEN internal.teacher_exam_ids()
        ELSE '{}'::uuid[]
    END;
$$;
COMMENT ON FUNCTION internal.staff_exam_ids() IS
'Ids of the exams the calling teacher created or was granted; empty for any other caller (admins see every row through their own branch of the filter).';
REVOKE ALL ON FUNCTION internal.staff_exam_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.staff_exam_ids() TO teacher, admin;

-- api.get_teacher_dashboard_data ---------------------------------------------------

-- Exams: the exams the caller may see (RLS), the 200 that open latest,
-- with the counts of the analytics views (the summary counts them all). Alerts: the newest 20 flagged attempts nobody has
-- reviewed yet, from app.flagged_attempts (a new flag shows within one
-- refresh) and the live reviews (a reviewed one leaves at once).
CREATE OR REPLACE FUNCTION api.get_teacher_dashboard_data()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_alerts constant integer := 20;
    c_exams constant integer := 200;
    v_me constant uuid := internal.assert_staff_caller();
    v_exams jsonb;
    v_alerts jsonb;
    v_summary jsonb;
BEGIN
    WITH pending AS (
        SELECT f.attempt_id, f.exam_id, f.student_id, f.analysis_id, f.analysed_at,
            f.integrity_score, f.lmi_score, f.flags_count
        FROM app.visible_flagged_attempts AS f
        WHERE NOT EXISTS (SELECT FROM app.flag_reviews AS r WHERE r.attempt_id = f.attempt_id)
    ),
    exams AS (
        SELECT
            e.id,
            e.title,
            e.published,
            e.opens_at,
            e.closes_at,
            e.created_by = v_me AS owned,
            e.published AND now() >= e.opens_at AND now() < e.closes_at AS is_open,
            coalesce(s.attempts, 0) AS attempts,
            coalesce(s.in_progress, 0) AS in_progress,
            coalesce(s.submitted, 0) AS submitted,
            coalesce(s.expired, 0) AS expired,
            coalesce(s.abandoned, 0) AS abandoned,
            coalesce(s.graded, 0) AS graded,
            coalesce(s.flagged, 0) AS flagged,
            coalesce(p.pending_reviews, 0) AS pending_reviews,
            s.average_score,
            s.average_percentage
        FROM app.exams AS e
        LEFT JOIN app.visible_exam_stats AS s ON e.id = s.exam_id
        LEFT JOIN (
            SELECT pe.exam_id, count(*) AS pending_reviews
            FROM pending AS pe
            GROUP BY pe.exam_id
        ) AS p ON e.id = p.exam_id
    ),
    -- The newest first, then their names: the users' policy runs for 20 rows.
    alerts AS (
        SELECT pe.*, e.title AS exam_title, u.full_name AS student_name
        FROM (
            SELECT p.*
            FROM pending AS p
            ORDER BY p.analysed_at DESC, p.attempt_id
            LIMIT c_alerts
        ) AS pe
        INNER JOIN exams AS e ON pe.exam_id = e.id
        LEFT JOIN auth.users AS u ON pe.student_id = u.id
    )
    SELECT
        (
            SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.opens_at DESC, x.id), '[]'::jsonb)
            FROM (
                SELECT * FROM exams AS ex ORDER BY ex.opens_at DESC, ex.id LIMIT c_exams
            ) AS x
        ),
        (
            SELECT coalesce(
                jsonb_agg(
                    jsonb_build_object(
                        'attempt_id', a.attempt_id,
                        'exam_id', a.exam_id,
                        'exam_title', a.exam_title,
                        'student_id', a.student_id,
                        'student_name', a.student_name,
                        'analysis_id', a.analysis_id,
                        'integrity_score', a.integrity_score,
                        'lmi_score', a.lmi_score,
                        'flags_count', a.flags_count,
                        'flagged_at', a.analysed_at
                    )
                    ORDER BY a.analysed_at DESC, a.attempt_id
                ),
                '[]'::jsonb
            )
            FROM alerts AS a
        ),
        (
            SELECT jsonb_build_object(
                'exams', count(*),
                'attempts', coalesce(sum(x.attempts), 0),
                'submitted', coalesce(sum(x.submitted), 0),
                'flagged', coalesce(sum(x.flagged), 0),
                'pending_reviews', coalesce(sum(x.pending_reviews), 0)
            )
            FROM exams AS x
        )
    INTO v_exams, v_alerts, v_summary;

    -- The alerts show students' analyses: a disclosure each.
    PERFORM internal.log_disclosures(
        array_agg((a.value ->> 'student_id')::uuid),
        'analysis',
        array_agg((a.value ->> 'analysis_id')::uuid)
    )
    FROM jsonb_array_elements(v_alerts) AS a (value);

    RETURN jsonb_build_object(
        'exams', v_exams,
        'alerts', v_alerts,
        'summary', v_summary,
        'refreshed_at', internal.analytics_refreshed_at(
            ARRAY['exam_stats', 'flagged_attempts']
        )
    );
END
$$;
COMMENT ON FUNCTION api.get_teacher_dashboard_data() IS
'The teacher dashboard, over the exams the caller created or was granted (admin: all): {exams: the 200 that open latest [{id, title, published, opens_at, closes_at, owned, is_open, attempts, in_progress, submitted, expired, abandoned, graded, flagged, pending_reviews, average_score, average_percentage}], alerts: the newest 20 flagged attempts not yet reviewed [{attempt_id, exam_id, exam_title, student_id, student_name, analysis_id, integrity_score, lmi_score, flags_count, flagged_at}], summary: {exams, attempts, submitted, flagged, pending_reviews}, refreshed_at}. Counts and alerts come from the analytics summary tables, complete up to refreshed_at (seconds behind); a review removes its alert at once. Each alert shown is recorded in the disclosure log.';
REVOKE ALL ON FUNCTION api.get_teacher_dashboard_data() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_teacher_dashboard_data() TO teacher, admin;

-- api.get_teacher_exam_analytics ---------------------------------------------------

CREATE OR REPLACE FUNCTION api.get_teacher_exam_analytics(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    SELECT jsonb_build_object(
        'exam_id', e.id,
        'title', e.title,
        'attempts', coalesce(s.attempts, 0),
        'students', coalesce(s.students, 0),
        'in_progress', coalesce(s.in_progress, 0),
        'submitted', coalesce(s.submitted, 0),
        'expired', coalesce(s.expired, 0),
        'abandoned', coalesce(s.abandoned, 0),
        'graded', coalesce(s.graded, 0),
        'average_score', s.average_score,
        'median_score', s.median_score,
        'average_percentage', s.average_percentage,
        'median_percentage', s.median_percentage,
        'score_histogram', internal.score_histogram(s.histogram),
        'analysed', coalesce(s.analysed, 0),
        'flagged', coalesce(s.flagged, 0),
        'average_integrity', s.average_integrity,
        'integrity_histogram', internal.score_histogram(s.integrity_histogram),
        'events_by_type', (
            SELECT jsonb_object_agg(t.event_type, coalesce(c.events, 0))
            FROM unnest(enum_range(NULL::app.event_type)) AS t (event_type)
            LEFT JOIN app.visible_exam_event_counts AS c
                ON c.exam_id = e.id AND t.event_type = c.event_type
        ),
        'refreshed_at', internal.analytics_refreshed_at(
            ARRAY['exam_stats', 'exam_event_counts']
        )
    )
    INTO v_result
    FROM app.exams AS e
    LEFT JOIN app.visible_exam_stats AS s ON e.id = s.exam_id
    WHERE e.id = get_teacher_exam_analytics.exam_id;
    IF v_result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.get_teacher_exam_analytics(uuid) IS
'Per-exam analytics from the summary tables (kept by the worker every few seconds, exam by exam: reading never waits): {exam_id, title, attempts, students, in_progress, submitted, expired, abandoned, graded, average_score, median_score (points), average_percentage, median_percentage (of max_score), score_histogram: [{from, to, count}] ten buckets of percentage, analysed, flagged (attempts whose latest analysis is flagged), average_integrity, integrity_histogram: [{from, to, count}] ten buckets of the integrity score (0-100) of every analysed attempt (its latest analysis), events_by_type: {event_type: count} for every type, refreshed_at: the figures hold everything committed before it}. submitted counts attempts the student submitted; graded also counts expired ones (scored on their saved answers); an attempt past its deadline counts as expired. 404 for an exam the caller may not access.';
REVOKE ALL ON FUNCTION api.get_teacher_exam_analytics(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_teacher_exam_analytics(uuid) TO teacher, admin;

-- internal.score_histogram ---------------------------------------------------------

-- The ten buckets of a 0-100 scale, [0, 10), [10, 20) ... [90, 100] (100
-- falls in the last), from the counts kept in app.exam_stats: percentage of
-- max_score (histogram) or integrity score (integrity_histogram).
CREATE OR REPLACE FUNCTION internal.score_histogram(p_counts integer[])
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_agg(
        jsonb_build_object(
            'from', b.i * 10,
            'to', b.i * 10 + 10,
            'count', coalesce(p_counts[b.i + 1], 0)
        )
        ORDER BY b.i
    )
    FROM generate_series(0, 9) AS b (i);
$$;
COMMENT ON FUNCTION internal.score_histogram(integer[]) IS
'A histogram of a 0-100 scale as JSON: [{from, to, count}] for the ten buckets 0-10 ... 90-100 (percentage of max_score, or integrity score).';
REVOKE ALL ON FUNCTION internal.score_histogram(integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.score_histogram(integer[]) TO teacher, admin;
