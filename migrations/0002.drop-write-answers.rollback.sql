-- 0002.drop-write-answers rollback: nothing to put back here. The function
-- is code, not data: the release rolled back to re-creates its own
-- internal.write_answers when its repeatable step runs (veritas db migrate).
SELECT 1;
