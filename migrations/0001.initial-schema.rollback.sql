-- 0001.initial-schema rollback: drop every schema the migration created, with
-- all it holds. Leaves veritas_meta (yoyo's bookkeeping) and the roles alone.
DROP SCHEMA IF EXISTS api CASCADE;
DROP SCHEMA IF EXISTS analytics CASCADE;
DROP SCHEMA IF EXISTS archive CASCADE;
DROP SCHEMA IF EXISTS audit CASCADE;
DROP SCHEMA IF EXISTS internal CASCADE;
DROP SCHEMA IF EXISTS app CASCADE;
DROP SCHEMA IF EXISTS auth CASCADE;

-- The default privileges set by 01_schemas.sql belong to the database, not
-- to a schema: put them back as they were.
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
