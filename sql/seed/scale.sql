-- seed scale: synthetic school-scale data for measuring reads and plans
-- (`veritas seed scale`, glue/seed_scale.py, docs/performance.md).
--
-- Not a migration and not repeatable SQL: glue/seed_scale.py runs the
-- stages below in order, each a section starting with a line
-- "-- stage: <name>: <what it does>", all in ONE transaction as the DBA
-- (the events as their owner; so an interrupted seed leaves nothing
-- behind), after creating the temporary
-- table seed_params (students, exams, events, password_hash). A stage whose
-- name ends in "[chunked]" is run once per range of attempts: the
-- temporary table seed_chunk holds the range (lo, hi) of seed_attempts.seq.
--
-- Every row goes in set-based (INSERT ... SELECT over generate_series and
-- the staging tables), with every constraint, foreign key, index and
-- row-level-security rule in force. The audit trail: the per-row audit
-- triggers (_500_audit_insert, and _500_audit_update on the two tables the
-- seed itself rewrites) of the tables filled here are disabled for this
-- transaction only (ALTER TABLE takes the table's exclusive lock until the
-- commit, so no other session writes to it unaudited meanwhile, and a
-- rollback re-enables them), and the audit trail gets one statement-level
-- entry per table instead, like the monitoring events: how many rows, by
-- `veritas seed scale`, with the sizes asked (stage "audit"). Millions of
-- per-row entries of synthetic rows would only lengthen the hash chain the
-- worker seals and `veritas audit verify` walks. The other triggers run
-- (timestamps, the role_change security event of each teacher account).
--
-- The data: teachers (one per 400 students, at least 2) with their
-- profiles; students with profiles, all with one bcrypt hash (the seed's
-- documented password); exams with Zipf-like sizes (the n-th exam has
-- about 1/n of the attempts of the first) and 8 questions of every kind,
-- each exam granted to its creator and one more teacher; 2.5 attempts per
-- student on average (one per student and exam), finished (submitted, a
-- few expired) between the start of this month and now, so that their
-- events sit in this month's partition; 8 graded answers each
-- (internal.grade_answer); exactly the asked number of monitoring events.
-- Most attempts (92 %) are clean: heartbeats only, never more than 60 s
-- apart, whose analysis is exactly what the built-in analyser gives
-- (integrity 100, lmi 0, no flag), written directly; the others (5 % mild,
-- 3 % noisy with several times the events: tab switches, pastes, faces,
-- devtools) are analysed by the built-in analyser itself
-- (internal.analyse_attempt). A share of the flagged attempts is reviewed.
-- Metrics and profile statistics come from internal.refresh_student_metrics
-- and internal.refresh_exam_metrics; the analytics views are refreshed by
-- internal.refresh_analytics after the commit.

-- stage: plan: sizes, time span and staging tables
SELECT setseed(0.4242);

CREATE TEMP TABLE seed_plan ON COMMIT DROP AS
SELECT
    p.students,
    p.exams,
    p.events,
    p.password_hash,
    greatest(2, round(p.students / 400.0))::integer AS teachers,
    -- 2.5 attempts per student, at least 8 events each, at most one per
    -- student and exam.
    least(
        round(p.students * 2.5), floor(p.events / 8.0), p.students::bigint * p.exams
    )::integer AS attempts,
    -- The attempts start in this month (its event partition), or in the
    -- last day during the first day of a month; all are finished by now.
    CASE
        WHEN now() - date_trunc('month', now()) >= interval '1 day'
            THEN date_trunc('month', now())
        ELSE now() - interval '1 day'
    END AS span_start,
    now() - interval '30 minutes' AS span_end
FROM seed_params AS p;

-- The monthly event partitions (this month and the next three) exist before
-- any event goes in.
SELECT count(*) FROM internal.create_event_partitions(3);

-- The audit triggers set aside for this transaction, and re-enabled by the
-- stage "audit".
CREATE TEMP TABLE seed_audit_triggers ON COMMIT DROP AS
SELECT
    t.rel::regclass AS rel,
    t.trigger_name
FROM (
    VALUES
    ('auth.users', '_500_audit_insert'),
    ('app.student_profiles', '_500_audit_insert'),
    ('app.student_profiles', '_500_audit_update'),
    ('app.teacher_profiles', '_500_audit_insert'),
    ('app.exams', '_500_audit_insert'),
    ('app.questions', '_500_audit_insert'),
    ('app.teacher_exam_permissions', '_500_audit_insert'),
    ('app.exam_attempts', '_500_audit_insert'),
    ('app.attempt_answers', '_500_audit_insert'),
    ('app.behavior_analyses', '_500_audit_insert'),
    ('app.behavior_analyses', '_500_audit_update'),
    ('app.flag_reviews', '_500_audit_insert')
) AS t (rel, trigger_name);

