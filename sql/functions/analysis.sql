-- analysis: the built-in behaviour analyser, the analysis job queue, the
-- per-exam metrics, external engines' analyses and the metrics API.
--
-- Repeatable, applied as veritas_owner after 00_internal.sql. Rules,
-- formula and weights in docs/analysis.md.
--
-- Who may do what:
--
--   internal.process_analysis_jobs   worker              claim and run queued jobs
--   internal.analyse_attempt         worker              the built-in analyser
--   internal.refresh_exam_metrics    worker, integration, admin
--   internal.refresh_analysis_figures  worker, integration, admin
--   api.save_behavior_analysis       integration, admin  an external engine's analysis
--   api.get_behavior_analysis        student, teacher, admin, integration (RLS)
--   api.update_performance_metrics   integration, admin
--   api.update_student_profile_stats integration, admin
--
-- The worker role holds no table privilege: the queue, the analyser and the
-- metrics refresh are SECURITY DEFINER helpers owned by veritas_owner, with
-- a pinned search_path and qualified names, running under the
-- definer_helpers_... policies (sql/policies/analysis.sql). The API
-- functions run with the caller's rights: an external analysis is inserted
-- under the caller's policies (source external, created_by the caller), and
-- a read shows only what the caller's policies show.
--
-- The per-student figures are computed by internal.refresh_students_stats
-- (sql/functions/attempts.sql), one function for every figure of
-- performance_metrics and student_profiles.

-- internal.builtin_analysis_rules ----------------------------------------------

-- The built-in analyser's rules: one row per flag code, with its severity
-- and weights. For a flag seen `count` times and covering `percent` of the
-- attempt:
--
--   penalty = least(penalty_cap, penalty_per_percent * percent
--                                + penalty_per_occurrence * count)
--   weight  = least(weight_cap, weight_per_percent * percent
--                               + weight_per_occurrence * count)
--
--   integrity = greatest(0, 100 - sum(penalty))
--   lmi       = 1 - product(1 - weight)
--
-- Changing a number here changes results: bump c_model in
-- internal.analyse_attempt and the table in docs/analysis.md with it.
CREATE OR REPLACE FUNCTION internal.builtin_analysis_rules()
RETURNS TABLE (
    code text,
    label text,
    severity smallint,
    timed boolean,
    penalty_per_percent numeric,
    penalty_per_occurrence numeric,
    penalty_cap numeric,
    weight_per_percent numeric,
    weight_per_occurrence numeric,
    weight_cap numeric
)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT
        r.code, r.label, r.severity::smallint, r.timed,
        r.pp, r.po, r.pc, r.wp, r.wo, r.wc
    FROM (
        VALUES
        ('paste_before_correct_answer', 'paste right before a correct short-text answer',
            3, FALSE, 0, 20, 40, 0, 0.5, 0.9),
        ('multiple_faces', 'more than one face in front of the camera',
            3, FALSE, 0, 10, 30, 0, 0.3, 0.8),
        ('devtools_open', 'developer tools opened',
            3, FALSE, 0, 15, 30, 0, 0.35, 0.7),
        ('face_missing', 'no face in front of the camera',
            3, TRUE, 0.75, 2, 30, 0.0125, 0.05, 0.6),
        ('paste', 'text pasted',
            3, FALSE, 0, 5, 20, 0, 0.1, 0.4),
        ('tab_hidden', 'exam tab hidden',
            2, TRUE, 1, 1, 40, 0.015, 0.03, 0.6),
        ('gaze_away', 'eyes away from the screen',
            2, TRUE, 0.75, 0, 30, 0.0125, 0, 0.5),
        ('fullscreen_exit', 'full screen left',
            2, TRUE, 0.5, 1, 20, 0.0075, 0.02, 0.3),
        ('unobserved', 'no sign of the monitoring module for over 60 s',
            2, TRUE, 0.6, 0, 30, 0.008, 0, 0.4),
        ('copy', 'text copied',
            2, FALSE, 0, 2, 10, 0, 0.05, 0.2),
        ('window_blur', 'exam window out of focus',
            1, TRUE, 0.5, 0.5, 20, 0.0075, 0.01, 0.3),
        ('network_offline', 'network lost',
            1, TRUE, 0.3, 0.5, 15, 0.004, 0.01, 0.2),
        ('unusual_pause', 'unusually long pause',
            1, FALSE, 0, 2, 10, 0, 0.05, 0.2)
    ) AS r (code, label, severity, timed, pp, po, pc, wp, wo, wc);
