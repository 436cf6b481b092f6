-- audit: the append-only audit trail of row changes, security events, and
-- disclosures of student data.
--
-- Run as veritas_owner after 50_analysis.sql. RLS enabled and forced, no
-- policy. No foreign keys: the trail must outlive the rows and users it
-- names. Rows are written by SECURITY DEFINER helpers and triggers in
-- sql/functions/ (not here), which also compute the hash chain.

-- log --------------------------------------------------------------------------

CREATE TABLE audit.log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    table_schema text,
    table_name text,
    operation text NOT NULL,
    row_pk jsonb,
    old_values jsonb,
    new_values jsonb,
    changed_columns text[],
    actor_id uuid,
    actor_role text,
    db_user text NOT NULL DEFAULT current_user,
    request_method text,
    request_path text,
    txid bigint NOT NULL DEFAULT txid_current(),
    prev_hash bytea,
    row_hash bytea,
    CONSTRAINT log_operation_check CHECK (
        operation IN (
            'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'SELECT', 'LOGIN', 'LOGOUT', 'EXPORT'
        )
    ),
    CONSTRAINT log_table_check CHECK ((table_schema IS NULL) = (table_name IS NULL)),
    CONSTRAINT log_row_pk_check CHECK (jsonb_typeof(row_pk) = 'object'),
    CONSTRAINT log_old_values_check CHECK (jsonb_typeof(old_values) = 'object'),
    CONSTRAINT log_new_values_check CHECK (jsonb_typeof(new_values) = 'object')
);
COMMENT ON TABLE audit.log IS
'Append-only audit trail: one row per audited row change (or other operation), with who, from which request, and a hash chain (prev_hash, row_hash) that shows tampering.';
COMMENT ON COLUMN audit.log.table_schema IS
'Schema of the audited table; NULL (with table_name) for operations not about a table, such as LOGIN.';
COMMENT ON COLUMN audit.log.row_pk IS
'Primary key of the audited row as a JSON object, for example {"id": "..."}.';
COMMENT ON COLUMN audit.log.changed_columns IS
'UPDATE only: the columns whose value changed.';
COMMENT ON COLUMN audit.log.actor_id IS
'The user of the request (sub claim); NULL for work of the database itself (expiry sweep, workers).';
COMMENT ON COLUMN audit.log.actor_role IS
'The role claim of the request, or the database role when there was no request.';
COMMENT ON COLUMN audit.log.db_user IS
'The database role that made the change (the request role, not the definer of the trigger, when the trigger sets it).';
COMMENT ON COLUMN audit.log.prev_hash IS
'row_hash of the previous row of the chain.';
COMMENT ON COLUMN audit.log.row_hash IS
'sha256 of prev_hash and this row''s content.';

CREATE INDEX log_table_name_id_idx ON audit.log (table_name, id DESC);
CREATE INDEX log_actor_id_id_idx ON audit.log (actor_id, id DESC);
CREATE INDEX log_occurred_at_brin ON audit.log USING brin (occurred_at);

-- security_events --------------------------------------------------------------

CREATE TABLE audit.security_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL,
    user_id uuid,
    email text,
    client_addr inet,
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT security_events_kind_check CHECK (
        kind IN (
            'login_success', 'login_failure', 'refresh', 'logout',
            'reuse_detected', 'lockout', 'role_change'
        )
    ),
    CONSTRAINT security_events_details_check CHECK (jsonb_typeof(details) = 'object')
);
COMMENT ON TABLE audit.security_events IS
'Authentication and authorisation events: logins, refreshes, logouts, refresh-token reuse, lockouts, role changes.';

CREATE INDEX security_events_user_id_id_idx ON audit.security_events (user_id, id DESC);
CREATE INDEX security_events_kind_id_idx ON audit.security_events (kind, id DESC);
CREATE INDEX security_events_occurred_at_brin ON audit.security_events USING brin (occurred_at);

-- disclosures ------------------------------------------------------------------

CREATE TABLE audit.disclosures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    viewer_id uuid,
    viewer_role text,
    student_id uuid NOT NULL,
    record_kind text NOT NULL,
    record_id uuid,
    CONSTRAINT disclosures_record_kind_check CHECK (record_kind ~ '^[a-z][a-z_]{1,62}$')
);
COMMENT ON TABLE audit.disclosures IS
'Who was shown which record of a student, and when (teachers and admins reading student data), so that a student''s data access can be accounted for.';
COMMENT ON COLUMN audit.disclosures.record_kind IS
'What was shown, for example attempt, events, analysis, profile.';

CREATE INDEX disclosures_student_id_id_idx ON audit.disclosures (student_id, id DESC);
CREATE INDEX disclosures_viewer_id_id_idx ON audit.disclosures (viewer_id, id DESC);

-- Row-level security: deny by default.
ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.log FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures FORCE ROW LEVEL SECURITY;
