-- monitoring: recording events, the hottest path of the system
-- (POST /monitor/events).
--
-- Recording is SECURITY DEFINER, like every read of the events: no request
-- role has a privilege on app.monitoring_events (sql/policies/monitoring.sql
-- says why: on Citus its row policies would run on the workers, where the
-- attempts are not). What the insert policy checked per row is decided
-- before the insert, on the attempts, by one SECURITY DEFINER helper of
-- admission.sql, internal.admit_events, per attempt in one statement: may
-- the caller record for it (a student: their own; integration: any; else
-- 404, never saying whether it exists), is it open for events (in progress,
-- before the deadline plus grace; else 409), and is it within its per-minute
-- budget (else 429). The row then copies exam_id, student_id and
-- attempt_started_at from the admitted attempt, and severity and is_anomaly
-- from its event type: nothing of them comes from the caller.
-- A retried event is stored once: ON CONFLICT DO NOTHING on (attempt_id,
-- client_event_id, attempt_started_at), also when duplicates race, because
-- the unique index decides (on Citus too: it leads with the distribution
-- column). Rules: docs/monitoring.md; what each step costs:
-- docs/performance.md.
--
-- One event (the common case: a browser reports as things happen) takes a
-- path of its own, internal.record_event: PL/pgSQL expressions and four
-- statements (admit, the event type's severity, insert, and on a duplicate
-- the lookup of the stored id). A batch takes the set-based path, internal.record_events.
--
-- The two api functions below stay SECURITY INVOKER and pin no search_path
-- (a configuration save and restore per call on the hot path): every name is
-- schema-qualified instead. An exception to the rule of docs/architecture.md,
-- named in tests/sql/05_catalog_rules.sql.

-- What is wrong with one event's shape, with a message naming the field (an
-- unknown event type names the valid ones, p_types); NULL when nothing is.
-- Inlined into the statement or expression that uses it. The casts of the
-- values then raise 22P02/22007 (400) naming a bad value.
CREATE OR REPLACE FUNCTION internal.event_problem(p_event jsonb, p_types text[])
RETURNS text
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
    SELECT CASE
        WHEN jsonb_typeof(p_event) <> 'object' THEN 'must be an object'
        WHEN jsonb_typeof(p_event -> 'attempt_id') IS DISTINCT FROM 'string'
            THEN 'attempt_id is required'
        WHEN jsonb_typeof(p_event -> 'event_type') IS DISTINCT FROM 'string'
            THEN 'event_type is required'
        WHEN NOT (p_event ->> 'event_type') = ANY (p_types)
            THEN format(
                'unknown event_type %s; the event types are %s',
                to_json(p_event ->> 'event_type'), array_to_string(p_types, ', ')
            )
        WHEN jsonb_typeof(p_event -> 'occurred_at') IS DISTINCT FROM 'string'
            THEN 'occurred_at is required (an RFC 3339 time)'
        WHEN p_event ? 'payload' AND jsonb_typeof(p_event -> 'payload') NOT IN ('object', 'null')
            THEN 'payload must be an object'
        WHEN
            p_event ? 'client_event_id'
            AND jsonb_typeof(p_event -> 'client_event_id') NOT IN ('string', 'null')
            THEN 'client_event_id must be a string'
        WHEN length(p_event ->> 'client_event_id') NOT BETWEEN 1 AND 128
            THEN 'client_event_id must have 1 to 128 characters'
    END;
$$;

