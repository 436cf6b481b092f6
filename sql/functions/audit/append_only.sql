-- audit: the append-only guards of the audit tables. docs/audit.md.

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
