-- attempts: how a student's attempts, grades and open exams read, for the
-- student's own API (api.sql) and for the teachers' and analysts' reads,
-- under the caller's RLS. student_attempts and student_exam_grades are
-- inlined into the caller's query (plain SQL with no SET clause, which would
-- forbid it: docs/architecture.md). The attempt's paper reads the snapshot
-- without its key, as the owner.

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
REVOKE ALL ON FUNCTION internal.student_attempts(uuid) FROM PUBLIC;
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
REVOKE ALL ON FUNCTION internal.student_exam_grades(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.student_exam_grades(uuid)
TO student, teacher, admin, integration, worker;

-- internal.available_exams --------------------------------------------------------

-- Published exams open now or later, with this student's use of them; under
-- the caller's RLS. One query: the student's attempts are read through the
-- (exam_id, student_id, attempt_number) key.
CREATE OR REPLACE FUNCTION internal.available_exams(p_student_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
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
REVOKE ALL ON FUNCTION internal.available_exams(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.available_exams(uuid) TO student, admin;

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
