-- audit: the hash chains over the audit tables and their sealer (the
-- worker). glue/audit_verify.py (`veritas audit verify`) recomputes them
-- independently. docs/audit.md.
--
--   internal.seal_audit_log()       worker           the hash chains (audit.seals)

-- The hash chains --------------------------------------------------------------------------

-- Each of audit.log, audit.security_events and audit.disclosures is one
-- chain. Row i of a chain (position i, 1, 2, ...) has the hash
--     h(i) = sha256(h(i - 1) || convert_to(i || '|' || content, 'UTF8')),  h(0) = 32 zero bytes
-- where content is the canonical text below: a JSON array of the row's
-- columns in a fixed order, timestamps as UTC text to the microsecond, so
-- that it depends on no session setting. The hashes are kept in audit.seals
-- (the rows themselves are never touched). glue/audit_verify.py recomputes
-- them with the same expression, independently of these functions: keep
-- the two in step (a column added to an audit table needs a new chain
-- version). No SET clause: inlined into the sealer's query, they name
-- built-ins only.

CREATE OR REPLACE FUNCTION internal.audit_content(p_row audit.log)
RETURNS text
LANGUAGE sql
STABLE
AS $$
    SELECT jsonb_build_array(
        p_row.id,
        to_char(p_row.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_row.table_schema, p_row.table_name, p_row.operation, p_row.row_pk,
        p_row.old_values, p_row.new_values, p_row.changed_columns,
        p_row.actor_id, p_row.actor_role, p_row.db_user,
        p_row.request_method, p_row.request_path, p_row.txid
    )::text;
$$;

CREATE OR REPLACE FUNCTION internal.audit_content(p_row audit.security_events)
RETURNS text
LANGUAGE sql
STABLE
AS $$
    SELECT jsonb_build_array(
        p_row.id,
        to_char(p_row.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_row.kind, p_row.user_id, p_row.email, p_row.client_addr::text, p_row.details
    )::text;
$$;

CREATE OR REPLACE FUNCTION internal.audit_content(p_row audit.disclosures)
RETURNS text
LANGUAGE sql
STABLE
AS $$
    SELECT jsonb_build_array(
        p_row.id,
        to_char(p_row.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_row.viewer_id, p_row.viewer_role, p_row.student_id, p_row.record_kind, p_row.record_id
    )::text;
$$;

COMMENT ON FUNCTION internal.audit_content(audit.log) IS
'Canonical content of an audit.log row, as hashed into the chain (glue/audit_verify.py has the same expression).';
COMMENT ON FUNCTION internal.audit_content(audit.security_events) IS
'Canonical content of an audit.security_events row, as hashed into the chain.';
COMMENT ON FUNCTION internal.audit_content(audit.disclosures) IS
'Canonical content of an audit.disclosures row, as hashed into the chain.';

REVOKE ALL ON FUNCTION internal.audit_content(audit.log) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.audit_content(audit.security_events) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.audit_content(audit.disclosures) FROM PUBLIC;

-- Seals the next committed rows of one chain (at most p_limit) as one new
-- audit.seals row; how many. The caller holds the sealing lock.
--
-- Which rows, and in which order. Writers insert with no lock and no read
-- of the chain (nothing serialises them on the hot path), and an id is
-- drawn at insert but visible only at commit: id 7 may commit after id 9
-- was sealed. So the chain follows the order in which rows are found
-- committed, not their ids, and each seal remembers what it could not see:
-- every id up to high_water is sealed or listed in pending_ids. The next run
-- takes the pending ids that have become visible with the new ones (id >
-- high_water). A pending id that never appears (its insert rolled back) is
-- forgotten once every transaction that could still commit it has ended:
-- each writer holds a transaction id before it draws an audit id (it has
-- written the row it audits, or the auth step before the event), so when
-- the oldest running transaction (snapshot xmin) is past the snapshot xmax
-- taken a run after the id was found missing, whoever drew it is gone, and
-- had it committed, this run would have seen its row. Pending ids are
-- dropped only when the run was not cut short by p_limit.
CREATE OR REPLACE FUNCTION internal.seal_audit_chain(p_chain text, p_limit integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_last audit.seals;
    v_position bigint;
    v_hash bytea;
    v_max bigint;
    v_xmin xid8;
    v_xmax xid8;
    v_row record;
    v_ids bigint[] := '{}'::bigint[];
    v_hashes bytea[] := '{}'::bytea[];
    v_pending bigint[];
    v_pending_xmax xid8[];
    v_whole boolean;
    v_new_max bigint;
BEGIN
    IF p_chain NOT IN ('log', 'security_events', 'disclosures') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('audit.%I is not a chained table', p_chain);
    END IF;
    SELECT s.* INTO v_last
    FROM audit.seals AS s
    WHERE s.chain = p_chain
    ORDER BY s.seal_no DESC
    LIMIT 1;
    v_position := coalesce(v_last.first_position + cardinality(v_last.row_ids), 1);
    v_hash := coalesce(v_last.last_hash, decode(repeat('00', 32), 'hex'));
    v_max := coalesce(v_last.high_water, 0);

    -- Taken before the rows are read: a transaction older than this has
    -- ended before they are read.
    v_xmin := pg_snapshot_xmin(pg_current_snapshot());
    FOR v_row IN EXECUTE format(
        'SELECT r.id, internal.audit_content(r) AS content FROM audit.%I AS r '
        'WHERE r.id > $1 OR r.id = ANY ($2) ORDER BY r.id LIMIT $3',
        p_chain
    ) USING v_max, coalesce(v_last.pending_ids, '{}'), p_limit LOOP
        v_hash := sha256(v_hash || convert_to(v_position::text || '|' || v_row.content, 'UTF8'));
        v_ids := array_append(v_ids, v_row.id);
        v_hashes := array_append(v_hashes, v_hash);
        v_position := v_position + 1;
    END LOOP;
    -- Taken after: a transaction that drew an id now missing has an id below this.
    v_xmax := pg_snapshot_xmax(pg_current_snapshot());
    v_whole := cardinality(v_ids) < p_limit;
    v_new_max := greatest(v_max, (SELECT max(x.id) FROM unnest(v_ids) AS x (id)));
    -- Rolled-back inserts leave a few ids unused; millions at once is no
    -- application's doing (an id forced by hand far ahead): refuse, loudly.
    IF v_new_max - v_max > 10000000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'audit.%I: ids jump from %s to %s; refusing to seal across the gap', p_chain,
                v_max, v_new_max
            ),
            HINT = 'Look for a row inserted by hand with an id of its own (veritas audit verify).';
    END IF;

    -- Still pending: the old pending ids not sealed now (their bound taken
    -- now if it was not yet, a run after they were found missing; forgotten
    -- once passed), and the new ids up to the highest sealed that were not
    -- visible (no bound yet).
    SELECT
        coalesce(array_agg(p.id ORDER BY p.id), '{}'),
        coalesce(array_agg(p.xmax ORDER BY p.id), '{}')
    INTO v_pending, v_pending_xmax
    FROM (
        SELECT o.id, coalesce(o.xmax, v_xmax) AS xmax
        FROM unnest(coalesce(v_last.pending_ids, '{}'), coalesce(v_last.pending_xmax, '{}'))
            AS o (id, xmax)
        WHERE
            NOT EXISTS (SELECT FROM unnest(v_ids) AS x (id) WHERE x.id = o.id)
            AND NOT (v_whole AND o.xmax IS NOT NULL AND v_xmin > o.xmax)
        UNION ALL
        SELECT g.id, NULL::xid8
        FROM (
            SELECT generate_series(v_max + 1, v_new_max) AS id
            EXCEPT ALL
            SELECT unnest(v_ids)
        ) AS g
    ) AS p;

    IF cardinality(v_ids) = 0
        AND v_pending = coalesce(v_last.pending_ids, '{}')
        AND v_pending_xmax IS NOT DISTINCT FROM coalesce(v_last.pending_xmax, '{}')
    THEN
        RETURN 0;
    END IF;
    INSERT INTO audit.seals (
        chain, seal_no, first_position, row_ids, row_hashes, prev_hash, last_hash, high_water,
        pending_ids, pending_xmax
    ) VALUES (
        p_chain, coalesce(v_last.seal_no, 0) + 1,
        coalesce(v_last.first_position + cardinality(v_last.row_ids), 1),
        v_ids, v_hashes, coalesce(v_last.last_hash, decode(repeat('00', 32), 'hex')), v_hash,
        v_new_max, v_pending, v_pending_xmax
    );
    RETURN cardinality(v_ids);
END;
$$;

COMMENT ON FUNCTION internal.seal_audit_chain(text, integer) IS
'Seals up to p_limit newly committed rows of audit.<p_chain> (log, security_events, disclosures) as one audit.seals row continuing its chain; the count. Owner only, under the sealing lock (internal.seal_audit_log).';

REVOKE ALL ON FUNCTION internal.seal_audit_chain(text, integer) FROM PUBLIC;

-- The worker's task, every few seconds: seals what has committed since the
-- last run, in all three chains. One sealer at a time (a transaction-level
-- advisory lock; a second worker returns 0 at once, nobody waits). READ
-- COMMITTED is required: each statement must see the previous sealer's
-- commit (the unique (chain, seal_no) would refuse a fork anyway).
CREATE OR REPLACE FUNCTION internal.seal_audit_log()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_lock constant bigint := 5646710001;  -- 'VT' audit seal
    c_batch constant integer := 10000;
    c_most constant integer := 200000;
    v_chain text;
    v_batch integer;
    v_total integer := 0;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING
            ERRCODE = '25000', MESSAGE = 'the audit log is sealed under READ COMMITTED only';
    END IF;
    IF NOT pg_try_advisory_xact_lock(c_lock) THEN
        RETURN 0;
    END IF;
    FOREACH v_chain IN ARRAY ARRAY['log', 'security_events', 'disclosures'] LOOP
        LOOP
            v_batch := internal.seal_audit_chain(v_chain, c_batch);
            v_total := v_total + v_batch;
            EXIT WHEN v_batch < c_batch OR v_total >= c_most;
        END LOOP;
    END LOOP;
    RETURN v_total;
END;
$$;

COMMENT ON FUNCTION internal.seal_audit_log() IS
'Worker: seals the newly committed rows of audit.log, audit.security_events and audit.disclosures into their hash chains (audit.seals; batches of 10000, up to 200000 a call); how many. One sealer at a time; others return 0.';

REVOKE ALL ON FUNCTION internal.seal_audit_log() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.seal_audit_log() TO worker;
