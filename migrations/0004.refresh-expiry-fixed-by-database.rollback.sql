-- 0004.refresh-expiry-fixed-by-database rollback: nothing to put back here. The
-- functions are code, not data: the release rolled back to re-creates its
-- own signatures when its repeatable step runs (veritas db migrate).
SELECT 1;
