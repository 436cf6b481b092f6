-- analysis: the API. An external engine's analysis (POST /analysis/behavior),
-- the latest analysis of an attempt (GET /analysis/behavior/{attempt_id}),
-- and the metrics refresh over /rpc.
--
--   api.save_behavior_analysis       integration, admin
--   api.get_behavior_analysis        student, teacher, admin, integration (RLS)
--   api.update_performance_metrics   integration, admin
--   api.update_student_profile_stats integration, admin
--
-- The API functions run with the caller's rights: an external analysis is
-- inserted under the caller's policies (source external, created_by the
-- caller), and a read shows only what the caller's policies show. Rules:
-- docs/analysis.md.

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
REVOKE ALL ON FUNCTION api.save_behavior_analysis(uuid, numeric, numeric, jsonb, text, text)
FROM PUBLIC;
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
REVOKE ALL ON FUNCTION api.get_behavior_analysis(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_behavior_analysis(uuid) TO student, teacher, admin, integration;

-- api.update_performance_metrics, api.update_student_profile_stats -----------------

-- Over /rpc (docs/analysis.md). Both recompute the student's figures from
-- the data (internal.refresh_student_metrics: the same function as the
-- queue uses), so calling them changes nothing that is already right.
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
    PERFORM internal.refresh_student_metrics(ARRAY[update_performance_metrics.student_id]);
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
REVOKE ALL ON FUNCTION api.update_performance_metrics(uuid) FROM PUBLIC;
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
    PERFORM internal.refresh_student_metrics(ARRAY[update_student_profile_stats.student_id]);
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
REVOKE ALL ON FUNCTION api.update_student_profile_stats(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.update_student_profile_stats(uuid) TO integration, admin;
