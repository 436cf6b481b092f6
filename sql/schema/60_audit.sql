-- audit: the append-only audit trail of row changes, security events, and
-- disclosures of student data.
--
-- Run as veritas_owner after 50_analysis.sql. RLS enabled and forced, no
-- policy. No foreign keys: the trail must outlive the rows and users it
-- names. Rows are written by SECURITY DEFINER helpers and triggers in
-- sql/functions/audit.sql (not here), which also guard them (append-only)
-- and seal them into a hash chain, one chain per table (docs/audit.md).
--
-- Sealing: a row is inserted unsealed (chain_seq, prev_hash and row_hash
-- NULL), so that writers never wait for one another; the worker's
-- internal.seal_audit_log() later gives each committed, unsealed row the
-- next chain position, the previous row's hash and its own hash, in the
-- order it finds them (commit order, roughly), never in id order: an id
-- drawn early may commit late. The three seal columns are set together, once.

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
    db_user text NOT NULL DEFAULT session_user,
    request_method text,
    request_path text,
    txid bigint NOT NULL DEFAULT txid_current(),
    chain_seq bigint,
    prev_hash bytea,
    row_hash bytea,
    CONSTRAINT log_operation_check CHECK (
        operation IN (
            'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'DETACH', 'SELECT', 'LOGIN', 'LOGOUT',
            'EXPORT'
        )
    ),
    CONSTRAINT log_seal_check CHECK (
        (chain_seq IS NULL) = (row_hash IS NULL) AND (row_hash IS NULL) = (prev_hash IS NULL)
    ),
    -- Few and small checks: PostgreSQL re-reads each one at every audited
    -- statement (the writers, sql/functions/audit.sql, shape the JSON).
    CONSTRAINT log_table_check CHECK ((table_schema IS NULL) = (table_name IS NULL))
);
COMMENT ON TABLE audit.log IS
'Append-only audit trail: one row per audited row change (or other operation), with who, from which request, and a hash chain (prev_hash, row_hash) that shows tampering.';
COMMENT ON COLUMN audit.log.table_schema IS
'Schema of the audited table; NULL (with table_name) for operations not about a table, such as LOGIN.';
COMMENT ON COLUMN audit.log.operation IS
'INSERT, UPDATE, DELETE (one row each; for app.monitoring_events one row per statement), TRUNCATE, DETACH (an event partition archived).';
COMMENT ON COLUMN audit.log.row_pk IS
'Primary key of the audited row as a JSON object, for example {"id": "..."}; NULL for a statement-level entry.';
COMMENT ON COLUMN audit.log.old_values IS
'UPDATE: the old values of the changed columns; DELETE: the whole row. Secret columns (password or token hashes) are never copied, only named in changed_columns.';
COMMENT ON COLUMN audit.log.new_values IS
'INSERT: the whole row; UPDATE: the new values of the changed columns. Secret columns are never copied.';
COMMENT ON COLUMN audit.log.changed_columns IS
'UPDATE only: the columns whose value changed (secret columns included, by name only).';
COMMENT ON COLUMN audit.log.actor_id IS
'The user of the request (sub claim); NULL for work of the database itself (expiry sweep, workers).';
COMMENT ON COLUMN audit.log.actor_role IS
'The role claim of the request, or the database role in effect (SET ROLE, else the login) when there was no request.';
COMMENT ON COLUMN audit.log.db_user IS
'The database login of the session (session_user): authenticator for API requests, the DBA''s own login for direct sessions and migrations.';
COMMENT ON COLUMN audit.log.txid IS
'The writing transaction (txid_current()): rows of one request share it.';
COMMENT ON COLUMN audit.log.chain_seq IS
'Position in the hash chain (1, 2, ...), given at sealing; NULL until sealed.';
COMMENT ON COLUMN audit.log.prev_hash IS
'row_hash of the previous row of the chain (32 zero bytes for the first); NULL until sealed.';
COMMENT ON COLUMN audit.log.row_hash IS
'sha256(prev_hash || the row''s canonical content), set at sealing; NULL until sealed.';

