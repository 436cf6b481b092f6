-- 51 the built-in analyser on hand-computed attempts (docs/analysis.md).
--
-- Every attempt here runs 30 minutes, 10:00:00 to 10:30:00 (T = 1800 s, so
-- 18 s is 1% of the attempt), unless it says otherwise; events are put
-- at whole seconds after the start, as the superuser. Each expected figure
-- is worked out beside its test from the rules table:
--
--   penalty = least(cap, per_percent * percent + per_occurrence * count)
--   weight  = least(cap, per_percent * percent + per_occurrence * count)
--   integrity = 100 - sum(penalty), lmi = 1 - product(1 - weight)
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(52);

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000051a01', 'an-teacher@example.org', 'x', 'Teacher', 'teacher'),
('00000000-0000-4000-8000-000000051b01', 'an-sam@example.org', 'x', 'Sam', 'student');
INSERT INTO app.student_profiles (user_id) VALUES ('00000000-0000-4000-8000-000000051b01');

INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, max_attempts)
VALUES (
    '00000000-0000-4000-8000-000000051e01', 'Analyser', '00000000-0000-4000-8000-000000051a01',
    30, '2026-01-05 09:00:00+00', '2026-01-05 18:00:00+00', 10
);
INSERT INTO app.questions (id, exam_id, position, kind, prompt, options, correct, points) VALUES
('00000000-0000-4000-8000-000000051f01', '00000000-0000-4000-8000-000000051e01', 1,
    'short_text', 'Capital of France?', '[]', '["Paris"]', 1),
('00000000-0000-4000-8000-000000051f02', '00000000-0000-4000-8000-000000051e01', 2,
    'short_text', 'Capital of Italy?', '[]', '["Rome"]', 1);

CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v text);
CREATE FUNCTION pg_temp.keep(p_key text, p_value text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pg_temp.ctx (k, v) VALUES (p_key, p_value)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v;
$$;
CREATE FUNCTION pg_temp.val(p_key text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT v FROM pg_temp.ctx WHERE k = p_key $$;
CREATE FUNCTION pg_temp.ids(VARIADIC p_keys text[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(to_jsonb(pg_temp.val(k)) ORDER BY o), '[]')
    FROM unnest(p_keys) WITH ORDINALITY AS x (k, o)
$$;

-- A finished attempt n of Sam: 10:00:00 for p_minutes, graded.
CREATE FUNCTION pg_temp.attempt(
    p_n integer, p_status app.attempt_status DEFAULT 'submitted', p_minutes integer DEFAULT 30
) RETURNS uuid
LANGUAGE sql AS $$
    INSERT INTO app.exam_attempts (
        id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
        score, max_score, question_order, scored_against
    )
    SELECT
        ('00000000-0000-4000-8000-0000000510' || lpad(p_n::text, 2, '0'))::uuid,
        '00000000-0000-4000-8000-000000051e01', '00000000-0000-4000-8000-000000051b01', p_n,
        p_status, '2026-01-05 10:00:00+00',
        '2026-01-05 10:00:00+00'::timestamptz + make_interval(mins => p_minutes),
        CASE WHEN p_status <> 'in_progress'
            THEN '2026-01-05 10:00:00+00'::timestamptz + make_interval(mins => p_minutes) END,
        CASE WHEN p_status <> 'in_progress' THEN 1 END, 2,
        jsonb_agg(q.id ORDER BY q.position),
        jsonb_agg(jsonb_build_object(
            'id', q.id, 'position', q.position, 'kind', q.kind, 'prompt', q.prompt,
            'options', q.options, 'correct', q.correct, 'points', q.points, 'version', q.version
        ) ORDER BY q.position)
    FROM app.questions AS q
    WHERE q.exam_id = '00000000-0000-4000-8000-000000051e01'
    RETURNING id;
$$;

-- An event of attempt n at `p_at` seconds after 10:00:00, kept as p_key.
CREATE FUNCTION pg_temp.ev(
    p_n integer, p_type app.event_type, p_at integer, p_key text DEFAULT NULL,
    p_payload jsonb DEFAULT '{}'
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    -- as the recording functions store an event
    SELECT tests.insert_event(a.id, p_type, a.started_at + make_interval(secs => p_at), p_payload,
        NULL, NULL, a.started_at + make_interval(secs => p_at))
    INTO v_id
    FROM app.exam_attempts AS a
    WHERE a.id = ('00000000-0000-4000-8000-0000000510' || lpad(p_n::text, 2, '0'))::uuid;
    IF p_key IS NOT NULL THEN
        PERFORM pg_temp.keep(p_key, v_id::text);
    END IF;
END
$$;

-- Heartbeats of attempt n every 30 s from p_from to p_to.
CREATE FUNCTION pg_temp.heartbeats(p_n integer, p_from integer, p_to integer) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_temp.ev(p_n, 'heartbeat', s) FROM generate_series(p_from, p_to, 30) AS s;
$$;

-- An answer of attempt n to question q (1 or 2), saved p_at s after 10:00:00.
CREATE FUNCTION pg_temp.answer(p_n integer, p_q integer, p_answer text, p_points numeric, p_at integer)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO app.attempt_answers (attempt_id, question_id, answer, saved_at, points_awarded)
    VALUES (
        ('00000000-0000-4000-8000-0000000510' || lpad(p_n::text, 2, '0'))::uuid,
        ('00000000-0000-4000-8000-000000051f0' || p_q)::uuid,
        to_jsonb(p_answer),
        '2026-01-05 10:00:00+00'::timestamptz + make_interval(secs => p_at),
        p_points
    );
$$;

-- The flag of that code in an analysis, without its label and message.
CREATE FUNCTION pg_temp.flag(p_analysis jsonb, p_code text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT f - 'label' - 'message'
    FROM jsonb_array_elements(p_analysis -> 'flags') AS f
    WHERE f ->> 'code' = p_code
$$;
CREATE FUNCTION pg_temp.codes(p_analysis jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(f ->> 'code' ORDER BY o), '{}')
    FROM jsonb_array_elements(p_analysis -> 'flags') WITH ORDINALITY AS x (f, o)
$$;

-- ---------------------------------------------------------------------------
-- 1. A clean attempt: a heartbeat every 30 s, nothing else.
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(1);
SELECT pg_temp.heartbeats(1, 30, 1770);
SELECT pg_temp.keep('clean', internal.analyse_attempt('00000000-0000-4000-8000-000000051001')::text);

SELECT is((pg_temp.val('clean')::jsonb ->> 'integrity_score')::numeric, 100::numeric,
    'clean attempt: integrity 100');
SELECT is((pg_temp.val('clean')::jsonb ->> 'lmi_score')::numeric, 0::numeric,
    'clean attempt: lmi 0');
SELECT is(pg_temp.val('clean')::jsonb -> 'flags', '[]'::jsonb, 'clean attempt: no flag');
SELECT is((pg_temp.val('clean')::jsonb ->> 'is_flagged')::boolean, FALSE,
    'clean attempt: not flagged');
SELECT is(pg_temp.val('clean')::jsonb ->> 'summary', 'No anomaly observed: integrity 100, lmi 0.',
    'clean attempt: the summary says so');
SELECT results_eq(
    $$ SELECT source::text, model, created_by FROM app.behavior_analyses
       WHERE attempt_id = '00000000-0000-4000-8000-000000051001' $$,
    $$ VALUES ('builtin', 'veritas-builtin-v1', NULL::uuid) $$,
    'the analysis is stored: source builtin, model veritas-builtin-v1, created by nobody'
);

-- ---------------------------------------------------------------------------
-- 2. An anomaly-heavy attempt (heartbeats every 30 s throughout):
--    tab hidden 100-130 (paired), 300-342 (paired), 1002-1020 (unpaired:
--      until the heartbeat at 1020): 3 times, 90 s = 5%
--      -> penalty 1*5 + 1*3 = 8, weight 0.015*5 + 0.03*3 = 0.165
--    gaze away at 400, 700, 1200, 1500, 180 s each: 720 s = 40%
--      -> penalty min(30, 0.75*40) = 30, weight min(0.5, 0.0125*40) = 0.5
--    paste at 1790, Paris saved (correct) at 1795
--      -> paste_before_correct_answer: 20, 0.5; paste: 5, 0.1
--    devtools at 50 -> 15, 0.35; copy at 1100 and 1101 -> 4, 0.1
--    integrity = 100 - (8 + 30 + 20 + 5 + 15 + 4) = 18
--    lmi = 1 - 0.835 * 0.5 * 0.5 * 0.9 * 0.65 * 0.9 = 0.890093125 -> 0.8901
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(2);
SELECT pg_temp.heartbeats(2, 30, 1770);
SELECT pg_temp.ev(2, 'devtools_open', 50, 'devtools');
SELECT pg_temp.ev(2, 'tab_hidden', 100, 'th1');
SELECT pg_temp.ev(2, 'tab_visible', 130);
SELECT pg_temp.ev(2, 'tab_hidden', 300, 'th2');
SELECT pg_temp.ev(2, 'tab_visible', 342);
SELECT pg_temp.ev(2, 'gaze_away', 400, 'g1', '{"duration_seconds": 180}');
SELECT pg_temp.ev(2, 'gaze_away', 700, 'g2', '{"duration_seconds": 180}');
SELECT pg_temp.ev(2, 'tab_hidden', 1002, 'th3');
SELECT pg_temp.ev(2, 'copy', 1100, 'c1');
SELECT pg_temp.ev(2, 'copy', 1101, 'c2');
SELECT pg_temp.ev(2, 'gaze_away', 1200, 'g3', '{"duration_seconds": 180}');
SELECT pg_temp.ev(2, 'gaze_away', 1500, 'g4', '{"duration_seconds": 180}');
SELECT pg_temp.ev(2, 'paste', 1790, 'p1');
SELECT pg_temp.answer(2, 1, 'Paris', 1, 1795);
SELECT pg_temp.keep('heavy', internal.analyse_attempt('00000000-0000-4000-8000-000000051002')::text);

SELECT is((pg_temp.val('heavy')::jsonb ->> 'integrity_score')::numeric, 18::numeric,
    'anomaly-heavy attempt: integrity 100 - 82 = 18');
SELECT is((pg_temp.val('heavy')::jsonb ->> 'lmi_score')::numeric, 0.8901,
    'anomaly-heavy attempt: lmi 1 - 0.835 * 0.5 * 0.5 * 0.9 * 0.65 * 0.9 = 0.8901');
SELECT is((pg_temp.val('heavy')::jsonb ->> 'is_flagged')::boolean, TRUE,
    'anomaly-heavy attempt: flagged (lmi >= 0.5)');
SELECT is(
    pg_temp.codes(pg_temp.val('heavy')::jsonb),
    ARRAY['gaze_away', 'paste_before_correct_answer', 'devtools_open', 'tab_hidden', 'paste', 'copy'],
    'anomaly-heavy attempt: six flags, heaviest first (weight, then penalty)'
);
SELECT is(
    pg_temp.flag(pg_temp.val('heavy')::jsonb, 'tab_hidden'),
    jsonb_build_object(
        'code', 'tab_hidden', 'severity', 2, 'count', 3, 'seconds', 90, 'percent', 5,
        'penalty', 8, 'weight', 0.165, 'unpaired', 1,
        'event_ids', pg_temp.ids('th1', 'th2', 'th3')
    ),
    'tab_hidden: 3 times, 90 s (two paired, one until the next heartbeat), with its events'
);
SELECT is(
    pg_temp.flag(pg_temp.val('heavy')::jsonb, 'gaze_away'),
    jsonb_build_object(
        'code', 'gaze_away', 'severity', 2, 'count', 4, 'seconds', 720, 'percent', 40,
        'penalty', 30, 'weight', 0.5, 'event_ids', pg_temp.ids('g1', 'g2', 'g3', 'g4')
    ),
    'gaze_away: 40% of the attempt, with its four events'
);
SELECT is(
    pg_temp.flag(pg_temp.val('heavy')::jsonb, 'paste_before_correct_answer'),
    jsonb_build_object(
        'code', 'paste_before_correct_answer', 'severity', 3, 'count', 1, 'penalty', 20,
        'weight', 0.5, 'event_ids', pg_temp.ids('p1'),
        'question_ids', '["00000000-0000-4000-8000-000000051f01"]'::jsonb
    ),
    'paste_before_correct_answer: the paste and the question it answered'
);
SELECT is(
    pg_temp.flag(pg_temp.val('heavy')::jsonb, 'devtools_open'),
    jsonb_build_object(
        'code', 'devtools_open', 'severity', 3, 'count', 1, 'penalty', 15, 'weight', 0.35,
        'event_ids', pg_temp.ids('devtools')
    ),
    'devtools_open: once, with its event'
);
SELECT is(
    pg_temp.flag(pg_temp.val('heavy')::jsonb, 'copy'),
    jsonb_build_object(
        'code', 'copy', 'severity', 2, 'count', 2, 'penalty', 4, 'weight', 0.1,
        'event_ids', pg_temp.ids('c1', 'c2')
    ),
    'copy: twice, with both events in order'
);
SELECT is(
    pg_temp.flag(pg_temp.val('heavy')::jsonb, 'paste'),
    jsonb_build_object(
        'code', 'paste', 'severity', 3, 'count', 1, 'penalty', 5, 'weight', 0.1,
        'event_ids', pg_temp.ids('p1')
    ),
    'paste: counted on its own too'
);
SELECT is(
    (SELECT f ->> 'message' FROM jsonb_array_elements(pg_temp.val('heavy')::jsonb -> 'flags') AS f
     WHERE f ->> 'code' = 'tab_hidden'),
    'exam tab hidden: 3 times, 90 s in total (5% of the attempt)',
    'each flag says what it saw in a sentence'
);
SELECT is(
    pg_temp.val('heavy')::jsonb ->> 'summary',
    'Flagged: integrity 18, lmi 0.8901. Seen: eyes away from the screen (4); '
    || 'paste right before a correct short-text answer (1); developer tools opened (1); '
    || 'exam tab hidden (3); text pasted (1); text copied (2).',
    'the summary names the flags, heaviest first'
);

-- Idempotent: the same attempt analysed again gives the same result and
-- stores nothing new.
SELECT is(
    internal.analyse_attempt('00000000-0000-4000-8000-000000051002'),
    pg_temp.val('heavy')::jsonb,
    'analysing again returns the same analysis'
);
SELECT is(
    (SELECT count(*)::int FROM app.behavior_analyses
     WHERE attempt_id = '00000000-0000-4000-8000-000000051002'),
    1,
    '... and stores no second row'
);

-- ---------------------------------------------------------------------------
-- 3. A moderate attempt, not flagged:
--    heartbeats at 30, 60, then from 276 every 30 s to 1776: one silence
--      60 -> 276 = 216 s = 12% -> unobserved: penalty 0.6*12 = 7.2,
--      weight 0.008*12 = 0.096 (the ends, 0 -> 30 and 1776 -> 1800, are short)
--    window blur 500 -> focus 554: 54 s = 3%, once
--      -> penalty 0.5*3 + 0.5 = 2, weight 0.0075*3 + 0.01 = 0.0325
--    network offline at 888, never back: until the heartbeat at 906, 18 s = 1%
--      -> penalty 0.3 + 0.5 = 0.8, weight 0.004 + 0.01 = 0.014
--    paste at 1500 before a wrong answer saved at 1505: paste only, 5, 0.1
--    integrity = 100 - (7.2 + 2 + 0.8 + 5) = 85
--    lmi = 1 - 0.9 * 0.904 * 0.9675 * 0.986 = 0.223862212 -> 0.2239
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(3);
SELECT pg_temp.heartbeats(3, 30, 60);
SELECT pg_temp.ev(3, 'heartbeat', 276, 'hb276');
SELECT pg_temp.heartbeats(3, 306, 1776);
SELECT pg_temp.ev(3, 'window_blur', 500, 'wb');
SELECT pg_temp.ev(3, 'window_focus', 554);
SELECT pg_temp.ev(3, 'network_offline', 888, 'off');
SELECT pg_temp.ev(3, 'paste', 1500, 'p3');
SELECT pg_temp.answer(3, 2, 'Milan', 0, 1505);
SELECT pg_temp.keep('moderate', internal.analyse_attempt('00000000-0000-4000-8000-000000051003')::text);

SELECT is((pg_temp.val('moderate')::jsonb ->> 'integrity_score')::numeric, 85::numeric,
    'moderate attempt: integrity 100 - 15 = 85');
SELECT is((pg_temp.val('moderate')::jsonb ->> 'lmi_score')::numeric, 0.2239,
    'moderate attempt: lmi 1 - 0.9 * 0.904 * 0.9675 * 0.986 = 0.2239');
SELECT is((pg_temp.val('moderate')::jsonb ->> 'is_flagged')::boolean, FALSE,
    'moderate attempt: not flagged (lmi < 0.5)');
SELECT is(
    pg_temp.codes(pg_temp.val('moderate')::jsonb),
    ARRAY['paste', 'unobserved', 'window_blur', 'network_offline'],
    'moderate attempt: four flags, heaviest first; a paste before a wrong answer is only a paste'
);
SELECT is(
    pg_temp.flag(pg_temp.val('moderate')::jsonb, 'unobserved'),
    jsonb_build_object(
        'code', 'unobserved', 'severity', 2, 'count', 1, 'seconds', 216, 'percent', 12,
        'penalty', 7.2, 'weight', 0.096, 'event_ids', pg_temp.ids('hb276'),
        'gaps', jsonb_build_array(jsonb_build_object(
            'from', '2026-01-05 10:01:00+00'::timestamptz,
            'to', '2026-01-05 10:04:36+00'::timestamptz, 'seconds', 216
        ))
    ),
    'unobserved: the 216 s silence, with the event that ended it'
);
SELECT is(
    pg_temp.flag(pg_temp.val('moderate')::jsonb, 'window_blur'),
    jsonb_build_object(
        'code', 'window_blur', 'severity', 1, 'count', 1, 'seconds', 54, 'percent', 3,
        'penalty', 2, 'weight', 0.0325, 'unpaired', 0, 'event_ids', pg_temp.ids('wb')
    ),
    'window_blur: paired with its focus event, 54 s'
);
SELECT is(
    pg_temp.flag(pg_temp.val('moderate')::jsonb, 'network_offline'),
    jsonb_build_object(
        'code', 'network_offline', 'severity', 1, 'count', 1, 'seconds', 18, 'percent', 1,
        'penalty', 0.8, 'weight', 0.014, 'unpaired', 1, 'event_ids', pg_temp.ids('off')
    ),
    'network_offline: never back, so it lasts until the next heartbeat'
);

-- ---------------------------------------------------------------------------
-- 4. An attempt without a single event: unobserved throughout.
--    1800 s = 100% -> penalty min(30, 60) = 30, weight min(0.4, 0.8) = 0.4
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(4);
SELECT pg_temp.keep('silent', internal.analyse_attempt('00000000-0000-4000-8000-000000051004')::text);

SELECT is((pg_temp.val('silent')::jsonb ->> 'integrity_score')::numeric, 70::numeric,
    'silent attempt: integrity 70');
SELECT is((pg_temp.val('silent')::jsonb ->> 'lmi_score')::numeric, 0.4,
    'silent attempt: lmi 0.4 (unobserved is not proof): not flagged');
SELECT is(
    pg_temp.flag(pg_temp.val('silent')::jsonb, 'unobserved') - 'gaps',
    jsonb_build_object(
        'code', 'unobserved', 'severity', 2, 'count', 1, 'seconds', 1800, 'percent', 100,
        'penalty', 30, 'weight', 0.4, 'event_ids', '[]'::jsonb
    ),
    'silent attempt: one gap, the whole attempt'
);

-- ---------------------------------------------------------------------------
-- 5. An expired attempt of 10 minutes (T = 600 s, 6 s is 1%), ending at its
--    deadline; events outside the window are clamped to it.
--    heartbeats every 30 s from 30 to 570, one at -20 (before the start)
--      and one at 700 (after the end): no gap over 60 s
--    multiple faces at 100 and 200 -> penalty 20, weight 0.6
--    face missing at 250 for 30 s (5%) -> 0.75*5 + 2 = 5.75, 0.0625 + 0.05 = 0.1125
--    tab hidden at 400, again at 409, visible at 430: the first is unpaired
--      (another start comes first) and lasts until 409; the second 409 -> 430:
--      2 times, 30 s = 5% -> 5 + 2 = 7, 0.075 + 0.06 = 0.135
--    integrity = 100 - 32.75 = 67.25
--    lmi = 1 - 0.4 * 0.8875 * 0.865 = 0.692925 -> 0.6929
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(5, 'expired', 10);
SELECT pg_temp.heartbeats(5, 30, 570);
SELECT pg_temp.ev(5, 'heartbeat', -20);
SELECT pg_temp.ev(5, 'heartbeat', 700);
SELECT pg_temp.ev(5, 'multiple_faces', 100, 'mf1');
SELECT pg_temp.ev(5, 'multiple_faces', 200, 'mf2');
SELECT pg_temp.ev(5, 'face_missing', 250, 'fm', '{"duration_seconds": 30}');
SELECT pg_temp.ev(5, 'tab_hidden', 400, 'th5a');
SELECT pg_temp.ev(5, 'tab_hidden', 409, 'th5b');
SELECT pg_temp.ev(5, 'tab_visible', 430);
SELECT pg_temp.keep('expired', internal.analyse_attempt('00000000-0000-4000-8000-000000051005')::text);

SELECT is((pg_temp.val('expired')::jsonb ->> 'integrity_score')::numeric, 67.25,
    'expired attempt: integrity 100 - 32.75 = 67.25 (observed until its deadline)');
SELECT is((pg_temp.val('expired')::jsonb ->> 'lmi_score')::numeric, 0.6929,
    'expired attempt: lmi 1 - 0.4 * 0.8875 * 0.865 = 0.6929');
SELECT is((pg_temp.val('expired')::jsonb ->> 'is_flagged')::boolean, TRUE,
    'expired attempt: flagged');
SELECT is(
    pg_temp.codes(pg_temp.val('expired')::jsonb),
    ARRAY['multiple_faces', 'tab_hidden', 'face_missing'],
    'expired attempt: three flags, no unobserved time (clamped events close the gaps)'
);
SELECT is(
    pg_temp.flag(pg_temp.val('expired')::jsonb, 'tab_hidden'),
    jsonb_build_object(
        'code', 'tab_hidden', 'severity', 2, 'count', 2, 'seconds', 30, 'percent', 5,
        'penalty', 7, 'weight', 0.135, 'unpaired', 1, 'event_ids', pg_temp.ids('th5a', 'th5b')
    ),
    'a tab hidden twice before it is visible again: two episodes, no time counted twice'
);
SELECT is(
    pg_temp.flag(pg_temp.val('expired')::jsonb, 'face_missing'),
    jsonb_build_object(
        'code', 'face_missing', 'severity', 3, 'count', 1, 'seconds', 30, 'percent', 5,
        'penalty', 5.75, 'weight', 0.1125, 'event_ids', pg_temp.ids('fm')
    ),
    'face_missing: the duration its payload gives'
);
SELECT is(
    pg_temp.flag(pg_temp.val('expired')::jsonb, 'multiple_faces'),
    jsonb_build_object(
        'code', 'multiple_faces', 'severity', 3, 'count', 2, 'penalty', 20, 'weight', 0.6,
        'event_ids', pg_temp.ids('mf1', 'mf2')
    ),
    'multiple_faces: twice'
);

-- ---------------------------------------------------------------------------
-- 6. Durations: a gaze_away without duration counts 5 s; one longer than
--    the time to the next gaze_away is cut there; caps hold.
--    gaze at 100 (no duration: 5 s), at 200 for 600 s (cut at 500: 300 s),
--    at 500 for 2000 s (cut at the end, 1800: 1300 s): 1605 s = 89.1667%
--      -> penalty min(30, 66.875) = 30, weight min(0.5, 1.1146) = 0.5
--    tab hidden at 10 and never visible, no heartbeat after: until the end,
--      1790 s = 99.4444% -> penalty min(40, 100.4444) = 40, weight min(0.6, ...) = 0.6
--    silences over 60 s: 10 -> 100, 100 -> 200, 200 -> 500, 500 -> 1800:
--      4 gaps, 1790 s -> penalty min(30, 59.6667) = 30, weight min(0.4, 0.7956) = 0.4
--    integrity = 100 - (30 + 40 + 30) = 0 (floored); lmi = 1 - 0.5 * 0.4 * 0.6 = 0.88
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(6);
SELECT pg_temp.ev(6, 'tab_hidden', 10);
SELECT pg_temp.ev(6, 'gaze_away', 100);
SELECT pg_temp.ev(6, 'gaze_away', 200, NULL, '{"duration_seconds": 600}');
SELECT pg_temp.ev(6, 'gaze_away', 500, NULL, '{"duration_seconds": 2000}');
SELECT pg_temp.keep('durations', internal.analyse_attempt('00000000-0000-4000-8000-000000051006')::text);

SELECT is(
    (pg_temp.flag(pg_temp.val('durations')::jsonb, 'gaze_away') ->> 'seconds')::numeric, 1605::numeric,
    'gaze_away: 5 s by default, cut at the next gaze_away and at the end: 1605 s'
);
SELECT is(
    (pg_temp.flag(pg_temp.val('durations')::jsonb, 'tab_hidden') ->> 'seconds')::numeric, 1790::numeric,
    'a tab hidden and never visible again, with no heartbeat after it, counts until the end'
);
SELECT is(
    (pg_temp.flag(pg_temp.val('durations')::jsonb, 'unobserved') ->> 'seconds')::numeric, 1790::numeric,
    'unobserved: four silences over 60 s, 1790 s in all'
);
SELECT is((pg_temp.val('durations')::jsonb ->> 'integrity_score')::numeric, 0::numeric,
    'integrity never goes below 0 (penalties 30 + 40 + 30)');
SELECT is((pg_temp.val('durations')::jsonb ->> 'lmi_score')::numeric, 0.88,
    'capped weights: lmi 1 - 0.5 * 0.4 * 0.6 = 0.88');

-- 7. Payloads the analyser does not trust: a duration that is not a number,
--    or negative, counts the default 5 s; a paste that names another
--    question does not make a correct answer suspect.
SELECT pg_temp.attempt(8);
SELECT pg_temp.ev(8, 'gaze_away', 100, NULL, '{"duration_seconds": "long"}');
SELECT pg_temp.ev(8, 'gaze_away', 200, NULL, '{"duration_seconds": -3}');
SELECT pg_temp.ev(8, 'paste', 1000, NULL, '{"question_id": "00000000-0000-4000-8000-000000051f02"}');
SELECT pg_temp.answer(8, 1, 'Paris', 1, 1010);
SELECT pg_temp.keep('payloads', internal.analyse_attempt('00000000-0000-4000-8000-000000051008')::text);
SELECT is(
    (pg_temp.flag(pg_temp.val('payloads')::jsonb, 'gaze_away') ->> 'seconds')::numeric, 10::numeric,
    'a duration that is not a number, or is negative, counts 5 s'
);
SELECT is(
    pg_temp.flag(pg_temp.val('payloads')::jsonb, 'paste_before_correct_answer'),
    NULL,
    'a paste naming another question does not flag the correct answer saved after it'
);

-- ---------------------------------------------------------------------------
-- Refusals, privileges
-- ---------------------------------------------------------------------------

SELECT pg_temp.attempt(7, 'in_progress');
SELECT throws_ok(
    $$ SELECT internal.analyse_attempt('00000000-0000-4000-8000-000000051007') $$,
    'VT409', 'the attempt is in_progress: only a submitted or expired attempt is analysed',
    'an attempt in progress is not analysed'
);
SELECT throws_ok(
    $$ SELECT internal.analyse_attempt('00000000-0000-4000-8000-0000000510ff') $$,
    'VT404', 'attempt not found',
    'an unknown attempt is VT404'
);
SELECT is_definer('internal', 'analyse_attempt', ARRAY['uuid'],
    'the analyser is SECURITY DEFINER (the worker holds no table privilege)');
SELECT function_privs_are('internal', 'analyse_attempt', ARRAY['uuid'], 'worker', ARRAY['EXECUTE'],
    'the worker may run the analyser');
SELECT function_privs_are('internal', 'analyse_attempt', ARRAY['uuid'], 'student', ARRAY[]::text[],
    'a student may not run the analyser');
SELECT function_privs_are('internal', 'analyse_attempt', ARRAY['uuid'], 'integration', ARRAY[]::text[],
    'an integration account may not run the built-in analyser (it writes external analyses)');

SELECT tests.become('00000000-0000-4000-8000-000000051b01');
SELECT throws_ok(
    $$ SELECT internal.analyse_attempt('00000000-0000-4000-8000-000000051001') $$,
    '42501', NULL,
    'a student calling the analyser gets 42501'
);
SELECT tests.unbecome();

-- The rules table and docs/analysis.md agree on the codes.
SELECT set_eq(
    'SELECT code FROM internal.builtin_analysis_rules()',
    ARRAY[
        'paste_before_correct_answer', 'multiple_faces', 'devtools_open', 'face_missing', 'paste',
        'tab_hidden', 'gaze_away', 'fullscreen_exit', 'unobserved', 'copy', 'window_blur',
        'network_offline', 'unusual_pause'
    ],
    'the built-in analyser knows thirteen flag codes'
);

SELECT * FROM finish();
ROLLBACK;