DO $$
DECLARE
    v_trigger record;
BEGIN
    FOR v_trigger IN SELECT * FROM seed_audit_triggers LOOP
        EXECUTE format(
            'ALTER TABLE %s DISABLE TRIGGER %I', v_trigger.rel, v_trigger.trigger_name
        );
    END LOOP;
END;
$$;

SELECT
    format(
        '%s students, %s teachers, %s exams, up to %s attempts, %s events, from %s',
        p.students, p.teachers, p.exams, p.attempts, p.events, p.span_start
    )
FROM seed_plan AS p;

-- stage: teachers: teacher accounts and profiles
CREATE TEMP TABLE seed_names ON COMMIT DROP AS
SELECT
    ARRAY[
        'Amara', 'Bruno', 'Chen', 'Dana', 'Elif', 'Farah', 'Gustav', 'Hana', 'Ivan', 'Julia',
        'Kofi', 'Lina', 'Mateo', 'Nadia', 'Oscar', 'Priya', 'Quentin', 'Rosa', 'Samir', 'Tove',
        'Umar', 'Vera', 'Wen', 'Ximena', 'Yusuf', 'Zofia', 'Aiko', 'Bjorn', 'Carmen', 'Dmitri',
        'Esther', 'Femi', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Luca', 'Mina', 'Nils'
    ] AS first_names,
    ARRAY[
        'Okafor', 'Silva', 'Wei', 'Levi', 'Yilmaz', 'Haddad', 'Berg', 'Sato', 'Petrov', 'Rossi',
        'Mensah', 'Novak', 'Garcia', 'Kowalski', 'Nguyen', 'Ahmed', 'Dubois', 'Muller', 'Kim',
        'Jensen', 'Costa', 'Ivanova', 'Tanaka', 'Moreau', 'Schmidt', 'Lopez', 'Singh', 'Olsen',
        'Murphy', 'Fischer', 'Ali', 'Bianchi', 'Kaya', 'Lindqvist', 'Mwangi', 'Park', 'Reyes',
        'Suzuki', 'Weber', 'Zhang'
    ] AS last_names,
    ARRAY[
        'Mathematics', 'Biology', 'Chemistry', 'Physics', 'History', 'Geography',
        'Computer Science', 'Economics', 'Literature', 'Philosophy'
    ] AS subjects;

CREATE TEMP TABLE seed_teachers ON COMMIT DROP AS
SELECT
    g.n,
    gen_random_uuid() AS id
FROM seed_plan AS p
CROSS JOIN LATERAL generate_series(1, p.teachers) AS g (n);

INSERT INTO auth.users (id, email, password_hash, role, full_name, created_at, updated_at)
SELECT
    t.id,
    format('teacher-%s@scale.veritas.test', lpad(t.n::text, 4, '0')) AS email,
    p.password_hash,
    'teacher' AS role,
    nm.first_names[1 + (t.n * 7) % 40] || ' ' || nm.last_names[1 + (t.n * 13) % 40] AS full_name,
    p.span_start - interval '60 days' AS created_at,
    p.span_start - interval '60 days' AS updated_at
FROM seed_teachers AS t
CROSS JOIN seed_plan AS p
CROSS JOIN seed_names AS nm
ORDER BY t.n;

INSERT INTO app.teacher_profiles (user_id, department, created_at, updated_at)
SELECT
    t.id,
    nm.subjects[1 + t.n % 10] AS department,
    p.span_start - interval '60 days' AS created_at,
    p.span_start - interval '60 days' AS updated_at
FROM seed_teachers AS t
CROSS JOIN seed_plan AS p
CROSS JOIN seed_names AS nm
ORDER BY t.n;

SELECT format('%s teachers', count(*)) FROM seed_teachers;

-- stage: students: student accounts and profiles
CREATE TEMP TABLE seed_students ON COMMIT DROP AS
SELECT
    g.n,
    gen_random_uuid() AS id,
    -- How often this student answers right: 35 % to 95 %.
    0.35 + 0.6 * ((g.n * 0.6180339887498949) - floor(g.n * 0.6180339887498949)) AS skill
FROM seed_plan AS p
CROSS JOIN LATERAL generate_series(1, p.students) AS g (n);

ALTER TABLE seed_students ADD PRIMARY KEY (n);
ANALYZE seed_students;

