-- deploy: Citus mode, in one place (docs/scaling.md#4-citus). Without the citus
-- extension every function here answers "not distributed" or does nothing.
--
--   internal.citus_distributed(regclass)  is this table distributed by Citus?
--   internal.citus_force_event_policies(boolean)  FORCE row-level security
--                                         on the events, or lift it
--   internal.citus_distribute()           the distribution step, called by
--                                         glue/migrate.py after the repeatable
--                                         files, as the owner, at every migrate
--
-- What Citus holds, and why (docs/scaling.md#what-is-distributed-and-why):
--
-- * app.monitoring_events, the table that grows with every student and every
--   second of an exam, is hash-distributed by attempt_id (all its partitions
--   with it; a partition made later by internal.create_event_partitions is
--   distributed when it is attached). Every key of it leads with attempt_id,
--   so the idempotency key (ON CONFLICT) and the primary key hold per shard.
-- * Every other table stays on the coordinator, which is in the metadata (so
--   Citus joins them with the events, pulling the few rows a query needs):
--   each of them has row triggers writing the audit trail's single hash chain
--   (audit.log, one ordered chain on the coordinator), or is read and written
--   with them in one transaction; none grows with the events.
--
-- What distributing changes, here only:
--
-- * the foreign key of the events to their attempt is dropped (Citus refuses
--   a key from a distributed table to a coordinator table). The recording
--   functions admit an event only for an existing attempt in progress
--   (internal.admit_events), and attempts are never deleted by the
--   application, so nothing depends on the ON DELETE CASCADE;
-- * the statement-level audit triggers of the events (UPDATE, DELETE,
--   TRUNCATE, which nobody but the owner may do) are dropped: Citus refuses
--   triggers on a table it distributes, and the trigger's audit.log lives on
--   the coordinator. internal.audit_event_partition does not put them back.

CREATE OR REPLACE FUNCTION internal.citus_distributed(p_table regclass)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_found boolean;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN FALSE;
    END IF;
    -- dynamic: the catalog exists only with the extension (and plpgsql_check,
    -- which reads a constant query string, runs without it)
    EXECUTE format(
        'SELECT EXISTS (SELECT FROM %s WHERE logicalrelid = $1 AND partmethod = %L)',
        'pg_catalog.pg_dist_partition', 'h'
    )
    INTO v_found
    USING p_table;
    RETURN v_found;
END;
$$;

COMMENT ON FUNCTION internal.citus_distributed(regclass) IS
'Whether Citus hash-distributes this table (false without the citus extension). Owner only.';

REVOKE ALL ON FUNCTION internal.citus_distributed(regclass) FROM PUBLIC;

CREATE OR REPLACE FUNCTION internal.citus_force_event_policies(p_force boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN
        SELECT 'app.monitoring_events'::regclass
        UNION ALL
        SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
    LOOP
        -- one statement per EXECUTE: Citus sends a DDL's text to the workers
        EXECUTE format(
            'ALTER TABLE %s %s ROW LEVEL SECURITY', v_table,
            CASE WHEN p_force THEN 'FORCE' ELSE 'NO FORCE' END
        );
    END LOOP;
END;
$$;

COMMENT ON FUNCTION internal.citus_force_event_policies(boolean) IS
'FORCE (or NO FORCE) row-level security on the events and each partition: lifted while rows are copied in with COPY (internal.citus_distribute; veritas seed scale). Owner only.';

REVOKE ALL ON FUNCTION internal.citus_force_event_policies(boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION internal.citus_distribute()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table regclass;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF internal.citus_distributed('app.monitoring_events'::regclass) THEN
        RETURN;
    END IF;
    ALTER TABLE app.monitoring_events DROP CONSTRAINT IF EXISTS monitoring_events_attempt_id_fkey;
    FOR v_table IN
        SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
        UNION ALL
        SELECT 'app.monitoring_events'::regclass
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS _500_audit_update ON %s', v_table);
        EXECUTE format('DROP TRIGGER IF EXISTS _500_audit_delete ON %s', v_table);
        EXECUTE format('DROP TRIGGER IF EXISTS _500_audit_truncate ON %s', v_table);
    END LOOP;
    -- Copies the rows already there to the shards (docs/scaling.md: moving an
    -- existing database), with COPY, which PostgreSQL refuses on a table
    -- whose row policies apply to the writer: the owner, under FORCE. So
    -- FORCE is off (the shards are made without it) until the rows are in,
    -- then back on, on every shard, in this one transaction.
    PERFORM internal.citus_force_event_policies(FALSE);
    EXECUTE format('SELECT %s(%L, %L)', 'create_distributed_table', 'app.monitoring_events',
        'attempt_id');
    PERFORM internal.citus_force_event_policies(TRUE);
END;
$$;

COMMENT ON FUNCTION internal.citus_distribute() IS
'Citus mode: distributes app.monitoring_events by attempt_id (once; nothing without the citus extension). Called by veritas db migrate as the owner.';

REVOKE ALL ON FUNCTION internal.citus_distribute() FROM PUBLIC;
