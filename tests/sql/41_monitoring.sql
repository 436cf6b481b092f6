-- 41 monitoring: recording events as the API does (idempotency, types,
-- windows, ownership, derived severity, the flood bound) and who reads them.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(26);

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000041a01', 'mon-tina@example.org', 'x', 'Tina', 'teacher'),
('00000000-0000-4000-8000-000000041a02', 'mon-tom@example.org', 'x', 'Tom', 'teacher'),
('00000000-0000-4000-8000-000000041b01', 'mon-alice@example.org', 'x', 'Alice', 'student'),
('00000000-0000-4000-8000-000000041b02', 'mon-bob@example.org', 'x', 'Bob', 'student');
INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, grace_seconds)
VALUES (
    '00000000-0000-4000-8000-000000041e01', 'Monitored', '00000000-0000-4000-8000-000000041a01',
    60, now() - interval '3 hours', now() + interval '3 hours', 30
);
INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by) VALUES (
    '00000000-0000-4000-8000-000000041e01', '00000000-0000-4000-8000-000000041a01',
    '00000000-0000-4000-8000-000000041a01'
);
-- alice: one attempt in progress, one past its deadline plus grace; bob: one in progress.
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, started_at, deadline, question_order, scored_against
) VALUES
('00000000-0000-4000-8000-000000041f01', '00000000-0000-4000-8000-000000041e01',
 '00000000-0000-4000-8000-000000041b01', 1, now() - interval '10 minutes',
 now() + interval '50 minutes', '[]', '[]'),
('00000000-0000-4000-8000-000000041f02', '00000000-0000-4000-8000-000000041e01',
 '00000000-0000-4000-8000-000000041b02', 1, now() - interval '10 minutes',
 now() + interval '50 minutes', '[]', '[]');
INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at, grace_seconds)
VALUES (
    '00000000-0000-4000-8000-000000041e02', 'Overdue', '00000000-0000-4000-8000-000000041a01',
    60, now() - interval '3 hours', now() + interval '3 hours', 30
);
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, started_at, deadline, question_order, scored_against
) VALUES
('00000000-0000-4000-8000-000000041f03', '00000000-0000-4000-8000-000000041e02',
 '00000000-0000-4000-8000-000000041b01', 1, now() - interval '2 hours',
 now() - interval '1 hour', '[]', '[]');

CREATE FUNCTION pg_temp.ev(p_attempt text, p_type text, p_id text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'attempt_id', '00000000-0000-4000-8000-000000041' || p_attempt,
        'event_type', p_type, 'occurred_at', '2026-11-25T10:00:00Z',
        'payload', '{}'::jsonb, 'client_event_id', p_id
    );
$$;
-- PL/pgSQL: on Citus a SQL function cannot pass its parameters into a query
-- of a distributed table (docs/scaling.md#4-citus).
CREATE FUNCTION pg_temp.stored(p_attempt text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM app.monitoring_events
            WHERE attempt_id = ('00000000-0000-4000-8000-000000041' || p_attempt)::uuid);
END;
$$;

SELECT tests.become('00000000-0000-4000-8000-000000041b01');

SELECT is(
    api.record_monitoring_events(pg_temp.ev('f01', 'tab_hidden', 'e-1')) -> 'duplicate',
    'false'::jsonb,
    'alice records an event of her attempt in progress'
);
SELECT is(
    api.record_monitoring_events(pg_temp.ev('f01', 'tab_hidden', 'e-1')) -> 'duplicate',
    'true'::jsonb,
    'the same client_event_id again is a duplicate'
);
SELECT is(
    api.record_monitoring_events(jsonb_build_object('events', jsonb_build_array(
        pg_temp.ev('f01', 'heartbeat', 'e-2'), pg_temp.ev('f01', 'heartbeat', 'e-2'),
        pg_temp.ev('f01', 'heartbeat', 'e-1')
    ))),
    '{"accepted": 1, "duplicates": 2}'::jsonb,
    'a batch counts duplicates within itself and against stored events'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f01', 'mind_reading', 'e-3'))$$,
    '22023',
    'event 1: unknown event_type "mind_reading"; the event types are '
    || array_to_string(enum_range(NULL::app.event_type), ', '),
    'an unknown event type is refused (400), naming the event and the valid types'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(jsonb_build_object('events', '[]'::jsonb))$$,
    '22023', NULL,
    'an empty batch is refused (400)'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f02', 'paste', 'e-4'))$$,
    'VT404', NULL,
    'alice cannot record events of bob''s attempt (404, nothing revealed)'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f03', 'paste', 'e-5'))$$,
    'VT409', NULL,
    'an attempt past its deadline plus grace takes no events (409)'
);
SELECT lives_ok(
    $$SELECT api.record_monitoring_events(
        pg_temp.ev('f01', 'devtools_open', 'e-6') || '{"is_anomaly": false, "severity": 0}')$$,
    'extra fields claiming no anomaly are ignored'
);
SELECT set_config('veritas.events_per_attempt_minute', '5', TRUE);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(jsonb_build_object('events', jsonb_build_array(
        pg_temp.ev('f01', 'heartbeat', 'r-1'), pg_temp.ev('f01', 'heartbeat', 'r-2'),
        pg_temp.ev('f01', 'heartbeat', 'r-3'))))$$,
    'VT429', NULL,
    'past the per-attempt bound for this minute, a batch is refused (429)'
);
SELECT set_config('veritas.events_per_attempt_minute', '', TRUE);

