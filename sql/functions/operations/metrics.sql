-- Operational figures for GET /metrics (glue/metrics.py): what a person
-- running Veritas must watch. Every figure is cheap to read at each scrape:
-- index probes and the statistics collector's counters, never a count over
-- a large table.

-- internal.last_seal -----------------------------------------------------------

-- Where a chain's sealing stands: every id up to high_water is sealed or
-- pending (docs/audit.md); 0 and 0 before its first seal.
CREATE OR REPLACE FUNCTION internal.last_seal(
    p_chain text, OUT high_water bigint, OUT pending bigint
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(s.high_water), 0), coalesce(max(cardinality(s.pending_ids)), 0)
    FROM (
        SELECT se.high_water, se.pending_ids
        FROM audit.seals AS se
        WHERE se.chain = p_chain
        ORDER BY se.seal_no DESC
        LIMIT 1
    ) AS s;
$$;

COMMENT ON FUNCTION internal.last_seal(text) IS
'The newest seal of an audit chain: its high_water and how many ids it left pending (0, 0 before the first seal).';
REVOKE ALL ON FUNCTION internal.last_seal(text) FROM PUBLIC;

-- internal.operational_metrics ------------------------------------------------

-- One jsonb object:
--   jobs                          analysis jobs by status, for the live ones
--                                 (queued, running, failed, parked; done jobs
--                                 are not counted)
--   oldest_queued_seconds         age of the oldest job waiting to run (0 when
--                                 none): how far analysis lags behind submits
--   analytics_staleness_seconds   now minus the oldest up_to_date_at of the
--                                 analytics summary tables (NULL before
--                                 their first refresh)
--   events_inserted               monitoring events inserted since the
--                                 statistics were last reset (the partitions'
--                                 n_tup_ins, summed)
--   unsealed                      audit rows not yet sealed into their hash
--                                 chain, per chain (log, security_events,
--                                 disclosures)
-- SECURITY DEFINER: the queue and the audit trail are the owner's to read;
-- EXECUTE for the worker role only (the glue reads the figures as it).

-- Monitoring events inserted since the statistics were last reset: the
-- partitions' n_tup_ins, summed. On Citus the rows go to the shards on the
-- workers, whose statistics are theirs: summed there, one query per worker.
CREATE OR REPLACE FUNCTION internal.events_inserted()
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_total bigint;
BEGIN
    IF internal.citus_distributed('app.monitoring_events'::regclass) THEN
        -- dynamic: run_command_on_workers exists only with the extension
        EXECUTE format(
            'SELECT coalesce(sum(w.result::bigint), 0) FROM %s(%L) AS w WHERE w.success',
            'run_command_on_workers',
            'SELECT coalesce(sum(n_tup_ins), 0) FROM pg_catalog.pg_stat_user_tables '
            || 'WHERE schemaname = ''app'' AND relname LIKE ''monitoring\_events\_%'''
        )
        INTO v_total;
        RETURN v_total;
    END IF;
    SELECT coalesce(sum(t.n_tup_ins), 0)::bigint
    INTO v_total
    FROM pg_catalog.pg_stat_user_tables AS t
    INNER JOIN pg_catalog.pg_inherits AS i ON t.relid = i.inhrelid
    WHERE i.inhparent = 'app.monitoring_events'::regclass;
    RETURN v_total;
END;
$$;

COMMENT ON FUNCTION internal.events_inserted() IS
'Monitoring events inserted since the statistics were last reset (on Citus, counted on the workers). Owner only, for internal.operational_metrics.';
REVOKE ALL ON FUNCTION internal.events_inserted() FROM PUBLIC;

CREATE OR REPLACE FUNCTION internal.operational_metrics()
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'jobs', (
            SELECT jsonb_object_agg(s.status, (
                SELECT count(*) FROM app.analysis_jobs AS j WHERE j.status = s.status
            ))
            FROM unnest(ARRAY['queued', 'running', 'failed', 'parked']::app.job_status[]) AS s (status)
        ),
        'oldest_queued_seconds', coalesce((
            SELECT extract(EPOCH FROM now() - min(j.run_after))
            FROM app.analysis_jobs AS j
            WHERE j.status IN ('queued', 'failed') AND j.run_after <= now()
        ), 0),
        'analytics_staleness_seconds', extract(EPOCH FROM now() - internal.analytics_refreshed_at(
            ARRAY['exam_stats', 'flagged_attempts', 'exam_event_counts']
        )),
        'events_inserted', internal.events_inserted(),
        'unsealed', (
            SELECT jsonb_object_agg(c.chain, c.unsealed)
            FROM (
                SELECT
                    'log' AS chain,
                    (SELECT count(*) FROM audit.log AS r WHERE r.id > last.high_water)
                    + last.pending AS unsealed
                FROM internal.last_seal('log') AS last
                UNION ALL
                SELECT
                    'security_events',
                    (SELECT count(*) FROM audit.security_events AS r WHERE r.id > last.high_water)
                    + last.pending
                FROM internal.last_seal('security_events') AS last
                UNION ALL
                SELECT
                    'disclosures',
                    (SELECT count(*) FROM audit.disclosures AS r WHERE r.id > last.high_water)
                    + last.pending
                FROM internal.last_seal('disclosures') AS last
            ) AS c
        )
    );
$$;

COMMENT ON FUNCTION internal.operational_metrics() IS
'Figures for GET /metrics: live analysis jobs by status, the oldest queued job''s age, the analytics'' staleness, monitoring events inserted, audit rows not yet sealed per chain.';
REVOKE ALL ON FUNCTION internal.operational_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.operational_metrics() TO worker;
