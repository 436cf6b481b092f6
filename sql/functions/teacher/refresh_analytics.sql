-- teacher: the worker's refresh of the analytics summary tables
-- (app.exam_stats, app.flagged_attempts, app.exam_event_counts and
-- app.counted_attempts, declared in sql/schema/50_analysis.sql; their pass
-- times in app.analytics_refreshes; read through sql/views/exam_analytics.sql;
-- policies in sql/policies/teacher.sql). Each pass recomputes only what
-- changed since the last one, so that its cost follows the activity, not
-- the size of the tables. Rules and cost: docs/teacher-views.md.

-- internal.analytics_refreshed_at --------------------------------------------------

-- The time up to which the given summary tables are known complete (the
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
'The oldest up_to_date_at of the given analytics summary tables: the answer holds everything committed before it; NULL until each has been refreshed once.';
REVOKE ALL ON FUNCTION internal.analytics_refreshed_at(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.analytics_refreshed_at(text[]) TO teacher, admin;

-- internal.refresh_analytics -------------------------------------------------------

-- Run by the worker every 5 seconds (glue/worker.py), in one transaction.
-- A pass recomputes only what changed since the previous pass began, less
-- a margin of one minute (a row's timestamp is its transaction's start, so
-- the margin covers transactions that began before that pass and committed
-- after it), found by index range scans:
--
--   exam_stats         the exams of the attempts written since
--                      (exam_attempts.updated_at), of the attempts analysed
--                      since (behavior_analyses.created_at), and of the
--                      attempts in progress past their deadline (they count
--                      as expired; the partial index on deadline).
--   flagged_attempts   the attempts analysed since.
--   exam_event_counts  first, the closed attempts written between two
--                      minutes before the previous pass and one minute
--                      before this one are counted once and for all
--                      (internal.count_closed_attempts); then the exams
--                      with an attempt in progress (events may have
--                      arrived: the partial unique index of attempts in
--                      progress), those of the attempts written since, and
--                      those just counted get events = settled + the live
--                      events of their uncounted attempts.
--
-- An exam nobody touched is not recomputed (its exam_stats.computed_at
-- stays). Events are not probed themselves (received_at has only a BRIN
-- index): an event is accepted only for an attempt in progress (the
-- policies of monitoring_events), and those exams are always recomputed.
--
-- The first pass (no app.analytics_refreshes row yet, after a migrate or a
-- restore) and a forced one (p_force: after a DBA archived event
-- partitions, which writes no timestamp; after loading data with old
-- timestamps; in tests) recompute everything from the tables: every exam,
-- every attempt, and every closed attempt counted afresh (one scan of the
-- events).
--
-- Each table's row of app.analytics_refreshes gets refreshed_at =
-- up_to_date_at = the pass's start (everything committed before it is in),
-- the duration of its part, and refreshes + 1 when its part wrote a row.
-- One pass at a time (a transaction-level advisory lock); a second caller
-- returns at once, p_force waits for it. Returns the time up to which all
-- the tables are known complete. SECURITY DEFINER: the summary tables
-- belong to the owner, and the worker holds no table privilege.
CREATE OR REPLACE FUNCTION internal.refresh_analytics(p_force boolean DEFAULT FALSE)
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_tables constant text[] := ARRAY['exam_stats', 'flagged_attempts', 'exam_event_counts'];
    c_margin constant interval := interval '1 minute';
    v_started timestamptz;
    v_last timestamptz;
    v_full boolean;
    v_since timestamptz;
    v_exam_ids uuid[];
    v_attempt_ids uuid[];
    v_counted uuid[];
    v_clock timestamptz;
    v_rows integer[] := '{}'::integer[];
    v_durations interval[] := '{}'::interval[];
BEGIN
    IF p_force THEN
        PERFORM pg_advisory_xact_lock(hashtext('veritas.refresh_analytics'));
    ELSIF NOT pg_try_advisory_xact_lock(hashtext('veritas.refresh_analytics')) THEN
        RETURN internal.analytics_refreshed_at(c_tables);
    END IF;
    v_started := clock_timestamp();
    v_last := (
        SELECT min(r.refreshed_at) FROM app.analytics_refreshes AS r
        WHERE r.view_name = ANY (c_tables)
        HAVING count(*) = cardinality(c_tables)
    );
    v_full := p_force OR v_last IS NULL;
    v_since := v_last - c_margin;

    -- exam_stats
    v_clock := clock_timestamp();
    IF v_full THEN
        v_exam_ids := ARRAY(
            SELECT e.id FROM app.exams AS e
            UNION
            SELECT s.exam_id FROM app.exam_stats AS s
        );
    ELSE
        v_exam_ids := ARRAY(
            SELECT a.exam_id FROM app.exam_attempts AS a WHERE a.updated_at >= v_since
            UNION
            SELECT a.exam_id
            FROM app.behavior_analyses AS b
            INNER JOIN app.exam_attempts AS a ON b.attempt_id = a.id
            WHERE b.created_at >= v_since
            UNION
            SELECT a.exam_id FROM app.exam_attempts AS a
            WHERE a.status = 'in_progress' AND a.deadline < now()
        );
    END IF;
    v_rows := v_rows || internal.recompute_exam_stats(v_exam_ids, v_started);
    v_durations := v_durations || (clock_timestamp() - v_clock);

    -- flagged_attempts
    v_clock := clock_timestamp();
    IF v_full THEN
        v_rows := v_rows || internal.recompute_flagged_attempts(NULL);
    ELSE
        v_attempt_ids := ARRAY(
            SELECT DISTINCT b.attempt_id FROM app.behavior_analyses AS b
            WHERE b.created_at >= v_since
        );
        v_rows := v_rows || CASE
            WHEN cardinality(v_attempt_ids) > 0
                THEN greatest(internal.recompute_flagged_attempts(v_attempt_ids), 1)
            ELSE 0
        END;
    END IF;
    v_durations := v_durations || (clock_timestamp() - v_clock);

    -- exam_event_counts
    v_clock := clock_timestamp();
    IF v_full THEN
        v_counted := internal.count_closed_attempts(NULL, v_started - c_margin, v_started);
        v_exam_ids := ARRAY(SELECT e.id FROM app.exams AS e);
    ELSE
        v_counted := internal.count_closed_attempts(
            v_last - 2 * c_margin, v_started - c_margin, v_started
        );
        v_exam_ids := ARRAY(
            SELECT a.exam_id FROM app.exam_attempts AS a WHERE a.status = 'in_progress'
            UNION
            SELECT a.exam_id FROM app.exam_attempts AS a WHERE a.updated_at >= v_since
            UNION
            SELECT unnest(v_counted)
        );
    END IF;
    v_rows := v_rows || (
        internal.recompute_exam_event_counts(v_exam_ids, v_started - 2 * c_margin)
        + cardinality(v_counted)
    );
    v_durations := v_durations || (clock_timestamp() - v_clock);

    INSERT INTO app.analytics_refreshes AS r (
        view_name, refreshed_at, up_to_date_at, duration
    )
    SELECT t.view_name, v_started, v_started, t.duration
    FROM unnest(c_tables, v_durations, v_rows) AS t (view_name, duration, written)
    ON CONFLICT (view_name) DO UPDATE SET
        refreshed_at = excluded.refreshed_at,
        up_to_date_at = excluded.up_to_date_at,
        duration = excluded.duration,
        refreshes = r.refreshes + CASE
            WHEN (v_rows[array_position(c_tables, r.view_name)]) > 0 THEN 1 ELSE 0
        END;

    RETURN internal.analytics_refreshed_at(c_tables);
END
$$;
COMMENT ON FUNCTION internal.refresh_analytics(boolean) IS
'Worker task (every 5 s): bring the analytics summary tables up to date, recomputing only the exams and attempts whose attempts, analyses or events changed since the last pass (everything on the first pass or with p_force); records each table''s pass in app.analytics_refreshes. One at a time (advisory lock; others return at once, p_force waits). Returns the time up to which the analytics are complete.';
REVOKE ALL ON FUNCTION internal.refresh_analytics(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.refresh_analytics(boolean) TO worker;
