-- Cluster-wide roles of Veritas, and the per-database grants the owner needs.
--
-- Run by the DBA login (a superuser locally, a CREATEROLE non-superuser on
-- Neon or a managed cluster) BEFORE any migration, connected to the target
-- database (the CREATE grant and the veritas_meta schema are per database).
-- Idempotent: every statement may run again. Passwords are not set here: the
-- runner sets them for the LOGIN roles (authenticator, analyst).
-- No role gets SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS; the
-- last block of this file refuses to finish if one has.
-- Works on PostgreSQL 15 to 18 (no GRANT ... WITH SET/INHERIT, new in 16).

-- veritas_owner owns every object; migrations run as it (SET ROLE).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'veritas_owner') THEN
        CREATE ROLE veritas_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    ELSE
        ALTER ROLE veritas_owner NOLOGIN;
    END IF;
END
$$;

-- authenticator: the glue's login; NOINHERIT, so it holds no privilege of
-- its own until it switches (SET ROLE) to the role named by the token.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    ELSE
        ALTER ROLE authenticator LOGIN NOINHERIT;
    END IF;
END
$$;

-- Request roles, switched to from the JWT role claim (anon: no token), and
-- worker: the background worker's role (never taken from a token).
DO $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['anon', 'student', 'teacher', 'admin', 'integration', 'worker'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
            EXECUTE format(
                'CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', v_role
            );
        ELSE
            EXECUTE format('ALTER ROLE %I NOLOGIN', v_role);
        END IF;
    END LOOP;
END
$$;

-- analyst: a direct login (psql, BI tool) that reads the analytics schema only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'analyst') THEN
        CREATE ROLE analyst LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    ELSE
        ALTER ROLE analyst LOGIN;
    END IF;
END
$$;

-- The analyst login's bounds (docs/security.md): at most 5 sessions at once;
-- by default a statement runs at most 2 minutes and a transaction idles at
-- most 10 (an open one holds back vacuum, and blocks the deploy that
-- re-creates the analytics views); a session writes at most 1 GB of
-- temporary files. Each is set only while the role has none, so that a
-- DBA's own ALTER ROLE analyst ... stays. The analyst may lift its two
-- timeouts (they are user settings), never the session count nor
-- temp_file_limit. temp_file_limit needs a superuser, or on PostgreSQL 15+
-- GRANT SET ON PARAMETER temp_file_limit TO <the DBA login>: without it this
-- warns, and the other bounds still apply.
DO $$
DECLARE
    v_config text[] := coalesce(
        (
            SELECT s.setconfig FROM pg_catalog.pg_db_role_setting AS s
            WHERE s.setdatabase = 0 AND s.setrole = 'analyst'::regrole
        ),
        '{}'
    );
    v_bound record;
BEGIN
    IF (SELECT r.rolconnlimit FROM pg_catalog.pg_roles AS r WHERE r.rolname = 'analyst') = -1 THEN
        ALTER ROLE analyst CONNECTION LIMIT 5;
    END IF;
    FOR v_bound IN
        SELECT b.name, b.value
        FROM (
            VALUES
            ('statement_timeout', '2min'),
            ('idle_in_transaction_session_timeout', '10min'),
            ('temp_file_limit', '1GB')
        ) AS b (name, value)
        WHERE NOT EXISTS (SELECT FROM unnest(v_config) AS c (item) WHERE c.item LIKE b.name || '=%')
    LOOP
        BEGIN
            EXECUTE format('ALTER ROLE analyst SET %I = %L', v_bound.name, v_bound.value);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'the analyst login has no %: % may not set it', v_bound.name, current_user
                USING HINT = format(
                    'As a superuser: ALTER ROLE analyst SET %I = %L (or GRANT SET ON PARAMETER %I TO %I, then migrate again).',
                    v_bound.name, v_bound.value, v_bound.name, current_user
                );
        END;
    END LOOP;
END
$$;

