-- audit: reading the trail. docs/audit.md.
--
--   api.get_audit_log                admin            GET /admin/audit
--   api.get_security_events          admin
--   api.get_disclosure_log           admin            who looked at a student's records
--   api.get_my_disclosures           student          GET /student/disclosures

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
    v_where text[] := '{}'::text[];
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
