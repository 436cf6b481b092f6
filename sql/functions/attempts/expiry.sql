-- attempts: deadlines. The expiry sweep (the worker, and every read of
-- attempts: lazy expiry), and the deadline of a running attempt moved after
-- its student's accommodation changed.

-- internal.expire_overdue_attempts ------------------------------------------------

-- The expiry sweep: closes as expired every attempt still in progress past
-- its deadline plus the exam's grace period (at most p_limit of them, oldest
-- deadline first), graded on its saved answers, finished at its deadline.
-- Rows locked by someone else are skipped (the next run takes them), so any
-- number of workers and readers can run it at once. The filters narrow it to
-- one student, exam or attempt: every read of attempts calls it first (lazy
-- expiry). Returns how many attempts it closed.
CREATE OR REPLACE FUNCTION internal.expire_overdue_attempts(
    p_limit integer DEFAULT 1000,
    p_student_id uuid DEFAULT NULL,
    p_exam_id uuid DEFAULT NULL,
    p_attempt_id uuid DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids uuid[];
BEGIN
    SELECT array_agg(o.id)
    INTO v_ids
    FROM (
        SELECT a.id
        FROM app.exam_attempts AS a
        INNER JOIN app.exams AS e ON e.id = a.exam_id
        WHERE
            a.status = 'in_progress'
            AND a.deadline < now()
            AND now() > a.deadline + make_interval(secs => e.grace_seconds)
            AND (p_student_id IS NULL OR a.student_id = p_student_id)
            AND (p_exam_id IS NULL OR a.exam_id = p_exam_id)
            AND (p_attempt_id IS NULL OR a.id = p_attempt_id)
        ORDER BY a.deadline
        LIMIT greatest(coalesce(p_limit, 1000), 0)
        FOR UPDATE OF a SKIP LOCKED
    ) AS o;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    RETURN internal.close_attempts(v_ids, 'expired');
END
$$;
COMMENT ON FUNCTION internal.expire_overdue_attempts(integer, uuid, uuid, uuid) IS
'Expiry sweep (SKIP LOCKED, any number at once): close as expired the attempts in progress past deadline + grace, graded on saved answers, finished_at = deadline; queues their analysis and refreshes statistics. Optional filters (student, exam, attempt) serve lazy expiry on reads. Returns how many it closed. Only ever closes what is overdue, so every reader may call it.';
REVOKE ALL ON FUNCTION internal.expire_overdue_attempts(integer, uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.expire_overdue_attempts(integer, uuid, uuid, uuid)
TO worker, student, teacher, admin;

-- internal.lazy_expire ------------------------------------------------------------

-- Lazy expiry for reads: the sweep narrowed to what the read is about, when
-- the transaction may write (a read-only GET shows overdue attempts as
-- expired instead, through internal.student_attempts).
CREATE OR REPLACE FUNCTION internal.lazy_expire(
    p_student_id uuid, p_exam_id uuid DEFAULT NULL, p_attempt_id uuid DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('transaction_read_only') = 'on' THEN
        RETURN 0;
    END IF;
    RETURN internal.expire_overdue_attempts(
        p_student_id => p_student_id, p_exam_id => p_exam_id, p_attempt_id => p_attempt_id
    );
END
$$;
COMMENT ON FUNCTION internal.lazy_expire(uuid, uuid, uuid) IS
'Expire the overdue attempts a read is about, unless the transaction is read-only.';
REVOKE ALL ON FUNCTION internal.lazy_expire(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.lazy_expire(uuid, uuid, uuid) TO student, teacher, admin;

-- internal.recompute_attempt_deadline ---------------------------------------------

-- After an accommodation changed: the deadline of the student's attempt in
-- progress becomes started_at + duration + extra time, capped by closes_at,
-- and never earlier than now (nor than the current deadline, if that has
-- already passed). An attempt already past deadline + grace is expired
-- first, not revived. Returns the new deadline, or NULL without a running
-- attempt. For a teacher with permission on the exam, or an admin.
CREATE OR REPLACE FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deadline timestamptz;
BEGIN
    IF NOT coalesce(
        CASE internal.current_app_role()
            WHEN 'admin' THEN TRUE
            WHEN 'teacher' THEN internal.teacher_can_access_exam(p_exam_id)
        END,
        FALSE
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    PERFORM internal.expire_overdue_attempts(p_student_id => p_student_id, p_exam_id => p_exam_id);
    UPDATE app.exam_attempts AS a SET
        deadline = greatest(
            least(
                a.started_at + make_interval(
                    mins => e.duration_minutes + coalesce(acc.extra_minutes, 0)
                ),
                e.closes_at
            ),
            least(a.deadline, now())
        )
    FROM app.exams AS e
    LEFT JOIN app.accommodations AS acc
        ON acc.exam_id = e.id AND acc.student_id = p_student_id
    WHERE
        e.id = p_exam_id
        AND a.exam_id = e.id
        AND a.student_id = p_student_id
        AND a.status = 'in_progress'
    RETURNING a.deadline INTO v_deadline;
    RETURN v_deadline;
END
$$;
COMMENT ON FUNCTION internal.recompute_attempt_deadline(uuid, uuid) IS
'Recompute the deadline of a student''s attempt in progress from the current accommodation (capped by closes_at, never before now); NULL without one. Teacher with permission on the exam, or admin.';
REVOKE ALL ON FUNCTION internal.recompute_attempt_deadline(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.recompute_attempt_deadline(uuid, uuid) TO teacher, admin;
