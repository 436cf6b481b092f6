-- monitoring: an attempt's timeline (its events, oldest first, in keyset
-- pages), for its teachers and admins (a disclosure) and for the student.
-- The api functions pin no search_path, like recording.sql's (whose header
-- says why); internal.attempt_timeline is a definer and pins it.

-- The timeline ---------------------------------------------------------------------

-- An attempt's events, oldest first, paginated by keyset: pass the last row's occurred_at and id to get the next
-- page. VT404 when the caller may not see the attempt.
--
-- SECURITY DEFINER: no request role reads app.monitoring_events itself
-- (sql/policies/monitoring.sql says why). Who may read an attempt's events
-- is decided here, on the attempt, as the SELECT policies of
-- app.exam_attempts decide who sees the attempt (sql/policies/attempts.sql):
-- its student, a teacher of its exam, an admin, an integration account.
--
-- It reads one row past the page: when that row exists, the page is not the
-- last, and the transaction-local setting response.next_page names the next
-- page's arguments ({after_occurred_at, after_id}, the page's last row). The
-- glue reads it back in the same statement and answers with a Link header
-- (rel="next"), keeping the caller's other arguments (docs/monitoring.md). The
-- last page sets nothing, so no Link.
CREATE OR REPLACE FUNCTION internal.attempt_timeline(
    p_attempt_id uuid, p_after_occurred_at timestamptz, p_after_id uuid, p_limit integer
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_events jsonb;
    v_started_at timestamptz;
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 5000 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 5000';
    END IF;
    IF (p_after_occurred_at IS NULL) <> (p_after_id IS NULL) THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'after_occurred_at and after_id go together (the last row of a page)';
    END IF;
    SELECT a.started_at INTO v_started_at
    FROM app.exam_attempts AS a
    WHERE
        a.id = p_attempt_id
        AND CASE current_setting('role', TRUE)
            WHEN 'student' THEN a.student_id = internal.current_user_id()
            WHEN 'teacher' THEN a.exam_id = any(internal.teacher_exam_ids())
            WHEN 'admin' THEN TRUE
            WHEN 'integration' THEN TRUE
            ELSE FALSE
        END;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = format('no attempt %s', p_attempt_id);
    END IF;
    SELECT coalesce(jsonb_agg(
        jsonb_build_object(
            'id', e.id, 'event_type', e.event_type, 'occurred_at', e.occurred_at,
            'received_at', e.received_at, 'payload', e.payload, 'is_anomaly', e.is_anomaly
        ) ORDER BY e.occurred_at, e.id
    ), '[]'::jsonb)
    INTO v_events
    FROM (
        SELECT m.id, m.event_type, m.occurred_at, m.received_at, m.payload, m.is_anomaly
        FROM app.monitoring_events AS m
        WHERE
            m.attempt_id = p_attempt_id
            -- the partition key: the scan touches the attempt's partition only
            AND m.attempt_started_at = v_started_at
            AND (
                p_after_occurred_at IS NULL
                OR (m.occurred_at, m.id) > (p_after_occurred_at, p_after_id)
            )
        ORDER BY m.occurred_at, m.id
        LIMIT p_limit + 1
    ) AS e;
    IF jsonb_array_length(v_events) > p_limit THEN
        v_events := v_events - p_limit;  -- the look-ahead row is the next page's first
        PERFORM set_config('response.next_page', jsonb_build_object(
            'after_occurred_at', v_events -> -1 -> 'occurred_at',
            'after_id', v_events -> -1 -> 'id'
        )::text, TRUE);
    END IF;
    RETURN v_events;
END;
$$;

COMMENT ON FUNCTION internal.attempt_timeline(uuid, timestamptz, uuid, integer) IS
'An attempt''s monitoring events oldest first, one keyset page, for a caller who may see the attempt (as the attempts'' SELECT policies say); sets response.next_page unless it is the last page.';
REVOKE ALL ON FUNCTION internal.attempt_timeline(uuid, timestamptz, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.attempt_timeline(
    uuid, timestamptz, uuid, integer
) TO student, teacher, admin, integration;

-- GET /teacher/attempts/{attempt_id}/events (teacher, admin): a disclosure of
-- the student's records, so it is VOLATILE (it writes the disclosure log).
CREATE OR REPLACE FUNCTION api.get_monitoring_events_for_attempt(
    attempt_id uuid,
    after_occurred_at timestamptz DEFAULT NULL,
    after_id uuid DEFAULT NULL,
    "limit" integer DEFAULT 1000
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
AS $$
DECLARE
    v_events jsonb := internal.attempt_timeline(attempt_id, after_occurred_at, after_id, "limit");
BEGIN
    PERFORM internal.log_disclosure(
        (SELECT a.student_id FROM app.exam_attempts AS a WHERE a.id = attempt_id),
        'monitoring_events',
        attempt_id
    );
    RETURN v_events;
END;
$$;

COMMENT ON FUNCTION api.get_monitoring_events_for_attempt(uuid, timestamptz, uuid, integer) IS
'The attempt''s monitoring timeline, oldest first: [{id, event_type, occurred_at, received_at, payload, is_anomaly}], for a teacher of the exam or an admin (recorded in the disclosure log). Keyset pages: pass the last row''s occurred_at and id as after_occurred_at and after_id; limit 1 to 5000 (default 1000). A page that is not the last carries a Link header to the next (rel="next"); the last page carries none. 404 when the attempt is not visible.';
REVOKE ALL ON FUNCTION api.get_monitoring_events_for_attempt(
    uuid, timestamptz, uuid, integer
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_monitoring_events_for_attempt(
    uuid, timestamptz, uuid, integer
) TO teacher, admin;

-- GET /rpc/get_attempt_monitoring_events (docs/monitoring.md): the same
-- timeline read by its own student (or an integration account): no
-- disclosure to record.
CREATE OR REPLACE FUNCTION api.get_attempt_monitoring_events(
    attempt_id uuid,
    after_occurred_at timestamptz DEFAULT NULL,
    after_id uuid DEFAULT NULL,
    "limit" integer DEFAULT 1000
)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
    SELECT internal.attempt_timeline(attempt_id, after_occurred_at, after_id, "limit");
$$;

COMMENT ON FUNCTION api.get_attempt_monitoring_events(uuid, timestamptz, uuid, integer) IS
'An attempt''s own monitoring timeline, oldest first, for its student (also integration); same pages as get_monitoring_events_for_attempt, which teachers and admins use (it logs the disclosure); a page that is not the last links the next by GET /rpc (Link, rel="next"). 404 when not visible.';
REVOKE ALL ON FUNCTION api.get_attempt_monitoring_events(
    uuid, timestamptz, uuid, integer
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_attempt_monitoring_events(
    uuid, timestamptz, uuid, integer
) TO student, integration;
