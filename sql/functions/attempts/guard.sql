-- attempts: the guards. The state machine trigger that refuses an illegal
-- transition whoever writes, and the checks the helpers and the API
-- functions make before they act (an open attempt, a signed-in student,
-- an attempt of their own).

-- The state machine guard ---------------------------------------------------------

CREATE OR REPLACE FUNCTION internal.tg_exam_attempts__guard_status()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.exam_id <> OLD.exam_id
        OR NEW.student_id <> OLD.student_id
        OR NEW.attempt_number <> OLD.attempt_number
        OR NEW.started_at <> OLD.started_at
        OR NEW.question_order <> OLD.question_order
        OR NEW.scored_against <> OLD.scored_against THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'an attempt''s exam, student, number, start time and questions '
            || 'are fixed at its start';
    END IF;

    IF OLD.status <> 'in_progress' THEN
        -- Nothing leaves a final state, and a finished attempt is frozen.
        IF NEW.status <> OLD.status
            OR NEW.finished_at IS DISTINCT FROM OLD.finished_at
            OR NEW.deadline <> OLD.deadline
            OR NEW.score IS DISTINCT FROM OLD.score
            OR NEW.max_score IS DISTINCT FROM OLD.max_score THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = format('the attempt is %s: a finished attempt cannot change', OLD.status),
                DETAIL = format('refused transition %s -> %s', OLD.status, NEW.status);
        END IF;
        RETURN NEW;
    END IF;

    -- From in_progress: to submitted, expired or abandoned (finished_at set,
    -- as the table's check demands), or staying in progress, where only the
    -- deadline may move, and never to before now.
    IF NEW.status = 'in_progress' THEN
        IF NEW.score IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409', MESSAGE = 'an attempt in progress has no score yet';
        END IF;
        IF NEW.deadline < OLD.deadline AND NEW.deadline < now() THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = 'a running attempt''s deadline cannot be moved before now';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION internal.tg_exam_attempts__guard_status() IS
'Refuses illegal attempt transitions (VT409): only in_progress -> submitted | expired | abandoned; a finished attempt is frozen; the start, the questions and the owner never change; a running deadline is never moved before now.';
REVOKE ALL ON FUNCTION internal.tg_exam_attempts__guard_status() FROM PUBLIC;

CREATE OR REPLACE TRIGGER _200_guard_status
BEFORE UPDATE ON app.exam_attempts
FOR EACH ROW EXECUTE FUNCTION internal.tg_exam_attempts__guard_status();

-- internal.assert_attempt_open ----------------------------------------------------

CREATE OR REPLACE FUNCTION internal.assert_attempt_open(
    p_status app.attempt_status, p_deadline timestamptz, p_grace_seconds integer
)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_status <> 'in_progress' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the attempt is not in progress: it is %s', p_status);
    END IF;
    IF now() > p_deadline + make_interval(secs => p_grace_seconds) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the deadline has passed: '
            || 'the attempt is expired and graded on its saved answers',
            DETAIL = format('deadline %s, grace %s seconds', p_deadline, p_grace_seconds);
    END IF;
END
$$;
COMMENT ON FUNCTION internal.assert_attempt_open(app.attempt_status, timestamptz, integer) IS
'VT409 unless the attempt is in progress and its deadline plus grace has not passed.';
REVOKE ALL ON FUNCTION internal.assert_attempt_open(
    app.attempt_status, timestamptz, integer
) FROM PUBLIC;

-- internal.assert_student_caller --------------------------------------------------

CREATE OR REPLACE FUNCTION internal.assert_student_caller()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user_id uuid := internal.current_user_id();
BEGIN
    IF v_user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to take exams';
    END IF;
    RETURN v_user_id;
END
$$;
COMMENT ON FUNCTION internal.assert_student_caller() IS
'The caller''s user id, or 42501 without one.';
REVOKE ALL ON FUNCTION internal.assert_student_caller() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.assert_student_caller() TO student, admin;

-- internal.assert_own_attempt_visible ---------------------------------------------

-- Whether the caller can see this attempt as theirs, under RLS: the API
-- functions answer 404 before any helper runs when they cannot.
CREATE OR REPLACE FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- First, and apart: in the WHERE clause the planner would call it while
    -- estimating (it is STABLE), before the query runs.
    v_student_id constant uuid := internal.assert_student_caller();
BEGIN
    PERFORM FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id AND a.student_id = v_student_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
END
$$;
COMMENT ON FUNCTION internal.assert_own_attempt_visible(uuid) IS
'VT404 unless the caller sees this attempt as their own under RLS.';
REVOKE ALL ON FUNCTION internal.assert_own_attempt_visible(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.assert_own_attempt_visible(uuid) TO student, admin;