$$;
COMMENT ON FUNCTION internal.builtin_analysis_rules() IS
'The built-in analyser''s flag codes with their severity and weights (docs/analysis.md): penalty = least(penalty_cap, penalty_per_percent * percent + penalty_per_occurrence * count), weight likewise; integrity = greatest(0, 100 - sum(penalty)), lmi = 1 - product(1 - weight).';
REVOKE ALL ON FUNCTION internal.builtin_analysis_rules() FROM PUBLIC;

-- internal.attempt_behaviour_evidence ---------------------------------------------

-- What the events of one attempt show, one row per flag code seen: how many
-- times, for how many seconds (timed codes), which events, and details.
-- Event times are the client's occurred_at, clamped to the attempt's
-- [p_start, p_end]; events are taken in the order (occurred_at, received_at,
-- id).
--
--   * Paired codes (tab_hidden -> tab_visible, window_blur -> window_focus,
--     fullscreen_exit -> fullscreen_enter, network_offline -> network_online):
--     each start event opens an episode, closed by the next end event of
--     its pair when that comes before the next start of the same code;
--     otherwise (unpaired) at the next heartbeat, the next start of the same
--     code, or the attempt's end, whichever is first.
--   * gaze_away and face_missing last payload.duration_seconds (a number
--     >= 0; 5 s when absent), cut at the next event of the same type and at
--     the attempt's end.
--   * unobserved: every gap longer than 60 s between consecutive events,
--     counting the attempt's start and end as events, is unobserved time
--     (all of it). An attempt without any event is unobserved throughout.
--   * copy, paste, devtools_open, multiple_faces, unusual_pause: counted.
--   * paste_before_correct_answer: short-text answers that earned points and
--     were last saved at most 30 s after a paste event (and at or after it),
--     by the server's clock against the paste's occurred_at; a paste whose
--     payload names a question_id counts only for that question.
--
-- event_ids lists at most 100 ids (count says how many there were). Runs
-- with the rights of its caller: internal.analyse_attempt, as the owner.
CREATE OR REPLACE FUNCTION internal.attempt_behaviour_evidence(
    p_attempt_id uuid, p_start timestamptz, p_end timestamptz
)
RETURNS TABLE (
    code text,
    occurrences integer,
    seconds numeric,
    event_ids uuid[],
    details jsonb
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ev AS (
        SELECT
            e.id,
            e.event_type::text AS kind,
            e.payload,
            e.occurred_at,
            least(greatest(e.occurred_at, p_start), p_end) AS t,
            row_number() OVER (ORDER BY e.occurred_at, e.received_at, e.id) AS n
        FROM app.monitoring_events AS e
        WHERE e.attempt_id = p_attempt_id AND e.attempt_started_at = p_start
    ),

    -- Every event with the time of the next heartbeat after it. Ordered
    -- newest first, the frame (everything before this row) grows by one row
    -- at a time: one pass.
    marked AS (
        SELECT
            ev.*,
            min(ev.t) FILTER (WHERE ev.kind = 'heartbeat') OVER (
                ORDER BY ev.n DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS next_heartbeat
        FROM ev
    ),

    pairs (start_kind, end_kind) AS (
        VALUES
        ('tab_hidden', 'tab_visible'),
        ('window_blur', 'window_focus'),
        ('fullscreen_exit', 'fullscreen_enter'),
        ('network_offline', 'network_online')
    ),

    paired AS (
        SELECT
            p.start_kind AS code,
            m.id,
            m.n,
            m.t,
            m.kind = p.start_kind AS is_start,
            m.next_heartbeat,
            min(m.n) FILTER (WHERE m.kind = p.end_kind) OVER w AS next_end_n,
            min(m.t) FILTER (WHERE m.kind = p.end_kind) OVER w AS next_end_t,
            min(m.n) FILTER (WHERE m.kind = p.start_kind) OVER w AS next_start_n,
            min(m.t) FILTER (WHERE m.kind = p.start_kind) OVER w AS next_start_t
        FROM marked AS m
        INNER JOIN pairs AS p ON m.kind IN (p.start_kind, p.end_kind)
        WINDOW w AS (
            PARTITION BY p.start_kind
            ORDER BY m.n DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )
    ),

    episodes AS (
        SELECT
            x.code,
            x.id,
            x.n,
            x.t AS started,
            x.next_end_n IS NOT NULL
            AND (x.next_start_n IS NULL OR x.next_end_n < x.next_start_n) AS is_paired,
            CASE
                WHEN
                    x.next_end_n IS NOT NULL
                    AND (x.next_start_n IS NULL OR x.next_end_n < x.next_start_n)
                    THEN x.next_end_t
                ELSE least(x.next_heartbeat, x.next_start_t, p_end)
            END AS ended
        FROM paired AS x
        WHERE x.is_start
    ),

    spans AS (
        SELECT
            ev.kind AS code,
            ev.id,
            ev.n,
            greatest(least(
                -- Nested, so that the cast only ever sees a number.
                CASE
                    WHEN jsonb_typeof(ev.payload -> 'duration_seconds') IS DISTINCT FROM 'number'
                        THEN 5
                    WHEN (ev.payload ->> 'duration_seconds')::numeric >= 0
                        THEN (ev.payload ->> 'duration_seconds')::numeric
                    ELSE 5
                END,
                extract(EPOCH FROM coalesce(
                    lead(ev.t) OVER (PARTITION BY ev.kind ORDER BY ev.n), p_end
                ) - ev.t),
                extract(EPOCH FROM p_end - ev.t)
            ), 0) AS seconds
        FROM ev
        WHERE ev.kind IN ('gaze_away', 'face_missing')
    ),

    gaps AS (
        SELECT
            ev.id AS after_gap_id,
            ev.n,
            coalesce(lag(ev.t) OVER (ORDER BY ev.n), p_start) AS gap_from,
            ev.t AS gap_to
        FROM ev
        UNION ALL
        SELECT NULL::uuid, NULL::bigint, coalesce(max(ev.t), p_start), p_end
        FROM ev
    ),

    long_gaps AS (
        SELECT
            g.after_gap_id,
            g.n,
            g.gap_from,
            g.gap_to,
            extract(EPOCH FROM g.gap_to - g.gap_from) AS seconds
        FROM gaps AS g
        WHERE g.gap_to - g.gap_from > interval '60 seconds'
    ),

    pastes_before_correct AS (
        SELECT
            p.id AS paste_id,
            p.n,
            aa.question_id
        FROM ev AS p
        INNER JOIN app.attempt_answers AS aa
            ON
                aa.attempt_id = p_attempt_id
                AND aa.saved_at >= p.occurred_at
                AND aa.saved_at <= p.occurred_at + interval '30 seconds'
                AND aa.points_awarded > 0
        INNER JOIN app.exam_attempts AS a ON a.id = p_attempt_id
        CROSS JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        WHERE
            p.kind = 'paste'
            AND q.value ->> 'id' = aa.question_id::text
            AND q.value ->> 'kind' = 'short_text'
            AND (
                NOT p.payload ? 'question_id'
                OR p.payload ->> 'question_id' = aa.question_id::text
            )
    )

    SELECT
        e.code,
        count(*)::integer,
        sum(greatest(extract(EPOCH FROM e.ended - e.started), 0)),
        (array_agg(e.id ORDER BY e.n))[1:100],
        jsonb_build_object('unpaired', count(*) FILTER (WHERE NOT e.is_paired))
    FROM episodes AS e
    GROUP BY e.code

    UNION ALL

    SELECT
        s.code,
        count(*)::integer,
        sum(s.seconds),
        (array_agg(s.id ORDER BY s.n))[1:100],
        '{}'::jsonb
    FROM spans AS s
    GROUP BY s.code

    UNION ALL

    SELECT
        ev.kind,
        count(*)::integer,
        NULL::numeric,
        (array_agg(ev.id ORDER BY ev.n))[1:100],
        '{}'::jsonb
    FROM ev
    WHERE ev.kind IN ('copy', 'paste', 'devtools_open', 'multiple_faces', 'unusual_pause')
    GROUP BY ev.kind

    UNION ALL

    SELECT
        'unobserved',
        count(*)::integer,
        sum(g.seconds),
        coalesce(
            (array_agg(g.after_gap_id ORDER BY g.n) FILTER (WHERE g.after_gap_id IS NOT NULL))[1:100],
            '{}'
        ),
        jsonb_build_object(
            'gaps',
            to_jsonb((
                array_agg(
                    jsonb_build_object(
                        'from', g.gap_from, 'to', g.gap_to, 'seconds', trim_scale(round(g.seconds, 3))
                    )
                    ORDER BY g.gap_from
                )
            )[1:20])
        )
    FROM long_gaps AS g
    HAVING count(*) > 0

    UNION ALL

    SELECT
        'paste_before_correct_answer',
        count(DISTINCT pc.question_id)::integer,
        NULL::numeric,
        (
            SELECT (array_agg(d.paste_id ORDER BY d.n))[1:100]
            FROM (SELECT DISTINCT x.paste_id, x.n FROM pastes_before_correct AS x) AS d
        ),
        jsonb_build_object(
            'question_ids', jsonb_agg(DISTINCT pc.question_id)
        )
    FROM pastes_before_correct AS pc
    HAVING count(*) > 0;
$$;
COMMENT ON FUNCTION internal.attempt_behaviour_evidence(uuid, timestamptz, timestamptz) IS
'What an attempt''s monitoring events show, one row per flag code seen: occurrences, seconds (timed codes), event ids (at most 100) and details. Paired events make episodes (an unpaired start lasts until the next heartbeat, the next start or the end); gaps over 60 s are unobserved time. Rules in docs/analysis.md.';
REVOKE ALL ON FUNCTION internal.attempt_behaviour_evidence(uuid, timestamptz, timestamptz)
FROM PUBLIC;

-- internal.analysis_document -------------------------------------------------------

-- An analysis as the API shows it.
CREATE OR REPLACE FUNCTION internal.analysis_document(p_analysis app.behavior_analyses)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'id', p_analysis.id,
        'attempt_id', p_analysis.attempt_id,
        'source', p_analysis.source,
        'model', p_analysis.model,
        'integrity_score', p_analysis.integrity_score,
        'lmi_score', p_analysis.lmi_score,
        'is_flagged', p_analysis.is_flagged,
        'flags', p_analysis.flags,
        'summary', p_analysis.summary,
        'created_by', p_analysis.created_by,
        'created_at', p_analysis.created_at
    );
$$;
COMMENT ON FUNCTION internal.analysis_document(app.behavior_analyses) IS
'An analysis as JSON: {id, attempt_id, source, model, integrity_score, lmi_score, is_flagged, flags, summary, created_by, created_at}.';
REVOKE ALL ON FUNCTION internal.analysis_document(app.behavior_analyses) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.analysis_document(app.behavior_analyses)
TO student, teacher, admin, integration;

-- internal.analyse_attempt ---------------------------------------------------------

-- The built-in analyser: scores a submitted or expired attempt from its
-- monitoring events (internal.attempt_behaviour_evidence) with the weights
-- of internal.builtin_analysis_rules, and stores the result as a builtin
-- analysis (model veritas-builtin-v1, created_by NULL). Flags are listed
-- heaviest first, each with its evidence. The attempt is flagged when
-- lmi >= 0.5.
--
-- Deterministic and idempotent: a finished attempt's events and answers no
-- longer change, so running it again gives the same result, and when the
-- latest builtin analysis of this model already says exactly that, it is
-- returned and nothing is inserted (a retried job never pushes a builtin
-- analysis over a later external one). Returns the analysis (as
-- internal.analysis_document).
CREATE OR REPLACE FUNCTION internal.analyse_attempt(p_attempt_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_model constant text := 'veritas-builtin-v1';
    c_flag_threshold constant numeric := 0.5;
    v_attempt record;
    v_end timestamptz;
    v_total numeric;
    v_flag record;
    v_penalties numeric := 0;
    v_unflagged numeric := 1;
    v_flags jsonb := '[]';
    v_labels text[] := '{}';
    v_integrity numeric;
    v_lmi numeric;
    v_is_flagged boolean;
    v_summary text;
    v_row app.behavior_analyses;
BEGIN
    SELECT a.id, a.status, a.started_at, a.finished_at
    INTO v_attempt
    FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status NOT IN ('submitted', 'expired') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'the attempt is %s: only a submitted or expired attempt is analysed',
                v_attempt.status
            );
    END IF;

    -- The observed window: start to finish (the deadline, when expired).
    v_end := greatest(v_attempt.finished_at, v_attempt.started_at);
    v_total := greatest(extract(EPOCH FROM v_end - v_attempt.started_at), 1);

    FOR v_flag IN
        SELECT
            s.*,
            least(
                s.penalty_cap,
                s.penalty_per_percent * s.percent + s.penalty_per_occurrence * s.occurrences
            ) AS penalty,
            least(
                s.weight_cap,
                s.weight_per_percent * s.percent + s.weight_per_occurrence * s.occurrences
            ) AS weight
        FROM (
            SELECT
                r.*,
                e.occurrences,
                e.seconds,
                e.event_ids,
                e.details,
                coalesce(e.seconds, 0) / v_total * 100 AS percent
            FROM internal.attempt_behaviour_evidence(
                p_attempt_id, v_attempt.started_at, v_end
            ) AS e
            INNER JOIN internal.builtin_analysis_rules() AS r ON r.code = e.code
        ) AS s
        ORDER BY weight DESC, penalty DESC, s.code
    LOOP
        CONTINUE WHEN v_flag.penalty <= 0 AND v_flag.weight <= 0;
        v_penalties := v_penalties + v_flag.penalty;
        v_unflagged := v_unflagged * (1 - v_flag.weight);
        v_labels := v_labels || format('%s (%s)', v_flag.label, v_flag.occurrences);
        v_flags := v_flags || jsonb_build_array(
            jsonb_strip_nulls(jsonb_build_object(
                'code', v_flag.code,
                'label', v_flag.label,
                'severity', v_flag.severity,
                'count', v_flag.occurrences,
                'seconds', CASE WHEN v_flag.timed THEN trim_scale(round(v_flag.seconds, 1)) END,
                'percent', CASE WHEN v_flag.timed THEN trim_scale(round(v_flag.percent, 2)) END,
                'penalty', trim_scale(round(v_flag.penalty, 2)),
                'weight', trim_scale(round(v_flag.weight, 4)),
                'message', v_flag.label || ': ' || v_flag.occurrences
                || CASE WHEN v_flag.occurrences = 1 THEN ' time' ELSE ' times' END
                || CASE
                    WHEN v_flag.timed THEN format(
                        ', %s s in total (%s%% of the attempt)',
                        trim_scale(round(v_flag.seconds, 1)),
                        trim_scale(round(v_flag.percent, 2))
                    )
                    ELSE ''
                END,
                'event_ids', to_jsonb(v_flag.event_ids)
            )) || v_flag.details
        );
    END LOOP;

    v_integrity := trim_scale(round(greatest(0, 100 - v_penalties), 2));
    v_lmi := trim_scale(round(1 - v_unflagged, 4));
    v_is_flagged := v_lmi >= c_flag_threshold;
    v_summary := CASE
        WHEN jsonb_array_length(v_flags) = 0
            THEN 'No anomaly observed: integrity 100, lmi 0.'
        ELSE format(
            '%s: integrity %s, lmi %s. Seen: %s.',
            CASE WHEN v_is_flagged THEN 'Flagged' ELSE 'Not flagged' END,
            v_integrity, v_lmi, array_to_string(v_labels, '; ')
        )
    END;

    -- Idempotent: the same result as the latest builtin analysis of this
    -- model is not stored twice.
    SELECT b.* INTO v_row
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = p_attempt_id AND b.source = 'builtin' AND b.model = c_model
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF FOUND
        AND v_row.integrity_score = v_integrity
        AND v_row.lmi_score = v_lmi
        AND v_row.is_flagged = v_is_flagged
        AND v_row.flags = v_flags THEN
        RETURN internal.analysis_document(v_row);
    END IF;

    INSERT INTO app.behavior_analyses AS b (
        attempt_id, source, model, integrity_score, lmi_score, flags, summary, is_flagged,
        created_by
    ) VALUES (
        p_attempt_id, 'builtin', c_model, v_integrity, v_lmi, v_flags, v_summary, v_is_flagged,
        NULL
    )
    RETURNING b.* INTO v_row;
    RETURN internal.analysis_document(v_row);
END
$$;
COMMENT ON FUNCTION internal.analyse_attempt(uuid) IS
'The built-in analyser: integrity 0-100, lmi 0-1 and flags with their evidence from a submitted or expired attempt''s monitoring events, stored as a builtin analysis (model veritas-builtin-v1); flagged when lmi >= 0.5. Deterministic and idempotent (the same result is not stored twice). VT404 unknown attempt, VT409 attempt not finished. Rules in docs/analysis.md.';
REVOKE ALL ON FUNCTION internal.analyse_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.analyse_attempt(uuid) TO worker;

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
-- profile (internal.refresh_students_stats) and its exam's exam_metrics.
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
        PERFORM internal.refresh_students_stats(ARRAY[v_attempt.student_id]);
        PERFORM internal.refresh_exam_metrics(ARRAY[v_attempt.exam_id]);
    END IF;
END
$$;
COMMENT ON FUNCTION internal.refresh_analysis_figures(uuid) IS
'Recompute the figures an analysis of this attempt feeds: the student''s performance_metrics and profile statistics, the exam''s exam_metrics.';
REVOKE ALL ON FUNCTION internal.refresh_analysis_figures(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_analysis_figures(uuid) TO worker, integration, admin;

-- internal.process_analysis_jobs ---------------------------------------------------

-- The queue. Claims up to p_limit due jobs (queued, or failed and waiting
-- for their retry, with run_after <= now()), oldest run_after first, with
-- FOR UPDATE SKIP LOCKED: jobs another worker holds are skipped, so any
-- number of workers run this at once and no job is run twice. A job is
-- claimed and finished in the caller's transaction: if the worker dies, the
-- transaction rolls back and the job is queued again as it was.
--
-- Each job runs in its own subtransaction, in (student, attempt) order so
-- that two workers take the students' metrics rows in the same order:
--
--   analyse_attempt  internal.analyse_attempt, then the student's metrics
--                    and profile statistics (internal.refresh_students_stats)
--   anything else    an error (unknown job kind)
--
-- Success: status done. An error rolls back that job's work only: attempts
-- goes up by one, last_error keeps the SQLSTATE and message, and the job
-- waits 5 s * 2^attempts (10, 20, 40, 80 s; at most an hour) as failed;
-- the fifth failure parks it (an admin requeues it by setting status back
-- to queued). The exams of the jobs done get their exam_metrics
-- recomputed once, at the end. Returns how many jobs it ran (done, failed
-- or parked).
CREATE OR REPLACE FUNCTION internal.process_analysis_jobs(
    p_worker text, p_limit integer DEFAULT 20
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_max_tries constant integer := 5;
    c_base_delay constant double precision := 5;
    c_max_delay constant double precision := 3600;
    v_worker constant text := left(coalesce(nullif(btrim(p_worker), ''), 'worker'), 200);
    v_ids uuid[];
    v_id uuid;
    v_job record;
    v_exam_ids uuid[] := '{}';
    v_count integer := 0;
    v_state text;
    v_message text;
BEGIN
    WITH claimed AS (
        SELECT j.id
        FROM app.analysis_jobs AS j
        WHERE j.status IN ('queued', 'failed') AND j.run_after <= now()
        ORDER BY j.run_after, j.created_at, j.id
        LIMIT least(greatest(coalesce(p_limit, 20), 0), 1000)
        FOR UPDATE SKIP LOCKED
    ),

    running AS (
        UPDATE app.analysis_jobs AS j SET
            status = 'running',
            locked_by = v_worker,
            locked_at = now()
        FROM claimed AS c
        WHERE j.id = c.id
        RETURNING j.id, j.attempt_id
    )

    SELECT array_agg(r.id ORDER BY a.student_id, r.attempt_id, r.id)
    INTO v_ids
    FROM running AS r
    LEFT JOIN app.exam_attempts AS a ON a.id = r.attempt_id;

    FOREACH v_id IN ARRAY coalesce(v_ids, '{}') LOOP
        SELECT j.kind, j.attempt_id, a.student_id, a.exam_id
        INTO v_job
        FROM app.analysis_jobs AS j
        LEFT JOIN app.exam_attempts AS a ON a.id = j.attempt_id
        WHERE j.id = v_id;

        BEGIN
            IF v_job.kind = 'analyse_attempt' THEN
                PERFORM internal.analyse_attempt(v_job.attempt_id);
                PERFORM internal.refresh_students_stats(ARRAY[v_job.student_id]);
            ELSE
                RAISE EXCEPTION USING
                    ERRCODE = '22023',
                    MESSAGE = format('unknown job kind %L', v_job.kind);
            END IF;
            UPDATE app.analysis_jobs AS j SET
                status = 'done',
                attempts = j.attempts + 1,
                last_error = NULL
            WHERE j.id = v_id;
            v_exam_ids := v_exam_ids || v_job.exam_id;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS
                v_state = RETURNED_SQLSTATE,
                v_message = MESSAGE_TEXT;
            UPDATE app.analysis_jobs AS j SET
                attempts = j.attempts + 1,
                last_error = left(format('%s: %s', v_state, v_message), 2000),
                status = CASE
                    WHEN j.attempts + 1 >= c_max_tries THEN 'parked'
                    ELSE 'failed'
                END::app.job_status,
                run_after = CASE
                    WHEN j.attempts + 1 >= c_max_tries THEN j.run_after
                    ELSE now() + make_interval(
                        secs => least(c_base_delay * 2 ^ (j.attempts + 1), c_max_delay)
                    )
                END
            WHERE j.id = v_id;
        END;
        v_count := v_count + 1;
    END LOOP;

    -- Once per exam, in exam order. A failure here leaves the jobs done and
    -- the exam's figures as they were (the next job of that exam, or
    -- internal.refresh_exam_metrics, brings them up to date).
    IF cardinality(v_exam_ids) > 0 THEN
        BEGIN
            PERFORM internal.refresh_exam_metrics(v_exam_ids);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
            RAISE WARNING 'exam metrics not refreshed: %', v_message;
        END;
    END IF;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION internal.process_analysis_jobs(text, integer) IS
'Claim up to p_limit due analysis jobs (FOR UPDATE SKIP LOCKED: several workers at once, no job run twice) and run each in its own subtransaction in the caller''s transaction: analyse_attempt runs the built-in analyser and refreshes the student''s metrics and profile, then the exams'' metrics. A failure is retried after 5 s * 2^attempts (at most 1 h); the fifth failure parks the job. Returns how many jobs ran.';
REVOKE ALL ON FUNCTION internal.process_analysis_jobs(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.process_analysis_jobs(text, integer) TO worker;

-- api.save_behavior_analysis -------------------------------------------------------

CREATE OR REPLACE FUNCTION api.save_behavior_analysis(
    attempt_id uuid,
    integrity_score numeric,
    lmi_score numeric,
    flags jsonb DEFAULT '[]',
    summary text DEFAULT NULL,
    model text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_flag_threshold constant numeric := 0.5;
    v_caller uuid := internal.current_user_id();
    v_flags jsonb := coalesce(save_behavior_analysis.flags, '[]'::jsonb);
    v_model text := coalesce(nullif(btrim(save_behavior_analysis.model), ''), 'external');
    v_status app.attempt_status;
    v_row app.behavior_analyses;
BEGIN
    IF v_caller IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to write an analysis';
    END IF;
    IF save_behavior_analysis.attempt_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attempt_id is required';
    END IF;
    IF save_behavior_analysis.integrity_score IS NULL
        OR NOT save_behavior_analysis.integrity_score BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'integrity_score must be a number from 0 to 100';
    END IF;
    IF save_behavior_analysis.lmi_score IS NULL
        OR NOT save_behavior_analysis.lmi_score BETWEEN 0 AND 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'lmi_score must be a number from 0 to 1';
    END IF;
    IF jsonb_typeof(v_flags) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'flags must be a list of objects';
    END IF;
    IF jsonb_array_length(v_flags) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'flags holds at most 500 flags';
    END IF;
    IF EXISTS (
        SELECT FROM jsonb_array_elements(v_flags) AS f (value)
        WHERE jsonb_typeof(f.value) <> 'object'
    ) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'flags must be a list of objects';
    END IF;
    IF length(save_behavior_analysis.summary) > 20000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'summary holds at most 20000 characters';
    END IF;
    IF length(v_model) > 200 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'model holds at most 200 characters';
    END IF;

    -- The attempt, as the caller sees it.
    SELECT a.status INTO v_status
    FROM app.exam_attempts AS a
    WHERE a.id = save_behavior_analysis.attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_status NOT IN ('submitted', 'expired') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'the attempt is %s: only a submitted or expired attempt is analysed', v_status
            );
    END IF;

    INSERT INTO app.behavior_analyses AS b (
        attempt_id, source, model, integrity_score, lmi_score, flags, summary, is_flagged,
        created_by
    ) VALUES (
        save_behavior_analysis.attempt_id,
        'external',
        v_model,
        save_behavior_analysis.integrity_score,
        save_behavior_analysis.lmi_score,
        v_flags,
        save_behavior_analysis.summary,
        save_behavior_analysis.lmi_score >= c_flag_threshold,
        v_caller
    )
    RETURNING b.* INTO v_row;

    PERFORM internal.refresh_analysis_figures(save_behavior_analysis.attempt_id);
    RETURN internal.analysis_document(v_row);
END
$$;
COMMENT ON FUNCTION api.save_behavior_analysis(uuid, numeric, numeric, jsonb, text, text) IS
'Store an external engine''s analysis of a submitted or expired attempt (POST /analysis/behavior, 201): integrity_score 0-100, lmi_score 0-1, flags a list of objects (each with its evidence), summary, model (default "external"). Flagged when lmi_score >= 0.5. Every analysis is kept; the latest is the one shown. The student''s metrics and profile and the exam''s metrics are brought up to date at once. Integration accounts and admins only (403 otherwise); 400 out of range; 404 unknown attempt; 409 attempt not finished. Answers {id, attempt_id, source: "external", model, integrity_score, lmi_score, is_flagged, flags, summary, created_by, created_at}.';
GRANT EXECUTE ON FUNCTION api.save_behavior_analysis(uuid, numeric, numeric, jsonb, text, text)
TO integration, admin;

-- api.get_behavior_analysis --------------------------------------------------------

-- VOLATILE: a teacher's or an admin's read is a disclosure of the
-- student's records, and is logged (internal.log_disclosure).
CREATE OR REPLACE FUNCTION api.get_behavior_analysis(attempt_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row app.behavior_analyses;
BEGIN
    SELECT b.* INTO v_row
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = get_behavior_analysis.attempt_id
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'no analysis of this attempt';
    END IF;
    PERFORM internal.log_disclosure(
        (SELECT a.student_id FROM app.exam_attempts AS a WHERE a.id = v_row.attempt_id),
        'analysis',
        v_row.id
    );
    RETURN internal.analysis_document(v_row);
END
$$;
COMMENT ON FUNCTION api.get_behavior_analysis(uuid) IS
'The attempt''s latest behaviour analysis, built-in or external (GET /analysis/behavior/{attempt_id}): {id, attempt_id, source, model, integrity_score, lmi_score, is_flagged, flags, summary, created_by, created_at}. For the student who owns the attempt, a teacher of its exam, an admin or an integration account; 404 when there is none, or the caller may not see the attempt.';
GRANT EXECUTE ON FUNCTION api.get_behavior_analysis(uuid) TO student, teacher, admin, integration;

-- api.update_performance_metrics, api.update_student_profile_stats -----------------

-- The seed's names. Both recompute the student's figures from the data
-- (internal.refresh_students_stats: the same function as the queue uses),
-- so calling them changes nothing that is already right.
CREATE OR REPLACE FUNCTION internal.assert_student_visible(p_student_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM app.student_profiles AS p WHERE p.user_id = p_student_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
    END IF;
END
$$;
COMMENT ON FUNCTION internal.assert_student_visible(uuid) IS
'VT404 unless the caller sees the student''s profile under RLS.';
REVOKE ALL ON FUNCTION internal.assert_student_visible(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.assert_student_visible(uuid) TO integration, admin;

CREATE OR REPLACE FUNCTION api.update_performance_metrics(student_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_visible(update_performance_metrics.student_id);
    PERFORM internal.refresh_student_stats(update_performance_metrics.student_id);
    SELECT jsonb_build_object(
        'student_id', m.student_id,
        'exams_taken', m.exams_taken,
        'attempts_count', m.attempts_count,
        'average_score', m.average_score,
        'best_score', m.best_score,
        'average_integrity', m.average_integrity,
        'flags_count', m.flags_count,
        'trend', m.trend,
        'updated_at', m.updated_at
    )
    INTO v_result
    FROM app.performance_metrics AS m
    WHERE m.student_id = update_performance_metrics.student_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.update_performance_metrics(uuid) IS
'Recompute a student''s performance metrics from their graded attempts and latest analyses (idempotent; the analysis worker does it after every submit, so no client needs to): {student_id, exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}. Scores in percent of max_score; trend in percentage points per attempt over the last 10. Integration accounts and admins only; 404 unknown student.';
GRANT EXECUTE ON FUNCTION api.update_performance_metrics(uuid) TO integration, admin;

CREATE OR REPLACE FUNCTION api.update_student_profile_stats(student_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_visible(update_student_profile_stats.student_id);
    PERFORM internal.refresh_student_stats(update_student_profile_stats.student_id);
    SELECT jsonb_build_object(
        'student_id', p.user_id,
        'integrity_score', p.integrity_score,
        'lmi_score', p.lmi_score,
        'exams_taken', p.exams_taken,
        'average_score', p.average_score,
        'best_score', p.best_score,
        'flags_count', p.flags_count,
        'updated_at', p.updated_at
    )
    INTO v_result
    FROM app.student_profiles AS p
    WHERE p.user_id = update_student_profile_stats.student_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.update_student_profile_stats(uuid) IS
'Recompute a student''s profile statistics (idempotent; kept up to date by the analysis worker): {student_id, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count, updated_at}. integrity_score and lmi_score are the latest analysis of the most recently finished attempt that has one. Integration accounts and admins only; 404 unknown student.';
GRANT EXECUTE ON FUNCTION api.update_student_profile_stats(uuid) TO integration, admin;