-- The authenticator login's bounds: every request (and the worker, which
-- logs in as authenticator too) runs under them. They are set on the login
-- because PostgreSQL applies a role's settings only when that role logs in,
-- never on SET ROLE: ALTER ROLE student SET ... would never apply, since
-- the glue logs in as authenticator and switches role per request. A
-- request is one short transaction (glue/request_path.py): a statement
-- runs at most 10 s, waits at most 3 s for a lock (then 409, SQLSTATE
-- 55P03, rather than a queue behind a migration or a stuck session), and a
-- session left idle inside a transaction is ended after 30 s, so no request
-- holds a lock for a minute. The worker sets longer limits in each of its
-- transactions (glue/worker.py, WORKER_LIMITS). Each is set only while the
-- login has none, so that a DBA's own ALTER ROLE authenticator ... stays
-- (docs/operations.md). They are user settings: no superuser needed.
DO $$
DECLARE
    v_config text[] := coalesce(
        (
            SELECT s.setconfig FROM pg_catalog.pg_db_role_setting AS s
            WHERE s.setdatabase = 0 AND s.setrole = 'authenticator'::regrole
        ),
        '{}'
    );
    v_bound record;
BEGIN
    FOR v_bound IN
        SELECT b.name, b.value
        FROM (
            VALUES
            ('statement_timeout', '10s'),
            ('lock_timeout', '3s'),
            ('idle_in_transaction_session_timeout', '30s')
        ) AS b (name, value)
        WHERE NOT EXISTS (SELECT FROM unnest(v_config) AS c (item) WHERE c.item LIKE b.name || '=%')
    LOOP
        EXECUTE format('ALTER ROLE authenticator SET %I = %L', v_bound.name, v_bound.value);
    END LOOP;
END
$$;

-- authenticator may become each request role, and nothing else; the DBA
-- login may SET ROLE veritas_owner (on 16+ a CREATEROLE creator only gets
-- ADMIN OPTION on the roles it creates, not the right to SET ROLE to them).
-- Granted only when missing, so that a second run (or a run by another DBA
-- login, a different grantor on 16+) adds no duplicate membership. 'SET' is
-- the privilege to test on 16+; 15 knows only 'MEMBER', which means the same.
DO $$
DECLARE
    v_priv text := CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END;
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['anon', 'student', 'teacher', 'admin', 'integration', 'worker'] LOOP
        IF NOT pg_has_role('authenticator', v_role, v_priv) THEN
            EXECUTE format('GRANT %I TO authenticator', v_role);
        END IF;
    END LOOP;
    IF NOT pg_has_role(current_user, 'veritas_owner', v_priv) THEN
        EXECUTE format('GRANT veritas_owner TO %I', current_user);
    END IF;
END
$$;

-- The owner creates the project's schemas in this database; the two logins
-- may connect even where CONNECT was revoked from PUBLIC.
DO $$
BEGIN
    EXECUTE format('GRANT CREATE, CONNECT ON DATABASE %I TO veritas_owner', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO authenticator, analyst', current_database());
END
$$;

-- No runtime role may create temporary objects: with TEMPORARY, a login
-- could create a pg_temp.uuid domain (or a table) that shadows a name in
-- any function whose search_path does not put pg_temp last. PUBLIC loses
-- the privilege PostgreSQL gives it by default; veritas_owner keeps it
-- (REFRESH MATERIALIZED VIEW CONCURRENTLY diffs through a temporary
-- table). Revoking from PUBLIC needs the database's owner (or a
-- superuser): a DBA login without it gets a warning naming the statement.
DO $$
DECLARE
    v_role text;
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO veritas_owner', current_database());
    FOREACH v_role IN ARRAY ARRAY[
        'authenticator', 'anon', 'student', 'teacher', 'admin', 'integration', 'worker', 'analyst'
    ] LOOP
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(), v_role);
    END LOOP;
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'PUBLIC keeps TEMPORARY on database %: only its owner can revoke it', current_database()
        USING HINT = format('as the owner: REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- yoyo-migrations' bookkeeping tables live here, owned by veritas_owner.
CREATE SCHEMA IF NOT EXISTS veritas_meta AUTHORIZATION veritas_owner;
REVOKE ALL ON SCHEMA veritas_meta FROM PUBLIC;

-- Refuse to finish if a project role holds a dangerous attribute (for
-- example a pre-existing role of the same name created by someone else).
DO $$
DECLARE
    v_bad text;
BEGIN
    SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname)
    INTO v_bad
    FROM pg_catalog.pg_roles AS r
    WHERE
        r.rolname IN (
            'veritas_owner', 'authenticator', 'anon', 'student',
            'teacher', 'admin', 'integration', 'worker', 'analyst'
        )
        AND (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls);
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'roles with SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS: %', v_bad
            USING HINT = 'ALTER ROLE ... NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS as a superuser';
    END IF;
END
$$;
