-- audit: the audit trail. Row changes of every business table (statement
-- triggers attached from the catalog), statement-level entries for the
-- monitoring events, security events of role changes, the disclosure log
-- (FERPA), the append-only guards, the hash chains and their sealer, and
-- the API that reads it all. What is recorded and why: docs/audit.md.
--
-- Repeatable, applied as veritas_owner. Everything that writes to the audit
-- schema is SECURITY DEFINER (owned by veritas_owner, search_path pinned,
-- EXECUTE granted per role, or none for trigger functions), so that no
-- request role holds a privilege on the audit tables; the policies of
-- sql/policies/audit.sql let the owner append, nothing more.
--
--   internal.log_disclosure(s)      teacher, admin   record a read of student data
--   internal.tg__audit()            trigger          _500_audit_* on every business table
--   internal.audit_attach           owner            attach those to a table (each deploy)
--   internal.tg_monitoring_events__audit()  trigger  statement-level, events
--   internal.audit_event_partition  owner            attach those to a new partition
--   internal.audit_operation        owner            an entry that is no row change (DETACH)
--   internal.seal_audit_log()       worker           the hash chains (audit.seals)
--   api.get_audit_log                admin            GET /admin/audit
--   api.get_security_events          admin
--   api.get_disclosure_log           admin            who looked at a student's records
--   api.get_my_disclosures           student          GET /student/disclosures

-- Who is acting ---------------------------------------------------------------------

-- The actor of an audit entry: the JWT subject and role claim for an API
-- request (the claims are trusted only when their role is the database role
-- in effect, as internal.current_user_id() demands); otherwise no user and
-- the database role in effect: SET ROLE (the worker, migrations as
-- veritas_owner), else the login itself (a DBA's direct session). The login
-- is recorded apart (audit.log.db_user = session_user). current_setting('role')
-- is not changed by SECURITY DEFINER, so this reads the caller, not the owner.
-- Reading the claims costs a subtransaction (internal.jwt_claims), so the
-- answer is kept for the rest of the transaction in transaction-local
-- settings, keyed by the transaction id, the role and the claims text it
-- came from (a later set_config of either is seen at once; a value left in
-- a session by anyone can never match another transaction).
CREATE OR REPLACE FUNCTION internal.audit_actor(OUT actor_id uuid, OUT actor_role text)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role constant text := current_setting('role');
    v_key constant text := txid_current() || ' ' || v_role || ' '
        || coalesce(current_setting('request.jwt.claims', TRUE), '');
    v_claims jsonb;
BEGIN
    IF current_setting('veritas.audit_actor_key', TRUE) = v_key THEN
        actor_id := nullif(current_setting('veritas.audit_actor_id'), '')::uuid;
        actor_role := current_setting('veritas.audit_actor_role');
        RETURN;
    END IF;
    actor_role := CASE WHEN v_role = 'none' THEN session_user::text ELSE v_role END;
    IF v_role IN ('student', 'teacher', 'admin', 'integration') THEN
        v_claims := internal.jwt_claims();
        IF v_claims ->> 'role' = v_role
            AND v_claims ->> 'sub' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN
            actor_id := (v_claims ->> 'sub')::uuid;
        END IF;
    END IF;
    PERFORM
        set_config('veritas.audit_actor_id', coalesce(actor_id::text, ''), TRUE),
        set_config('veritas.audit_actor_role', actor_role, TRUE),
        set_config('veritas.audit_actor_key', v_key, TRUE);
END;
$$;

COMMENT ON FUNCTION internal.audit_actor() IS
'Who is acting, for the audit trail: the JWT subject and role of an API request; else no user and the database role in effect (SET ROLE, or the login). Owner only.';

REVOKE ALL ON FUNCTION internal.audit_actor() FROM PUBLIC;

-- Disclosure log ------------------------------------------------------------------------

-- A disclosure row is written only for a record that the caller was able to
-- read and that belongs to the student it names, so that a direct call
-- cannot fill the log with reads that never happened (42501 otherwise). The
-- kinds: profile (record_id: the student), monitoring_events (record_id:
-- the attempt), analysis (record_id: the analysis). Runs as the owner
-- inside the two writers below; never granted.
CREATE OR REPLACE FUNCTION internal.assert_disclosed_records(
    p_role text, p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]
)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_exam_ids constant uuid[] := CASE
        WHEN p_role = 'teacher' THEN internal.teacher_exam_ids()
    END;
    v_bad record;
