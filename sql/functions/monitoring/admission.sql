-- monitoring: admitting events, before recording.sql stores them: may the
-- caller record for the attempt, is it open, is it within its per-minute
-- budget (the flood bound). SECURITY DEFINER helpers, pinned like every
-- definer; the counter they keep, app.event_rate_windows, is theirs alone.

-- The per-attempt rate bound: events accepted per attempt and minute (600,
-- or the setting veritas.events_per_attempt_minute). A flooding client gets
-- 429 (SQLSTATE VT429) with the seconds to wait in the error's detail.
--
-- Admits p_events events for one attempt, or raises: VT404 unless the
-- caller may record for the attempt (a student: their own; integration:
-- any; as the insert policies of the events say), VT409 unless it is in
-- progress and before its deadline plus grace, VT429 past the budget. The
-- count is kept in app.event_rate_windows, written only here, so a direct
-- call cannot spend another student's budget (VT404). Returns the fields
-- every event copies from its attempt.
--
-- The common case, an attempt that already has its counter row, is one
-- UPDATE joined to the attempt and its exam: the checks and the count in
-- one statement, one HOT update of an unlogged row (no WAL). When it
-- updates nothing, the attempt is new to the counter, or refused: the slow
-- path tells which, and inserts the row. Concurrent requests for one
-- attempt queue on the counter row, so every event is counted; an error
-- (429 included) rolls the count back with the request.
CREATE OR REPLACE FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer)
RETURNS TABLE (attempt_started_at timestamptz, exam_id uuid, student_id uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- 600 unless the DBA tunes it: ALTER DATABASE ... SET veritas.events_per_attempt_minute
    v_limit constant integer := coalesce(
        nullif(current_setting('veritas.events_per_attempt_minute', TRUE), '')::integer, 600
    );
    v_window constant timestamptz := date_trunc('minute', now());
    -- The database role in effect (SECURITY DEFINER does not change it); a
    -- student's id from the claims, which count only when their role is
    -- that role (internal.current_user_id).
    v_role constant text := current_setting('role', TRUE);
    v_student constant uuid := CASE WHEN v_role = 'student' THEN internal.current_user_id() END;
    v_used integer;
    v_open boolean;
BEGIN
    UPDATE app.event_rate_windows AS w
    SET
        window_start = v_window,
        events = CASE WHEN w.window_start = v_window THEN w.events + p_events ELSE p_events END
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS x ON a.exam_id = x.id
    WHERE
        w.attempt_id = p_attempt_id
        AND a.id = p_attempt_id
        AND (v_role = 'integration' OR a.student_id = v_student)
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => x.grace_seconds)
    RETURNING w.events, a.started_at, a.exam_id, a.student_id
    INTO v_used, attempt_started_at, exam_id, student_id;

    IF NOT FOUND THEN
        SELECT
            a.started_at,
            a.exam_id,
            a.student_id,
            a.status = 'in_progress' AND now() <= a.deadline + make_interval(secs => x.grace_seconds)
        INTO attempt_started_at, exam_id, student_id, v_open
        FROM app.exam_attempts AS a
        INNER JOIN app.exams AS x ON a.exam_id = x.id
        WHERE
            a.id = p_attempt_id
            AND (v_role = 'integration' OR a.student_id = v_student);
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = format('no attempt %s', p_attempt_id);
        END IF;
        IF NOT v_open THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = format(
                    'attempt %s is not in progress (finished, or past its deadline)', p_attempt_id
                );
        END IF;
        INSERT INTO app.event_rate_windows AS w (attempt_id, window_start, events)
        VALUES (p_attempt_id, v_window, p_events)
        ON CONFLICT (attempt_id) DO UPDATE
            SET
                window_start = excluded.window_start,
                events = CASE
                    WHEN w.window_start = excluded.window_start THEN w.events + excluded.events
                    ELSE excluded.events
                END
        RETURNING w.events INTO v_used;
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
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION internal.admit_events(uuid, integer) IS
'Admits p_events events for the attempt: VT404 unless the caller may record for it, VT409 unless it is open, VT429 past its budget for this minute (600, or veritas.events_per_attempt_minute); returns the attempt''s started_at, exam_id and student_id.';
REVOKE ALL ON FUNCTION internal.admit_events(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.admit_events(uuid, integer) TO student, integration;

-- The same for a batch, set-based: p_attempts (distinct, in order) with
-- p_events events each. VT404 or VT409 for the first attempt refused,
-- before anything is counted; then one upsert counts them all, in attempt
-- order (two batches never wait for each other's counter rows in opposite
-- orders), and VT429 if any is past its budget.
CREATE OR REPLACE FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[])
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_limit constant integer := coalesce(
        nullif(current_setting('veritas.events_per_attempt_minute', TRUE), '')::integer, 600
    );
    v_window constant timestamptz := date_trunc('minute', now());
    v_role constant text := current_setting('role', TRUE);
    v_student constant uuid := CASE WHEN v_role = 'student' THEN internal.current_user_id() END;
    v_refused record;
    v_used integer;
BEGIN
    SELECT
        r.attempt_id,
        a.id IS NOT NULL AS visible
    INTO v_refused
    FROM unnest(p_attempts) AS r (attempt_id)
    LEFT JOIN app.exam_attempts AS a
        ON
            r.attempt_id = a.id
            AND (v_role = 'integration' OR a.student_id = v_student)
    LEFT JOIN app.exams AS x ON a.exam_id = x.id
    WHERE
        a.id IS NULL
        OR a.status <> 'in_progress'
        OR now() > a.deadline + make_interval(secs => x.grace_seconds)
    ORDER BY r.attempt_id
    LIMIT 1;
    IF FOUND AND NOT v_refused.visible THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT404', MESSAGE = format('no attempt %s', v_refused.attempt_id);
    ELSIF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'attempt %s is not in progress (finished, or past its deadline)',
                v_refused.attempt_id
            );
    END IF;

    WITH counted AS (
        INSERT INTO app.event_rate_windows AS w (attempt_id, window_start, events)
        SELECT r.attempt_id, v_window, r.events
        FROM unnest(p_attempts, p_events) AS r (attempt_id, events)
        ORDER BY r.attempt_id
        ON CONFLICT (attempt_id) DO UPDATE
            SET
                window_start = excluded.window_start,
                events = CASE
                    WHEN w.window_start = excluded.window_start THEN w.events + excluded.events
                    ELSE excluded.events
                END
        RETURNING w.events
    )
    SELECT max(c.events) INTO v_used FROM counted AS c;
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

COMMENT ON FUNCTION internal.admit_event_batch(uuid[], integer[]) IS
'Admits a batch: p_events[i] events for attempt p_attempts[i] (distinct, in order), with the checks and budget of internal.admit_events.';
REVOKE ALL ON FUNCTION internal.admit_event_batch(uuid[], integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.admit_event_batch(uuid[], integer[]) TO student, integration;
