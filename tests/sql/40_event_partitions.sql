-- Monitoring-event partitions: created ahead, events parked in the default
-- partition move into their month when it is created, old months are
-- archived out of the live table and lose their link to live attempts.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(11);

-- An exam and two attempts: one starting 8 months ahead (beyond the
-- partitions made by migrate), one 14 months ago, in a month made by hand.
INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-0000000000a1', 'part-t@example.org', 'x', 'Teacher', 'teacher'),
('00000000-0000-4000-8000-0000000000a2', 'part-s@example.org', 'x', 'Student', 'student');
INSERT INTO app.exams (id, title, created_by, duration_minutes, opens_at, closes_at) VALUES
('00000000-0000-4000-8000-0000000000e1', 'Partitions', '00000000-0000-4000-8000-0000000000a1',
 30, now() - interval '2 years', now() + interval '2 years');
INSERT INTO app.exam_attempts (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    question_order, scored_against
) VALUES
('00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000e1',
 '00000000-0000-4000-8000-0000000000a2', 1, 'in_progress',
 date_trunc('month', now()) + interval '8 months 2 days',
 date_trunc('month', now()) + interval '8 months 3 days', NULL, '[]', '[]'),
('00000000-0000-4000-8000-0000000000f2', '00000000-0000-4000-8000-0000000000e1',
 '00000000-0000-4000-8000-0000000000a2', 2, 'submitted',
 date_trunc('month', now()) - interval '14 months',
 date_trunc('month', now()) - interval '14 months' + interval '1 hour',
 date_trunc('month', now()) - interval '14 months' + interval '30 minutes', '[]', '[]');

CREATE TEMP TABLE months AS
SELECT
    internal.event_partition_name((date_trunc('month', now()) + interval '8 months')::date)
    AS ahead,
    internal.event_partition_name((date_trunc('month', now()) - interval '14 months')::date)
    AS old;
GRANT SELECT ON months TO veritas_owner;

SET LOCAL ROLE veritas_owner;
DO $$
BEGIN
    EXECUTE format(
        'CREATE TABLE app.%I PARTITION OF app.monitoring_events FOR VALUES FROM (%L) TO (%L)',
        (SELECT old FROM months), date_trunc('month', now()) - interval '14 months',
        date_trunc('month', now()) - interval '13 months'
    );
END
$$;
RESET ROLE;

-- The events are the owner's, written (tests.insert_event) and counted
-- (tests.owner_count) as the owner.
SELECT NULL FROM (
    SELECT tests.insert_event(a.id, 'tab_hidden', a.started_at, '{}', 'e' || n)
    FROM app.exam_attempts AS a, generate_series(1, 3) AS n
    WHERE a.exam_id = '00000000-0000-4000-8000-0000000000e1'
) AS stored;

SELECT is(
    tests.owner_count($$SELECT count(*) FROM app.monitoring_events_default
        WHERE attempt_id = '00000000-0000-4000-8000-0000000000f1'$$)::int,
    3,
    'events of an attempt beyond every monthly partition are kept in the default partition'
);

SELECT ok(
    (SELECT ahead FROM months) IN (SELECT internal.create_event_partitions(9)),
    'create_event_partitions creates the missing month 8 months ahead'
);

SELECT is(
    tests.owner_count('SELECT count(*) FROM app.monitoring_events_default')::int,
    0,
    'the parked events left the default partition'
);

SELECT is(
    tests.owner_count(format(
        CASE
            -- Citus: a partition attached in this transaction, read by its own
            -- name, shows none of the rows just routed to it (it is read over
            -- another connection); read through the parent they are there,
            -- and the default partition no longer holds them (above).
            WHEN internal.citus_distributed('app.monitoring_events')
                THEN $$SELECT count(*) FROM app.monitoring_events
                    WHERE attempt_id = '00000000-0000-4000-8000-0000000000f1'$$
            ELSE $$SELECT count(*) FROM app.monitoring_events
                WHERE attempt_id = '00000000-0000-4000-8000-0000000000f1'
                AND tableoid = 'app.%I'::regclass$$
        END,
        (SELECT ahead FROM months)
    ))::int,
    3,
    'the parked events now live in their month''s partition'
);

SELECT is_empty(
    'SELECT internal.create_event_partitions(9)',
    'a second run creates nothing'
);

SELECT throws_ok(
    $$SELECT tests.insert_event('00000000-0000-4000-8000-0000000000f1', 'paste', now(), '{}', 'e1')$$,
    '23505',
    NULL,
    'the same client_event_id for the same attempt is refused after the move too'
);

SELECT throws_ok(
    $$SELECT internal.archive_event_partitions('1 hour')$$,
    '22023',
    NULL,
    'archiving refuses ages under one day'
);

SELECT is(
    ARRAY(SELECT internal.archive_event_partitions('13 months')),
    ARRAY['archive.' || (SELECT old FROM months)],
    'archiving detaches exactly the month older than the age into the archive schema'
);

SELECT is(
    tests.owner_count($$SELECT count(*) FROM app.monitoring_events
        WHERE attempt_id = '00000000-0000-4000-8000-0000000000f2'$$)::int,
    0,
    'archived events are out of the live table'
);

SELECT is(
    (SELECT count(*)::int FROM pg_constraint
     WHERE conrelid = format('archive.%I', (SELECT old FROM months))::regclass
       AND contype = 'f'),
    0,
    'the archived partition no longer references live attempts'
);

SELECT ok(
    (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class
     WHERE oid = format('app.%I', (SELECT ahead FROM months))::regclass),
    'a created partition has row-level security enabled and forced'
);

SELECT * FROM finish();
ROLLBACK;
