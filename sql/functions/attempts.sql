-- attempts: the attempt lifecycle (start or resume, autosave, submit,
-- abandon, expiry), its side effects (analysis job, student statistics) and
-- the student's reads (dashboard, available exams, exam detail).
--
-- Repeatable, applied as veritas_owner after 00_internal.sql.
--
-- Who may write what. The answer key travels with each attempt
-- (exam_attempts.scored_against, the snapshot taken at start), so students
-- can neither read that column nor write an attempt's status, score or
-- deadline. The API functions run with the caller's rights (SECURITY
-- INVOKER): row-level security decides which attempt a student can see, and
-- an attempt they cannot see is 404. The writes go through the narrow
-- SECURITY DEFINER helpers of this file (owned by veritas_owner, search_path
-- pinned, EXECUTE granted per role), each of which checks again that the
-- attempt is the caller's own and that the state machine allows the step:
--
--   internal.start_attempt          student, admin    open (or find) the attempt
--   internal.attempt_paper          student, admin    the questions, without key
--   internal.save_attempt_answers   student, admin    autosave
--   internal.submit_attempt         student, admin    submit (idempotent)
--   internal.abandon_attempt        student, admin    abandon (idempotent)
--   internal.recompute_attempt_deadline  teacher, admin  after an accommodation
--   internal.expire_overdue_attempts     worker and readers: the expiry sweep
--   internal.refresh_student_stats       worker, integration, admin
--
-- A BEFORE UPDATE trigger (_200_guard_status) refuses illegal transitions
-- whoever writes. State conflicts raise VT409, invisible rows VT404,
-- malformed input 22023. Rules in docs/exams.md.

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

CREATE OR REPLACE TRIGGER _200_guard_status
BEFORE UPDATE ON app.exam_attempts
FOR EACH ROW EXECUTE FUNCTION internal.tg_exam_attempts__guard_status();

-- internal.student_attempts -------------------------------------------------------

-- A student's attempts as they read them, under the caller's RLS. An attempt
-- still marked in_progress past its deadline plus grace (the sweep has not
-- reached it, or this is a read-only transaction) shows as expired, finished
-- at its deadline: no caller ever sees a stale in_progress. Plain SQL so
-- that it is inlined into the caller's query.
CREATE OR REPLACE FUNCTION internal.student_attempts(p_student_id uuid)
RETURNS TABLE (
    attempt_id uuid,
    exam_id uuid,
    exam_title text,
    attempt_number integer,
    status app.attempt_status,
    started_at timestamptz,
    deadline timestamptz,
    finished_at timestamptz,
    score numeric,
    max_score numeric,
    percentage numeric
)
LANGUAGE sql
STABLE
AS $$
    SELECT
        a.id,
        a.exam_id,
        e.title,
        a.attempt_number,
        CASE
            WHEN a.status = 'in_progress' AND o.overdue THEN 'expired'::app.attempt_status
            ELSE a.status
        END,
        a.started_at,
        a.deadline,
        coalesce(a.finished_at, CASE WHEN o.overdue THEN a.deadline END),
        a.score,
        a.max_score,
        trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2))
    FROM app.exam_attempts AS a
    LEFT JOIN app.exams AS e ON e.id = a.exam_id
    CROSS JOIN LATERAL (
        SELECT now() > a.deadline + make_interval(secs => coalesce(e.grace_seconds, 0)) AS overdue
    ) AS o
    WHERE a.student_id = p_student_id;
$$;
COMMENT ON FUNCTION internal.student_attempts(uuid) IS
'A student''s attempts as shown to readers (overdue in_progress shows as expired at its deadline), with percentage = score / max_score * 100; under the caller''s RLS.';
GRANT EXECUTE ON FUNCTION internal.student_attempts(uuid)
TO student, teacher, admin, integration, worker;

-- internal.student_exam_grades ----------------------------------------------------

-- A student's grade on each exam with a graded (submitted or expired)
-- attempt, drawn by the exam's grading method: highest, average, first or
-- last (by attempt number). In percent of max_score, 2 decimals. The student
-- dashboard, the exam detail and performance_metrics all read it, so the
-- figures agree. Under the caller's RLS.
CREATE OR REPLACE FUNCTION internal.student_exam_grades(p_student_id uuid)
RETURNS TABLE (
    exam_id uuid,
    grading_method app.grading_method,
    graded_attempts bigint,
    percentage numeric,
    attempt_id uuid
)
LANGUAGE sql
STABLE
AS $$
    WITH graded AS (
        SELECT
            a.id,
            a.exam_id,
            a.attempt_number,
            trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2)) AS percentage
        FROM app.exam_attempts AS a
        WHERE
            a.student_id = p_student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
            AND a.max_score > 0
    )
    SELECT
        g.exam_id,
        e.grading_method,
        count(*),
        CASE e.grading_method
            WHEN 'highest' THEN max(g.percentage)
            WHEN 'average' THEN trim_scale(round(avg(g.percentage), 2))
            WHEN 'first' THEN (array_agg(g.percentage ORDER BY g.attempt_number))[1]
            WHEN 'last' THEN (array_agg(g.percentage ORDER BY g.attempt_number DESC))[1]
        END,
        CASE e.grading_method
            WHEN 'highest'
                THEN (array_agg(g.id ORDER BY g.percentage DESC, g.attempt_number))[1]
            WHEN 'first' THEN (array_agg(g.id ORDER BY g.attempt_number))[1]
            WHEN 'last' THEN (array_agg(g.id ORDER BY g.attempt_number DESC))[1]
        END
    FROM graded AS g
    INNER JOIN app.exams AS e ON e.id = g.exam_id
    GROUP BY g.exam_id, e.grading_method;
