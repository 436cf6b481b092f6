-- analysis: the built-in behaviour analyser, and an analysis as the API
-- shows it.
--
-- The worker role holds no table privilege: the queue, the analyser and the
-- statistics are SECURITY DEFINER helpers owned by veritas_owner, with a
-- pinned search_path and qualified names, running under the
-- definer_helpers_... policies (sql/policies/analysis.sql). Rules, formula
-- and weights: docs/analysis.md.

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
    v_flags jsonb := '[]'::jsonb;
    v_labels text[] := '{}'::text[];
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
