-- audit: row changes. Statement-level triggers on every business table,
-- attached from the catalog at every deploy (the DO block at the end), write
-- one audit.log entry per row changed. The monitoring events are audited
-- apart (event_triggers.sql). docs/audit.md.
--
--   internal.tg__audit()            trigger          _500_audit_* on every business table
--   internal.audit_attach           owner            attach those to a table (each deploy)

-- Row changes -----------------------------------------------------------------------

-- The primary key of a row (as jsonb) from its key columns (one to three;
-- internal.audit_attach refuses more). Plain SQL without a SET clause or a
-- sub-select, and STABLE like jsonb_build_object, so that it is inlined into
-- the trigger's queries: a SQL function call per row is parsed and planned
-- anew each time and would cost more than the rest of the entry.
CREATE OR REPLACE FUNCTION internal.audit_pk(p_row jsonb, p_columns text[])
RETURNS jsonb
LANGUAGE sql
STABLE
AS $$
    SELECT CASE cardinality(p_columns)
        WHEN 1 THEN jsonb_build_object(p_columns[1], p_row -> p_columns[1])
        WHEN 2 THEN jsonb_build_object(
            p_columns[1], p_row -> p_columns[1], p_columns[2], p_row -> p_columns[2]
        )
        WHEN 3 THEN jsonb_build_object(
            p_columns[1], p_row -> p_columns[1], p_columns[2], p_row -> p_columns[2],
            p_columns[3], p_row -> p_columns[3]
        )
    END;
$$;

COMMENT ON FUNCTION internal.audit_pk(jsonb, text[]) IS
'The primary key {column: value} of a row given as jsonb, from its key columns.';

REVOKE ALL ON FUNCTION internal.audit_pk(jsonb, text[]) FROM PUBLIC;

-- AFTER INSERT, UPDATE, DELETE (each FOR EACH STATEMENT, with its transition
-- tables) and TRUNCATE on every business table (the DO block below): one
-- audit.log entry per row changed, written by one INSERT ... SELECT per
-- statement. Statement level, not row level, for the hot path: a submit
-- writes a dozen audited rows in three statements, and one set-based insert
-- per statement costs a fraction of a dozen trigger calls each running its
-- own INSERT (docs/audit.md, bench/audit_overhead.py). The entries are the same.
-- Arguments, fixed at deploy from the catalog: the primary key columns and
-- the secret columns (names like *hash*, *password*, *secret*), as array
-- literals. A secret's value is never copied; its change still shows in
-- changed_columns. An UPDATE that changes nothing in a row records nothing
-- for that row; an UPDATE of a primary key records the old row and the new
-- one as two entries (their keys differ).
CREATE OR REPLACE FUNCTION internal.tg__audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pk constant text[] := TG_ARGV[0]::text[];
    v_secrets constant text[] := TG_ARGV[1]::text[];
    v_method constant text := nullif(current_setting('request.method', TRUE), '');
    v_path constant text := nullif(current_setting('request.path', TRUE), '');
    v_actor record;
