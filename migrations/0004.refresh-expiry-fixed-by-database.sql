-- 0004.refresh-expiry-fixed-by-database: internal.login_record and
-- internal.refresh_rotate no longer take the new refresh token's expiry
-- from their caller (sql/functions/auth.sql: internal.refresh_token_expiry
-- fixes it). The repeatable step creates the new signatures; this removes
-- the old ones from databases that had them, since CREATE OR REPLACE never
-- drops an overload. Run by yoyo as veritas_owner.
DROP FUNCTION IF EXISTS internal.login_record(text, inet, uuid, boolean, bytea, timestamptz);
DROP FUNCTION IF EXISTS internal.refresh_rotate(bytea, bytea, timestamptz);
