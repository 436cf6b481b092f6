-- teacher: the recomputation of the analytics summary tables (app.exam_stats,
-- app.flagged_attempts, app.exam_event_counts, app.counted_attempts:
-- sql/schema/50_analysis.sql), for some exams or attempts at a time. Called
-- by internal.refresh_analytics (refresh_analytics.sql), which decides what
-- changed; owner only (SECURITY INVOKER, EXECUTE granted to nobody: the
-- refresh runs them with its owner's rights).

-- internal.recompute_exam_stats --------------------------------------------------

-- Recomputes app.exam_stats for some exams (upserted; the row of an exam
-- left without attempts is deleted), from their attempts and each attempt's
-- latest analysis (created_at, then id; an index probe per attempt). An
-- attempt still in progress past its deadline plus grace counts as expired.
-- Scores in points and in percent of the attempt's max_score; graded =
-- submitted or expired with a score; histogram: graded attempts per tenth
-- of percentage; integrity_histogram: analysed attempts per tenth of
-- integrity (100 % and 100 in the last tenth). Returns the rows written.
CREATE OR REPLACE FUNCTION internal.recompute_exam_stats(p_exam_ids uuid[], p_at timestamptz)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows integer;
BEGIN
    WITH attempts AS MATERIALIZED (
        SELECT
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
            a.score / nullif(a.max_score, 0) * 100 AS percentage,
            l.attempt_id IS NOT NULL AS analysed,
            l.integrity_score,
            l.lmi_score,
            l.is_flagged
        FROM app.exam_attempts AS a
        INNER JOIN app.exams AS e ON a.exam_id = e.id
        LEFT JOIN LATERAL (
            SELECT b.attempt_id, b.integrity_score, b.lmi_score, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l ON TRUE
        WHERE a.exam_id = ANY (p_exam_ids)
    ),

    -- MATERIALIZED: computed once per attempt, not once per aggregate that
    -- reads it (the twenty histogram counts).
    graded AS MATERIALIZED (
        SELECT
            t.*,
            t.status IN ('submitted', 'expired') AND t.score IS NOT NULL AS is_graded,
            least(floor(t.percentage / 10), 9)::integer AS bucket,
            -- least() ignores NULLs: an attempt without analysis has no bucket
            CASE
                WHEN t.analysed THEN least(floor(t.integrity_score / 10), 9)::integer
            END AS integrity_bucket
        FROM attempts AS t
    )

    INSERT INTO app.exam_stats AS s (
        exam_id, attempts, students, in_progress, submitted, expired, abandoned, graded,
        average_score, median_score, average_percentage, median_percentage, histogram,
        analysed, flagged, average_integrity, average_lmi, integrity_histogram, computed_at
    )
    SELECT
        g.exam_id,
        count(*),
        count(DISTINCT g.student_id),
        count(*) FILTER (WHERE g.status = 'in_progress'),
        count(*) FILTER (WHERE g.status = 'submitted'),
        count(*) FILTER (WHERE g.status = 'expired'),
        count(*) FILTER (WHERE g.status = 'abandoned'),
        count(*) FILTER (WHERE g.is_graded),
        round(avg(g.score) FILTER (WHERE g.is_graded), 2),
        round(
            (
                percentile_cont(0.5) WITHIN GROUP (ORDER BY g.score::float8)
                FILTER (WHERE g.is_graded)
            )::numeric,
            2
        ),
        round(avg(g.percentage) FILTER (WHERE g.is_graded), 2),
        round(
            (
                percentile_cont(0.5) WITHIN GROUP (ORDER BY g.percentage::float8)
                FILTER (WHERE g.is_graded AND g.percentage IS NOT NULL)
            )::numeric,
            2
        ),
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
        ]::integer[],
        count(*) FILTER (WHERE g.analysed),
        count(*) FILTER (WHERE g.is_flagged),
        round(avg(g.integrity_score), 2),
        round(avg(g.lmi_score), 4),
        ARRAY[
            count(*) FILTER (WHERE g.integrity_bucket = 0),
            count(*) FILTER (WHERE g.integrity_bucket = 1),
            count(*) FILTER (WHERE g.integrity_bucket = 2),
            count(*) FILTER (WHERE g.integrity_bucket = 3),
            count(*) FILTER (WHERE g.integrity_bucket = 4),
            count(*) FILTER (WHERE g.integrity_bucket = 5),
            count(*) FILTER (WHERE g.integrity_bucket = 6),
            count(*) FILTER (WHERE g.integrity_bucket = 7),
            count(*) FILTER (WHERE g.integrity_bucket = 8),
            count(*) FILTER (WHERE g.integrity_bucket = 9)
        ]::integer[],
        p_at
    FROM graded AS g
    GROUP BY g.exam_id
    ON CONFLICT (exam_id) DO UPDATE SET
        attempts = excluded.attempts,
        students = excluded.students,
        in_progress = excluded.in_progress,
        submitted = excluded.submitted,
        expired = excluded.expired,
        abandoned = excluded.abandoned,
        graded = excluded.graded,
        average_score = excluded.average_score,
        median_score = excluded.median_score,
        average_percentage = excluded.average_percentage,
        median_percentage = excluded.median_percentage,
        histogram = excluded.histogram,
        analysed = excluded.analysed,
        flagged = excluded.flagged,
        average_integrity = excluded.average_integrity,
        average_lmi = excluded.average_lmi,
        integrity_histogram = excluded.integrity_histogram,
        computed_at = excluded.computed_at,
        computations = s.computations + 1;
    GET DIAGNOSTICS v_rows = ROW_COUNT;

    DELETE FROM app.exam_stats AS s
    WHERE
        s.exam_id = ANY (p_exam_ids)
        AND NOT EXISTS (SELECT FROM app.exam_attempts AS a WHERE a.exam_id = s.exam_id);
    RETURN v_rows;
END
$$;
COMMENT ON FUNCTION internal.recompute_exam_stats(uuid[], timestamptz) IS
'Recompute app.exam_stats of the given exams from their attempts and latest analyses (computed_at p_at); an exam without attempts loses its row. Returns the rows written.';
REVOKE ALL ON FUNCTION internal.recompute_exam_stats(uuid[], timestamptz) FROM PUBLIC;

-- internal.recompute_flagged_attempts ----------------------------------------------

-- Recomputes app.flagged_attempts for some attempts (NULL: all of them):
-- an attempt is there while its latest analysis (created_at, then id) is
-- flagged. Returns how many of them are flagged.
CREATE OR REPLACE FUNCTION internal.recompute_flagged_attempts(p_attempt_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows integer;
BEGIN
    IF p_attempt_ids IS NULL THEN
        DELETE FROM app.flagged_attempts;
        INSERT INTO app.flagged_attempts (
            attempt_id, exam_id, student_id, analysis_id, analysed_at, integrity_score,
            lmi_score, flags_count
        )
        SELECT
            l.attempt_id, a.exam_id, a.student_id, l.id, l.created_at, l.integrity_score,
            l.lmi_score, jsonb_array_length(l.flags)
        FROM (
            SELECT DISTINCT ON (b.attempt_id)
                b.attempt_id, b.id, b.created_at, b.integrity_score, b.lmi_score, b.flags,
                b.is_flagged
            FROM app.behavior_analyses AS b
            ORDER BY b.attempt_id ASC, b.created_at DESC, b.id DESC
        ) AS l
        INNER JOIN app.exam_attempts AS a ON l.attempt_id = a.id
        WHERE l.is_flagged;
    ELSE
        DELETE FROM app.flagged_attempts AS f WHERE f.attempt_id = ANY (p_attempt_ids);
        INSERT INTO app.flagged_attempts (
            attempt_id, exam_id, student_id, analysis_id, analysed_at, integrity_score,
            lmi_score, flags_count
        )
        SELECT
            a.id, a.exam_id, a.student_id, l.id, l.created_at, l.integrity_score,
            l.lmi_score, jsonb_array_length(l.flags)
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT b.id, b.created_at, b.integrity_score, b.lmi_score, b.flags, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l
        WHERE a.id = ANY (p_attempt_ids) AND l.is_flagged;
    END IF;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;
COMMENT ON FUNCTION internal.recompute_flagged_attempts(uuid[]) IS
'Recompute app.flagged_attempts for the given attempts (NULL: all): present while the latest analysis is flagged. Returns how many are flagged.';
REVOKE ALL ON FUNCTION internal.recompute_flagged_attempts(uuid[]) FROM PUBLIC;

-- internal.count_closed_attempts ---------------------------------------------------

-- Adds the events of the closed attempts last written in [p_from, p_to) and
-- not counted yet to their exam's settled_events, and records them in
-- app.counted_attempts: each attempt once (the refresh runs one at a time,
-- and the primary key would refuse a second). The caller passes p_to a
-- minute before its pass began: an attempt's events are final a minute
-- after it left in_progress (an event is accepted only while its attempt is
-- in progress, and a request's transaction ends within seconds: the
-- authenticator's statement_timeout and idle_in_transaction_session_timeout).
-- p_from NULL: everything afresh: both tables emptied, then every closed
-- attempt written before p_to counted in two set-based statements (one scan
-- of the events, hashed; per-attempt probes would take minutes at 10M
-- events). Returns the exams whose settled counts changed.
CREATE OR REPLACE FUNCTION internal.count_closed_attempts(
    p_from timestamptz, p_to timestamptz, p_at timestamptz
)
RETURNS uuid[]
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_exam_ids uuid[];
BEGIN
    IF p_from IS NULL THEN
        DELETE FROM app.counted_attempts;
        DELETE FROM app.exam_event_counts;
        INSERT INTO app.counted_attempts (attempt_id, exam_id, events, counted_at)
        SELECT a.id, a.exam_id, coalesce(e.events, 0), p_at
        FROM app.exam_attempts AS a
        LEFT JOIN (
            SELECT m.attempt_id, count(*)::integer AS events
            FROM app.monitoring_events AS m
            GROUP BY m.attempt_id
        ) AS e ON a.id = e.attempt_id
        WHERE a.status <> 'in_progress' AND a.updated_at < p_to;
        -- Its statistics, for the plans of the statements below and of the
        -- next passes (the table was just rewritten).
        ANALYZE app.counted_attempts;
        INSERT INTO app.exam_event_counts (exam_id, event_type, settled_events, events)
        SELECT m.exam_id, m.event_type, count(*), count(*)
        FROM app.monitoring_events AS m
        INNER JOIN app.counted_attempts AS c ON m.attempt_id = c.attempt_id
        GROUP BY m.exam_id, m.event_type;
        RETURN ARRAY(SELECT DISTINCT c.exam_id FROM app.counted_attempts AS c);
    END IF;

    WITH closed AS MATERIALIZED (
        SELECT a.id, a.exam_id, a.started_at
        FROM app.exam_attempts AS a
        WHERE
            a.updated_at >= p_from AND a.updated_at < p_to
            AND a.status <> 'in_progress'
            AND NOT EXISTS (SELECT FROM app.counted_attempts AS c WHERE c.attempt_id = a.id)
    ),

    -- The partition key beside attempt_id: each attempt's own partition only.
    per_type AS MATERIALIZED (
        SELECT c.id, c.exam_id, m.event_type, count(*) AS events
        FROM closed AS c
        INNER JOIN app.monitoring_events AS m
            ON m.attempt_id = c.id AND m.attempt_started_at = c.started_at
        GROUP BY c.id, c.exam_id, m.event_type
    ),

    counted AS (
        INSERT INTO app.counted_attempts (attempt_id, exam_id, events, counted_at)
        SELECT c.id, c.exam_id, coalesce(t.events, 0), p_at
        FROM closed AS c
        LEFT JOIN (
            SELECT p.id, sum(p.events)::integer AS events FROM per_type AS p GROUP BY p.id
        ) AS t ON c.id = t.id
        RETURNING exam_id
    ),

    added AS (
        INSERT INTO app.exam_event_counts AS x (exam_id, event_type, settled_events, events)
        SELECT p.exam_id, p.event_type, sum(p.events), sum(p.events)
        FROM per_type AS p
        GROUP BY p.exam_id, p.event_type
        ON CONFLICT (exam_id, event_type) DO UPDATE SET
            settled_events = x.settled_events + excluded.settled_events,
            events = greatest(x.events, x.settled_events + excluded.settled_events)
        RETURNING x.exam_id
    )

    SELECT array_agg(DISTINCT e.exam_id)
    INTO v_exam_ids
    FROM (SELECT c.exam_id FROM counted AS c UNION ALL SELECT a.exam_id FROM added AS a) AS e;
    RETURN coalesce(v_exam_ids, '{}');
END
$$;
COMMENT ON FUNCTION internal.count_closed_attempts(timestamptz, timestamptz, timestamptz) IS
'Add the events of the closed attempts written in [p_from, p_to) and not counted yet to app.exam_event_counts.settled_events, once each (app.counted_attempts). Returns the exams concerned.';
REVOKE ALL ON FUNCTION internal.count_closed_attempts(
    timestamptz, timestamptz, timestamptz
) FROM PUBLIC;

-- internal.recompute_exam_event_counts ---------------------------------------------

-- Sets app.exam_event_counts.events of some exams to their settled events
-- plus the events of their attempts not counted yet: those in progress, and
-- those closed since p_live_from (a minute before the counting window's
-- end) that app.counted_attempts does not hold. Its cost follows the events
-- of those attempts, never the whole table. Returns the rows changed.
CREATE OR REPLACE FUNCTION internal.recompute_exam_event_counts(
    p_exam_ids uuid[], p_live_from timestamptz
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows integer;
BEGIN
    WITH uncounted AS MATERIALIZED (
        SELECT a.id, a.exam_id, a.started_at
        FROM app.exam_attempts AS a
        WHERE
            a.exam_id = ANY (p_exam_ids)
            AND (a.status = 'in_progress' OR a.updated_at >= p_live_from)
            AND NOT EXISTS (SELECT FROM app.counted_attempts AS c WHERE c.attempt_id = a.id)
    ),

    live AS (
        SELECT u.exam_id, m.event_type, count(*) AS events
        FROM uncounted AS u
        INNER JOIN app.monitoring_events AS m
            ON m.attempt_id = u.id AND m.attempt_started_at = u.started_at
        GROUP BY u.exam_id, m.event_type
    ),

    keys AS (
        SELECT x.exam_id, x.event_type
        FROM app.exam_event_counts AS x
        WHERE x.exam_id = ANY (p_exam_ids)
        UNION
        SELECT l.exam_id, l.event_type FROM live AS l
    )

    INSERT INTO app.exam_event_counts AS x (exam_id, event_type, settled_events, events)
    SELECT k.exam_id, k.event_type, 0, coalesce(l.events, 0)
    FROM keys AS k
    LEFT JOIN live AS l ON k.exam_id = l.exam_id AND k.event_type = l.event_type
    ON CONFLICT (exam_id, event_type) DO UPDATE SET
        events = x.settled_events + excluded.events
    WHERE x.events IS DISTINCT FROM x.settled_events + excluded.events;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;
COMMENT ON FUNCTION internal.recompute_exam_event_counts(uuid[], timestamptz) IS
'Set app.exam_event_counts.events of the given exams to settled_events plus the events of their attempts not counted yet (in progress, or closed since p_live_from). Returns the rows changed.';
REVOKE ALL ON FUNCTION internal.recompute_exam_event_counts(uuid[], timestamptz) FROM PUBLIC;