-- The admission helpers check the attempt themselves: called directly,
-- alice cannot spend bob's events for this minute.
SELECT throws_ok(
    $$SELECT internal.admit_events('00000000-0000-4000-8000-000000041f02', 10000)$$,
    'VT404', NULL,
    'alice cannot use up bob''s event budget by calling the helper directly'
);
SELECT throws_ok(
    $$SELECT internal.admit_event_batch(
        ARRAY['00000000-0000-4000-8000-000000041f01', '00000000-0000-4000-8000-000000041f02']::uuid[],
        ARRAY[1, 10000])$$,
    'VT404', NULL,
    'nor through the batch helper, her own attempt beside his'
);
SELECT throws_ok(
    $$SELECT internal.admit_events('00000000-0000-4000-8000-000000041f03', 1)$$,
    'VT409', NULL,
    'an attempt past its deadline plus grace is admitted nothing (409)'
);
SELECT lives_ok(
    $$SELECT internal.admit_events('00000000-0000-4000-8000-000000041f01', 1)$$,
    'she may spend her own'
);
SELECT tests.unbecome();
SELECT is_empty(
    $$SELECT 1 FROM app.event_rate_windows WHERE attempt_id = '00000000-0000-4000-8000-000000041f02'$$,
    'bob''s budget is untouched'
);

-- read back as the owner, like the functions (tests.become_owner says why)
SELECT tests.become_owner();
SELECT is(pg_temp.stored('f01'), 3::bigint, 'alice''s attempt holds exactly three events');
SELECT is(pg_temp.stored('f02') + pg_temp.stored('f03'), 0::bigint, 'the refused events stored nothing');
SELECT is(
    (SELECT (is_anomaly, severity)::text FROM app.monitoring_events
     WHERE client_event_id = 'e-6'),
    '(t,3)',
    'severity and is_anomaly come from the event type, not from the client'
);
SELECT tests.unbecome();

-- One event at a time meets the same bound, counted exactly: with 3 a
-- minute, bob's first three single events are stored, the fourth is 429
-- and stores nothing, and so is a retry of a stored one (a retry counts).
SELECT tests.become('00000000-0000-4000-8000-000000041b02');
SELECT set_config('veritas.events_per_attempt_minute', '3', TRUE);
SELECT lives_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f02', 'heartbeat', 'b-' || n))
      FROM generate_series(1, 3) AS n$$,
    'bob records three single events within a bound of three'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f02', 'heartbeat', 'b-4'))$$,
    'VT429', NULL,
    'the fourth in the same minute is refused (429)'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f02', 'heartbeat', 'b-1'))$$,
    'VT429', NULL,
    'a retry of a stored event counts too'
);
SELECT set_config('veritas.events_per_attempt_minute', '', TRUE);
SELECT tests.become_owner();
SELECT is(pg_temp.stored('f02'), 3::bigint, 'bob''s attempt holds exactly three events');
SELECT tests.unbecome();
SELECT is(
    (SELECT events FROM app.event_rate_windows
     WHERE attempt_id = '00000000-0000-4000-8000-000000041f02'),
    3,
    'and its counter says three: the refused calls were not counted'
);

SELECT tests.become('00000000-0000-4000-8000-000000041a01');
SELECT is(
    jsonb_array_length(api.get_monitoring_events_for_attempt(
        '00000000-0000-4000-8000-000000041f01'
    )),
    3,
    'tina, who owns the exam, reads the attempt''s timeline'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000041a02');
SELECT throws_ok(
    $$SELECT api.get_monitoring_events_for_attempt('00000000-0000-4000-8000-000000041f01')$$,
    'VT404', NULL,
    'tom, without permission on the exam, gets 404 for the timeline'
);
SELECT throws_ok(
    $$SELECT 1 FROM app.monitoring_events
      WHERE exam_id = '00000000-0000-4000-8000-000000041e01'$$,
    '42501', NULL,
    'tom sees none of the exam''s events directly either (no request role reads the table)'
);
SELECT throws_ok(
    $$SELECT api.record_monitoring_events(pg_temp.ev('f01', 'paste', 'e-7'))$$,
    '42501', NULL,
    'a teacher cannot record events (403)'
);
SELECT tests.unbecome();

SELECT * FROM finish();
ROLLBACK;
