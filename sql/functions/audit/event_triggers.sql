-- audit: the monitoring events, audited per statement (their inserts are
-- the record itself), and entries that are no row change (DETACH of an
-- event partition). docs/audit.md.
--
--   internal.tg_monitoring_events__audit()  trigger  statement-level, events
--   internal.audit_event_partition  owner            attach those to a new partition
--   internal.audit_operation        owner            an entry that is no row change (DETACH)

-- Monitoring events: statement level ------------------------------------------------

-- AFTER UPDATE / DELETE / TRUNCATE FOR EACH STATEMENT on app.monitoring_events
-- and on each of its partitions (a statement aimed at a partition fires the
-- partition's triggers, not the parent's). One entry per statement that
-- touched rows: how many, which attempts (the first 100), and for an UPDATE
-- which columns changed. Inserts are not recorded: the events are the record.
CREATE OR REPLACE FUNCTION internal.tg_monitoring_events__audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows bigint;
    v_attempts jsonb;
    v_changed text[];
    v_actor record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO v_rows FROM old_rows;
        SELECT jsonb_agg(a.attempt_id) INTO v_attempts
        FROM (SELECT DISTINCT o.attempt_id FROM old_rows AS o ORDER BY 1 LIMIT 100) AS a;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_rows FROM new_rows;
        SELECT jsonb_agg(a.attempt_id) INTO v_attempts
        FROM (SELECT DISTINCT n.attempt_id FROM new_rows AS n ORDER BY 1 LIMIT 100) AS a;
        SELECT array_agg(DISTINCT e.key ORDER BY e.key) INTO v_changed
        FROM old_rows AS o
        INNER JOIN new_rows AS n ON o.attempt_id = n.attempt_id AND o.id = n.id
        CROSS JOIN LATERAL jsonb_each(to_jsonb(n)) AS e
        WHERE e.value IS DISTINCT FROM to_jsonb(o) -> e.key;
    END IF;
    IF v_rows = 0 THEN
        RETURN NULL;
    END IF;

    v_actor := internal.audit_actor();
    INSERT INTO audit.log (
        table_schema, table_name, operation, old_values, new_values, changed_columns,
        actor_id, actor_role, request_method, request_path
    ) VALUES (
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP,
        CASE WHEN TG_OP <> 'UPDATE' THEN
            jsonb_build_object('rows', v_rows, 'attempt_ids', v_attempts, 'statement_level', TRUE)
        END,
        CASE WHEN TG_OP = 'UPDATE' THEN
            jsonb_build_object('rows', v_rows, 'attempt_ids', v_attempts, 'statement_level', TRUE)
        END,
        v_changed,
        v_actor.actor_id, v_actor.actor_role,
        nullif(current_setting('request.method', TRUE), ''),
        nullif(current_setting('request.path', TRUE), '')
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.tg_monitoring_events__audit() IS
'AFTER STATEMENT triggers _500_audit_update, _500_audit_delete, _500_audit_truncate on app.monitoring_events and its partitions: one audit.log entry per statement (rows, attempt ids, changed columns).';

REVOKE ALL ON FUNCTION internal.tg_monitoring_events__audit() FROM PUBLIC;

-- Attaches the three statement-level triggers to app.monitoring_events or
-- one of its partitions. Run for every existing partition at each deploy
-- (below) and by internal.create_event_partitions for each partition it
-- creates. Owner only.
CREATE OR REPLACE FUNCTION internal.audit_event_partition(p_table regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Citus refuses triggers on a table it distributes (the audit.log they
    -- write is on the coordinator): none there (sql/functions/deploy/citus.sql).
    IF internal.citus_distributed(p_table) THEN
        RETURN;
    END IF;
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER _500_audit_update AFTER UPDATE ON %s '
        'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit()',
        p_table
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER _500_audit_delete AFTER DELETE ON %s '
        'REFERENCING OLD TABLE AS old_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit()',
        p_table
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER _500_audit_truncate AFTER TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit()',
        p_table
    );
END;
$$;

COMMENT ON FUNCTION internal.audit_event_partition(regclass) IS
'Attaches the statement-level audit triggers to app.monitoring_events or one of its partitions (create_event_partitions calls it for each new one). Owner only.';

REVOKE ALL ON FUNCTION internal.audit_event_partition(regclass) FROM PUBLIC;

-- An entry that is not a row change: DETACH of an event partition (which
-- fires no DML trigger) and the like. Owner only: called by the owner's
-- SECURITY DEFINER upkeep functions.
CREATE OR REPLACE FUNCTION internal.audit_operation(
    p_operation text, p_table regclass, p_details jsonb DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor record := internal.audit_actor();
BEGIN
    INSERT INTO audit.log (
        table_schema, table_name, operation, new_values, actor_id, actor_role,
        request_method, request_path
    )
    SELECT
        n.nspname, c.relname, p_operation, p_details, v_actor.actor_id, v_actor.actor_role,
        nullif(current_setting('request.method', TRUE), ''),
        nullif(current_setting('request.path', TRUE), '')
    FROM pg_class AS c
    INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
    WHERE c.oid = p_table;
END;
$$;

COMMENT ON FUNCTION internal.audit_operation(text, regclass, jsonb) IS
'Appends an audit.log entry that is not a row change (for example DETACH of an event partition), details in new_values. Owner only.';

REVOKE ALL ON FUNCTION internal.audit_operation(text, regclass, jsonb) FROM PUBLIC;

-- The statement-level triggers of the monitoring events and of every
-- partition of them, at every deploy (internal.create_event_partitions
-- attaches them to each partition it creates).
DO $$
BEGIN
    PERFORM internal.audit_event_partition('app.monitoring_events'::regclass);
    PERFORM internal.audit_event_partition(i.inhrelid::regclass)
    FROM pg_inherits AS i
    WHERE i.inhparent = 'app.monitoring_events'::regclass;
END;
$$;
