-- 0009.refresh-reuse-interval: internal.refresh_rotate takes the reuse
-- interval (p_reuse_seconds, sql/functions/auth/sessions.sql), so that a
-- concurrent twin of a refresh gets the family's live token instead of
-- revoking the family. The repeatable step creates the new signature; this
-- removes the old one from databases that had it (CREATE OR REPLACE never
-- drops an overload, and a call with two arguments would be ambiguous).
-- Run by yoyo as veritas_owner.
DROP FUNCTION IF EXISTS internal.refresh_rotate(bytea, bytea);
