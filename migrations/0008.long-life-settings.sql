-- 0008.long-life-settings: storage parameters for a long life, as in
-- sql/schema/ (30_attempts, 40_monitoring, 50_analysis, 60_audit); why each,
-- in docs/operations.md. fillfactor applies to pages written from now on;
-- nothing is rewritten. The monthly event partitions that exist get the
-- default partition's parameters (internal.create_event_partitions gives
-- them to the partitions it creates from now on). Run by yoyo as
-- veritas_owner.

ALTER TABLE app.exam_attempts SET (fillfactor = 90);
ALTER TABLE app.attempt_answers SET (fillfactor = 80);
ALTER TABLE app.analysis_jobs SET (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
ALTER TABLE app.event_rate_windows SET (fillfactor = 50);

ALTER TABLE app.monitoring_events_default SET (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
DO $$
DECLARE
    v_partition regclass;
BEGIN
    FOR v_partition IN
        SELECT i.inhrelid::regclass
        FROM pg_catalog.pg_inherits AS i
        WHERE
            i.inhparent = 'app.monitoring_events'::regclass
            AND i.inhrelid <> 'app.monitoring_events_default'::regclass
    LOOP
        EXECUTE format(
            'ALTER TABLE %s SET (autovacuum_vacuum_insert_scale_factor = 0.02, '
            'autovacuum_analyze_scale_factor = 0.02)',
            v_partition
        );
    END LOOP;
END
$$;

ALTER TABLE audit.log SET (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
ALTER TABLE audit.security_events SET (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
ALTER TABLE audit.disclosures SET (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
