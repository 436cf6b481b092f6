-- 04 SECURITY DEFINER hardening: a login cannot borrow the owner's rights.
--
-- A function without pg_temp named in its search_path looks up tables and
-- types in the session's temporary schema FIRST. A login holding TEMPORARY
-- could then create a pg_temp.uuid domain whose CHECK runs its own code,
-- and call a SECURITY DEFINER function that uses the type: that code would
-- run as veritas_owner. Both defences are checked here, then the attack is
-- played: against a deliberately unpinned function it works (so this test
-- can fail), against ours the trap never runs.

BEGIN;
-- pg_temp named last: this file plants a pg_temp.uuid trap for itself too.
SET LOCAL search_path = public, pg_catalog, pg_temp;

SELECT plan(12);

-- ---------------------------------------------------------------------------
-- The catalog rules
-- ---------------------------------------------------------------------------

SELECT cmp_ok(
    (
        SELECT count(*)::int
        FROM pg_catalog.pg_proc AS p
        JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('api', 'app', 'auth', 'audit', 'internal', 'analytics') AND p.prosecdef
    ),
    '>', 20,
    'the sweep below sees our SECURITY DEFINER functions (it is not vacuous)'
);

SELECT is_empty(
    $$
    SELECT p.oid::regprocedure::text
    FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
    WHERE
        n.nspname IN ('api', 'app', 'auth', 'audit', 'internal', 'analytics')
        AND p.prosecdef
        AND NOT EXISTS (
            SELECT FROM unnest(p.proconfig) AS c (setting)
            WHERE c.setting ~ '^search_path=(.*, *)?pg_temp$'
        )
    ORDER BY 1
    $$,
    'every SECURITY DEFINER function pins a search_path that names pg_temp last'
);

SELECT is_empty(
    $$
    SELECT a.privilege_type
    FROM pg_catalog.pg_database AS d,
        aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) AS a
    WHERE d.datname = current_database() AND a.grantee = 0 AND a.privilege_type = 'TEMPORARY'
    $$,
    'PUBLIC holds no TEMPORARY on the database'
);

SELECT is_empty(
    $$
    SELECT r.rolname::text
    FROM pg_catalog.pg_roles AS r
    WHERE
        r.rolname IN (
            'authenticator', 'anon', 'student', 'teacher', 'admin', 'integration', 'worker', 'analyst'
        )
        AND has_database_privilege(r.oid, current_database(), 'TEMPORARY')
    ORDER BY 1
    $$,
    'no runtime role may create temporary objects'
);

SELECT ok(
    has_database_privilege('veritas_owner', current_database(), 'TEMPORARY'),
    'the owner keeps TEMPORARY (REFRESH ... CONCURRENTLY diffs through a temporary table)'
);

-- ---------------------------------------------------------------------------
-- The attack, played
-- ---------------------------------------------------------------------------

-- The trap: a uuid domain in this session's temporary schema whose CHECK
-- raises, naming the user it runs as. (The superuser plants it: a runtime
-- role cannot, as the next two assertions show.)
CREATE FUNCTION pg_temp.trap(p_value pg_catalog.uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trap ran as %', current_user;
END
$$;
CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (pg_temp.trap(value));

SET LOCAL ROLE authenticator;
SELECT throws_ok(
    'CREATE DOMAIN pg_temp.my_uuid AS pg_catalog.uuid',
    '42501', NULL,
    'the authenticator login cannot create a temporary domain'
);
SELECT throws_ok(
    'CREATE TEMPORARY TABLE my_table (x integer)',
    '42501', NULL,
    'the authenticator login cannot create a temporary table'
);
RESET ROLE;

-- A control: a SECURITY DEFINER function owned by veritas_owner that pins
-- search_path = '' (as twelve of ours once did) falls for the trap.
CREATE FUNCTION pg_temp.unpinned_probe(p_value text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    PERFORM p_value::uuid;
    RETURN 'no trap';
END
$$;
ALTER FUNCTION pg_temp.unpinned_probe(text) OWNER TO veritas_owner;

-- Fixtures: a teacher's open exam (made before the trap matters: the API
-- functions pin their paths anyway), a student.
CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v text);
GRANT ALL ON ctx TO PUBLIC;
INSERT INTO ctx VALUES
('teacher', tests.create_user('teacher')::text),
('student', tests.create_user('student')::text);

SELECT tests.become((SELECT v::pg_catalog.uuid FROM ctx WHERE k = 'teacher'));
INSERT INTO ctx
SELECT 'exam', api.create_exam(
    title => 'Hardening', description => '', duration_minutes => 30,
    opens_at => now() - interval '1 hour', closes_at => now() + interval '1 day',
    max_attempts => 1,
    questions => '[{"kind": "true_false", "prompt": "Pinned?", "correct": true}]'
) ->> 'id';
SELECT tests.unbecome();

SELECT tests.become((SELECT v::pg_catalog.uuid FROM ctx WHERE k = 'student'));
SELECT throws_ok(
    $$ SELECT pg_temp.unpinned_probe('00000000-0000-4000-8000-000000000004') $$,
    'P0001', 'trap ran as veritas_owner',
    'control: the trap runs as the owner inside a definer function whose search_path is empty'
);
SELECT lives_ok(
    $$ INSERT INTO ctx SELECT 'attempt', o_attempt_id::text
       FROM internal.start_attempt((SELECT v::pg_catalog.uuid FROM ctx WHERE k = 'exam')) $$,
    'internal.start_attempt (once unpinned) resolves uuid in pg_catalog: the trap never runs'
);
SELECT tests.unbecome();

SELECT is(
    (
        SELECT a.student_id::text
        FROM app.exam_attempts AS a
        WHERE a.id = (SELECT v::pg_catalog.uuid FROM ctx WHERE k = 'attempt')
    ),
    (SELECT v FROM ctx WHERE k = 'student'),
    'the attempt was started for the student, as the caller'
);

SELECT tests.become((SELECT v::pg_catalog.uuid FROM ctx WHERE k = 'teacher'));
SELECT lives_ok(
    $$ SELECT internal.teacher_can_see_student((SELECT v::pg_catalog.uuid FROM ctx WHERE k = 'student')) $$,
    'a definer access helper casting to uuid[] does not run the trap either'
);
SELECT tests.unbecome();
SET LOCAL ROLE worker;
SELECT lives_ok(
    $$ SELECT internal.expire_overdue_attempts() $$,
    'the worker''s expiry sweep (once unpinned) does not run the trap'
);
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