INSERT INTO auth.users (id, email, password_hash, role, full_name, created_at, updated_at)
SELECT
    s.id,
    format('student-%s@scale.veritas.test', lpad(s.n::text, 6, '0')) AS email,
    p.password_hash,
    'student' AS role,
    nm.first_names[1 + (s.n * 11) % 40] || ' '
    || nm.last_names[1 + (s.n * 17 + s.n / 40) % 40] AS full_name,
    p.span_start - interval '30 days' AS created_at,
    p.span_start - interval '30 days' AS updated_at
FROM seed_students AS s
CROSS JOIN seed_plan AS p
CROSS JOIN seed_names AS nm
ORDER BY s.n;

INSERT INTO app.student_profiles (user_id, student_number, created_at, updated_at)
SELECT
    s.id,
    'SC' || lpad(s.n::text, 7, '0') AS student_number,
    p.span_start - interval '30 days' AS created_at,
    p.span_start - interval '30 days' AS updated_at
FROM seed_students AS s
CROSS JOIN seed_plan AS p
ORDER BY s.n;

SELECT format('%s students', count(*)) FROM seed_students;

-- stage: exams: exams, questions and teachers' permissions
CREATE TEMP TABLE seed_exams ON COMMIT DROP AS
WITH base AS (
    SELECT
        g.n,
        gen_random_uuid() AS id,
        (ARRAY[30, 45, 60, 90, 120])[1 + g.n % 5] AS duration_minutes,
        1.0 / g.n AS weight,
        (g.n * 0.7548776662466927) - floor(g.n * 0.7548776662466927) AS open_fraction,
        (g.n * 0.5698402909980532) - floor(g.n * 0.5698402909980532) AS offset_fraction
    FROM seed_plan AS p
    CROSS JOIN LATERAL generate_series(1, p.exams) AS g (n)
)

SELECT
    b.n,
    b.id,
    b.duration_minutes,
    st.id AS teacher_id,
    co.id AS co_teacher_id,
    nm.subjects[1 + b.n % 10] AS subject,
    -- Zipf-like sizes: the n-th exam has about 1/n of the first one's
    -- attempts; at most one attempt per student.
    least(p.students, greatest(1, round(p.attempts * b.weight / sum(b.weight) OVER ())))::integer
        AS size,
    floor(b.offset_fraction * p.students)::integer AS student_offset,
    p.span_start + (p.span_end - p.span_start) * 0.5 * b.open_fraction AS opens_at,
    -- One exam in ten is still open (for a benchmark's starts and submits);
    -- the others closed just before now.
    CASE
        WHEN b.n % 10 = 0 THEN now() + interval '14 days'
        ELSE p.span_end + make_interval(mins => b.n % 20)
    END AS closes_at
FROM base AS b
CROSS JOIN seed_plan AS p
CROSS JOIN seed_names AS nm
INNER JOIN seed_teachers AS st ON st.n = 1 + (b.n - 1) % p.teachers
INNER JOIN seed_teachers AS co ON co.n = 1 + b.n % p.teachers;

INSERT INTO app.exams (
    id, title, description, created_by, duration_minutes, opens_at, closes_at, max_attempts,
    grading_method, grace_seconds, shuffle_questions, shuffle_options, published, created_at,
    updated_at
)
SELECT
    e.id,
    format('%s, scale exam %s', e.subject, lpad(e.n::text, 4, '0')) AS title,
    'Synthetic exam of veritas seed scale.' AS description,
    e.teacher_id,
    e.duration_minutes,
    e.opens_at,
    e.closes_at,
    2 AS max_attempts,
    'highest' AS grading_method,
    60 AS grace_seconds,
    FALSE AS shuffle_questions,
    FALSE AS shuffle_options,
    TRUE AS published,
    e.opens_at - interval '7 days' AS created_at,
    e.opens_at - interval '7 days' AS updated_at
FROM seed_exams AS e
ORDER BY e.n;

INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by, granted_at)
SELECT
    e.id,
    t.teacher_id,
    e.teacher_id AS granted_by,
    e.opens_at - interval '7 days' AS granted_at
FROM seed_exams AS e
CROSS JOIN LATERAL (VALUES (e.teacher_id), (e.co_teacher_id)) AS t (teacher_id);

