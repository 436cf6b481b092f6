-- teacher: what teachers (and admins) see of their exams (the dashboard,
-- per-exam analytics, the flagged list, a student's detail), the review of
-- flagged attempts, and the refresh of the analytics materialized views.
--
-- Repeatable, applied as veritas_owner after 00_internal.sql. The
-- materialized views themselves are in sql/views/exam_analytics.sql, their
-- grants and the policies of app.analytics_refreshes in
-- sql/policies/teacher.sql. Rules and query plans: docs/teacher-views.md.
--
-- Who sees what. The API functions run with the caller's rights (SECURITY
-- INVOKER): row-level security on app.exams, app.exam_attempts,
-- app.behavior_analyses, app.flag_reviews and auth.users decides what a
-- teacher sees (the exams they created or were granted, internal.
-- teacher_exam_ids()); an admin sees everything. A materialized view cannot
-- carry row-level security, so teachers read the analytics through the
-- app.visible_... views, which keep only the rows of the caller's exams (the
-- same rule, internal.staff_exam_ids()). An exam, attempt or student the
-- caller may not see is VT404, exactly like one that does not exist.
--
-- Reads that show a student's records to a teacher or admin (the
-- dashboard's alerts, the flagged list, a student's detail) are VOLATILE:
-- they expire the overdue attempts they are about (internal.lazy_expire,
-- so that no teacher sees a stale in_progress) and record the disclosure
-- (internal.log_disclosure). The analytics are aggregates: STABLE, read-only.

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

-- internal.install_matview ---------------------------------------------------------

