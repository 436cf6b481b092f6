-- 0009.refresh-reuse-interval rollback: the release rolled back to
-- re-creates its own refresh_rotate(bytea, bytea) when its repeatable step
-- runs; the new signature and its helpers go, so that its two-argument call
-- is not ambiguous.
DROP FUNCTION IF EXISTS internal.refresh_rotate(bytea, bytea, integer);
DROP FUNCTION IF EXISTS internal.refresh_twin_steps(uuid, bytea);
DROP FUNCTION IF EXISTS internal.refresh_session_user(uuid, uuid);