-- Eight questions per exam, every kind; each with the answer a student
-- who knows gives and one who does not, graded by internal.grade_answer.
CREATE TEMP TABLE seed_questions ON COMMIT DROP AS
WITH q AS (
    SELECT
        e.id AS exam_id,
        e.n AS exam_n,
        gen_random_uuid() AS id,
        g.position,
        (ARRAY[
            'single_choice', 'true_false', 'numeric', 'multiple_choice',
            'single_choice', 'short_text', 'true_false', 'numeric'
        ])[g.position]::app.question_kind AS kind,
        (ARRAY[1, 1, 2, 2, 1, 2, 1, 2])[g.position]::numeric AS points,
        format('Question %s of the %s exam %s', g.position, e.subject, e.n) AS prompt,
        (e.n + g.position) % 4 AS variant
    FROM seed_exams AS e
    CROSS JOIN generate_series(1, 8) AS g (position)
),

keyed AS (
    SELECT
        q.*,
        CASE
            WHEN q.kind IN ('single_choice', 'multiple_choice')
                THEN '["12", "14", "16", "18"]'::jsonb
            ELSE '[]'::jsonb
        END AS options,
        CASE q.kind
            WHEN 'single_choice' THEN to_jsonb((ARRAY['12', '14', '16', '18'])[1 + q.variant])
            WHEN 'multiple_choice' THEN '["12", "16"]'::jsonb
            WHEN 'true_false' THEN to_jsonb(q.variant % 2 = 0)
            WHEN 'numeric' THEN to_jsonb(q.exam_n * 3 + q.position)
            ELSE '["photosynthesis", "photo synthesis"]'::jsonb
        END AS correct,
        CASE WHEN q.kind = 'numeric' THEN 0.5 END AS tolerance
    FROM q
),

answered AS (
    SELECT
        k.*,
        CASE k.kind
            WHEN 'multiple_choice' THEN k.correct
            WHEN 'short_text' THEN '"Photosynthesis"'::jsonb
            ELSE k.correct
        END AS right_answer,
        CASE k.kind
            WHEN
                'single_choice'
                THEN to_jsonb((ARRAY['12', '14', '16', '18'])[1 + (k.variant + 1) % 4])
            WHEN 'multiple_choice' THEN '["14"]'::jsonb
            WHEN 'true_false' THEN to_jsonb(NOT (k.correct)::text::boolean)
            WHEN 'numeric' THEN to_jsonb(k.exam_n * 3 + k.position + 10)
            ELSE '"respiration"'::jsonb
        END AS wrong_answer,
        -- The attempt's snapshot of the question, as internal.start_attempt
        -- takes it.
        jsonb_build_object(
            'id', k.id,
            'position', k.position,
            'kind', k.kind,
            'prompt', k.prompt,
            'options', k.options,
            'correct', k.correct,
            'tolerance', k.tolerance,
            'points', k.points,
            'version', 1
        ) AS snapshot
    FROM keyed AS k
)

SELECT
    a.*,
    internal.grade_answer(a.snapshot, a.right_answer) AS right_points,
    internal.grade_answer(a.snapshot, a.wrong_answer) AS wrong_points
FROM answered AS a;

INSERT INTO app.questions (
    id, exam_id, position, kind, prompt, options, correct, tolerance, points, version,
    created_at, updated_at
)
SELECT
    q.id,
    q.exam_id,
    q.position,
    q.kind,
    q.prompt,
    q.options,
    q.correct,
    q.tolerance,
    q.points,
    1 AS version,
    e.opens_at - interval '7 days' AS created_at,
    e.opens_at - interval '7 days' AS updated_at
FROM seed_questions AS q
INNER JOIN seed_exams AS e ON q.exam_id = e.id
ORDER BY e.n, q.position;

ANALYZE seed_exams;
ANALYZE seed_questions;

SELECT
    format(
        '%s exams (the largest %s attempts, the smallest %s), %s questions',
        count(*), max(e.size), min(e.size), (SELECT count(*) FROM seed_questions)
    )
FROM seed_exams AS e;

-- stage: attempts: finished attempts, their sizes and their kind of behaviour
CREATE TEMP TABLE seed_exam_papers ON COMMIT DROP AS
SELECT
    q.exam_id,
    jsonb_agg(q.snapshot ORDER BY q.position) AS scored_against,
    jsonb_agg(to_jsonb(q.id) ORDER BY q.position) AS question_order,
    sum(q.points) AS max_score
FROM seed_questions AS q
GROUP BY q.exam_id;

