-- monitoring: partition upkeep of app.monitoring_events: monthly partitions
-- by the attempt's start time, created ahead of time; old ones detached into
-- the archive schema. Both run as the owner (SECURITY DEFINER) for the
-- worker role and the DBA's commands; neither is reachable over HTTP.

CREATE OR REPLACE FUNCTION internal.event_partition_name(p_month date)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'monitoring_events_p' || to_char(p_month, 'YYYYMM');
$$;

COMMENT ON FUNCTION internal.event_partition_name(date) IS
'Name of the monthly partition of app.monitoring_events holding attempts started in that month.';

-- Creates the partitions of the current month and the next p_months_ahead
-- months that do not exist yet. Rows already sitting in the default
-- partition for a new month (attempts that started before their month was
-- created) are moved into it, so no acknowledged event is ever refused or lost.
-- Each new partition takes the default partition's storage parameters
-- (autovacuum; declared in sql/schema/40_monitoring.sql): a partitioned
-- table has none of its own to pass on, so the default partition is the
-- one place to declare or tune them.
CREATE OR REPLACE FUNCTION internal.create_event_partitions(p_months_ahead integer DEFAULT 3)
RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_month date;
    v_next date;
    v_name text;
    v_option record;
    v_citus constant boolean := internal.citus_distributed('app.monitoring_events'::regclass);
    v_parked app.monitoring_events[] := '{}'::app.monitoring_events[];
    v_event app.monitoring_events;
BEGIN
    IF p_months_ahead NOT BETWEEN 0 AND 24 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 24, not %', p_months_ahead
            USING ERRCODE = '22023';
    END IF;
    IF v_citus THEN
        -- One connection per worker for the whole transaction: attaching
        -- (distributing) a partition over several would deadlock with the
        -- shards this transaction already touched.
        PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', TRUE);
    END IF;
    FOR v_month IN
        SELECT generate_series(
            date_trunc('month', now() AT TIME ZONE 'UTC'),
            date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => p_months_ahead),
            interval '1 month'
        )::date
    LOOP
        v_name := internal.event_partition_name(v_month);
        CONTINUE WHEN to_regclass('app.' || v_name) IS NOT NULL;
        v_next := (v_month + interval '1 month')::date;
        EXECUTE format(
            'CREATE TABLE app.%I (LIKE app.monitoring_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
            v_name
        );
        FOR v_option IN
            SELECT split_part(o.item, '=', 1) AS name, substr(o.item, strpos(o.item, '=') + 1) AS value
            FROM pg_catalog.pg_class AS c
            CROSS JOIN LATERAL unnest(c.reloptions) AS o (item)
            WHERE c.oid = 'app.monitoring_events_default'::regclass
        LOOP
            EXECUTE format('ALTER TABLE app.%I SET (%I = %L)', v_name, v_option.name, v_option.value);
        END LOOP;
        IF NOT v_citus THEN
            EXECUTE format(
                'WITH moved AS (DELETE FROM app.monitoring_events_default
                     WHERE attempt_started_at >= %L::timestamptz AND attempt_started_at < %L::timestamptz
                     RETURNING *)
                 INSERT INTO app.%I SELECT * FROM moved',
                v_month::timestamp AT TIME ZONE 'UTC', v_next::timestamp AT TIME ZONE 'UTC', v_name
            );
        ELSE
            -- Citus (sql/functions/deploy/citus.sql): the new table becomes a
            -- distributed partition when attached, and rows it held before are
            -- not carried over; the parked events leave the default partition
            -- first and are recorded again once it is attached, one INSERT
            -- each (few: only attempts started beyond the months made ahead).
            EXECUTE format(
                'WITH moved AS (DELETE FROM app.monitoring_events_default
                     WHERE attempt_started_at >= %L::timestamptz AND attempt_started_at < %L::timestamptz
                     RETURNING *)
                 SELECT coalesce(array_agg(moved::app.monitoring_events), ''{}'') FROM moved',
                v_month::timestamp AT TIME ZONE 'UTC', v_next::timestamp AT TIME ZONE 'UTC'
            ) INTO v_parked;
        END IF;
        EXECUTE format(
            'ALTER TABLE app.monitoring_events ATTACH PARTITION app.%I
                 FOR VALUES FROM (%L) TO (%L)',
            v_name, v_month::timestamp AT TIME ZONE 'UTC', v_next::timestamp AT TIME ZONE 'UTC'
        );
        FOREACH v_event IN ARRAY v_parked LOOP
            INSERT INTO app.monitoring_events VALUES (v_event.*);
        END LOOP;
        v_parked := '{}'::app.monitoring_events[];
        EXECUTE format('ALTER TABLE app.%I ENABLE ROW LEVEL SECURITY', v_name);
        EXECUTE format('ALTER TABLE app.%I FORCE ROW LEVEL SECURITY', v_name);
        -- Any UPDATE, DELETE or TRUNCATE aimed at the partition is audited
        -- (sql/functions/audit/event_triggers.sql).
        PERFORM internal.audit_event_partition(format('app.%I', v_name)::regclass);
        EXECUTE format(
            'COMMENT ON TABLE app.%I IS %L', v_name,
            'Monthly partition of app.monitoring_events (attempts started in '
            || to_char(v_month, 'YYYY-MM') || ').'
        );
        RETURN NEXT v_name;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION internal.create_event_partitions(integer) IS
