-- 80 settings for a long life (docs/operations.md): the authenticator
-- login's time limits, which every request runs under (a role's settings
-- apply at login, never on SET ROLE); the storage parameters of the tables
-- that are updated often or grow fast, on every event partition (those a
-- later month brings included).
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(12);

CREATE FUNCTION pg_temp.login_settings(p_role text)
RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(s.setconfig, '{}') FROM pg_catalog.pg_db_role_setting AS s
    WHERE s.setdatabase = 0 AND s.setrole = p_role::regrole;
$$;

CREATE FUNCTION pg_temp.options(p_table regclass)
RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(c.reloptions, '{}') FROM pg_catalog.pg_class AS c WHERE c.oid = p_table;
$$;

-- ---------------------------------------------------------------------------
-- Time limits: on the authenticator login
-- ---------------------------------------------------------------------------

SELECT ok(
    pg_temp.login_settings('authenticator') @> ARRAY[
        'statement_timeout=10s', 'lock_timeout=3s', 'idle_in_transaction_session_timeout=30s'
    ],
    'the authenticator login: a statement runs 10 s at most, waits 3 s at most for a lock, idles 30 s at most in a transaction'
);
SELECT is_empty(
    $$
        SELECT r.rolname FROM pg_catalog.pg_db_role_setting AS s
        JOIN pg_catalog.pg_roles AS r ON r.oid = s.setrole
        WHERE r.rolname IN ('anon', 'student', 'teacher', 'admin', 'integration', 'worker')
    $$,
    'no request role carries settings of its own: they would never apply (SET ROLE applies none)'
);
SELECT ok(
    pg_temp.login_settings('analyst') @> ARRAY[
        'statement_timeout=2min', 'idle_in_transaction_session_timeout=10min'
    ],
    'the analyst login keeps its own, longer bounds'
);

-- ---------------------------------------------------------------------------
-- Storage parameters
-- ---------------------------------------------------------------------------

SELECT is(
    pg_temp.options('app.exam_attempts'), ARRAY['fillfactor=90'],
    'attempts leave room in each page for their updates'
);
SELECT is(
    pg_temp.options('app.attempt_answers'), ARRAY['fillfactor=80'],
    'answers, rewritten by autosave, leave room for HOT updates'
);
SELECT is(
    pg_temp.options('app.event_rate_windows'), ARRAY['fillfactor=50'],
    'the event rate windows, rewritten by every recording, leave half of each page free'
);
SELECT is(
    pg_temp.options('app.analysis_jobs'),
    ARRAY['fillfactor=80', 'autovacuum_vacuum_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02'],
    'the job queue leaves room for its updates and is vacuumed and analysed after 2 % changed'
);
SELECT set_eq(
    $$
        SELECT t::text FROM unnest(ARRAY['audit.log', 'audit.security_events', 'audit.disclosures']) AS t
        WHERE pg_temp.options(t::regclass)
            = ARRAY['autovacuum_vacuum_insert_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02']
    $$,
    ARRAY['audit.log', 'audit.security_events', 'audit.disclosures'],
    'the three append-only audit chains are vacuumed and analysed after 2 % more rows'
);
SELECT is(
    pg_temp.options('app.monitoring_events_default'),
    ARRAY['autovacuum_vacuum_insert_scale_factor=0.02', 'autovacuum_analyze_scale_factor=0.02'],
    'the default event partition is vacuumed and analysed after 2 % more rows'
);
SELECT is_empty(
    $$
        SELECT i.inhrelid::regclass::text FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
          AND pg_temp.options(i.inhrelid) <> pg_temp.options('app.monitoring_events_default')
    $$,
    'every event partition made by migrate has the default partition''s parameters'
);

-- Months further ahead, as the worker creates them later.
SELECT cmp_ok(
    (SELECT count(*)::integer FROM internal.create_event_partitions(8)), '>', 0,
    'the partition function creates months further ahead'
);
SELECT is_empty(
    $$
        SELECT i.inhrelid::regclass::text FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
          AND pg_temp.options(i.inhrelid) <> pg_temp.options('app.monitoring_events_default')
    $$,
    '... each with the default partition''s parameters'
);

SELECT * FROM finish();
ROLLBACK;