BEGIN
    IF p_record_kind IS NULL OR p_record_kind NOT IN ('profile', 'monitoring_events', 'analysis') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('no disclosure kind %L (profile, monitoring_events, analysis)', p_record_kind);
    END IF;
    SELECT s.student_id, s.record_id INTO v_bad
    FROM unnest(p_student_ids, p_record_ids) AS s (student_id, record_id)
    LEFT JOIN app.behavior_analyses AS b
        ON p_record_kind = 'analysis' AND s.record_id = b.id
    LEFT JOIN app.exam_attempts AS a
        ON a.id = CASE p_record_kind
            WHEN 'monitoring_events' THEN s.record_id
            WHEN 'analysis' THEN b.attempt_id
        END
    WHERE
        s.student_id IS NOT NULL
        AND NOT CASE p_record_kind
            WHEN 'profile' THEN
                s.record_id = s.student_id
                AND (p_role = 'admin' OR internal.teacher_can_see_student(s.student_id))
            ELSE
                a.student_id = s.student_id
                AND (p_role = 'admin' OR a.exam_id = any(v_exam_ids))
        END IS TRUE
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501',
            MESSAGE = 'a disclosure is recorded only by the read it records';
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.assert_disclosed_records(text, uuid[], text, uuid[]) IS
'Raises 42501 unless every (student, record) names a record of that kind that belongs to the student and that the calling teacher or admin may read.';
REVOKE ALL ON FUNCTION internal.assert_disclosed_records(text, uuid[], text, uuid[]) FROM PUBLIC;