BEGIN
    -- A statement that changed no row (an upsert fires both INSERT and
    -- UPDATE triggers, one of them empty) costs one probe, nothing more.
    IF TG_OP = 'DELETE' THEN
        PERFORM FROM old_rows LIMIT 1;
    ELSIF TG_OP <> 'TRUNCATE' THEN
        PERFORM FROM new_rows LIMIT 1;
    END IF;
    IF TG_OP <> 'TRUNCATE' AND NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_actor := internal.audit_actor();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit.log (
            table_schema, table_name, operation, row_pk, new_values,
            actor_id, actor_role, request_method, request_path
        )
        SELECT
            TG_TABLE_SCHEMA, TG_TABLE_NAME, 'INSERT', internal.audit_pk(r.j, v_pk), r.j - v_secrets,
            v_actor.actor_id, v_actor.actor_role, v_method, v_path
        FROM (SELECT to_jsonb(n) AS j FROM new_rows AS n OFFSET 0) AS r;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit.log (
            table_schema, table_name, operation, row_pk, old_values,
            actor_id, actor_role, request_method, request_path
        )
        SELECT
            TG_TABLE_SCHEMA, TG_TABLE_NAME, 'DELETE', internal.audit_pk(r.j, v_pk), r.j - v_secrets,
            v_actor.actor_id, v_actor.actor_role, v_method, v_path
        FROM (SELECT to_jsonb(o) AS j FROM old_rows AS o OFFSET 0) AS r;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Old and new rows paired by primary key; a full join, so that a
        -- row whose key changed is still recorded (as two unpaired halves).
        -- Each row is made jsonb once (OFFSET 0 and MATERIALIZED keep the
        -- planner from pulling to_jsonb() up into every use of it).
        WITH n AS MATERIALIZED (
            SELECT internal.audit_pk(x.j, v_pk) AS pk, x.j
            FROM (SELECT to_jsonb(r) AS j FROM new_rows AS r OFFSET 0) AS x
        ),
        o AS MATERIALIZED (
            SELECT internal.audit_pk(x.j, v_pk) AS pk, x.j
            FROM (SELECT to_jsonb(r) AS j FROM old_rows AS r OFFSET 0) AS x
        )
        INSERT INTO audit.log (
            table_schema, table_name, operation, row_pk, old_values, new_values, changed_columns,
            actor_id, actor_role, request_method, request_path
        )
        SELECT
            TG_TABLE_SCHEMA, TG_TABLE_NAME, 'UPDATE', coalesce(n.pk, o.pk),
            d.old_values, d.new_values, d.changed,
            v_actor.actor_id, v_actor.actor_role, v_method, v_path
        FROM n
        FULL JOIN o ON n.pk = o.pk
        CROSS JOIN LATERAL (
            SELECT
                array_agg(k.key ORDER BY k.key) AS changed,
                coalesce(
                    jsonb_object_agg(k.key, o.j -> k.key) FILTER (WHERE k.key <> ALL (v_secrets)),
                    '{}'
                ) AS old_values,
                coalesce(
                    jsonb_object_agg(k.key, n.j -> k.key) FILTER (WHERE k.key <> ALL (v_secrets)),
                    '{}'
                ) AS new_values
            FROM jsonb_object_keys(coalesce(n.j, o.j)) AS k (key)
            WHERE n.j -> k.key IS DISTINCT FROM o.j -> k.key
        ) AS d
        WHERE d.changed IS NOT NULL;
    ELSE
        INSERT INTO audit.log (
            table_schema, table_name, operation, actor_id, actor_role, request_method, request_path
        ) VALUES (
            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, v_actor.actor_id, v_actor.actor_role,
            v_method, v_path
        );
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.tg__audit() IS
'AFTER STATEMENT triggers _500_audit_insert, _500_audit_update, _500_audit_delete (with transition tables) and _500_audit_truncate: one audit.log entry per row changed (table, operation, primary key, changed columns with old and new values, actor, request, txid), one per TRUNCATE. Arguments: primary key columns, secret columns (never copied).';

REVOKE ALL ON FUNCTION internal.tg__audit() FROM PUBLIC;

-- The business tables that are NOT audited row by row, and why. Every other
-- table of app and auth gets _500_audit_* at every deploy, so a new table is
-- audited from its first deploy without anyone remembering to; the pgTAP
-- sweep (tests/sql/70_audit.sql) pins this list.
CREATE OR REPLACE FUNCTION internal.audit_exclusions()
RETURNS TABLE (table_name text, reason text)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    -- Append-only records of their own, the high-volume table: audited at
    -- statement level (any UPDATE, DELETE, TRUNCATE; detaching a partition)
    -- by event_triggers.sql. Its partitions are covered with it.
    ('app.monitoring_events', 'append-only events: statement-level audit'),
    -- Per-attempt counters of the event rate limit, unlogged (lost on a crash
    -- by design), rewritten by every event: no business meaning.
    ('app.event_rate_windows', 'unlogged rate-limit counters on the event hot path'),
    -- The job queue's bookkeeping (claims, locks, retries); what the jobs
    -- produce (analyses, metrics, profile statistics) is audited.
    ('app.analysis_jobs', 'job queue bookkeeping; its results are audited'),
    -- When each analytics summary table was last brought up to date (the
    -- worker, every few seconds): derived bookkeeping, no business data.
    ('app.analytics_refreshes', 'analytics refresh bookkeeping'),
    -- The analytics summary tables, recomputed by the worker from audited
    -- attempts, analyses and events every few seconds: derived, never entered.
    ('app.exam_stats', 'derived: analytics recomputed from audited attempts and analyses'),
    ('app.flagged_attempts', 'derived: analytics recomputed from audited analyses'),
    ('app.exam_event_counts', 'derived: analytics counted from the append-only events'),
    ('app.counted_attempts', 'derived: analytics bookkeeping of the event counts'),
    -- Per-student and per-exam figures recomputed from the attempts and
    -- analyses (internal.refresh_student_metrics, the analysis queue) at every
    -- submit: derived, never entered, and their sources are audited.
    ('app.performance_metrics', 'derived: recomputed from audited attempts and analyses'),
    ('app.exam_metrics', 'derived: recomputed from audited attempts and analyses'),
    -- Throttling bookkeeping, purged after 30 days: every attempt is already a
    -- login_success or login_failure in audit.security_events (chained).
    ('auth.login_attempts', 'mirrored one to one by audit.security_events')
