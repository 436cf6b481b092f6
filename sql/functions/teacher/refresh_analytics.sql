-- teacher: the worker's refresh of the analytics materialized views
-- (declared in sql/views/exam_analytics.sql; their refresh times in
-- app.analytics_refreshes, policies in sql/policies/teacher.sql).

-- internal.analytics_refreshed_at --------------------------------------------------

-- The time up to which the given materialized views are known complete (the
-- oldest of their up_to_date_at); NULL while one of them has never been
-- refreshed by the worker. Under the caller's rights.
CREATE OR REPLACE FUNCTION internal.analytics_refreshed_at(p_views text[])
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN count(*) = cardinality(p_views) THEN min(r.up_to_date_at) END
    FROM app.analytics_refreshes AS r
    WHERE r.view_name = ANY (p_views);
$$;
COMMENT ON FUNCTION internal.analytics_refreshed_at(text[]) IS
'The oldest up_to_date_at of the given analytics materialized views: the answer holds everything committed before it; NULL until each has been refreshed once.';
REVOKE ALL ON FUNCTION internal.analytics_refreshed_at(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.analytics_refreshed_at(text[]) TO teacher, admin;

-- internal.refresh_analytics -------------------------------------------------------

-- Run by the worker every 5 seconds (glue/worker.py). For each materialized
-- view of sql/views/exam_analytics.sql, in one transaction:
--
--   1. Skip it, and record it as up to date now, when none of its sources
--      was written since one minute before its last refresh began. The
--      minute covers transactions that started before that refresh and
--      committed after it (their timestamps are their start time). The
--      tests are three index probes, made once: the newest
--      exam_attempts.updated_at and behavior_analyses.created_at (max(),
--      read backwards from their indexes) and whether any attempt is in
--      progress. Events are not probed themselves (received_at has only a
--      BRIN index, which cannot answer "any row after t" cheaply): an event
--      is accepted only for an attempt in progress (the policies of
--      monitoring_events), so while none is in progress and no attempt was
--      written lately, no event can have arrived.
--   2. Skip it, without recording anything, while less than five times its
--      last refresh's duration has passed since that refresh began: a view
--      that takes 1 s to refresh is refreshed at most every 5 s, so the
--      refresh never takes more than a fifth of one backend.
--   3. Else REFRESH MATERIALIZED VIEW CONCURRENTLY (readers are never
--      blocked; it needs the view's unique index) and record when it began
--      and how long it took.
--
-- A view that is not populated (never filled: restored from a dump whose
-- REFRESH steps were left out, or created WITH NO DATA) is refreshed at
-- once, whatever its sources and its history say, and without CONCURRENTLY,
-- which PostgreSQL refuses on an unpopulated view; readers wait for that
-- one refresh (they would get an error otherwise).
--
-- Only one refresh runs at a time (a transaction-level advisory lock); a
-- second caller returns at once. p_force waits for a running refresh, then
-- refreshes everything regardless (after a DBA archived event partitions,
-- which writes no timestamp; in tests).
-- Returns the time up to which all the views are known complete.
-- SECURITY DEFINER: REFRESH needs the views' owner. The owner needs the
-- database's TEMP privilege (PUBLIC's by default): CONCURRENTLY diffs
-- through a temporary table.
CREATE OR REPLACE FUNCTION internal.refresh_analytics(p_force boolean DEFAULT FALSE)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_views constant text[] := ARRAY['exam_stats_mv', 'flagged_attempts_mv', 'exam_event_counts_mv'];
    c_margin constant interval := interval '1 minute';
    c_throttle constant integer := 5;
    v_attempts_at timestamptz;
    v_analyses_at timestamptz;
    v_in_progress boolean;
    v_view text;
    v_state record;
    v_since timestamptz;
    v_changed boolean;
    v_started timestamptz;
    v_populated boolean;
BEGIN
    IF p_force THEN
        PERFORM pg_advisory_xact_lock(hashtext('veritas.refresh_analytics'));
    ELSIF NOT pg_try_advisory_xact_lock(hashtext('veritas.refresh_analytics')) THEN
        RETURN internal.analytics_refreshed_at(c_views);
    END IF;

    v_attempts_at := (SELECT max(a.updated_at) FROM app.exam_attempts AS a);
    v_analyses_at := (SELECT max(b.created_at) FROM app.behavior_analyses AS b);
    -- min() over the partial index of attempts in progress: one index entry
    -- read, never a scan, however the planner estimates the status.
    v_in_progress := (
        SELECT min(a.deadline) FROM app.exam_attempts AS a WHERE a.status = 'in_progress'
    ) IS NOT NULL;

    FOREACH v_view IN ARRAY c_views LOOP
        v_populated := (
            SELECT c.relispopulated FROM pg_catalog.pg_class AS c
            WHERE c.oid = format('app.%I', v_view)::regclass
        );
        SELECT r.refreshed_at, r.duration INTO v_state
        FROM app.analytics_refreshes AS r
        WHERE r.view_name = v_view;

        IF NOT FOUND OR p_force OR NOT v_populated THEN
            v_changed := TRUE;
        ELSE
            v_since := v_state.refreshed_at - c_margin;
            v_changed := coalesce(
                CASE v_view
                    WHEN 'exam_stats_mv' THEN v_attempts_at >= v_since OR v_analyses_at >= v_since
                    WHEN 'flagged_attempts_mv' THEN v_analyses_at >= v_since
                    WHEN 'exam_event_counts_mv' THEN v_in_progress OR v_attempts_at >= v_since
                END,
                FALSE
            );
            IF NOT v_changed THEN
                UPDATE app.analytics_refreshes AS r
                SET up_to_date_at = greatest(r.up_to_date_at, clock_timestamp())
                WHERE r.view_name = v_view;
                CONTINUE;
            END IF;
            IF clock_timestamp() < v_state.refreshed_at + v_state.duration * c_throttle THEN
                CONTINUE;
            END IF;
        END IF;

        v_started := clock_timestamp();
        IF v_populated THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY app.%I', v_view);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW app.%I', v_view);
        END IF;
        INSERT INTO app.analytics_refreshes AS r (
            view_name, refreshed_at, up_to_date_at, duration
        ) VALUES (
            v_view, v_started, v_started, clock_timestamp() - v_started
        )
        ON CONFLICT (view_name) DO UPDATE SET
            refreshed_at = excluded.refreshed_at,
            up_to_date_at = excluded.up_to_date_at,
            duration = excluded.duration,
            refreshes = r.refreshes + 1;
    END LOOP;

    RETURN internal.analytics_refreshed_at(c_views);
END
$$;
COMMENT ON FUNCTION internal.refresh_analytics(boolean) IS
'Worker task (every 5 s): REFRESH MATERIALIZED VIEW CONCURRENTLY each analytics view whose sources were written since a minute before its last refresh, at most once per five times its last duration (an unpopulated view at once, and not concurrently); records refreshed_at, up_to_date_at and duration in app.analytics_refreshes. One at a time (advisory lock; others return at once). p_force: wait for the lock, refresh all. Returns the time up to which the analytics are complete.';
REVOKE ALL ON FUNCTION internal.refresh_analytics(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_analytics(boolean) TO worker;
