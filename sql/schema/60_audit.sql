-- audit: the append-only audit trail of row changes, security events, and
-- disclosures of student data.
--
-- Run as veritas_owner after 50_analysis.sql. RLS enabled and forced, no
-- policy. No foreign keys: the trail must outlive the rows and users it
-- names. Rows are written by SECURITY DEFINER helpers and triggers in
-- sql/functions/audit/ (not here), which also guard them: nothing in
-- this schema is ever updated or deleted.
--
-- Tamper evidence: each of audit.log, audit.security_events and
-- audit.disclosures is one hash chain, recorded beside it in audit.seals.
-- Writers insert their rows with no lock and no read of the chain; the
-- worker's internal.seal_audit_log() later appends one seal per batch of
-- newly committed rows: their ids in chain order and each row's hash, which
-- covers the row and the hash before it (docs/audit.md). The audited rows
-- themselves are never rewritten.

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
    CONSTRAINT log_operation_check CHECK (
        operation IN (
            'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'DETACH', 'SELECT', 'LOGIN', 'LOGOUT',
            'EXPORT'
        )
    ),
    -- Few and small checks: PostgreSQL re-reads each one at every audited
    -- statement (the writers, sql/functions/audit/, shape the JSON).
    CONSTRAINT log_table_check CHECK ((table_schema IS NULL) = (table_name IS NULL))
)
-- Append-only: vacuum and analyse after 2 % more rows rather than 20 %
-- (docs/operations.md).
WITH (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
COMMENT ON TABLE audit.log IS
'Append-only audit trail: one row per audited row change (or other operation), with who and from which request; hash-chained through audit.seals.';
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
)
-- Append-only: vacuum and analyse after 2 % more rows rather than 20 %
-- (docs/operations.md).
WITH (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
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
)
-- Append-only: vacuum and analyse after 2 % more rows rather than 20 %
-- (docs/operations.md).
WITH (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
COMMENT ON TABLE audit.disclosures IS
'Who was shown which record of a student, and when (teachers and admins reading student data), so that a student''s data access can be accounted for.';
COMMENT ON COLUMN audit.disclosures.record_kind IS
'What was shown, for example attempt, events, analysis, profile.';

CREATE INDEX disclosures_student_id_id_idx ON audit.disclosures (student_id, id DESC);
CREATE INDEX disclosures_viewer_id_id_idx ON audit.disclosures (viewer_id, id DESC);

-- seals ----------------------------------------------------------------------------

-- One row per batch sealed by internal.seal_audit_log(): the next rows of one
-- chain, in chain order, with each row's hash
--     row_hashes[i] = sha256(previous hash || utf8(position || '|' || content))
-- (content: internal.audit_content of the row; the previous hash of the
-- first row of a chain is 32 zero bytes). The ids in pending_ids are those
-- at or below high_water that were not yet visible when the batch was sealed (a
-- transaction still running, or rolled back): the next batches take them if
-- they commit, and forget them once every transaction that could have
-- written them has ended (pending_xmax).
CREATE TABLE audit.seals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    chain text NOT NULL,
    seal_no bigint NOT NULL,
    first_position bigint NOT NULL,
    row_ids bigint[] NOT NULL,
    row_hashes bytea[] NOT NULL,
    prev_hash bytea NOT NULL,
    last_hash bytea NOT NULL,
    high_water bigint NOT NULL,
    pending_ids bigint[] NOT NULL DEFAULT '{}',
    pending_xmax xid8[] NOT NULL DEFAULT '{}',
    -- One sealer at a time; should two ever race, the second cannot fork the chain.
    CONSTRAINT seals_chain_seal_no_key UNIQUE (chain, seal_no),
    CONSTRAINT seals_chain_check CHECK (chain IN ('log', 'security_events', 'disclosures')),
    CONSTRAINT seals_seal_no_check CHECK (seal_no >= 1 AND first_position >= 1),
    CONSTRAINT seals_rows_check CHECK (
        cardinality(row_ids) = cardinality(row_hashes)
        AND cardinality(pending_ids) = cardinality(pending_xmax)
    )
);
COMMENT ON TABLE audit.seals IS
'The hash chains of audit.log, audit.security_events and audit.disclosures: one row per sealed batch (row ids in chain order and their hashes), appended by internal.seal_audit_log(), verified by veritas audit verify.';
COMMENT ON COLUMN audit.seals.first_position IS
'Chain position of row_ids[1]; the positions of a chain run 1, 2, ... without a gap across its seals.';
COMMENT ON COLUMN audit.seals.prev_hash IS
'The chain''s hash before this batch: the last_hash of the previous seal, 32 zero bytes for the first.';
COMMENT ON COLUMN audit.seals.high_water IS
'Every id of the chained table up to this one is sealed by now, or listed in pending_ids.';
COMMENT ON COLUMN audit.seals.pending_xmax IS
'Per pending id, a transaction id bound: once every transaction below it has ended, a pending id that never appeared is forgotten (NULL: bound not taken yet).';

-- Row-level security: deny by default.
ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.log FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.seals ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.seals FORCE ROW LEVEL SECURITY;
