-- 0003.analyst-privacy rollback: the settings go, and with them (CASCADE)
-- the analytics views that read them: they are repeatable, and the release
-- rolled back to re-creates its own when its repeatable step runs (veritas
-- db migrate).
DROP TABLE IF EXISTS app.analyst_settings CASCADE;

COMMENT ON COLUMN app.student_profiles.pseudonym IS
'Stable pseudonymous id shown to analysts instead of user_id.';