$$;
COMMENT ON FUNCTION internal.student_exam_grades(uuid) IS
'A student''s grade per exam (percent, by the exam''s grading method: highest, average, first, last) over submitted and expired attempts; attempt_id is the attempt that gives it (NULL for average). Under the caller''s RLS.';
GRANT EXECUTE ON FUNCTION internal.student_exam_grades(uuid)
TO student, teacher, admin, integration, worker;

-- internal.refresh_student_stats --------------------------------------------------

-- Brings performance_metrics (upserted) and student_profiles up to date for
-- some students, from their graded attempts: exams_taken, attempts_count,
-- average_score and best_score (of the per-exam grades, percent), trend
-- (slope of the last 10 graded attempts, percentage points per attempt),
-- and the integrity figures, from each graded attempt's latest behaviour
-- analysis (the latest wins, built-in or external): average_integrity (their
-- mean), flags_count (attempts whose latest analysis is flagged), and the
-- profile's integrity_score and lmi_score (the latest analysis of the most
-- recently finished attempt that has one). Recomputed from the data every
-- time: idempotent. Called on submit and expiry (internal.close_attempts),
-- by the analysis queue after each analysis, after an external analysis
-- (sql/functions/analysis.sql), and by api.update_performance_metrics.
-- Rules in docs/analysis.md.
CREATE OR REPLACE FUNCTION internal.refresh_students_stats(p_student_ids uuid[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO app.performance_metrics AS m (
        student_id, exams_taken, attempts_count, average_score, best_score, average_integrity,
        flags_count, trend, updated_at
    )
    SELECT
        s.student_id,
        coalesce(g.exams_taken, 0),
        coalesce(c.attempts_count, 0),
        g.average_score,
        g.best_score,
        i.average_integrity,
        coalesce(i.flags_count, 0),
        t.trend,
        now()
    FROM (
        SELECT DISTINCT x.id AS student_id
        FROM unnest(p_student_ids) AS x (id)
        WHERE x.id IS NOT NULL
    ) AS s
    LEFT JOIN LATERAL (
        SELECT
            count(*)::integer AS exams_taken,
            trim_scale(round(avg(eg.percentage), 2)) AS average_score,
            max(eg.percentage) AS best_score
        FROM internal.student_exam_grades(s.student_id) AS eg
    ) AS g ON TRUE
    LEFT JOIN LATERAL (
        SELECT count(*)::integer AS attempts_count
        FROM app.exam_attempts AS a
        WHERE
            a.student_id = s.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
    ) AS c ON TRUE
    LEFT JOIN LATERAL (
        -- Slope of the last 10 graded attempts, oldest first: percentage
        -- points per attempt; NULL with fewer than two.
        SELECT round(regr_slope(r.percentage, r.n)::numeric, 4) AS trend
        FROM (
            SELECT
                l.percentage,
                row_number() OVER (ORDER BY l.finished_at, l.id) AS n
            FROM (
                SELECT
                    a.id,
                    a.finished_at,
                    a.score / a.max_score * 100 AS percentage
                FROM app.exam_attempts AS a
                WHERE
                    a.student_id = s.student_id
                    AND a.status IN ('submitted', 'expired')
                    AND a.score IS NOT NULL
                    AND a.max_score > 0
                ORDER BY a.finished_at DESC, a.id DESC
                LIMIT 10
            ) AS l
        ) AS r
    ) AS t ON TRUE
    LEFT JOIN LATERAL (
        -- Each graded attempt's latest analysis.
        SELECT
            trim_scale(round(avg(l.integrity_score), 2)) AS average_integrity,
            (count(*) FILTER (WHERE l.is_flagged))::integer AS flags_count
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT b.integrity_score, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l
        WHERE
            a.student_id = s.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
    ) AS i ON TRUE
    ON CONFLICT (student_id) DO UPDATE SET
        exams_taken = excluded.exams_taken,
        attempts_count = excluded.attempts_count,
        average_score = excluded.average_score,
        best_score = excluded.best_score,
        average_integrity = excluded.average_integrity,
        flags_count = excluded.flags_count,
        trend = excluded.trend,
        updated_at = excluded.updated_at;

    -- The profile shows the same figures, and the integrity of the latest
    -- analysed attempt.
    UPDATE app.student_profiles AS p SET
        exams_taken = m.exams_taken,
        average_score = m.average_score,
        best_score = m.best_score,
        flags_count = m.flags_count,
        integrity_score = l.integrity_score,
        lmi_score = l.lmi_score
    FROM app.performance_metrics AS m
    LEFT JOIN LATERAL (
        SELECT b.integrity_score, b.lmi_score
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT x.integrity_score, x.lmi_score
            FROM app.behavior_analyses AS x
            WHERE x.attempt_id = a.id
            ORDER BY x.created_at DESC, x.id DESC
            LIMIT 1
        ) AS b
        WHERE
            a.student_id = m.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
        ORDER BY a.finished_at DESC, a.id DESC
        LIMIT 1
    ) AS l ON TRUE
    WHERE m.student_id = ANY (p_student_ids) AND p.user_id = m.student_id;
END
$$;
COMMENT ON FUNCTION internal.refresh_students_stats(uuid[]) IS
'Recompute performance_metrics (exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend) and student_profiles (exams_taken, average_score, best_score, flags_count, integrity_score, lmi_score) of the given students from their graded attempts and their latest analyses; percentages of max_score, per-exam grades by grading method. Idempotent.';
REVOKE ALL ON FUNCTION internal.refresh_students_stats(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_students_stats(uuid[]) TO worker, integration, admin;

CREATE OR REPLACE FUNCTION internal.refresh_student_stats(p_student_id uuid)
RETURNS void
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.refresh_students_stats(ARRAY[p_student_id]);
$$;
COMMENT ON FUNCTION internal.refresh_student_stats(uuid) IS
'Recompute one student''s performance_metrics and profile statistics (see refresh_students_stats).';
REVOKE ALL ON FUNCTION internal.refresh_student_stats(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_student_stats(uuid) TO worker, integration, admin;

-- internal.close_attempts ---------------------------------------------------------

-- Closes attempts that are in progress and already locked by the caller:
-- grades them on their saved answers against their snapshot (submitted,
-- expired), sets status, finished_at (the deadline for expired, now
-- otherwise), score and max_score, queues their analysis and wakes the
-- workers, and refreshes their students' statistics: all in the caller's
-- transaction. The number closed. Called by the helpers below only.
CREATE OR REPLACE FUNCTION internal.close_attempts(
    p_attempt_ids uuid[], p_status app.attempt_status
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_closed uuid[];
    v_students uuid[];
BEGIN
    IF p_status NOT IN ('submitted', 'expired', 'abandoned') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'an attempt closes as submitted, expired or abandoned';
    END IF;

    IF p_status <> 'abandoned' THEN
        UPDATE app.attempt_answers AS aa
        SET points_awarded = internal.grade_answer(q.value, aa.answer)
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        WHERE
            a.id = ANY (p_attempt_ids)
            AND a.status = 'in_progress'
            AND aa.attempt_id = a.id
            AND (q.value ->> 'id')::uuid = aa.question_id
            -- Answers stored graded by the submit itself are not written again.
            AND aa.points_awarded IS DISTINCT FROM internal.grade_answer(q.value, aa.answer);
    END IF;

    WITH closed AS (
        UPDATE app.exam_attempts AS a SET
            status = p_status,
            finished_at = CASE
                WHEN p_status = 'expired' THEN a.deadline
                ELSE greatest(now(), a.started_at)
            END,
            max_score = (
                SELECT coalesce(sum((q.value ->> 'points')::numeric), 0)
                FROM jsonb_array_elements(a.scored_against) AS q (value)
            ),
            score = CASE
                WHEN p_status <> 'abandoned' THEN (
                    SELECT coalesce(sum(aa.points_awarded), 0)
                    FROM app.attempt_answers AS aa
                    WHERE aa.attempt_id = a.id
                )
            END
        WHERE a.id = ANY (p_attempt_ids) AND a.status = 'in_progress'
        RETURNING a.id, a.student_id
    )
    SELECT array_agg(c.id), array_agg(DISTINCT c.student_id)
    INTO v_closed, v_students
    FROM closed AS c;

    IF v_closed IS NULL THEN
        RETURN 0;
    END IF;

    IF p_status <> 'abandoned' THEN
        INSERT INTO app.analysis_jobs (attempt_id, kind)
        SELECT x.id, 'analyse_attempt' FROM unnest(v_closed) AS x (id)
        ON CONFLICT (attempt_id, kind) WHERE status IN ('queued', 'running', 'failed') DO NOTHING;
        PERFORM pg_notify('veritas_jobs', 'analyse_attempt');
        PERFORM internal.refresh_students_stats(v_students);
    END IF;
    RETURN cardinality(v_closed);
END
$$;
COMMENT ON FUNCTION internal.close_attempts(uuid[], app.attempt_status) IS
'Close locked in_progress attempts as submitted, expired (finished_at = deadline) or abandoned: grade on saved answers against the snapshot, queue analyse_attempt jobs, NOTIFY veritas_jobs, refresh the students'' statistics. Internal: no role may call it directly.';
REVOKE ALL ON FUNCTION internal.close_attempts(uuid[], app.attempt_status) FROM PUBLIC;

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
GRANT EXECUTE ON FUNCTION internal.lazy_expire(uuid, uuid, uuid) TO student, teacher, admin;

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

-- internal.start_attempt ----------------------------------------------------------

-- Opens the caller's attempt at an exam, or finds the one in progress
-- (resumed). One in progress per student and exam however many requests
-- race: the unique partial index exam_attempts_one_in_progress_key decides,
-- the losers of the race read the winner's row. Takes the snapshot of the
-- questions with their answer key (scored_against) and fixes the order of
-- questions (question_order) and of options (in the snapshot) when the exam
-- shuffles. SECURITY DEFINER: it reads the answer key.
CREATE OR REPLACE FUNCTION internal.start_attempt(
    p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student_id uuid := internal.current_user_id();
    v_exam app.exams;
    v_used integer;
    v_last integer;
    v_extra integer;
    v_questions jsonb;
    v_order jsonb;
BEGIN
    IF v_student_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to take an exam';
    END IF;
    PERFORM internal.expire_overdue_attempts(p_student_id => v_student_id, p_exam_id => p_exam_id);

    -- Resume: the attempt in progress, if any, within its deadline + grace
    -- (one still in progress past it is being closed by someone else: the
    -- insert below then conflicts, and the caller is asked to try again).
    SELECT a.id INTO o_attempt_id
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE
        a.exam_id = p_exam_id
        AND a.student_id = v_student_id
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => e.grace_seconds);
    IF FOUND THEN
        o_resumed := TRUE;
        RETURN;
    END IF;

    SELECT e.* INTO v_exam FROM app.exams AS e WHERE e.id = p_exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF NOT v_exam.published THEN
        RAISE EXCEPTION USING ERRCODE = 'VT409', MESSAGE = 'the exam is not published';
    END IF;
    IF now() < v_exam.opens_at THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the exam is not open yet: it opens at %s', v_exam.opens_at);
    END IF;
    IF now() >= v_exam.closes_at THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the exam is closed: it closed at %s', v_exam.closes_at);
    END IF;
    SELECT count(*), coalesce(max(a.attempt_number), 0) INTO v_used, v_last
    FROM app.exam_attempts AS a
    WHERE a.exam_id = p_exam_id AND a.student_id = v_student_id;
    IF v_used >= v_exam.max_attempts THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'all attempts are used: %s of %s', v_used, v_exam.max_attempts
            );
    END IF;

    SELECT acc.extra_minutes INTO v_extra
    FROM app.accommodations AS acc
    WHERE acc.exam_id = p_exam_id AND acc.student_id = v_student_id;

    SELECT
        jsonb_agg(
            jsonb_build_object(
                'id', q.id,
                'position', q.position,
                'kind', q.kind,
                'prompt', q.prompt,
                'options', CASE
                    WHEN v_exam.shuffle_options AND jsonb_array_length(q.options) > 1 THEN (
                        SELECT jsonb_agg(o.value ORDER BY random())
                        FROM jsonb_array_elements(q.options) AS o (value)
                    )
                    ELSE q.options
                END,
                'correct', q.correct,
                'tolerance', q.tolerance,
                'points', q.points,
                'version', q.version
            )
            ORDER BY q.position
        ),
        jsonb_agg(
            to_jsonb(q.id)
            ORDER BY CASE WHEN v_exam.shuffle_questions THEN random() ELSE q.position END
        )
    INTO v_questions, v_order
    FROM app.questions AS q
    WHERE q.exam_id = p_exam_id;
    IF v_questions IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT409', MESSAGE = 'the exam has no questions';
    END IF;

    INSERT INTO app.exam_attempts (
        exam_id, student_id, attempt_number, status, started_at, deadline,
        question_order, scored_against
    ) VALUES (
        p_exam_id, v_student_id, v_last + 1, 'in_progress', now(),
        least(
            now() + make_interval(mins => v_exam.duration_minutes + coalesce(v_extra, 0)),
            v_exam.closes_at
        ),
        v_order, v_questions
    )
    ON CONFLICT DO NOTHING
    RETURNING id INTO o_attempt_id;
    IF o_attempt_id IS NOT NULL THEN
        o_resumed := FALSE;
        RETURN;
    END IF;

    -- A concurrent start won the race: its attempt is ours to resume.
    SELECT a.id INTO o_attempt_id
    FROM app.exam_attempts AS a
    WHERE
        a.exam_id = p_exam_id
        AND a.student_id = v_student_id
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => v_exam.grace_seconds);
    IF FOUND THEN
        o_resumed := TRUE;
        RETURN;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'VT409', MESSAGE = 'another attempt was started at the same moment; try again';
END
$$;
COMMENT ON FUNCTION internal.start_attempt(uuid) IS
'Open the caller''s attempt at an exam (published, inside its window, attempts left) with its snapshot and order, or return the one in progress (o_resumed). VT404 unknown exam; VT409 not published, not open yet, closed, attempts used up.';
REVOKE ALL ON FUNCTION internal.start_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.start_attempt(uuid) TO student, admin;

-- internal.attempt_paper ----------------------------------------------------------

-- The caller's own attempt's questions as the student sees them, in the
-- attempt's order (position 1, 2, ...), with options in the attempt's order
-- and the answer saved so far: never the key. Empty for anyone else's
-- attempt.
CREATE OR REPLACE FUNCTION internal.attempt_paper(p_attempt_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'id', q.value -> 'id',
                'position', o.ord,
                'kind', q.value -> 'kind',
                'prompt', q.value -> 'prompt',
                'options', q.value -> 'options',
                'points', q.value -> 'points',
                'answer', aa.answer
            )
            ORDER BY o.ord
        ),
        '[]'::jsonb
    )
    FROM app.exam_attempts AS a
    CROSS JOIN LATERAL jsonb_array_elements_text(a.question_order)
        WITH ORDINALITY AS o (question_id, ord)
    INNER JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        ON q.value ->> 'id' = o.question_id
    LEFT JOIN app.attempt_answers AS aa
        ON aa.attempt_id = a.id AND aa.question_id = o.question_id::uuid
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id();
$$;
COMMENT ON FUNCTION internal.attempt_paper(uuid) IS
'The caller''s own attempt''s questions without the answer key: [{id, position, kind, prompt, options, points, answer}] in the attempt''s order; [] for an attempt that is not theirs.';
REVOKE ALL ON FUNCTION internal.attempt_paper(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.attempt_paper(uuid) TO student, admin;

-- internal.store_answers ----------------------------------------------------------

-- Validates and stores answers {question_id: answer} of an attempt the
-- caller has locked and checked: each question must be in the attempt's
-- snapshot (VT404), each answer must fit its kind (22023); JSON null clears
-- an answer. Last write wins. p_graded: the attempt is being submitted, so
-- each answer is stored with its points at once (the grading that follows
-- then has nothing left to change: one write and one audit entry per
-- answer, not two); otherwise points_awarded stays NULL until the attempt
-- closes. Called by the helpers below only.
CREATE OR REPLACE FUNCTION internal.store_answers(
    p_attempt_id uuid, p_scored_against jsonb, p_answers jsonb, p_graded boolean
)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bad record;
BEGIN
    IF p_answers IS NULL OR jsonb_typeof(p_answers) <> 'object' THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'answers must be an object {question_id: answer}';
    END IF;

    SELECT k.key INTO v_bad
    FROM jsonb_object_keys(p_answers) AS k (key)
    WHERE k.key !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('%s is not a question id', v_bad.key);
    END IF;

    SELECT
        k.key,
        q.value IS NULL AS missing,
        CASE
            WHEN q.value IS NOT NULL AND k.value <> 'null'::jsonb
                THEN internal.answer_problem(q.value, k.value)
        END AS problem
    INTO v_bad
    FROM jsonb_each(p_answers) AS k (key, value)
    LEFT JOIN jsonb_array_elements(p_scored_against) AS q (value)
        ON (q.value ->> 'id')::uuid = k.key::uuid
    WHERE
        q.value IS NULL
        OR (k.value <> 'null'::jsonb AND internal.answer_problem(q.value, k.value) IS NOT NULL)
    ORDER BY q.value IS NULL DESC, k.key
    LIMIT 1;
    IF FOUND AND v_bad.missing THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT404',
            MESSAGE = format('question %s is not part of this attempt', v_bad.key);
    ELSIF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('question %s: %s', v_bad.key, v_bad.problem);
    END IF;

    -- Only when an answer is cleared: a statement that matches no row still
    -- runs its policies and its audit trigger.
    IF EXISTS (SELECT FROM jsonb_each(p_answers) AS k (key, value) WHERE k.value = 'null'::jsonb)
    THEN
        DELETE FROM app.attempt_answers AS aa
        USING jsonb_each(p_answers) AS k (key, value)
        WHERE
            aa.attempt_id = p_attempt_id
            AND aa.question_id = k.key::uuid
            AND k.value = 'null'::jsonb;
    END IF;

    INSERT INTO app.attempt_answers AS aa (attempt_id, question_id, answer, saved_at, points_awarded)
    SELECT
        p_attempt_id,
        k.key::uuid,
        k.value,
        now(),
        CASE WHEN p_graded THEN internal.grade_answer(q.value, k.value) END
    FROM jsonb_each(p_answers) AS k (key, value)
    INNER JOIN jsonb_array_elements(p_scored_against) AS q (value)
        ON (q.value ->> 'id')::uuid = k.key::uuid
    WHERE k.value <> 'null'::jsonb
    ON CONFLICT ON CONSTRAINT attempt_answers_pkey DO UPDATE SET
        answer = excluded.answer,
        saved_at = excluded.saved_at,
        points_awarded = excluded.points_awarded;
    RETURN now();
END
$$;
COMMENT ON FUNCTION internal.store_answers(uuid, jsonb, jsonb, boolean) IS
'Validate and upsert answers {question_id: answer} of a locked, open attempt (VT404 question not in the attempt, 22023 answer of the wrong form; null clears), graded at once when p_graded (a submit). Internal: no role may call it directly.';
REVOKE ALL ON FUNCTION internal.store_answers(uuid, jsonb, jsonb, boolean) FROM PUBLIC;

-- internal.save_attempt_answers ---------------------------------------------------

CREATE OR REPLACE FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    -- FOR SHARE: saves run side by side; a submit (FOR UPDATE) waits for
    -- them, and they for it.
    SELECT a.id, a.status, a.deadline, a.scored_against, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR SHARE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    RETURN internal.store_answers(v_attempt.id, v_attempt.scored_against, p_answers, FALSE);
END
$$;
COMMENT ON FUNCTION internal.save_attempt_answers(uuid, jsonb) IS
'Autosave answers {question_id: answer} to the caller''s own attempt while it is in progress and its deadline plus grace has not passed (VT409 otherwise). Returns saved_at.';
REVOKE ALL ON FUNCTION internal.save_attempt_answers(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.save_attempt_answers(uuid, jsonb) TO student, admin;

-- internal.submit_attempt ---------------------------------------------------------

-- Submits the caller's own attempt, after saving the final answers if any.
-- Idempotent: an attempt already submitted is left as it is.
CREATE OR REPLACE FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.id, a.status, a.deadline, a.scored_against, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status = 'submitted' THEN
        RETURN;
    END IF;
    IF v_attempt.status = 'expired' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the deadline has passed: '
            || 'the attempt is expired and graded on its saved answers';
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    IF p_answers IS NOT NULL AND p_answers <> 'null'::jsonb THEN
        PERFORM internal.store_answers(v_attempt.id, v_attempt.scored_against, p_answers, TRUE);
    END IF;
    PERFORM internal.close_attempts(ARRAY[v_attempt.id], 'submitted');
END
$$;
COMMENT ON FUNCTION internal.submit_attempt(uuid, jsonb) IS
'Submit the caller''s own attempt (final answers {question_id: answer} saved first) and grade it; a second submit changes nothing. VT409 if expired, abandoned, or past deadline + grace.';
REVOKE ALL ON FUNCTION internal.submit_attempt(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.submit_attempt(uuid, jsonb) TO student, admin;

-- internal.abandon_attempt --------------------------------------------------------

CREATE OR REPLACE FUNCTION internal.abandon_attempt(p_attempt_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.id, a.status, a.deadline, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status = 'abandoned' THEN
        RETURN;
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    PERFORM internal.close_attempts(ARRAY[v_attempt.id], 'abandoned');
END
$$;
COMMENT ON FUNCTION internal.abandon_attempt(uuid) IS
'Abandon the caller''s own attempt in progress (not graded; it still counts against max_attempts); abandoning twice changes nothing. VT409 if submitted, expired, or past deadline + grace.';
REVOKE ALL ON FUNCTION internal.abandon_attempt(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.abandon_attempt(uuid) TO student, admin;

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

-- internal.available_exams --------------------------------------------------------

-- Published exams open now or later, with this student's use of them; under
-- the caller's RLS. One query: the student's attempts are read through the
-- (exam_id, student_id, attempt_number) key.
CREATE OR REPLACE FUNCTION internal.available_exams(p_student_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
AS $$
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'id', e.id,
                'title', e.title,
                'description', e.description,
                'duration_minutes', e.duration_minutes,
                'opens_at', e.opens_at,
                'closes_at', e.closes_at,
                'max_attempts', e.max_attempts,
                'attempts_used', u.attempts_used,
                'is_open', e.opens_at <= now(),
                'attempt_in_progress', u.attempt_in_progress
            )
            ORDER BY e.opens_at, e.id
        ),
        '[]'::jsonb
    )
    FROM app.exams AS e
    CROSS JOIN LATERAL (
        SELECT
            count(*) AS attempts_used,
            (array_agg(a.id) FILTER (
                WHERE a.status = 'in_progress'
                AND now() <= a.deadline + make_interval(secs => e.grace_seconds)
            ))[1] AS attempt_in_progress
        FROM app.exam_attempts AS a
        WHERE a.exam_id = e.id AND a.student_id = p_student_id
    ) AS u
    WHERE e.published AND e.closes_at > now();
$$;
COMMENT ON FUNCTION internal.available_exams(uuid) IS
'Published exams open now or later with the student''s attempts_used and attempt in progress, as JSON; under the caller''s RLS.';
GRANT EXECUTE ON FUNCTION internal.available_exams(uuid) TO student, admin;

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
BEGIN
    PERFORM FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id AND a.student_id = internal.assert_student_caller();
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
END
$$;
COMMENT ON FUNCTION internal.assert_own_attempt_visible(uuid) IS
'VT404 unless the caller sees this attempt as their own under RLS.';
GRANT EXECUTE ON FUNCTION internal.assert_own_attempt_visible(uuid) TO student, admin;

-- api.create_exam_attempt ---------------------------------------------------------

CREATE OR REPLACE FUNCTION api.create_exam_attempt(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_start record;
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_caller();
    SELECT s.o_attempt_id, s.o_resumed INTO v_start
    FROM internal.start_attempt(create_exam_attempt.exam_id) AS s;
    SELECT jsonb_build_object(
        'attempt_id', a.id,
        'exam_id', a.exam_id,
        'attempt_number', a.attempt_number,
        'status', a.status,
        'started_at', a.started_at,
        'deadline', a.deadline,
        'questions', internal.attempt_paper(a.id),
        'resumed', v_start.o_resumed
    )
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = v_start.o_attempt_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.create_exam_attempt(uuid) IS
'Start an attempt at a published exam inside its window: {attempt_id, exam_id, attempt_number, status: "in_progress", started_at, deadline, questions: [{id, position, kind, prompt, options, points, answer}], resumed}. Never the correct answers. The deadline is started_at + duration + the student''s extra time, capped by closes_at. If an attempt is already in progress it is returned with resumed = true (HTTP 200, else 201), however many requests race. When the exam shuffles, the order of questions and options is this attempt''s own, fixed at start. 404 unknown exam; 409 not published, not open yet, closed, or all attempts used.';
GRANT EXECUTE ON FUNCTION api.create_exam_attempt(uuid) TO student, admin;

-- api.save_answer -----------------------------------------------------------------

CREATE OR REPLACE FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_saved_at timestamptz;
BEGIN
    PERFORM internal.assert_own_attempt_visible(save_answer.attempt_id);
    v_saved_at := internal.save_attempt_answers(
        save_answer.attempt_id,
        jsonb_build_object(save_answer.question_id::text, coalesce(answer, 'null'::jsonb))
    );
    RETURN jsonb_build_object(
        'attempt_id', save_answer.attempt_id,
        'question_id', save_answer.question_id,
        'saved_at', v_saved_at
    );
END
$$;
COMMENT ON FUNCTION api.save_answer(uuid, uuid, jsonb) IS
'Autosave one answer of the caller''s attempt: {saved_at}. Last write wins; null clears the answer. The answer must fit the question''s kind: an option string (single_choice), a list of option strings (multiple_choice), true or false (true_false), a number (numeric), a string (short_text); 400 otherwise. Accepted until the deadline plus the exam''s grace period, 409 after it or once the attempt is finished; 404 for an attempt or question that is not the caller''s.';
GRANT EXECUTE ON FUNCTION api.save_answer(uuid, uuid, jsonb) TO student, admin;

-- api.complete_exam_attempt -------------------------------------------------------

CREATE OR REPLACE FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_own_attempt_visible(complete_exam_attempt.attempt_id);
    PERFORM internal.submit_attempt(complete_exam_attempt.attempt_id, answers);
    SELECT jsonb_build_object(
        'attempt_id', a.id,
        'status', a.status,
        'score', a.score,
        'max_score', a.max_score,
        'percentage', trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2)),
        'submitted_at', a.finished_at
    )
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = complete_exam_attempt.attempt_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.complete_exam_attempt(uuid, jsonb) IS
'Submit the caller''s attempt, with optional final answers {question_id: answer} saved first: {attempt_id, status: "submitted", score, max_score, percentage, submitted_at}. Graded at once against the questions as they were at the start; analysis is queued and the student''s metrics updated in the same transaction. Submitting within the grace period after the deadline counts. A second submit changes nothing and returns the same result. 409 once the deadline plus grace has passed (the attempt is expired and graded on its saved answers) or if it was abandoned; 404 for an attempt that is not the caller''s.';
GRANT EXECUTE ON FUNCTION api.complete_exam_attempt(uuid, jsonb) TO student, admin;

-- api.abandon_exam_attempt --------------------------------------------------------

CREATE OR REPLACE FUNCTION api.abandon_exam_attempt(attempt_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_own_attempt_visible(abandon_exam_attempt.attempt_id);
    PERFORM internal.abandon_attempt(abandon_exam_attempt.attempt_id);
    SELECT jsonb_build_object('attempt_id', a.id, 'status', a.status)
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = abandon_exam_attempt.attempt_id;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.abandon_exam_attempt(uuid) IS
'Abandon the caller''s attempt in progress: {attempt_id, status: "abandoned"}. It is not graded and still counts against max_attempts. Abandoning twice changes nothing. 409 if it was submitted or expired, or the deadline plus grace has passed; 404 for an attempt that is not the caller''s.';
GRANT EXECUTE ON FUNCTION api.abandon_exam_attempt(uuid) TO student, admin;

-- api.get_available_exams_for_student ---------------------------------------------

CREATE OR REPLACE FUNCTION api.get_available_exams_for_student()
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT internal.available_exams(internal.assert_student_caller());
$$;
COMMENT ON FUNCTION api.get_available_exams_for_student() IS
'Published exams open now or later: [{id, title, description, duration_minutes, opens_at, closes_at, max_attempts, attempts_used, is_open, attempt_in_progress}], soonest first. attempt_in_progress is the id of the caller''s attempt in progress, or null.';
GRANT EXECUTE ON FUNCTION api.get_available_exams_for_student() TO student, admin;

-- api.get_student_dashboard_data --------------------------------------------------

CREATE OR REPLACE FUNCTION api.get_student_dashboard_data()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student_id uuid := internal.assert_student_caller();
BEGIN
    PERFORM internal.lazy_expire(v_student_id);
    RETURN jsonb_build_object(
        'profile', (
            SELECT jsonb_build_object(
                'id', u.id,
                'email', u.email,
                'full_name', u.full_name,
                'student_number', p.student_number,
                'integrity_score', p.integrity_score,
                'lmi_score', p.lmi_score,
                'exams_taken', coalesce(p.exams_taken, 0),
                'average_score', p.average_score,
                'best_score', p.best_score,
                'flags_count', coalesce(p.flags_count, 0)
            )
            FROM auth.users AS u
            LEFT JOIN app.student_profiles AS p ON p.user_id = u.id
            WHERE u.id = v_student_id
        ),
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
                WHERE m.student_id = v_student_id
            ),
            jsonb_build_object(
                'exams_taken', 0, 'attempts_count', 0, 'average_score', NULL,
                'best_score', NULL, 'average_integrity', NULL, 'flags_count', 0,
                'trend', NULL, 'updated_at', NULL
            )
        ),
        'recent_attempts', (
            SELECT coalesce(
                jsonb_agg(to_jsonb(r) ORDER BY r.started_at DESC, r.attempt_id), '[]'::jsonb
            )
            FROM (
                SELECT *
                FROM internal.student_attempts(v_student_id) AS sa
                ORDER BY sa.started_at DESC, sa.attempt_id
                LIMIT 10
            ) AS r
        ),
        'available_exams', internal.available_exams(v_student_id)
    );
END
$$;
COMMENT ON FUNCTION api.get_student_dashboard_data() IS
'The student dashboard: {profile: {id, email, full_name, student_number, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count}, metrics: {exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}, recent_attempts: the last 10 [{attempt_id, exam_id, exam_title, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage}], available_exams: as get_available_exams_for_student}. Scores in metrics and profile are percentages of max_score; attempts left in progress past their deadline are closed first.';
GRANT EXECUTE ON FUNCTION api.get_student_dashboard_data() TO student, admin;

-- api.get_student_exam_detail -----------------------------------------------------

CREATE OR REPLACE FUNCTION api.get_student_exam_detail(exam_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_student_id uuid := internal.assert_student_caller();
    v_result jsonb;
BEGIN
    PERFORM internal.lazy_expire(v_student_id, get_student_exam_detail.exam_id);
    SELECT jsonb_build_object(
        'exam', jsonb_build_object(
            'id', e.id,
            'title', e.title,
            'description', e.description,
            'duration_minutes', e.duration_minutes,
            'opens_at', e.opens_at,
            'closes_at', e.closes_at,
            'max_attempts', e.max_attempts,
            'grading_method', e.grading_method,
            'grace_seconds', e.grace_seconds,
            'published', e.published,
            'is_open', e.published AND now() >= e.opens_at AND now() < e.closes_at,
            'extra_minutes', coalesce(acc.extra_minutes, 0),
            'attempts_used', coalesce(jsonb_array_length(att.attempts), 0),
            'attempts_left', greatest(
                e.max_attempts - coalesce(jsonb_array_length(att.attempts), 0), 0
            )
        ),
        'attempts', coalesce(att.attempts, '[]'::jsonb),
        'grade', (
            SELECT jsonb_build_object(
                'grading_method', g.grading_method,
                'percentage', g.percentage,
                'graded_attempts', g.graded_attempts,
                'attempt_id', g.attempt_id
            )
            FROM internal.student_exam_grades(v_student_id) AS g
            WHERE g.exam_id = e.id
        )
    )
    INTO v_result
    FROM app.exams AS e
    LEFT JOIN app.accommodations AS acc
        ON acc.exam_id = e.id AND acc.student_id = v_student_id
    LEFT JOIN LATERAL (
        SELECT jsonb_agg(
            jsonb_build_object(
                'attempt_id', sa.attempt_id,
                'attempt_number', sa.attempt_number,
                'status', sa.status,
                'started_at', sa.started_at,
                'deadline', sa.deadline,
                'finished_at', sa.finished_at,
                'score', sa.score,
                'max_score', sa.max_score,
                'percentage', sa.percentage
            )
            ORDER BY sa.attempt_number
        ) AS attempts
        FROM internal.student_attempts(v_student_id) AS sa
        WHERE sa.exam_id = e.id
    ) AS att ON TRUE
    WHERE e.id = get_student_exam_detail.exam_id AND (e.published OR att.attempts IS NOT NULL);
    IF v_result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION api.get_student_exam_detail(uuid) IS
'An exam as its student sees it, and the caller''s own attempts at it: {exam: {id, title, description, duration_minutes, opens_at, closes_at, max_attempts, grading_method, grace_seconds, published, is_open, extra_minutes, attempts_used, attempts_left}, attempts: [{attempt_id, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage}], grade: {grading_method, percentage, graded_attempts, attempt_id} or null}. 404 for an exam that is neither published nor attempted by the caller.';
GRANT EXECUTE ON FUNCTION api.get_student_exam_detail(uuid) TO student, admin;