'Creates the missing monthly partitions of app.monitoring_events from this month to p_months_ahead months ahead, with the default partition''s storage parameters; returns their names.';

-- Detaches the monthly partitions whose every attempt started more than
-- p_older_than ago and moves them into the archive schema (still queryable
-- by a DBA, out of every application path, droppable or dumpable at will).
CREATE OR REPLACE FUNCTION internal.archive_event_partitions(p_older_than interval)
RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_part record;
    v_fk name;
BEGIN
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'refusing to archive events younger than one day (asked: %)', p_older_than
            USING ERRCODE = '22023';
    END IF;
    FOR v_part IN
        SELECT
            c.relname,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
            AS upper_bound
        FROM pg_inherits AS i
        INNER JOIN pg_class AS c ON i.inhrelid = c.oid
        WHERE
            i.inhparent = 'app.monitoring_events'::regclass
            AND c.relname ~ '^monitoring_events_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        CONTINUE WHEN v_part.upper_bound > now() - p_older_than;
        -- Detaching fires no row trigger: the audit trail records it here.
        PERFORM internal.audit_operation(
            'DETACH', format('app.%I', v_part.relname)::regclass,
            jsonb_build_object(
                'parent', 'app.monitoring_events',
                'archived_as', 'archive.' || v_part.relname,
                'upper_bound', internal.audit_time(v_part.upper_bound)
            )
        );
        EXECUTE format('ALTER TABLE app.monitoring_events DETACH PARTITION app.%I', v_part.relname);
        EXECUTE format('ALTER TABLE app.%I SET SCHEMA archive', v_part.relname);
        -- An archive no longer belongs to live attempts: deleting an attempt
        -- must not reach into it.
        FOR v_fk IN
            SELECT conname FROM pg_constraint
            WHERE conrelid = format('archive.%I', v_part.relname)::regclass AND contype = 'f'
        LOOP
            EXECUTE format(
                'ALTER TABLE archive.%I DROP CONSTRAINT %I', v_part.relname, v_fk
            );
        END LOOP;
        RETURN NEXT 'archive.' || v_part.relname;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION internal.archive_event_partitions(interval) IS
'Detaches the monthly event partitions older than p_older_than into the archive schema; returns their new names.';

REVOKE ALL ON FUNCTION internal.event_partition_name(date) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.create_event_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.archive_event_partitions(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.create_event_partitions(integer) TO worker;
