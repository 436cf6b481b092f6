-- 0007.service-tokens rollback: the table goes, with every service token
-- issued (they stop working: the release rolled back has no such tokens),
-- and the helpers of sql/functions/auth/service_tokens.sql that read it
-- (the api functions go with the api schema, re-created by the release).
DROP FUNCTION IF EXISTS internal.issue_service_token(uuid, text, integer);
DROP FUNCTION IF EXISTS internal.revoke_service_token(uuid);
DROP FUNCTION IF EXISTS internal.service_token_document(uuid);
DROP TABLE IF EXISTS auth.service_tokens;
