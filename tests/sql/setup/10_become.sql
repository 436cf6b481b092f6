-- Test helpers for the pgTAP suite, installed once per test database by the
-- harness (tests/test_pgtap.py, as the superuser). Never part of a deploy.
--
--   tests.create_user(role [, email])  a user of that role with its profile
--                                      rows; its id
--   tests.become(user_id)              act as that user for the rest of the
--                                      transaction: the database role named
--                                      by their role and the JWT claims the
--                                      glue would set (sub, role, jti, iat,
--                                      exp, ...), both transaction-local
--   tests.become_anon()                act as a request without a token
--   tests.unbecome()                   back to the superuser, no claims
--   tests.allow_temporary_tables(role) TEMPORARY for pgTAP's own tables,
--                                      until the ROLLBACK (become does it)
--   tests.exam_pseudonym(pseudonym, exam) a student's pseudonym in one exam's
--                                      rows of the analysts' views
--
-- become() may be called while acting as someone else: it first returns to
-- the session user. pgTAP lives in the public schema and stays usable.

CREATE SCHEMA IF NOT EXISTS tests;
GRANT USAGE ON SCHEMA tests TO PUBLIC;

-- A user with the profile rows of their role (through internal.create_user,
-- as the superuser: RLS does not apply). SECURITY DEFINER so that it works
-- while acting as someone else.
CREATE OR REPLACE FUNCTION tests.create_user(p_role text, p_email text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tag constant text := left(replace(gen_random_uuid()::text, '-', ''), 12);
    v_user jsonb;
BEGIN
    v_user := internal.create_user(
        coalesce(p_email, format('%s-%s@test.example', p_role, v_tag)),
        '$2b$12$testtesttesttesttesttuJ8u3wbmTc3sTg0Vk0lC4Vj1rbA0Jg2',
        initcap(p_role) || ' ' || v_tag,
        p_role::auth.user_role,
        CASE WHEN p_role IN ('teacher', 'admin') THEN 'Testing' END
    );
    RETURN (v_user ->> 'id')::uuid;
END;
$$;

-- The claims the glue would set for this user, with a fresh jti.
CREATE OR REPLACE FUNCTION tests.claims_for(p_user_id uuid, p_role text)
RETURNS jsonb
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'sub', p_user_id,
        'role', p_role,
        'jti', gen_random_uuid(),
        'iat', floor(extract(EPOCH FROM clock_timestamp()))::bigint,
        'exp', floor(extract(EPOCH FROM clock_timestamp()))::bigint + 3600,
        'iss', 'veritas',
        'aud', 'veritas-api',
        'typ', 'access'
    );
$$;

-- Back to the session user (the superuser), no claims.
CREATE OR REPLACE FUNCTION tests.unbecome()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM set_config('role', 'none', true);
    PERFORM set_config('request.jwt.claims', '', true);
END;
$$;

-- pgTAP's set_eq, results_eq and friends build temporary tables as the
-- current role, and a deploy grants no runtime role TEMPORARY (see
-- 04_definer_hardening.sql). So a test grants it to the role it acts as,
-- inside its own transaction: the ROLLBACK at the end of the file takes it
-- back. Never part of a deploy.
CREATE OR REPLACE FUNCTION tests.allow_temporary_tables(p_role text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (Not in a read-only transaction: pgTAP then needs no table of its own.)
    IF current_setting('transaction_read_only') = 'off'
        AND NOT has_database_privilege(p_role, current_database(), 'TEMPORARY')
    THEN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), p_role);
    END IF;
END;
$$;