$$;

COMMENT ON FUNCTION internal.audit_exclusions() IS
'The app and auth tables deliberately left without the _500_audit_* triggers, with the reason for each.';

REVOKE ALL ON FUNCTION internal.audit_exclusions() FROM PUBLIC;

-- Attach, from the catalog ---------------------------------------------------------------

-- The four triggers of one business table (and of each of its partitions, if
-- it is partitioned: a statement aimed at a partition fires the partition's
-- statement triggers, not its parent's), with its primary key and secret
-- columns, read from the catalog, as arguments. A table without a primary
-- key is refused: its entries could not say which row changed. Owner only.
CREATE OR REPLACE FUNCTION internal.audit_attach(p_table regclass)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pk text[];
    v_secrets text[];
    v_part regclass;
BEGIN
    SELECT array_agg(a.attname::text ORDER BY k.ord)
    INTO v_pk
    FROM pg_index AS i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
    INNER JOIN pg_attribute AS a ON i.indrelid = a.attrelid AND k.attnum = a.attnum
    WHERE i.indrelid = p_table AND i.indisprimary;
    IF v_pk IS NULL OR cardinality(v_pk) > 3 THEN
        RAISE EXCEPTION USING
            ERRCODE = '42P16',
            MESSAGE = format(
                '%s has no primary key of one to three columns: the audit trail cannot name its rows',
                p_table
            ),
            HINT = 'Give it one, or add it to internal.audit_exclusions() with a reason.';
    END IF;
    SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}')
    INTO v_secrets
    FROM pg_attribute AS a
    WHERE
        a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname ~* '(hash|passw|secret)';

    FOR v_part IN
        WITH RECURSIVE tree (rel) AS (
            SELECT p_table::oid
            UNION ALL
            SELECT i.inhrelid FROM pg_inherits AS i INNER JOIN tree AS t ON i.inhparent = t.rel
        )
        SELECT tree.rel::regclass FROM tree
    LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_insert AFTER INSERT ON %s '
            'REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_update AFTER UPDATE ON %s '
            'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_delete AFTER DELETE ON %s '
            'REFERENCING OLD TABLE AS old_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_truncate AFTER TRUNCATE ON %s '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
    END LOOP;
END;
$$;

COMMENT ON FUNCTION internal.audit_attach(regclass) IS
'Attaches the audit triggers (_500_audit_insert, _update, _delete, _truncate) to a business table and its partitions, with its primary key and secret columns from the catalog. Owner only; run for every table at each deploy.';

REVOKE ALL ON FUNCTION internal.audit_attach(regclass) FROM PUBLIC;

-- Every table of app and auth (partitions with their parent) but the
-- exclusions gets the triggers, re-read from the catalog at every deploy:
-- a new table, or a column added, is covered from the deploy that brings
-- it; an excluded table loses them. (The monitoring events get theirs in
-- event_triggers.sql.)
DO $$
DECLARE
    v_table record;
    v_trigger text;
BEGIN
    FOR v_table IN
        SELECT c.oid::regclass AS rel, x.table_name IS NOT NULL AS excluded
        FROM pg_class AS c
        INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
        LEFT JOIN internal.audit_exclusions() AS x
            ON x.table_name = format('%I.%I', n.nspname, c.relname)
        WHERE n.nspname IN ('app', 'auth') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.oid
    LOOP
        IF v_table.excluded THEN
            FOREACH v_trigger IN ARRAY ARRAY[
                '_500_audit', '_500_audit_insert', '_500_audit_update', '_500_audit_delete',
                '_500_audit_truncate'
            ] LOOP
                PERFORM FROM pg_trigger AS t
                WHERE
                    t.tgrelid = v_table.rel AND t.tgname = v_trigger
                    AND t.tgfoid = 'internal.tg__audit()'::regprocedure;
                IF FOUND THEN
                    EXECUTE format('DROP TRIGGER %I ON %s', v_trigger, v_table.rel);
                END IF;
            END LOOP;
        ELSE
            PERFORM internal.audit_attach(v_table.rel);
        END IF;
    END LOOP;
END;
$$;