COMMENT ON FUNCTION internal.event_problem(jsonb, text[]) IS
'What is wrong with the shape of one event (a message naming the field), or NULL.';
REVOKE ALL ON FUNCTION internal.event_problem(jsonb, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.event_problem(jsonb, text[]) TO student, integration;

-- The events of a batch as typed rows (inlined into the statement that uses
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

-- One event: validates, admits, records. Returns {id, duplicate}: the id of
-- the stored event, this one's or, for a retry, the first one's.
CREATE OR REPLACE FUNCTION internal.record_event(p_event jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the valid event types, read once per call (about 4 us)
    v_types constant text[] := enum_range(NULL::app.event_type)::text[];
    v_problem constant text := internal.event_problem(p_event, v_types);
    v_attempt_id uuid;
    v_event_type app.event_type;
    v_occurred_at timestamptz;
    v_client_event_id text;
    v_attempt record;
    v_severity smallint;
    v_is_anomaly boolean;
    v_id uuid;
BEGIN
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('event 1: %s', v_problem);
    END IF;
    v_attempt_id := (p_event ->> 'attempt_id')::uuid;
    v_event_type := (p_event ->> 'event_type')::app.event_type;
    v_occurred_at := (p_event ->> 'occurred_at')::timestamptz;
    v_client_event_id := p_event ->> 'client_event_id';

    SELECT * INTO v_attempt FROM internal.admit_events(v_attempt_id, 1);
    SELECT t.severity, t.is_anomaly INTO v_severity, v_is_anomaly
    FROM app.event_types AS t
    WHERE t.event_type = v_event_type;

    -- INSERT ... VALUES: on Citus one statement to one shard (an INSERT ...
    -- SELECT from a coordinator table would go through the coordinator).
    INSERT INTO app.monitoring_events (
        attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
        severity, is_anomaly, payload, client_event_id
    )
    VALUES (
        v_attempt_id, v_attempt.attempt_started_at, v_attempt.exam_id, v_attempt.student_id,
        v_event_type, v_occurred_at, v_severity, v_is_anomaly,
        coalesce(nullif(p_event -> 'payload', 'null'::jsonb), '{}'::jsonb), v_client_event_id
    )
    ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        RETURN jsonb_build_object('id', v_id, 'duplicate', FALSE);
    END IF;

    -- A retry: the first one's id (its partition named, so only it is read).
    SELECT e.id INTO v_id
    FROM app.monitoring_events AS e
    WHERE
        e.attempt_id = v_attempt_id
        AND e.client_event_id = v_client_event_id
        AND e.attempt_started_at = v_attempt.attempt_started_at;
    RETURN jsonb_build_object('id', v_id, 'duplicate', TRUE);
END;
$$;

COMMENT ON FUNCTION internal.record_event(jsonb) IS
'Records one monitoring event for the caller (the owner inserts what internal.admit_events admitted); returns {id, duplicate}.';
REVOKE ALL ON FUNCTION internal.record_event(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.record_event(jsonb) TO student, integration;

-- A batch: validates, admits its attempts (internal.admit_event_batch),
-- records, counts.
CREATE OR REPLACE FUNCTION internal.record_events(p_events jsonb)
RETURNS TABLE (accepted integer, duplicates integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
    -- the valid event types, read once per call (about 4 us), not per row
    v_types constant text[] := enum_range(NULL::app.event_type)::text[];
    v_problem record;
    v_attempts uuid[];
    v_events integer[];
    v_inserted integer;
    v_statement text;
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

    -- Shape first, naming the first bad event and its field; the casts
    -- below then raise 22P02/22007 (400) naming a bad value.
    SELECT x.ord, internal.event_problem(x.e, v_types) AS problem
    INTO v_problem
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x (e, ord)
    WHERE internal.event_problem(x.e, v_types) IS NOT NULL
    ORDER BY x.ord
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('event %s: %s', v_problem.ord, v_problem.problem);
    END IF;

    SELECT array_agg(g.attempt_id ORDER BY g.attempt_id), array_agg(g.events ORDER BY g.attempt_id)
    INTO v_attempts, v_events
    FROM (
        SELECT i.attempt_id, count(*)::integer AS events
        FROM internal.parse_events(p_events) AS i
        GROUP BY i.attempt_id
    ) AS g;
    PERFORM internal.admit_event_batch(v_attempts, v_events);

    IF internal.citus_distributed('app.monitoring_events'::regclass) THEN
        -- On Citus an INSERT ... SELECT from the coordinator's tables is
        -- pulled to the coordinator, then pushed to every shard it touches
        -- as an intermediate result; the same rows as one INSERT ... VALUES
        -- go to each shard as one statement (docs/scaling.md#4-citus).
        SELECT
            'INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, '
            || 'student_id, event_type, occurred_at, severity, is_anomaly, payload, '
            || 'client_event_id) VALUES '
            || string_agg(
                format(
                    '(%L, %L, %L, %L, %L, %L, %s, %L, %L, %L)',
                    i.attempt_id, a.started_at, a.exam_id, a.student_id, i.event_type,
                    i.occurred_at, t.severity, t.is_anomaly, i.payload, i.client_event_id
                ),
                ', ' ORDER BY i.ord
            )
            || ' ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING'
        INTO v_statement
        FROM internal.parse_events(p_events) AS i
        INNER JOIN app.exam_attempts AS a ON i.attempt_id = a.id
        INNER JOIN app.event_types AS t ON i.event_type = t.event_type;
        EXECUTE v_statement;
        GET DIAGNOSTICS v_inserted = ROW_COUNT;
    ELSE
        WITH stored AS (
            INSERT INTO app.monitoring_events (
                attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
                severity, is_anomaly, payload, client_event_id
            )
            SELECT
                i.attempt_id, a.started_at, a.exam_id, a.student_id, i.event_type,
                i.occurred_at, t.severity, t.is_anomaly, i.payload, i.client_event_id
            FROM internal.parse_events(p_events) AS i
            INNER JOIN app.exam_attempts AS a ON i.attempt_id = a.id
            INNER JOIN app.event_types AS t ON i.event_type = t.event_type
            ORDER BY i.ord
            ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING
            RETURNING 1
        )
        SELECT count(*)::integer INTO v_inserted FROM stored;
    END IF;

    accepted := v_inserted;
    duplicates := v_count - v_inserted;
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION internal.record_events(jsonb) IS
'Records a list of monitoring events for the caller (the owner inserts what internal.admit_event_batch admitted); returns how many were stored and how many were duplicates.';
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
BEGIN
    IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the body must be a JSON object';
    END IF;
    IF NOT body ? 'events' THEN
        RETURN internal.record_event(body);
    END IF;
    SELECT * INTO v_result FROM internal.record_events(body -> 'events');
    RETURN jsonb_build_object('accepted', v_result.accepted, 'duplicates', v_result.duplicates);
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