-- Act as the user: their role, their claims, until the end of the
-- transaction or the next become / unbecome.
CREATE OR REPLACE FUNCTION tests.become(p_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role text;
BEGIN
    PERFORM tests.unbecome();
    SELECT u.role::text INTO v_role FROM auth.users AS u WHERE u.id = p_user_id;
    IF v_role IS NULL THEN
        RAISE EXCEPTION 'tests.become: no user %', p_user_id;
    END IF;
    PERFORM tests.allow_temporary_tables(v_role);
    PERFORM set_config('request.jwt.claims', tests.claims_for(p_user_id, v_role)::text, true);
    PERFORM set_config('role', v_role, true);
END;
$$;

-- Act as a request without a token (the glue sends empty claims).
CREATE OR REPLACE FUNCTION tests.become_anon()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM tests.unbecome();
    PERFORM tests.allow_temporary_tables('anon');
    PERFORM set_config('request.jwt.claims', '{}', true);
    PERFORM set_config('role', 'anon', true);
END;
$$;

-- A student's pseudonym in one exam's rows of the analysts' views, computed
-- as sql/views/analytics.sql documents it: the first 128 bits of SHA-256
-- over the settings' secret, the student's stable pseudonym and the exam.
CREATE OR REPLACE FUNCTION tests.exam_pseudonym(p_pseudonym uuid, p_exam_id uuid)
RETURNS uuid
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT left(
        encode(sha256(convert_to(concat_ws('/', s.pseudonym_secret, p_pseudonym, p_exam_id), 'UTF8')), 'hex'),
        32
    )::uuid
    FROM app.analyst_settings AS s;
$$;

GRANT EXECUTE ON FUNCTION tests.create_user(text, text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION tests.claims_for(uuid, text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION tests.unbecome() TO PUBLIC;
GRANT EXECUTE ON FUNCTION tests.become(uuid) TO PUBLIC;
GRANT EXECUTE ON FUNCTION tests.become_anon() TO PUBLIC;
REVOKE ALL ON FUNCTION tests.allow_temporary_tables(text) FROM PUBLIC;

-- Act as the owner, which alone reads and writes app.monitoring_events (the
-- recording and timeline functions are its definers). On Citus the events
-- are distributed, and a transaction may not touch a shard as one user after
-- another user changed it there: a file's fixture events are written, and
-- read back for checking, as the owner, like the functions under test do.
CREATE OR REPLACE FUNCTION tests.become_owner()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM tests.unbecome();
    PERFORM tests.allow_temporary_tables('veritas_owner');
    PERFORM set_config('role', 'veritas_owner', true);
END;
$$;

-- A fixture event of an attempt, stored as the recording functions store
-- one: by the owner, one INSERT ... VALUES, exam, student and start copied
-- from the attempt, severity and anomaly flag from the event type. On Citus
-- an INSERT ... SELECT from the (coordinator) attempts into the distributed
-- events goes through COPY, which Citus refuses under row-level security.
CREATE OR REPLACE FUNCTION tests.insert_event(
    p_attempt_id uuid,
    p_event_type app.event_type,
    p_occurred_at timestamptz,
    p_payload jsonb DEFAULT '{}',
    p_client_event_id text DEFAULT NULL,
    p_id uuid DEFAULT NULL,
    p_received_at timestamptz DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_attempt record;
    v_type record;
    v_id uuid;
BEGIN
    SELECT a.started_at, a.exam_id, a.student_id INTO STRICT v_attempt
    FROM app.exam_attempts AS a WHERE a.id = p_attempt_id;
    SELECT t.severity, t.is_anomaly INTO STRICT v_type
    FROM app.event_types AS t WHERE t.event_type = p_event_type;
    INSERT INTO app.monitoring_events (
        attempt_id, id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
        received_at, severity, is_anomaly, payload, client_event_id
    ) VALUES (
        p_attempt_id, coalesce(p_id, gen_random_uuid()), v_attempt.started_at, v_attempt.exam_id,
        v_attempt.student_id, p_event_type, p_occurred_at, coalesce(p_received_at, now()),
        v_type.severity, v_type.is_anomaly, p_payload, p_client_event_id
    )
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;
ALTER FUNCTION tests.insert_event(uuid, app.event_type, timestamptz, jsonb, text, uuid, timestamptz)
OWNER TO veritas_owner;

-- A count of events (any query answering one number), as the owner: the
-- query runs inside this function, so on Citus the assertion around it stays
-- on the coordinator (a single-shard query is sent to its worker whole,
-- pgTAP's functions with it) and the shards are read by one user only.
CREATE OR REPLACE FUNCTION tests.owner_count(p_query text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count bigint;
BEGIN
    EXECUTE p_query INTO v_count;
    RETURN v_count;
END;
$$;
ALTER FUNCTION tests.owner_count(text) OWNER TO veritas_owner;