-- FERPA (34 CFR 99.32) keeps a record of each disclosure of a student's
-- records. Every API function that shows a teacher or an admin a student's
-- detail, attempt, answers, events or analysis calls this, in its own
-- transaction: such a function must be VOLATILE (a STABLE one runs in a
-- read-only transaction, where the insert fails loudly rather than
-- disclosing without a record). One index-only insert; nothing for other
-- callers (a student reading their own records, the worker, a DBA).
CREATE OR REPLACE FUNCTION internal.log_disclosure(
    p_student_id uuid, p_record_kind text, p_record_id uuid DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role constant text := internal.current_app_role();
BEGIN
    IF v_role IN ('teacher', 'admin') AND p_student_id IS NOT NULL THEN
        PERFORM internal.assert_disclosed_records(
            v_role, ARRAY[p_student_id], p_record_kind, ARRAY[p_record_id]
        );
        INSERT INTO audit.disclosures (viewer_id, viewer_role, student_id, record_kind, record_id)
        VALUES (internal.current_user_id(), v_role, p_student_id, p_record_kind, p_record_id);
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.log_disclosure(uuid, text, uuid) IS
'Records that the calling teacher or admin was shown a record of a student (record_kind: profile, monitoring_events or analysis; record_id: the student, the attempt or the analysis); 42501 for a record that is not the student''s or that the caller may not read. Nothing for other callers. Call it from VOLATILE functions only.';

-- The same for a list (a flagged list, a dashboard naming students): one
-- row per student, with the matching record id when p_record_ids is given
-- (same length, same order).
CREATE OR REPLACE FUNCTION internal.log_disclosures(
    p_student_ids uuid[], p_record_kind text, p_record_ids uuid[] DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role constant text := internal.current_app_role();
BEGIN
    IF v_role IN ('teacher', 'admin') AND cardinality(p_student_ids) > 0 THEN
        PERFORM internal.assert_disclosed_records(v_role, p_student_ids, p_record_kind, p_record_ids);
        INSERT INTO audit.disclosures (viewer_id, viewer_role, student_id, record_kind, record_id)
        SELECT DISTINCT internal.current_user_id(), v_role, s.student_id, p_record_kind, s.record_id
        FROM unnest(p_student_ids, p_record_ids) AS s (student_id, record_id)
        WHERE s.student_id IS NOT NULL;
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.log_disclosures(uuid[], text, uuid[]) IS
'internal.log_disclosure for many students at once (one row per distinct student and record). Call it from VOLATILE functions only.';

REVOKE ALL ON FUNCTION internal.log_disclosure(uuid, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.log_disclosures(uuid[], text, uuid[]) FROM PUBLIC;
-- Every reader role may call it: it records only for teachers and admins, so
-- a function read by students and teachers alike can call it unconditionally.
GRANT EXECUTE ON FUNCTION internal.log_disclosure(uuid, text, uuid)
TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION internal.log_disclosures(uuid[], text, uuid[]) TO teacher, admin;

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
    -- below. Its partitions are covered with it.
    ('app.monitoring_events', 'append-only events: statement-level audit'),
    -- Per-attempt counters of the event rate limit, unlogged (lost on a crash
    -- by design), rewritten by every event: no business meaning.
    ('app.event_rate_windows', 'unlogged rate-limit counters on the event hot path'),
    -- The job queue's bookkeeping (claims, locks, retries); what the jobs
    -- produce (analyses, metrics, profile statistics) is audited.
    ('app.analysis_jobs', 'job queue bookkeeping; its results are audited'),
    -- When each analytics materialized view was last refreshed (the worker,
    -- every few seconds): derived bookkeeping, no business data.
    ('app.analytics_refreshes', 'materialized-view refresh bookkeeping'),
    -- Per-student and per-exam figures recomputed from the attempts and
    -- analyses (internal.refresh_students_stats, the analysis queue) at every
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
-- it; an excluded table loses them. Then the statement-level triggers of
-- the monitoring events and every partition of them.
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

    PERFORM internal.audit_event_partition('app.monitoring_events'::regclass);
    PERFORM internal.audit_event_partition(i.inhrelid::regclass)
    FROM pg_inherits AS i
    WHERE i.inhparent = 'app.monitoring_events'::regclass;
END;
$$;

-- Security events of role changes --------------------------------------------------

-- auth.users: a user created with a role other than student, or whose role
-- changes (a DBA's UPDATE; the API has no way to), is a role_change security
-- event. Enabling and disabling are logged by internal.set_user_active.
CREATE OR REPLACE FUNCTION internal.tg_users__log_role_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor record;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.role = 'student' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.role IS NOT DISTINCT FROM OLD.role THEN
        RETURN NULL;
    END IF;
    v_actor := internal.audit_actor();
    PERFORM internal.log_security_event(
        'role_change', NEW.id, NEW.email, NULL,
        jsonb_build_object(
            'action', CASE TG_OP WHEN 'INSERT' THEN 'grant' ELSE 'change' END,
            'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.role END,
            'to', NEW.role,
            'by', v_actor.actor_id,
            'by_role', v_actor.actor_role
        )
    );
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION internal.tg_users__log_role_change() IS
'AFTER INSERT OR UPDATE OF role on auth.users: a role_change security event when a non-student account is created or a role changes.';

REVOKE ALL ON FUNCTION internal.tg_users__log_role_change() FROM PUBLIC;

CREATE OR REPLACE TRIGGER _510_log_role_change
AFTER INSERT OR UPDATE OF role ON auth.users
FOR EACH ROW EXECUTE FUNCTION internal.tg_users__log_role_change();

-- Append-only -------------------------------------------------------------------------

-- BEFORE UPDATE, DELETE and TRUNCATE, per statement (so they raise even when
-- no row matches), on the four audit tables: 42501 for every role, the owner
-- and a superuser included. Nothing in the audit schema is ever changed:
-- the chain lives in audit.seals, which is appended to like the rest.
-- (Privileges are revoked as well, sql/policies/audit.sql; but an owner can
-- grant itself privileges back, and a superuser ignores them: these
-- triggers stop both short of ALTER TABLE ... DISABLE TRIGGER, which the
-- hash chain then shows.) Enabled ALWAYS: session_replication_role =
-- replica does not skip them.
CREATE OR REPLACE FUNCTION internal.tg__audit_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = '42501',
        MESSAGE = format('%I.%I is append-only: %s is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
        HINT = 'The audit trail is never changed or removed; archive it with pg_dump instead.';
END;
$$;

COMMENT ON FUNCTION internal.tg__audit_append_only() IS
'BEFORE UPDATE/DELETE/TRUNCATE guard of the audit tables (_010_append_only_*): raises 42501, whoever asks.';

REVOKE ALL ON FUNCTION internal.tg__audit_append_only() FROM PUBLIC;

DO $$
DECLARE
    v_table regclass;
    v_verb text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY[
        'audit.log', 'audit.security_events', 'audit.disclosures', 'audit.seals'
    ]::regclass[] LOOP
        FOREACH v_verb IN ARRAY ARRAY['update', 'delete', 'truncate'] LOOP
            EXECUTE format(
                'CREATE OR REPLACE TRIGGER %I BEFORE %s ON %s '
                'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only()',
                '_010_append_only_' || v_verb, upper(v_verb), v_table
            );
            EXECUTE format(
                'ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', v_table, '_010_append_only_' || v_verb
            );
        END LOOP;
    END LOOP;
END;
$$;

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
    v_ids bigint[] := '{}';
    v_hashes bytea[] := '{}';
    v_found bigint[] := '{}';
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

-- API: admins ----------------------------------------------------------------------------

-- UTC, to the microsecond, RFC 3339.
CREATE OR REPLACE FUNCTION internal.audit_time(p_at timestamptz)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
$$;

COMMENT ON FUNCTION internal.audit_time(timestamptz) IS
'A timestamp as RFC 3339 text in UTC (2026-11-24T10:00:00.000000Z), whatever the session time zone.';

REVOKE ALL ON FUNCTION internal.audit_time(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.audit_time(timestamptz) TO student, admin;

-- The page size of the audit readers: 1 to 1000, 100 by default.
CREATE OR REPLACE FUNCTION internal.audit_page_size(p_limit integer)
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 1000';
    END IF;
    RETURN p_limit;
END;
$$;

COMMENT ON FUNCTION internal.audit_page_size(integer) IS
'Validates the limit of an audit reader (1 to 1000), 22023 otherwise.';

REVOKE ALL ON FUNCTION internal.audit_page_size(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.audit_page_size(integer) TO student, admin;

CREATE OR REPLACE FUNCTION api.get_audit_log(
    "table" text DEFAULT NULL,
    actor uuid DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    "limit" integer DEFAULT 100,
    before bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_limit constant integer := internal.audit_page_size(get_audit_log."limit");
    v_schema text;
    v_name text := get_audit_log."table";
    v_where text[] := '{}';
    v_result jsonb;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'only admins may read the audit trail';
    END IF;
    IF strpos(v_name, '.') > 0 THEN
        v_schema := split_part(v_name, '.', 1);
        v_name := split_part(v_name, '.', 2);
    END IF;
    -- Only the filters given, so that each picks its index: (table_name, id),
    -- (actor_id, id), the primary key.
    IF v_name IS NOT NULL THEN
        v_where := v_where || 'l.table_name = $1'::text;
    END IF;
    IF v_schema IS NOT NULL THEN
        v_where := v_where || 'l.table_schema = $2'::text;
    END IF;
    IF actor IS NOT NULL THEN
        v_where := v_where || 'l.actor_id = $3'::text;
    END IF;
    IF since IS NOT NULL THEN
        v_where := v_where || 'l.occurred_at >= $4'::text;
    END IF;
    IF before IS NOT NULL THEN
        v_where := v_where || 'l.id < $5'::text;
    END IF;
    EXECUTE format(
        $q$
        SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
        FROM (
            SELECT l.id, jsonb_build_object(
                'id', l.id,
                'occurred_at', internal.audit_time(l.occurred_at),
                'table', CASE WHEN l.table_name IS NOT NULL THEN l.table_schema || '.' || l.table_name END,
                'operation', l.operation,
                'row_pk', l.row_pk,
                'changed_columns', l.changed_columns,
                'old_values', l.old_values,
                'new_values', l.new_values,
                'actor_id', l.actor_id,
                'actor_role', l.actor_role,
                'db_user', l.db_user,
                'request_method', l.request_method,
                'request_path', l.request_path,
                'txid', l.txid
            ) AS entry
            FROM audit.log AS l
            WHERE %s
            ORDER BY l.id DESC
            LIMIT $6
        ) AS e
        $q$,
        coalesce(nullif(array_to_string(v_where, ' AND '), ''), 'TRUE')
    )
    INTO v_result
    USING v_name, v_schema, actor, since, before, v_limit;
    RETURN v_result;
END;
$$;

COMMENT ON FUNCTION api.get_audit_log(text, uuid, timestamptz, integer, bigint) IS
'Admin: the audit trail of row changes, newest first: [{id, occurred_at (UTC), table, operation, row_pk, changed_columns, old_values, new_values, actor_id, actor_role, db_user, request_method, request_path, txid}]. Filters: table (exam_attempts or app.exam_attempts), actor (a user id), since (a time). limit 1 to 1000 (default 100). Keyset pagination: before = the id of the last entry of the previous page. actor_id is the API user; for direct database sessions it is null and db_user names the login. Secrets are never included.';

REVOKE ALL ON FUNCTION api.get_audit_log(text, uuid, timestamptz, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_audit_log(text, uuid, timestamptz, integer, bigint) TO admin;

CREATE OR REPLACE FUNCTION api.get_security_events(
    kind text DEFAULT NULL,
    user_id uuid DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    "limit" integer DEFAULT 100,
    before bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
    FROM (
        SELECT s.id, jsonb_build_object(
            'id', s.id,
            'occurred_at', internal.audit_time(s.occurred_at),
            'kind', s.kind,
            'user_id', s.user_id,
            'email', s.email,
            'client_addr', host(s.client_addr),
            'details', s.details
        ) AS entry
        FROM audit.security_events AS s
        WHERE
            (get_security_events.kind IS NULL OR s.kind = get_security_events.kind)
            AND (get_security_events.user_id IS NULL OR s.user_id = get_security_events.user_id)
            AND (get_security_events.since IS NULL OR s.occurred_at >= get_security_events.since)
            AND (get_security_events.before IS NULL OR s.id < get_security_events.before)
        ORDER BY s.id DESC
        LIMIT internal.audit_page_size(get_security_events."limit")
    ) AS e;
$$;

COMMENT ON FUNCTION api.get_security_events(text, uuid, timestamptz, integer, bigint) IS
'Admin: security events, newest first: [{id, occurred_at (UTC), kind (login_success, login_failure, refresh, logout, reuse_detected, lockout, role_change), user_id, email, client_addr, details}]. Filters kind, user_id, since; limit 1 to 1000; before = the last id of the previous page.';

REVOKE ALL ON FUNCTION api.get_security_events(
    text, uuid, timestamptz, integer, bigint
) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_security_events(
    text, uuid, timestamptz, integer, bigint
) TO admin;

CREATE OR REPLACE FUNCTION api.get_disclosure_log(
    student_id uuid DEFAULT NULL,
    viewer uuid DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    "limit" integer DEFAULT 100,
    before bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
    FROM (
        SELECT d.id, jsonb_build_object(
            'id', d.id,
            'occurred_at', internal.audit_time(d.occurred_at),
            'viewer_id', d.viewer_id,
            'viewer_role', d.viewer_role,
            'student_id', d.student_id,
            'record_kind', d.record_kind,
            'record_id', d.record_id
        ) AS entry
        FROM audit.disclosures AS d
        WHERE
            (get_disclosure_log.student_id IS NULL OR d.student_id = get_disclosure_log.student_id)
            AND (get_disclosure_log.viewer IS NULL OR d.viewer_id = get_disclosure_log.viewer)
            AND (get_disclosure_log.since IS NULL OR d.occurred_at >= get_disclosure_log.since)
            AND (get_disclosure_log.before IS NULL OR d.id < get_disclosure_log.before)
        ORDER BY d.id DESC
        LIMIT internal.audit_page_size(get_disclosure_log."limit")
    ) AS e;
$$;

COMMENT ON FUNCTION api.get_disclosure_log(uuid, uuid, timestamptz, integer, bigint) IS
'Admin: who was shown which student''s records, newest first: [{id, occurred_at (UTC), viewer_id, viewer_role, student_id, record_kind, record_id}]. Filters student_id, viewer, since; limit 1 to 1000; before = the last id of the previous page.';

REVOKE ALL ON FUNCTION api.get_disclosure_log(uuid, uuid, timestamptz, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_disclosure_log(uuid, uuid, timestamptz, integer, bigint) TO admin;

-- API: a student's own disclosure history -------------------------------------------

-- The name of a viewer, for the student's view of their disclosures: only
-- of someone who was shown this student's records (nothing else about
-- anyone else).
CREATE OR REPLACE FUNCTION internal.disclosure_viewer_name(p_viewer_id uuid)
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.full_name
    FROM auth.users AS u
    WHERE
        u.id = p_viewer_id
        AND EXISTS (
            SELECT FROM audit.disclosures AS d
            WHERE d.viewer_id = p_viewer_id AND d.student_id = internal.current_user_id()
        );
$$;

COMMENT ON FUNCTION internal.disclosure_viewer_name(uuid) IS
'Full name of a user who was shown the calling student''s records; NULL for anyone else.';

REVOKE ALL ON FUNCTION internal.disclosure_viewer_name(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.disclosure_viewer_name(uuid) TO student;

CREATE OR REPLACE FUNCTION api.get_my_disclosures(
    "limit" integer DEFAULT 100, before bigint DEFAULT NULL
)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
    FROM (
        SELECT d.id, jsonb_build_object(
            'id', d.id,
            'occurred_at', internal.audit_time(d.occurred_at),
            'viewer_id', d.viewer_id,
            'viewer_name', internal.disclosure_viewer_name(d.viewer_id),
            'viewer_role', d.viewer_role,
            'record_kind', d.record_kind,
            'record_id', d.record_id
        ) AS entry
        FROM audit.disclosures AS d
        WHERE
            d.student_id = (SELECT internal.current_user_id())
            AND (get_my_disclosures.before IS NULL OR d.id < get_my_disclosures.before)
        ORDER BY d.id DESC
        LIMIT internal.audit_page_size(get_my_disclosures."limit")
    ) AS e;
$$;

COMMENT ON FUNCTION api.get_my_disclosures(integer, bigint) IS
'Student: who was shown your records, newest first (FERPA gives you the right to inspect it): [{id, occurred_at (UTC), viewer_id, viewer_name, viewer_role, record_kind, record_id}]. limit 1 to 1000 (default 100); before = the last id of the previous page.';

REVOKE ALL ON FUNCTION api.get_my_disclosures(integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.get_my_disclosures(integer, bigint) TO student;
