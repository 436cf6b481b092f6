-- 13 the refresh reuse interval: a concurrent twin of a refresh (the same
-- token presented again within p_reuse_seconds, with the successor's hash
-- the glue derives from it) gets the family's live token; anything else
-- presented twice is a reuse that revokes the family (docs/security.md).
--
-- now() is the same all through one transaction: a token used "a while
-- ago" has its used_at moved back by the superuser.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(32);

-- ---------------------------------------------------------------------------
-- Fixtures: one session (a login's family and first token) per case
-- ---------------------------------------------------------------------------

CREATE FUNCTION pg_temp.h(p_token text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$ SELECT sha256(convert_to(p_token, 'UTF8')) $$;

CREATE TEMPORARY TABLE people (name text PRIMARY KEY, id uuid NOT NULL);
GRANT SELECT ON people TO PUBLIC;
INSERT INTO people (name, id)
SELECT n, tests.create_user('student', format('reuse-%s-%s@test.example', n, gen_random_uuid()))
FROM unnest(ARRAY['ann', 'ben', 'cal', 'dot', 'eve', 'fay', 'gus']) AS n;
CREATE FUNCTION pg_temp.id(p_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT id FROM pg_temp.people WHERE name = p_name $$;

-- A login of p_name whose first refresh token is p_token.
CREATE FUNCTION pg_temp.log_in(p_name text, p_token text) RETURNS void
LANGUAGE sql AS $$
    SELECT internal.login_record(
        (SELECT u.email FROM auth.users AS u WHERE u.id = pg_temp.id(p_name)),
        '198.51.100.7', pg_temp.id(p_name), TRUE, pg_temp.h(p_token)
    );
$$;

CREATE FUNCTION pg_temp.family_of(p_token text) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT t.family_id FROM auth.refresh_tokens AS t WHERE t.token_hash = pg_temp.h(p_token)
$$;

CREATE FUNCTION pg_temp.revoked(p_token text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(f.revoked_reason, 'alive')
    FROM auth.refresh_token_families AS f WHERE f.id = pg_temp.family_of(p_token)
$$;

CREATE FUNCTION pg_temp.used_a_while_ago(p_token text, p_seconds integer) RETURNS void
LANGUAGE sql AS $$
    UPDATE auth.refresh_tokens SET used_at = now() - make_interval(secs => p_seconds)
    WHERE token_hash = pg_temp.h(p_token)
$$;

SELECT pg_temp.log_in('ann', 'ann-1');
SELECT pg_temp.log_in('ben', 'ben-1');
SELECT pg_temp.log_in('cal', 'cal-1');
SELECT pg_temp.log_in('dot', 'dot-1');
SELECT pg_temp.log_in('eve', 'eve-1');
SELECT pg_temp.log_in('fay', 'fay-1');
SELECT pg_temp.log_in('gus', 'gus-1');

-- ---------------------------------------------------------------------------
-- Who may call what
-- ---------------------------------------------------------------------------

SELECT hasnt_function(
    'internal', 'refresh_rotate', ARRAY['bytea', 'bytea'],
    'the two-argument refresh_rotate is gone (migration 0009): a call is never ambiguous'
);
SELECT function_privs_are(
    'internal', 'refresh_twin_steps', ARRAY['uuid', 'bytea'], 'anon', ARRAY[]::text[],
    'anon cannot walk a family''s tokens by itself'
);
SELECT function_privs_are(
    'internal', 'refresh_session_user', ARRAY['uuid', 'uuid'], 'anon', ARRAY[]::text[],
    'anon cannot read a session''s user by itself'
);

-- ---------------------------------------------------------------------------
-- A twin inside the interval gets the same token, then the live one
-- ---------------------------------------------------------------------------

CREATE TEMPORARY TABLE ann_user AS
SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role) AS v
FROM auth.users AS u WHERE u.id = pg_temp.id('ann');
GRANT SELECT ON ann_user TO PUBLIC;

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-1'), pg_temp.h('ann-2'), 5) ->> 'steps', '1',
    'the first refresh rotates: one step'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-1'), pg_temp.h('ann-2'), 5),
    (SELECT jsonb_build_object('status', 'ok', 'steps', 1, 'user', v) FROM ann_user),
    'its concurrent twin, with the same successor, is answered ok: the same token, one step on'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-1'), pg_temp.h('ann-2'), 5) ->> 'status', 'ok',
    'and so is a third twin'
);
SELECT tests.unbecome();

SELECT is(
    (SELECT count(*)::integer FROM auth.refresh_tokens WHERE family_id = pg_temp.family_of('ann-1')),
    2, 'the twins issued no token: the family holds the first and its one successor'
);
SELECT is(pg_temp.revoked('ann-1'), 'alive', 'the family survives its twins');
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE user_id = pg_temp.id('ann') AND kind = 'refresh' AND (details ->> 'reuse_interval')::boolean),
    2, 'each twin is a refresh security event marked reuse_interval'
);
SELECT is(
    (SELECT count(*)::integer FROM audit.security_events
     WHERE user_id = pg_temp.id('ann') AND kind = 'reuse_detected'),
    0, 'no reuse was detected'
);

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-2'), pg_temp.h('ann-3'), 5) ->> 'status', 'ok',
    'the winner''s token keeps working: it rotates'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-1'), pg_temp.h('ann-2'), 5) ->> 'steps', '2',
    'a twin of the first token, after the family rotated again, is sent two steps on (the live token)'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-2'), pg_temp.h('ann-3'), 5) ->> 'steps', '1',
    'a twin of the second token, one step'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ann-3'), pg_temp.h('ann-4'), 5) ->> 'status', 'ok',
    'the live token rotates as usual'
);
SELECT tests.unbecome();
SELECT is(pg_temp.revoked('ann-1'), 'alive', 'the session is alive all along');