CREATE INDEX log_table_name_id_idx ON audit.log (table_name, id DESC);
CREATE INDEX log_actor_id_id_idx ON audit.log (actor_id, id DESC);
CREATE INDEX log_occurred_at_brin ON audit.log USING brin (occurred_at);
-- The chain, in order (verification, the sealer's head); unsealed rows have no entry.
CREATE UNIQUE INDEX log_chain_seq_key ON audit.log (chain_seq) WHERE chain_seq IS NOT NULL;
-- The sealer's work list: tiny, rows leave it within seconds.
CREATE INDEX log_unsealed_idx ON audit.log (id) WHERE row_hash IS NULL;

-- security_events --------------------------------------------------------------

CREATE TABLE audit.security_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL,
    user_id uuid,
    email text,
    client_addr inet,
    details jsonb NOT NULL DEFAULT '{}',
    chain_seq bigint,
    prev_hash bytea,
    row_hash bytea,
    CONSTRAINT security_events_kind_check CHECK (
        kind IN (
            'login_success', 'login_failure', 'refresh', 'logout',
            'reuse_detected', 'lockout', 'role_change'
        )
    ),
    CONSTRAINT security_events_details_check CHECK (jsonb_typeof(details) = 'object'),
    CONSTRAINT security_events_seal_check CHECK (
        (chain_seq IS NULL) = (row_hash IS NULL) AND (row_hash IS NULL) = (prev_hash IS NULL)
    )
);
COMMENT ON TABLE audit.security_events IS
'Authentication and authorisation events: logins, refreshes, logouts, refresh-token reuse, lockouts, role changes.';
COMMENT ON COLUMN audit.security_events.chain_seq IS
'Position in this table''s hash chain, given at sealing; NULL until sealed (as audit.log.chain_seq).';

CREATE INDEX security_events_user_id_id_idx ON audit.security_events (user_id, id DESC);
CREATE INDEX security_events_kind_id_idx ON audit.security_events (kind, id DESC);
CREATE INDEX security_events_occurred_at_brin ON audit.security_events USING brin (occurred_at);
CREATE UNIQUE INDEX security_events_chain_seq_key ON audit.security_events (chain_seq)
WHERE chain_seq IS NOT NULL;
CREATE INDEX security_events_unsealed_idx ON audit.security_events (id) WHERE row_hash IS NULL;

-- disclosures ------------------------------------------------------------------

CREATE TABLE audit.disclosures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    viewer_id uuid,
    viewer_role text,
    student_id uuid NOT NULL,
    record_kind text NOT NULL,
    record_id uuid,
    chain_seq bigint,
    prev_hash bytea,
    row_hash bytea,
    CONSTRAINT disclosures_record_kind_check CHECK (record_kind ~ '^[a-z][a-z_]{1,62}$'),
    CONSTRAINT disclosures_seal_check CHECK (
        (chain_seq IS NULL) = (row_hash IS NULL) AND (row_hash IS NULL) = (prev_hash IS NULL)
    )
);
COMMENT ON TABLE audit.disclosures IS
'Who was shown which record of a student, and when (teachers and admins reading student data), so that a student''s data access can be accounted for.';
COMMENT ON COLUMN audit.disclosures.chain_seq IS
'Position in this table''s hash chain, given at sealing; NULL until sealed (as audit.log.chain_seq).';
COMMENT ON COLUMN audit.disclosures.record_kind IS
'What was shown, for example attempt, events, analysis, profile.';

CREATE INDEX disclosures_student_id_id_idx ON audit.disclosures (student_id, id DESC);
CREATE INDEX disclosures_viewer_id_id_idx ON audit.disclosures (viewer_id, id DESC);
CREATE UNIQUE INDEX disclosures_chain_seq_key ON audit.disclosures (chain_seq)
WHERE chain_seq IS NOT NULL;
CREATE INDEX disclosures_unsealed_idx ON audit.disclosures (id) WHERE row_hash IS NULL;

-- Row-level security: deny by default.
ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.log FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures FORCE ROW LEVEL SECURITY;
