-- analysis: the job queue the worker drains (glue/worker.py).
--
-- The worker role holds no table privilege: the queue, the analyser and the
-- statistics are SECURITY DEFINER helpers owned by veritas_owner, with a
-- pinned search_path and qualified names, running under the
-- definer_helpers_... policies (sql/policies/analysis.sql). Rules, formula
-- and weights: docs/analysis.md.

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
--                    and profile statistics (internal.refresh_student_metrics)
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
    v_exam_ids uuid[] := '{}'::uuid[];
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
                PERFORM internal.refresh_student_metrics(ARRAY[v_job.student_id]);
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

-- Purge ----------------------------------------------------------------------------

-- A done job is bookkeeping once its results are written (the analysis, the
-- figures and their audit rows stay): the worker forgets it after 7 days, so
-- the queue holds what is live and a week of history for operations, not one
-- row per attempt ever submitted. Failed and parked jobs stay until an admin
-- requeues or deletes them.
CREATE OR REPLACE FUNCTION internal.purge_finished_jobs()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM app.analysis_jobs AS j
    WHERE j.status = 'done' AND j.updated_at < now() - interval '7 days';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION internal.purge_finished_jobs() IS
'Worker: deletes analysis jobs done more than 7 days ago (their results stay); failed and parked jobs stay. How many it deleted.';
REVOKE ALL ON FUNCTION internal.purge_finished_jobs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.purge_finished_jobs() TO worker;
