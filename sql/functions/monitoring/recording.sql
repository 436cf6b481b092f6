-- monitoring: recording events, the hottest path of the system
-- (POST /monitor/events).
--
-- Recording is SECURITY INVOKER: the caller's row-level security decides
-- which attempts it may see (a student: their own; integration: any) and the
-- insert policy re-checks every row (own attempt, in progress, before the
-- deadline plus grace, severity and is_anomaly those of the event type).
-- One statement parses the batch, joins each event to its attempt and event
-- type, and inserts with ON CONFLICT DO NOTHING on (attempt_id,
-- client_event_id, attempt_started_at): a retried event is stored once, also
-- when duplicates race, because the unique index decides. Rules:
-- docs/monitoring.md.
--
-- No SET search_path on the functions of this file and timeline.sql but
-- take_event_budget (SECURITY DEFINER: pinned like every definer): it costs
-- a configuration save and restore per call on the hot path, so every name
-- is schema-qualified instead. An exception to the rule of
-- docs/architecture.md, named in tests/sql/05_catalog_rules.sql.

-- The per-attempt rate bound: events accepted per attempt and minute (600,
-- or the setting veritas.events_per_attempt_minute). A
-- flooding client gets 429 (SQLSTATE VT429) with the seconds to wait in
-- the error's detail. Written only by this SECURITY DEFINER helper, called
-- after the caller's own policies have shown it the attempt; it checks the
-- attempt again itself (a student's own, any for integration), so that a
-- direct call cannot spend another student's budget (VT404).
CREATE OR REPLACE FUNCTION internal.take_event_budget(p_attempt_id uuid, p_events integer)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- 600 unless the DBA tunes it: ALTER DATABASE ... SET veritas.events_per_attempt_minute
    v_limit integer := coalesce(
        nullif(current_setting('veritas.events_per_attempt_minute', TRUE), '')::integer, 600
    );
    v_window timestamptz := date_trunc('minute', now());
    v_role constant text := internal.current_app_role();
    v_used integer;
BEGIN
    -- Only the budget of an attempt the caller may record for: a student's
    -- own, or any for integration (as the insert policy of the events says).
    INSERT INTO app.event_rate_windows AS w (attempt_id, window_start, events)
    SELECT a.id, v_window, p_events
    FROM app.exam_attempts AS a
    WHERE
        a.id = p_attempt_id
        AND (
            v_role = 'integration'
            OR (v_role = 'student' AND a.student_id = internal.current_user_id())
        )
    ON CONFLICT (attempt_id) DO UPDATE
        SET
            window_start = excluded.window_start,
            events = CASE
                WHEN w.window_start = excluded.window_start THEN w.events + excluded.events
                ELSE excluded.events
            END
    RETURNING w.events INTO v_used;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = format('no attempt %s', p_attempt_id);
    END IF;
    IF v_used > v_limit THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT429',
            MESSAGE = format('too many events for this attempt: at most %s a minute', v_limit),
            DETAIL = json_build_object(
                'retry_after',
                greatest(1, ceil(extract(EPOCH FROM v_window + interval '1 minute' - now())))
            )::text;
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.take_event_budget(uuid, integer) IS
'Counts p_events against the attempt''s budget for this minute (600, or veritas.events_per_attempt_minute); raises VT429 past it.';
REVOKE ALL ON FUNCTION internal.take_event_budget(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.take_event_budget(uuid, integer) TO student, integration;

-- The events of a batch as typed rows (inlined into the statements that use
-- it). A bad uuid or time raises 22P02/22007: 400 (record_events has
-- already refused an unknown event type, naming the event).
CREATE OR REPLACE FUNCTION internal.parse_events(p_events jsonb)
RETURNS TABLE (
    ord bigint,
    attempt_id uuid,
    event_type app.event_type,
    occurred_at timestamptz,
    payload jsonb,
    client_event_id text
)
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
    SELECT
        x.ord,
        (x.e ->> 'attempt_id')::uuid,
        (x.e ->> 'event_type')::app.event_type,
        (x.e ->> 'occurred_at')::timestamptz,
        coalesce(nullif(x.e -> 'payload', 'null'::jsonb), '{}'::jsonb),
        x.e ->> 'client_event_id'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x (e, ord);
$$;

COMMENT ON FUNCTION internal.parse_events(jsonb) IS
'The events of a batch (a JSON list) as typed rows; raises 22P02/22007 on a bad value.';
REVOKE ALL ON FUNCTION internal.parse_events(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.parse_events(jsonb) TO student, integration;

-- The batch core: validates, checks the attempts, records, counts.
CREATE OR REPLACE FUNCTION internal.record_events(p_events jsonb)
RETURNS TABLE (accepted integer, duplicates integer, first_id uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
AS $$
DECLARE
    v_count integer;
    -- the valid event types, read once per call (about 4 us), not per row
    v_types constant text[] := enum_range(NULL::app.event_type)::text[];
    v_problem record;
    v_attempt record;
    v_inserted integer;
BEGIN
    IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'events must be a list of events';
    END IF;
    v_count := jsonb_array_length(p_events);
    IF v_count = 0 OR v_count > 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('a batch holds 1 to 500 events, not %s', v_count);
    END IF;

    -- Shape first, with a message naming the event and the field (an
    -- unknown event type names the valid ones); the casts below then raise
    -- 22P02/22007 (400) naming a bad value.
    SELECT x.ord, CASE
        WHEN jsonb_typeof(x.e) <> 'object' THEN 'must be an object'
        WHEN jsonb_typeof(x.e -> 'attempt_id') IS DISTINCT FROM 'string'
            THEN 'attempt_id is required'
        WHEN jsonb_typeof(x.e -> 'event_type') IS DISTINCT FROM 'string'
            THEN 'event_type is required'
        WHEN NOT (x.e ->> 'event_type') = ANY (v_types)
            THEN format(
                'unknown event_type %s; the event types are %s',
                to_json(x.e ->> 'event_type'), array_to_string(v_types, ', ')
            )
        WHEN jsonb_typeof(x.e -> 'occurred_at') IS DISTINCT FROM 'string'
            THEN 'occurred_at is required (an RFC 3339 time)'
        WHEN x.e ? 'payload' AND jsonb_typeof(x.e -> 'payload') NOT IN ('object', 'null')
            THEN 'payload must be an object'
        WHEN x.e ? 'client_event_id' AND jsonb_typeof(x.e -> 'client_event_id') NOT IN ('string', 'null')
            THEN 'client_event_id must be a string'
        WHEN length(x.e ->> 'client_event_id') NOT BETWEEN 1 AND 128
            THEN 'client_event_id must have 1 to 128 characters'
    END AS problem
    INTO v_problem
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x (e, ord)
    WHERE
        jsonb_typeof(x.e) <> 'object'
        OR jsonb_typeof(x.e -> 'attempt_id') IS DISTINCT FROM 'string'
        OR jsonb_typeof(x.e -> 'event_type') IS DISTINCT FROM 'string'
        OR NOT (x.e ->> 'event_type') = ANY (v_types)
        OR jsonb_typeof(x.e -> 'occurred_at') IS DISTINCT FROM 'string'
        OR (x.e ? 'payload' AND jsonb_typeof(x.e -> 'payload') NOT IN ('object', 'null'))
        OR (x.e ? 'client_event_id' AND jsonb_typeof(x.e -> 'client_event_id') NOT IN ('string', 'null'))
        OR length(x.e ->> 'client_event_id') NOT BETWEEN 1 AND 128
    ORDER BY x.ord
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('event %s: %s', v_problem.ord, v_problem.problem);
    END IF;

    -- Every attempt must be visible to the caller (else 404, never saying
    -- whether it exists) and open for events (else 409).
    FOR v_attempt IN
        SELECT
            i.attempt_id,
            count(*)::integer AS events,
            a.id IS NOT NULL AS visible,
            a.status = 'in_progress'
            AND now() <= a.deadline + make_interval(secs => coalesce(x.grace_seconds, 0)) AS open
        FROM internal.parse_events(p_events) AS i
        LEFT JOIN app.exam_attempts AS a ON i.attempt_id = a.id
        LEFT JOIN app.exams AS x ON a.exam_id = x.id
        GROUP BY i.attempt_id, a.id, a.status, a.deadline, x.grace_seconds
    LOOP
        IF NOT v_attempt.visible THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT404',
                MESSAGE = format('no attempt %s', v_attempt.attempt_id);
        END IF;
        IF NOT v_attempt.open THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = format(
                    'attempt %s is not in progress (finished, or past its deadline)',
                    v_attempt.attempt_id
                );
        END IF;
        PERFORM internal.take_event_budget(v_attempt.attempt_id, v_attempt.events);
    END LOOP;

    WITH stored AS (
        INSERT INTO app.monitoring_events (
            attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
            severity, is_anomaly, payload, client_event_id
        )
        SELECT
            i.attempt_id, a.started_at, a.exam_id, a.student_id, i.event_type, i.occurred_at,
            t.severity, t.is_anomaly, i.payload, i.client_event_id
        FROM internal.parse_events(p_events) AS i
        INNER JOIN app.exam_attempts AS a ON i.attempt_id = a.id
        INNER JOIN app.event_types AS t ON i.event_type = t.event_type
        ORDER BY i.ord
        ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING
        RETURNING id
    )
    SELECT count(*)::integer, min(id::text)::uuid INTO v_inserted, first_id FROM stored;

    accepted := v_inserted;
    duplicates := v_count - v_inserted;
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION internal.record_events(jsonb) IS
'Records a list of monitoring events as the caller; returns how many were stored and how many were duplicates.';
REVOKE ALL ON FUNCTION internal.record_events(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.record_events(jsonb) TO student, integration;

-- POST /monitor/events: one event, or {events: [...]} of up to 500.
CREATE OR REPLACE FUNCTION api.record_monitoring_events(body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
AS $$
DECLARE
    v_result record;
    v_id uuid;
BEGIN
    IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the body must be a JSON object';
    END IF;
    IF body ? 'events' THEN
        SELECT * INTO v_result FROM internal.record_events(body -> 'events');
        RETURN jsonb_build_object(
            'accepted', v_result.accepted, 'duplicates', v_result.duplicates
        );
    END IF;
    SELECT * INTO v_result FROM internal.record_events(jsonb_build_array(body));
    v_id := v_result.first_id;
    IF v_id IS NULL THEN
        SELECT e.id INTO v_id
        FROM app.monitoring_events AS e
        WHERE
            e.attempt_id = (body ->> 'attempt_id')::uuid
            AND e.client_event_id = body ->> 'client_event_id';
    END IF;
    RETURN jsonb_build_object('id', v_id, 'duplicate', v_result.accepted = 0);
END;
$$;

COMMENT ON FUNCTION api.record_monitoring_events(jsonb) IS
'Record monitoring events (POST /monitor/events), by the attempt''s student or an integration account. One event {attempt_id, event_type, occurred_at, payload, client_event_id} answers {id, duplicate}; a batch {events: [...]} of up to 500 answers {accepted, duplicates}. The same client_event_id for the same attempt is stored once. Unknown event type: 400; attempt not in progress or past deadline plus grace: 409; another student''s attempt: 404; more than 600 events a minute for one attempt: 429.';
REVOKE ALL ON FUNCTION api.record_monitoring_events(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.record_monitoring_events(jsonb) TO student, integration;

-- The single-event form, POST /rpc/record_monitoring_event (docs/monitoring.md),
-- with the event's fields as arguments.
CREATE OR REPLACE FUNCTION api.record_monitoring_event(
    attempt_id uuid,
    event_type text,
    occurred_at timestamptz,
    payload jsonb DEFAULT '{}',
    client_event_id text DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
VOLATILE
SECURITY INVOKER
AS $$
    SELECT api.record_monitoring_events(
        jsonb_strip_nulls(jsonb_build_object(
            'attempt_id', attempt_id, 'event_type', event_type, 'occurred_at', occurred_at,
            'payload', payload, 'client_event_id', client_event_id
        ))
    );
$$;

COMMENT ON FUNCTION api.record_monitoring_event(uuid, text, timestamptz, jsonb, text) IS
'Record one monitoring event, its fields as arguments (same rules as record_monitoring_events). Returns {id, duplicate}.';
REVOKE ALL ON FUNCTION api.record_monitoring_event(
    uuid, text, timestamptz, jsonb, text
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.record_monitoring_event(
    uuid, text, timestamptz, jsonb, text
) TO student, integration;
