-- 0005.rename-student-metrics-refresh rollback: nothing to put back here. The
-- functions are code, not data: the release rolled back to re-creates its
-- own names when its repeatable step runs (veritas db migrate).
SELECT 1;
