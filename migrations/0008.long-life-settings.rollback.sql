-- 0008.long-life-settings rollback: the storage parameters back to
-- PostgreSQL's defaults, on every table 0007 set them on (the monthly event
-- partitions included).

ALTER TABLE app.exam_attempts RESET (fillfactor);
ALTER TABLE app.attempt_answers RESET (fillfactor);
ALTER TABLE app.analysis_jobs RESET (
    fillfactor, autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor
);
ALTER TABLE app.event_rate_windows RESET (fillfactor);

DO $$
DECLARE
    v_partition regclass;
BEGIN
    FOR v_partition IN
        SELECT i.inhrelid::regclass
        FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
    LOOP
        EXECUTE format(
            'ALTER TABLE %s RESET (autovacuum_vacuum_insert_scale_factor, '
            'autovacuum_analyze_scale_factor)',
            v_partition
        );
    END LOOP;
END
$$;

ALTER TABLE audit.log RESET (
    autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor
);
ALTER TABLE audit.security_events RESET (
    autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor
);
ALTER TABLE audit.disclosures RESET (
    autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor
);