-- ---------------------------------------------------------------------------
-- A twin that does not present the successor is a reuse
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('ben-1'), pg_temp.h('ben-2'), 5) ->> 'status', 'ok',
    'ben refreshes'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ben-1'), pg_temp.h('ben-forged'), 5),
    '{"status": "reuse"}'::jsonb,
    'the used token with another successor (not derived with the glue''s secret) is a reuse, inside the interval too'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('ben-2'), pg_temp.h('ben-3'), 5) ->> 'status', 'invalid',
    'and the family''s live token is dead'
);
SELECT tests.unbecome();
SELECT is(pg_temp.revoked('ben-1'), 'reuse_detected', 'the family was revoked as a reuse');
SELECT is(
    (SELECT count(*)::integer FROM auth.refresh_tokens WHERE token_hash = pg_temp.h('ben-forged')),
    0, 'the forged successor was never stored'
);

-- ---------------------------------------------------------------------------
-- After the interval, a second use is a reuse
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('cal-1'), pg_temp.h('cal-2'), 5) ->> 'status', 'ok',
    'cal refreshes'
);
SELECT tests.unbecome();
SELECT pg_temp.used_a_while_ago('cal-1', 6);
SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('cal-1'), pg_temp.h('cal-2'), 5),
    '{"status": "reuse"}'::jsonb,
    'the same token 6 s after its use, with a 5 s interval, is a reuse'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('cal-2'), pg_temp.h('cal-3'), 5) ->> 'status', 'invalid',
    'the winner''s token dies with the family'
);
SELECT tests.unbecome();
SELECT is(pg_temp.revoked('cal-1'), 'reuse_detected', 'the family was revoked');

-- ---------------------------------------------------------------------------
-- 0 disables the interval; it is capped at 60 s
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('dot-1'), pg_temp.h('dot-2'), 0) ->> 'status', 'ok',
    'dot refreshes'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('dot-1'), pg_temp.h('dot-2'), 0),
    '{"status": "reuse"}'::jsonb,
    'with an interval of 0, a twin at once is a reuse (the rule before the interval)'
);
SELECT is(
    internal.refresh_rotate(pg_temp.h('eve-1'), pg_temp.h('eve-2'), 3600) ->> 'status', 'ok',
    'eve refreshes'
);
SELECT tests.unbecome();
SELECT pg_temp.used_a_while_ago('eve-1', 61);
SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('eve-1'), pg_temp.h('eve-2'), 3600),
    '{"status": "reuse"}'::jsonb,
    'an interval of an hour counts as 60 s: 61 s later the twin is a reuse'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- A twin never revives a session that ended
-- ---------------------------------------------------------------------------

SELECT tests.become_anon();
SELECT is(
    internal.refresh_rotate(pg_temp.h('fay-1'), pg_temp.h('fay-2'), 5) ->> 'status', 'ok',
    'fay refreshes'
);
SELECT tests.unbecome();
UPDATE auth.refresh_token_families SET revoked_at = now(), revoked_reason = 'logout'
WHERE id = pg_temp.family_of('fay-1');
SELECT tests.become_anon();
SELECT isnt(
    internal.refresh_rotate(pg_temp.h('fay-1'), pg_temp.h('fay-2'), 5) ->> 'status', 'ok',
    'a twin after a logout inside the interval is refused'
);

SELECT is(
    internal.refresh_rotate(pg_temp.h('gus-1'), pg_temp.h('gus-2'), 5) ->> 'status', 'ok',
    'gus refreshes'
);
SELECT tests.unbecome();
UPDATE auth.users SET is_active = FALSE WHERE id = pg_temp.id('gus');
SELECT tests.become_anon();
SELECT isnt(
    internal.refresh_rotate(pg_temp.h('gus-1'), pg_temp.h('gus-2'), 5) ->> 'status', 'ok',
    'a twin for a user disabled inside the interval is refused'
);
SELECT tests.unbecome();

SELECT * FROM finish();
ROLLBACK;