CREATE TEMP TABLE seed_attempts ON COMMIT DROP AS
WITH drawn AS (
    SELECT
        e.id AS exam_id,
        e.n AS exam_n,
        e.duration_minutes,
        s.id AS student_id,
        s.skill,
        e.opens_at
        + random() * (p.span_end - e.opens_at - make_interval(mins => e.duration_minutes))
            AS started_at,
        random() AS behaviour,
        random() AS pace,
        0.5 + random() AS jitter
    FROM seed_exams AS e
    CROSS JOIN seed_plan AS p
    CROSS JOIN LATERAL generate_series(0, e.size - 1) AS j (k)
    INNER JOIN seed_students AS s ON s.n = 1 + (e.student_offset + j.k) % p.students
),

kinded AS (
    SELECT
        d.*,
        CASE
            WHEN d.behaviour < 0.03 THEN 'noisy'
            WHEN d.behaviour < 0.08 THEN 'mild'
            ELSE 'clean'
        END AS behaviour_kind,
        -- A time-ordered id (UUID version 7: milliseconds of the start,
        -- then random bits), so that the attempts, their answers and their
        -- events go into every index in order.
        (
            lpad(to_hex(floor(extract(EPOCH FROM d.started_at) * 1000)::bigint), 12, '0')
            || '7' || substr(md5(random()::text), 1, 3)
            || (ARRAY['8', '9', 'a', 'b'])[1 + floor(random() * 4)::integer]
            || substr(md5(random()::text), 1, 15)
        )::uuid AS id
    FROM drawn AS d
),

weighted AS (
    SELECT
        k.*,
        row_number() OVER (ORDER BY k.id) AS seq,
        -- Events are shared out by weight: noisy attempts have several
        -- times the events of a clean one.
        sum(
            k.jitter * CASE k.behaviour_kind WHEN 'noisy' THEN 4 WHEN 'mild' THEN 1.5 ELSE 1 END
        ) OVER (ORDER BY k.id) AS weight_to,
        sum(
            k.jitter * CASE k.behaviour_kind WHEN 'noisy' THEN 4 WHEN 'mild' THEN 1.5 ELSE 1 END
        ) OVER () AS weight_total
    FROM kinded AS k
),

sized AS (
    SELECT
        w.*,
        -- Exactly the asked number of events in all: each attempt's share
        -- is the difference of the rounded running totals.
        (
            floor(p.events * w.weight_to / w.weight_total)
            - lag(floor(p.events * w.weight_to / w.weight_total), 1, 0) OVER (ORDER BY w.seq)
        )::integer AS events
    FROM weighted AS w
    CROSS JOIN seed_plan AS p
)

SELECT
    z.seq,
    z.id,
    z.exam_id,
    z.student_id,
    z.skill,
    z.behaviour_kind,
    z.events,
    z.started_at,
    z.started_at + make_interval(mins => z.duration_minutes) AS deadline,
    -- A clean attempt lasts at most 50 s per event (its heartbeats are
    -- never more than 60 s apart); one in 25 of the others ran out of
    -- time (expired at the deadline).
    CASE
        WHEN z.behaviour_kind <> 'clean' AND z.seq % 25 = 0 THEN 'expired'
        ELSE 'submitted'
    END::app.attempt_status AS status,
    CASE
        WHEN z.behaviour_kind <> 'clean' AND z.seq % 25 = 0
            THEN make_interval(mins => z.duration_minutes)
        WHEN z.behaviour_kind = 'clean'
            THEN least(
                make_interval(secs => z.duration_minutes * 60 * (0.4 + 0.6 * z.pace)),
                make_interval(secs => z.events * 50)
            )
        ELSE make_interval(secs => z.duration_minutes * 60 * (0.4 + 0.6 * z.pace))
    END AS duration
FROM sized AS z;

ALTER TABLE seed_attempts ADD PRIMARY KEY (seq);
ANALYZE seed_attempts;

-- The answers, right as often as the student's skill says (by a fixed
-- pseudo-random sequence of the attempt and the question), and the score.
CREATE TEMP VIEW seed_attempt_answers AS
WITH pairs AS (
    SELECT
        a.seq,
        a.id AS attempt_id,
        q.id AS question_id,
        q.position,
        q.right_answer,
        q.wrong_answer,
        q.right_points,
        q.wrong_points,
        a.started_at + a.duration * (q.position / 9.0) AS saved_at,
        (a.seq * 0.6180339887498949 + q.position * 0.7548776662466927)
        - floor(a.seq * 0.6180339887498949 + q.position * 0.7548776662466927) < a.skill
            AS is_right
    FROM seed_attempts AS a
    INNER JOIN seed_questions AS q ON a.exam_id = q.exam_id
)

