-- analysis: what the built-in analyser reads: its rules (flag codes and
-- weights) and the evidence the events of one attempt show.
--
-- The worker role holds no table privilege: the queue, the analyser and the
-- statistics are SECURITY DEFINER helpers owned by veritas_owner, with a
-- pinned search_path and qualified names, running under the
-- definer_helpers_... policies (sql/policies/analysis.sql). Rules, formula
-- and weights: docs/analysis.md.

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
-- PL/pgSQL, not SQL: Citus cannot plan a SQL function's parameters into a
-- query of a distributed table (docs/scaling.md#4-citus).
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
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
END;
$$;
COMMENT ON FUNCTION internal.attempt_behaviour_evidence(uuid, timestamptz, timestamptz) IS
'What an attempt''s monitoring events show, one row per flag code seen: occurrences, seconds (timed codes), event ids (at most 100) and details. Paired events make episodes (an unpaired start lasts until the next heartbeat, the next start or the end); gaps over 60 s are unobserved time. Rules in docs/analysis.md.';
REVOKE ALL ON FUNCTION internal.attempt_behaviour_evidence(uuid, timestamptz, timestamptz)
FROM PUBLIC;