-- Deploy helper for sql/views/exam_analytics.sql, which re-runs at every
-- migrate: each materialized view is declared there as <name>__next WITH NO
-- DATA (cheap: nothing is computed), and this puts it in place.
--   * no <name> yet: <name>__next becomes <name>, filled once;
--   * <name> has the same query (pg_get_viewdef): <name>__next is dropped,
--     <name> and its rows, indexes and refresh history stay;
--   * the query changed: <name> is dropped (its dependent views must have
--     been dropped before: no CASCADE), <name>__next takes its place, filled.
-- So a deploy that changes nothing recomputes nothing (a few catalog rows).
-- Returns created, unchanged or replaced. Owner only.
CREATE OR REPLACE FUNCTION internal.install_matview(p_schema text, p_name text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_next constant regclass := to_regclass(format('%I.%I', p_schema, p_name || '__next'));
    v_current constant regclass := to_regclass(format('%I.%I', p_schema, p_name));
BEGIN
    IF v_next IS NULL THEN
        RAISE EXCEPTION 'install_matview: %.%__next does not exist', p_schema, p_name;
    END IF;
    IF v_current IS NOT NULL AND pg_get_viewdef(v_current) = pg_get_viewdef(v_next) THEN
        EXECUTE format('DROP MATERIALIZED VIEW %s', v_next);
        RETURN 'unchanged';
    END IF;
    IF v_current IS NOT NULL THEN
        EXECUTE format('DROP MATERIALIZED VIEW %s', v_current);
    END IF;
    EXECUTE format('ALTER MATERIALIZED VIEW %s RENAME TO %I', v_next, p_name);
    EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', p_schema, p_name);
    RETURN CASE WHEN v_current IS NULL THEN 'created' ELSE 'replaced' END;
END
$$;
COMMENT ON FUNCTION internal.install_matview(text, text) IS
'Deploy helper: put <schema>.<name>__next (declared WITH NO DATA) in place of <schema>.<name> when that is missing or its query differs, else drop it. Returns created, unchanged or replaced.';
REVOKE ALL ON FUNCTION internal.install_matview(text, text) FROM PUBLIC;

-- internal.analytics_refreshed_at --------------------------------------------------

-- The time up to which the given materialized views are known complete (the
-- oldest of their up_to_date_at); NULL while one of them has never been
-- refreshed by the worker. Under the caller's rights.
CREATE OR REPLACE FUNCTION internal.analytics_refreshed_at(p_views text[])
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN count(*) = cardinality(p_views) THEN min(r.up_to_date_at) END
    FROM app.analytics_refreshes AS r
    WHERE r.view_name = ANY (p_views);
$$;
COMMENT ON FUNCTION internal.analytics_refreshed_at(text[]) IS
'The oldest up_to_date_at of the given analytics materialized views: the answer holds everything committed before it; NULL until each has been refreshed once.';
REVOKE ALL ON FUNCTION internal.analytics_refreshed_at(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.analytics_refreshed_at(text[]) TO teacher, admin;

-- internal.refresh_analytics -------------------------------------------------------

-- Run by the worker every 5 seconds (glue/worker.py). For each materialized
-- view of sql/views/exam_analytics.sql, in one transaction:
--
--   1. Skip it, and record it as up to date now, when none of its sources
--      was written since one minute before its last refresh began. The
--      minute covers transactions that started before that refresh and
--      committed after it (their timestamps are their start time). The
--      tests are three index probes, made once: the newest
--      exam_attempts.updated_at and behavior_analyses.created_at (max(),
--      read backwards from their indexes) and whether any attempt is in
--      progress. Events are not probed themselves (received_at has only a
--      BRIN index, which cannot answer "any row after t" cheaply): an event
--      is accepted only for an attempt in progress (the policies of
--      monitoring_events), so while none is in progress and no attempt was
--      written lately, no event can have arrived.
--   2. Skip it, without recording anything, while less than five times its
--      last refresh's duration has passed since that refresh began: a view
--      that takes 1 s to refresh is refreshed at most every 5 s, so the
--      refresh never takes more than a fifth of one backend.
--   3. Else REFRESH MATERIALIZED VIEW CONCURRENTLY (readers are never
--      blocked; it needs the view's unique index) and record when it began
--      and how long it took.
--
-- Only one refresh runs at a time (a transaction-level advisory lock); a
-- second caller returns at once. p_force waits for a running refresh, then
-- refreshes everything regardless (after a DBA archived event partitions,
-- which writes no timestamp; in tests).
-- Returns the time up to which all the views are known complete.
-- SECURITY DEFINER: REFRESH needs the views' owner. The owner needs the
-- database's TEMP privilege (PUBLIC's by default): CONCURRENTLY diffs
-- through a temporary table.
CREATE OR REPLACE FUNCTION internal.refresh_analytics(p_force boolean DEFAULT FALSE)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_views constant text[] := ARRAY['exam_stats_mv', 'flagged_attempts_mv', 'exam_event_counts_mv'];
    c_margin constant interval := interval '1 minute';
    c_throttle constant integer := 5;
    v_attempts_at timestamptz;
    v_analyses_at timestamptz;
    v_in_progress boolean;
    v_view text;
    v_state record;
    v_since timestamptz;
    v_changed boolean;
    v_started timestamptz;
BEGIN
    IF p_force THEN
        PERFORM pg_advisory_xact_lock(hashtext('veritas.refresh_analytics'));
    ELSIF NOT pg_try_advisory_xact_lock(hashtext('veritas.refresh_analytics')) THEN
        RETURN internal.analytics_refreshed_at(c_views);
    END IF;

    v_attempts_at := (SELECT max(a.updated_at) FROM app.exam_attempts AS a);
    v_analyses_at := (SELECT max(b.created_at) FROM app.behavior_analyses AS b);
    -- min() over the partial index of attempts in progress: one index entry
    -- read, never a scan, however the planner estimates the status.
    v_in_progress := (
        SELECT min(a.deadline) FROM app.exam_attempts AS a WHERE a.status = 'in_progress'
    ) IS NOT NULL;

    FOREACH v_view IN ARRAY c_views LOOP
        SELECT r.refreshed_at, r.duration INTO v_state
        FROM app.analytics_refreshes AS r
        WHERE r.view_name = v_view;

        IF NOT FOUND OR p_force THEN
            v_changed := TRUE;
        ELSE
            v_since := v_state.refreshed_at - c_margin;
            v_changed := coalesce(
                CASE v_view
                    WHEN 'exam_stats_mv' THEN v_attempts_at >= v_since OR v_analyses_at >= v_since
                    WHEN 'flagged_attempts_mv' THEN v_analyses_at >= v_since
                    WHEN 'exam_event_counts_mv' THEN v_in_progress OR v_attempts_at >= v_since
                END,
                FALSE
            );
            IF NOT v_changed THEN
                UPDATE app.analytics_refreshes AS r
                SET up_to_date_at = greatest(r.up_to_date_at, clock_timestamp())
                WHERE r.view_name = v_view;
                CONTINUE;
            END IF;
            IF clock_timestamp() < v_state.refreshed_at + v_state.duration * c_throttle THEN
                CONTINUE;
            END IF;
        END IF;

        v_started := clock_timestamp();
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY app.%I', v_view);
        INSERT INTO app.analytics_refreshes AS r (
            view_name, refreshed_at, up_to_date_at, duration
        ) VALUES (
            v_view, v_started, v_started, clock_timestamp() - v_started
        )
        ON CONFLICT (view_name) DO UPDATE SET
            refreshed_at = excluded.refreshed_at,
            up_to_date_at = excluded.up_to_date_at,
            duration = excluded.duration,
            refreshes = r.refreshes + 1;
    END LOOP;

    RETURN internal.analytics_refreshed_at(c_views);
END
$$;
COMMENT ON FUNCTION internal.refresh_analytics(boolean) IS
'Worker task (every 5 s): REFRESH MATERIALIZED VIEW CONCURRENTLY each analytics view whose sources were written since a minute before its last refresh, at most once per five times its last duration; records refreshed_at, up_to_date_at and duration in app.analytics_refreshes. One at a time (advisory lock; others return at once). p_force: wait for the lock, refresh all. Returns the time up to which the analytics are complete.';
REVOKE ALL ON FUNCTION internal.refresh_analytics(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_analytics(boolean) TO worker;

-- internal.score_histogram ---------------------------------------------------------

-- The ten buckets of percentage of max_score, [0, 10), [10, 20) ... [90, 100]
-- (100 % falls in the last), from the counts kept in exam_stats_mv.
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
'The score histogram as JSON: [{from, to, count}] for the ten buckets of percentage of max_score, 0-10 ... 90-100.';
REVOKE ALL ON FUNCTION internal.score_histogram(integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.score_histogram(integer[]) TO teacher, admin;

-- api.get_teacher_dashboard_data ---------------------------------------------------

-- Exams: the exams the caller may see (RLS), the 200 that open latest,
-- with the counts of the analytics views (the summary counts them all). Alerts: the newest 20 flagged attempts nobody has
-- reviewed yet, from flagged_attempts_mv (a new flag shows within one
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
            ARRAY['exam_stats_mv', 'flagged_attempts_mv']
        )
    );
END
$$;
COMMENT ON FUNCTION api.get_teacher_dashboard_data() IS
'The teacher dashboard, over the exams the caller created or was granted (admin: all): {exams: the 200 that open latest [{id, title, published, opens_at, closes_at, owned, is_open, attempts, in_progress, submitted, expired, abandoned, graded, flagged, pending_reviews, average_score, average_percentage}], alerts: the newest 20 flagged attempts not yet reviewed [{attempt_id, exam_id, exam_title, student_id, student_name, analysis_id, integrity_score, lmi_score, flags_count, flagged_at}], summary: {exams, attempts, submitted, flagged, pending_reviews}, refreshed_at}. Counts and alerts come from the analytics materialized views, complete up to refreshed_at (seconds behind); a review removes its alert at once. Each alert shown is recorded in the disclosure log.';
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
        'events_by_type', (
            SELECT jsonb_object_agg(t.event_type, coalesce(c.events, 0))
            FROM unnest(enum_range(NULL::app.event_type)) AS t (event_type)
            LEFT JOIN app.visible_exam_event_counts AS c
                ON c.exam_id = e.id AND t.event_type = c.event_type
        ),
        'refreshed_at', internal.analytics_refreshed_at(
            ARRAY['exam_stats_mv', 'exam_event_counts_mv']
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
'Per-exam analytics from the materialized views (refreshed by the worker every few seconds, concurrently: reading never waits): {exam_id, title, attempts, students, in_progress, submitted, expired, abandoned, graded, average_score, median_score (points), average_percentage, median_percentage (of max_score), score_histogram: [{from, to, count}] ten buckets of percentage, analysed, flagged (attempts whose latest analysis is flagged), average_integrity, events_by_type: {event_type: count} for every type, refreshed_at: the figures hold everything committed before it}. submitted counts attempts the student submitted; graded also counts expired ones (scored on their saved answers); an attempt past its deadline counts as expired. 404 for an exam the caller may not access.';
REVOKE ALL ON FUNCTION api.get_teacher_exam_analytics(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_teacher_exam_analytics(uuid) TO teacher, admin;

-- api.get_flagged_students_for_exam ------------------------------------------------

-- Live (not from the materialized views): an external engine's newer
-- analysis or a review shows at once. One query, index-driven: the exam's
-- attempts by (exam_id, status), each one's latest analysis and latest
-- review by their (attempt_id, created_at DESC) indexes.
CREATE OR REPLACE FUNCTION api.get_flagged_students_for_exam(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    PERFORM FROM app.exams AS e WHERE e.id = get_flagged_students_for_exam.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    PERFORM internal.lazy_expire(NULL, get_flagged_students_for_exam.exam_id);

    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'student_id', f.student_id,
                'attempt_id', f.attempt_id,
                'attempt_number', f.attempt_number,
                'status', f.status,
                'integrity_score', f.integrity_score,
                'lmi_score', f.lmi_score,
                'flags', f.flags,
                'analysis_id', f.analysis_id,
                'model', f.model,
                'analysed_at', f.analysed_at,
                'review_status', coalesce(f.decision::text, 'pending'),
                'reviewed_at', f.reviewed_at
            )
            ORDER BY f.integrity_score, f.lmi_score DESC, f.attempt_id
        ),
        '[]'::jsonb
    )
    INTO v_result
    FROM (
        SELECT
            a.student_id,
            a.id AS attempt_id,
            a.attempt_number,
            a.status,
            b.id AS analysis_id,
            b.integrity_score,
            b.lmi_score,
            b.flags,
            b.model,
            b.created_at AS analysed_at,
            r.decision,
            r.created_at AS reviewed_at
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT la.id, la.integrity_score, la.lmi_score, la.flags, la.model, la.created_at,
                la.is_flagged
            FROM app.behavior_analyses AS la
            WHERE la.attempt_id = a.id
            ORDER BY la.created_at DESC, la.id DESC
            LIMIT 1
        ) AS b
        LEFT JOIN LATERAL (
            SELECT lr.decision, lr.created_at
            FROM app.flag_reviews AS lr
            WHERE lr.attempt_id = a.id
            ORDER BY lr.created_at DESC, lr.id DESC
            LIMIT 1
        ) AS r ON TRUE
        WHERE a.exam_id = get_flagged_students_for_exam.exam_id AND b.is_flagged
    ) AS f;

    -- Each flagged analysis shown is a disclosure of that student's record.
    PERFORM internal.log_disclosures(
        array_agg((x.value ->> 'student_id')::uuid),
        'analysis',
        array_agg((x.value ->> 'analysis_id')::uuid)
    )
    FROM jsonb_array_elements(v_result) AS x (value);
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.get_flagged_students_for_exam(uuid) IS
'The exam''s attempts whose latest behaviour analysis is flagged, most suspicious first (lowest integrity): [{student_id, attempt_id, attempt_number, status, integrity_score, lmi_score, flags, analysis_id, model, analysed_at, review_status, reviewed_at}]. review_status is the latest review''s decision (cleared or confirmed), pending when there is none. Live: a newer analysis or a review shows at once. Each row shown is recorded in the disclosure log. 404 for an exam the caller may not access.';
REVOKE ALL ON FUNCTION api.get_flagged_students_for_exam(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_flagged_students_for_exam(uuid) TO teacher, admin;

-- api.get_student_detail_for_teacher -----------------------------------------------

CREATE OR REPLACE FUNCTION api.get_student_detail_for_teacher(student_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    -- A teacher sees the students of their exams (auth.users' policy), an
    -- admin every user; anyone else, or a user who is not a student, is 404.
    SELECT jsonb_build_object(
        'id', u.id,
        'email', u.email,
        'full_name', u.full_name,
        'is_active', u.is_active,
        'student_number', p.student_number,
        'integrity_score', p.integrity_score,
        'lmi_score', p.lmi_score,
        'exams_taken', coalesce(p.exams_taken, 0),
        'average_score', p.average_score,
        'best_score', p.best_score,
        'flags_count', coalesce(p.flags_count, 0)
    )
    INTO v_student
    FROM auth.users AS u
    LEFT JOIN app.student_profiles AS p ON u.id = p.user_id
    WHERE u.id = get_student_detail_for_teacher.student_id AND u.role = 'student';
    IF v_student IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
    END IF;
    PERFORM internal.lazy_expire(get_student_detail_for_teacher.student_id);
    PERFORM internal.log_disclosure(
        get_student_detail_for_teacher.student_id, 'profile', get_student_detail_for_teacher.student_id
    );

    RETURN jsonb_build_object(
        'student', v_student,
        'metrics', coalesce(
            (
                SELECT jsonb_build_object(
                    'exams_taken', m.exams_taken,
                    'attempts_count', m.attempts_count,
                    'average_score', m.average_score,
                    'best_score', m.best_score,
                    'average_integrity', m.average_integrity,
                    'flags_count', m.flags_count,
                    'trend', m.trend,
                    'updated_at', m.updated_at
                )
                FROM app.performance_metrics AS m
                WHERE m.student_id = get_student_detail_for_teacher.student_id
            ),
            jsonb_build_object(
                'exams_taken', 0, 'attempts_count', 0, 'average_score', NULL,
                'best_score', NULL, 'average_integrity', NULL, 'flags_count', 0,
                'trend', NULL, 'updated_at', NULL
            )
        ),
        -- Under the caller's row-level security: only attempts at the exams
        -- this teacher may access.
        'attempts', (
            SELECT coalesce(
                jsonb_agg(
                    jsonb_build_object(
                        'attempt_id', sa.attempt_id,
                        'exam_id', sa.exam_id,
                        'exam_title', sa.exam_title,
                        'attempt_number', sa.attempt_number,
                        'status', sa.status,
                        'started_at', sa.started_at,
                        'deadline', sa.deadline,
                        'finished_at', sa.finished_at,
                        'score', sa.score,
                        'max_score', sa.max_score,
                        'percentage', sa.percentage,
                        'analysis', CASE WHEN b.id IS NOT NULL THEN jsonb_build_object(
                            'analysis_id', b.id,
                            'integrity_score', b.integrity_score,
                            'lmi_score', b.lmi_score,
                            'is_flagged', b.is_flagged,
                            'flags_count', jsonb_array_length(b.flags),
                            'model', b.model,
                            'analysed_at', b.created_at
                        ) END,
                        'review_status', CASE
                            WHEN r.decision IS NOT NULL THEN r.decision::text
                            WHEN b.is_flagged THEN 'pending'
                        END
                    )
                    ORDER BY sa.started_at DESC, sa.attempt_id
                ),
                '[]'::jsonb
            )
            FROM internal.student_attempts(get_student_detail_for_teacher.student_id) AS sa
            LEFT JOIN LATERAL (
                SELECT la.id, la.integrity_score, la.lmi_score, la.is_flagged, la.flags,
                    la.model, la.created_at
                FROM app.behavior_analyses AS la
                WHERE la.attempt_id = sa.attempt_id
                ORDER BY la.created_at DESC, la.id DESC
                LIMIT 1
            ) AS b ON TRUE
            LEFT JOIN LATERAL (
                SELECT lr.decision
                FROM app.flag_reviews AS lr
                WHERE lr.attempt_id = sa.attempt_id
                ORDER BY lr.created_at DESC, lr.id DESC
                LIMIT 1
            ) AS r ON TRUE
        )
    );
END
$$;
COMMENT ON FUNCTION api.get_student_detail_for_teacher(uuid) IS
'A student as a teacher of theirs (or an admin) sees them: {student: {id, email, full_name, is_active, student_number, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count}, metrics: {exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}, attempts: newest first, only at the exams the caller may access [{attempt_id, exam_id, exam_title, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage, analysis: {analysis_id, integrity_score, lmi_score, is_flagged, flags_count, model, analysed_at} or null, review_status: cleared, confirmed, pending (flagged, not reviewed) or null}]}. Recorded in the disclosure log. 404 for a student who has no attempt at (nor extra time on) the caller''s exams.';
REVOKE ALL ON FUNCTION api.get_student_detail_for_teacher(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_student_detail_for_teacher(uuid) TO teacher, admin;

-- api.review_attempt ---------------------------------------------------------------

-- A teacher's decision on an attempt's flags: a new row of app.flag_reviews
-- (the analysis itself is never changed; all reviews are kept, the latest
-- is the attempt's review status), about the attempt's latest analysis.
CREATE OR REPLACE FUNCTION api.review_attempt(
    attempt_id uuid, decision text, note text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_me constant uuid := internal.assert_staff_caller();
    v_note constant text := nullif(btrim(review_attempt.note), '');
    v_analysis_id uuid;
    v_review record;
BEGIN
    IF review_attempt.decision IS NULL OR review_attempt.decision NOT IN ('cleared', 'confirmed') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'decision must be cleared or confirmed',
            HINT = 'cleared: the flags were unfounded; confirmed: malpractice (a note is required).';
    END IF;
    IF review_attempt.decision = 'confirmed' AND v_note IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'a note is required to confirm: say what was found';
    END IF;
    IF length(v_note) > 10000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'the note is longer than 10000 characters';
    END IF;

    PERFORM FROM app.exam_attempts AS a WHERE a.id = review_attempt.attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;

    SELECT b.id INTO v_analysis_id
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = review_attempt.attempt_id
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the attempt has no behaviour analysis to review yet',
            HINT = 'An attempt is analysed shortly after it is submitted or expires.';
    END IF;

    INSERT INTO app.flag_reviews AS fr (attempt_id, analysis_id, reviewer_id, decision, note)
    VALUES (
        review_attempt.attempt_id, v_analysis_id, v_me,
        review_attempt.decision::app.review_status, v_note
    )
    RETURNING fr.id, fr.attempt_id, fr.analysis_id, fr.reviewer_id, fr.decision, fr.note, fr.created_at
    INTO v_review;

    RETURN jsonb_build_object(
        'id', v_review.id,
        'attempt_id', v_review.attempt_id,
        'analysis_id', v_review.analysis_id,
        'reviewer_id', v_review.reviewer_id,
        'decision', v_review.decision,
        'note', v_review.note,
        'created_at', v_review.created_at,
        'review_status', v_review.decision
    );
END
$$;
COMMENT ON FUNCTION api.review_attempt(uuid, text, text) IS
'Review an attempt''s flags: decision cleared or confirmed (400 otherwise), note required to confirm (400). Stored as a new review of the attempt''s latest analysis, which itself is left as it is; every review is kept and the latest is the attempt''s review_status. Answers {id, attempt_id, analysis_id, reviewer_id, decision, note, created_at, review_status}. 404 for an attempt at an exam the caller may not access; 409 when the attempt has no analysis yet.';
REVOKE ALL ON FUNCTION api.review_attempt(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.review_attempt(uuid, text, text) TO teacher, admin;