SELECT
    p.seq,
    p.attempt_id,
    p.question_id,
    p.position,
    p.is_right,
    CASE WHEN p.is_right THEN p.right_answer ELSE p.wrong_answer END AS answer,
    CASE WHEN p.is_right THEN p.right_points ELSE p.wrong_points END AS points_awarded,
    p.saved_at
FROM pairs AS p;

INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at, score,
    max_score, question_order, scored_against, created_at, updated_at
)
WITH sc AS (
    SELECT
        x.seq,
        sum(x.points_awarded) AS score
    FROM seed_attempt_answers AS x
    GROUP BY x.seq
)

SELECT
    a.id,
    a.exam_id,
    a.student_id,
    1 AS attempt_number,
    a.status,
    a.started_at,
    a.deadline,
    a.started_at + a.duration AS finished_at,
    sc.score,
    pp.max_score,
    pp.question_order,
    pp.scored_against,
    a.started_at AS created_at,
    a.started_at + a.duration AS updated_at
FROM seed_attempts AS a
INNER JOIN seed_exam_papers AS pp ON a.exam_id = pp.exam_id
INNER JOIN sc ON a.seq = sc.seq
ORDER BY a.seq;

-- The k-th event of an attempt of each kind of behaviour: heartbeats
-- only for a clean one; a mild one loses focus now and then and copies
-- once in a while; a noisy one switches tabs, looks away, pastes, leaves
-- the camera, opens the developer tools.
CREATE TEMP TABLE seed_event_patterns ON COMMIT DROP AS
SELECT
    x.behaviour_kind,
    x.k,
    x.event_type,
    t.severity,
    t.is_anomaly,
    CASE
        WHEN x.event_type IN ('gaze_away', 'face_missing')
            THEN jsonb_build_object('duration_seconds', 4 + x.k % 20)
        ELSE '{}'::jsonb
    END AS payload,
    'seed-' || x.k AS client_event_id
FROM (
    SELECT
        b.behaviour_kind,
        g.k,
        CASE b.behaviour_kind
            WHEN 'clean' THEN 'heartbeat'
            WHEN 'mild'
                THEN
                    CASE
                        WHEN g.k % 10 = 3 THEN 'window_blur'
                        WHEN g.k % 10 = 4 THEN 'window_focus'
                        WHEN g.k % 37 = 11 THEN 'copy'
                        ELSE 'heartbeat'
                    END
            ELSE CASE
                WHEN g.k % 6 = 1 THEN 'tab_hidden'
                WHEN g.k % 6 = 2 THEN 'tab_visible'
                WHEN g.k % 9 = 4 THEN 'gaze_away'
                WHEN g.k % 13 = 5 THEN 'paste'
                WHEN g.k % 17 = 7 THEN 'face_missing'
                WHEN g.k % 31 = 8 THEN 'devtools_open'
                WHEN g.k % 11 = 10 THEN 'copy'
                WHEN g.k % 23 = 12 THEN 'multiple_faces'
                ELSE 'heartbeat'
            END
        END::app.event_type AS event_type
    FROM (VALUES ('clean'), ('mild'), ('noisy')) AS b (behaviour_kind)
    CROSS JOIN generate_series(1, (SELECT max(a.events) FROM seed_attempts AS a)) AS g (k)
) AS x
INNER JOIN app.event_types AS t ON x.event_type = t.event_type;

ALTER TABLE seed_event_patterns ADD PRIMARY KEY (behaviour_kind, k);
ANALYZE seed_event_patterns;

-- The events are written as their owner (stage "events"): the staging
-- tables it reads.
GRANT SELECT ON seed_attempts, seed_event_patterns TO veritas_owner;

SELECT
    format(
        '%s attempts: %s clean, %s mild, %s noisy; %s expired',
        count(*),
        count(*) FILTER (WHERE a.behaviour_kind = 'clean'),
        count(*) FILTER (WHERE a.behaviour_kind = 'mild'),
        count(*) FILTER (WHERE a.behaviour_kind = 'noisy'),
        count(*) FILTER (WHERE a.status = 'expired')
    )
FROM seed_attempts AS a;

-- stage: answers: saved and graded answers
INSERT INTO app.attempt_answers (attempt_id, question_id, answer, saved_at, points_awarded)
SELECT
    x.attempt_id,
    x.question_id,
    x.answer,
    x.saved_at,
    x.points_awarded
FROM seed_attempt_answers AS x
ORDER BY x.seq, x.position;

SELECT format('%s answers', count(*) * 8) FROM seed_attempts;

-- stage: events [chunked]: monitoring events, attempt by attempt
-- As veritas_owner, like the recording functions: the owner alone touches
-- the events (docs/scaling.md), and on Citus a transaction that wrote them
-- as one role cannot read them as another (the analyser, stage
-- "analyses", reads them as the owner). The owner is subject to the
-- events' row-level security (FORCE), whose policy lets it insert anything;
-- Citus writes an INSERT ... SELECT into its shards with COPY, which
-- PostgreSQL refuses on a table whose policies apply to the writer. So FORCE
-- is off for this statement only, in this transaction only (the ALTER holds
-- the table's exclusive lock until the commit; a rollback undoes it), by
-- the function the Citus step uses for the same reason
-- (sql/functions/deploy/citus.sql).
SET LOCAL ROLE veritas_owner;
SELECT internal.citus_force_event_policies(FALSE);

INSERT INTO app.monitoring_events (
    attempt_id, id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
    received_at, severity, is_anomaly, payload, client_event_id
)
SELECT
    a.id AS attempt_id,
    gen_random_uuid() AS id,
    a.started_at,
    a.exam_id,
    a.student_id,
    p.event_type,
    -- Evenly spread over the attempt, half a step from either end.
    a.started_at + a.duration * ((p.k - 0.5) / a.events) AS occurred_at,
    a.started_at + a.duration * ((p.k - 0.5) / a.events)
    + interval '40 milliseconds' AS received_at,
    p.severity,
    p.is_anomaly,
    p.payload,
    p.client_event_id
FROM seed_chunk AS c
INNER JOIN seed_attempts AS a ON a.seq BETWEEN c.lo AND c.hi
INNER JOIN seed_event_patterns AS p
    ON a.behaviour_kind = p.behaviour_kind AND a.events >= p.k;

SELECT internal.citus_force_event_policies(TRUE);
RESET ROLE;

-- stage: analyses: behaviour analyses (built-in) and analysis jobs
-- A clean attempt (heartbeats only, no gap over 60 s) is what the built-in
-- analyser scores integrity 100, lmi 0, with no flag: written as it would.
INSERT INTO app.behavior_analyses (
    attempt_id, source, model, integrity_score, lmi_score, flags, summary, is_flagged,
    created_by, created_at
)
SELECT
    a.id,
    'builtin' AS source,
    'veritas-builtin-v1' AS model,
    100 AS integrity_score,
    0 AS lmi_score,
    '[]'::jsonb,
    'No anomaly observed: integrity 100, lmi 0.' AS summary,
    FALSE AS is_flagged,
    NULL AS created_by,
    a.started_at + a.duration + interval '3 seconds' AS created_at
FROM seed_attempts AS a
WHERE a.behaviour_kind = 'clean'
ORDER BY a.seq;

-- The others by the built-in analyser itself, then dated as if the worker
-- had analysed them seconds after they finished.
SELECT count(internal.analyse_attempt(a.id))
FROM seed_attempts AS a
WHERE a.behaviour_kind <> 'clean';

UPDATE app.behavior_analyses AS b
SET created_at = a.started_at + a.duration + interval '3 seconds'
FROM seed_attempts AS a
WHERE a.behaviour_kind <> 'clean' AND b.attempt_id = a.id;

INSERT INTO app.analysis_jobs (
    attempt_id, kind, status, attempts, run_after, locked_by, locked_at, created_at, updated_at
)
SELECT
    a.id,
    'analyse_attempt' AS kind,
    'done' AS status,
    1 AS attempts,
    a.started_at + a.duration AS run_after,
    'veritas seed scale' AS locked_by,
    a.started_at + a.duration + interval '1 second' AS locked_at,
    a.started_at + a.duration AS created_at,
    a.started_at + a.duration + interval '3 seconds' AS updated_at
FROM seed_attempts AS a
ORDER BY a.seq;

SELECT
    format(
        '%s analyses, %s flagged', count(*), count(*) FILTER (WHERE b.is_flagged)
    )
FROM seed_attempts AS a
INNER JOIN app.behavior_analyses AS b ON a.id = b.attempt_id;

-- stage: reviews: teachers' reviews of some flagged attempts
-- Two in five flagged attempts reviewed by the exam's creator a day after:
-- cleared, or one time in three confirmed (with the note it needs).
INSERT INTO app.flag_reviews (attempt_id, analysis_id, reviewer_id, decision, note, created_at)
SELECT
    a.id AS attempt_id,
    b.id AS analysis_id,
    e.teacher_id AS reviewer_id,
    CASE WHEN a.seq % 3 = 0 THEN 'confirmed' ELSE 'cleared' END::app.review_status AS decision,
    CASE
        WHEN a.seq % 3 = 0 THEN 'Confirmed after reading the timeline.'
        ELSE 'Cleared: the events have an innocent explanation.'
    END AS note,
    least(b.created_at + interval '1 day', now()) AS created_at
FROM seed_attempts AS a
INNER JOIN app.behavior_analyses AS b ON a.id = b.attempt_id
INNER JOIN seed_exams AS e ON a.exam_id = e.id
WHERE b.is_flagged AND a.seq % 5 < 2
ORDER BY a.seq;

SELECT format('%s reviews', count(*))
FROM app.flag_reviews AS r
INNER JOIN seed_attempts AS a ON r.attempt_id = a.id;

-- stage: metrics: performance metrics, profile statistics and exam metrics
-- By the project's own functions, a thousand students a call.
SELECT count(internal.refresh_student_metrics(s.ids))
FROM (
    SELECT array_agg(x.id ORDER BY x.n) AS ids
    FROM seed_students AS x
    GROUP BY (x.n - 1) / 1000
) AS s;

SELECT internal.refresh_exam_metrics(array_agg(e.id))
FROM seed_exams AS e;

SELECT format(
    '%s students and %s exams with metrics',
    (SELECT count(*) FROM seed_students), (SELECT count(*) FROM seed_exams)
);

-- stage: audit: the audit triggers back on, one statement-level entry per table
DO $$
DECLARE
    v_trigger record;
BEGIN
    FOR v_trigger IN SELECT * FROM seed_audit_triggers LOOP
        EXECUTE format(
            'ALTER TABLE %s ENABLE TRIGGER %I', v_trigger.rel, v_trigger.trigger_name
        );
    END LOOP;
END;
$$;

WITH n AS (
    SELECT
        (SELECT count(*) FROM seed_teachers) AS teachers,
        (SELECT count(*) FROM seed_students) AS students,
        (SELECT count(*) FROM seed_exams) AS exams,
        (SELECT count(*) FROM seed_questions) AS questions,
        (
            SELECT count(*)
            FROM app.teacher_exam_permissions AS tp
            INNER JOIN seed_exams AS e ON tp.exam_id = e.id
        ) AS permissions,
        (SELECT count(*) FROM seed_attempts) AS attempts,
        (
            SELECT count(*) FROM seed_attempts AS a
            WHERE a.behaviour_kind <> 'clean'
        ) AS analysed,
        (SELECT count(*) FROM seed_attempt_answers) AS answers,
        (
            SELECT count(*)
            FROM app.flag_reviews AS r
            INNER JOIN seed_attempts AS a ON r.attempt_id = a.id
        ) AS reviews
)

SELECT
    c.operation,
    c.rel,
    internal.audit_operation(
        c.operation,
        c.rel::regclass,
        jsonb_build_object(
            'rows', c.row_count,
            'statement_level', TRUE,
            'by', 'veritas seed scale',
            'what', c.what,
            'seed', (
                SELECT
                    jsonb_build_object(
                        'students', p.students, 'exams', p.exams, 'events', p.events
                    )
                FROM seed_plan AS p
            )
        )
    ) AS audited
FROM n
CROSS JOIN LATERAL (
    VALUES
    ('INSERT', 'auth.users', n.teachers + n.students, 'teacher and student accounts'),
    ('INSERT', 'app.teacher_profiles', n.teachers, 'profiles of the teachers'),
    ('INSERT', 'app.student_profiles', n.students, 'profiles of the students'),
    (
        'UPDATE', 'app.student_profiles', n.students,
        'statistics, by internal.refresh_student_metrics'
    ),
    ('INSERT', 'app.exams', n.exams, 'exams'),
    ('INSERT', 'app.questions', n.questions, 'questions of the exams'),
    ('INSERT', 'app.teacher_exam_permissions', n.permissions, 'the creator and one more'),
    ('INSERT', 'app.exam_attempts', n.attempts, 'finished attempts'),
    ('INSERT', 'app.attempt_answers', n.answers, 'graded answers'),
    ('INSERT', 'app.behavior_analyses', n.attempts, 'built-in analyses'),
    (
        'UPDATE', 'app.behavior_analyses', n.analysed,
        'created_at: seconds after the attempt finished'
    ),
    ('INSERT', 'app.flag_reviews', n.reviews, 'reviews of flagged attempts')
) AS c (operation, rel, row_count, what);

SELECT 'the audit triggers re-enabled; one audit.log entry per table';
