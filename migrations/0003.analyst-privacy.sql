-- 0003.analyst-privacy: app.analyst_settings, the one row that says how the
-- analysts' views protect students (k, the smallest group shown, and the
-- key of the per-exam pseudonyms), as in sql/schema/50_analysis.sql; and the
-- pseudonym's comment, as in sql/schema/10_auth.sql. The views that read it
-- are repeatable (sql/views/). Run by yoyo as veritas_owner.

CREATE TABLE app.analyst_settings (
    singleton boolean PRIMARY KEY DEFAULT TRUE,
    min_group integer NOT NULL DEFAULT 5,
    pseudonym_secret uuid NOT NULL DEFAULT gen_random_uuid(),
    CONSTRAINT analyst_settings_singleton_check CHECK (singleton),
    CONSTRAINT analyst_settings_min_group_check CHECK (min_group >= 1)
);
INSERT INTO app.analyst_settings (singleton) VALUES (TRUE);
COMMENT ON TABLE app.analyst_settings IS
'One row: the analysts'' privacy settings. Without it the analytics views show no student figure at all.';
COMMENT ON COLUMN app.analyst_settings.min_group IS
'k: an exam with fewer distinct students than this shows no per-student row and no figure in the analytics views (1: no suppression).';
COMMENT ON COLUMN app.analyst_settings.pseudonym_secret IS
'Key of the per-exam pseudonyms of analytics.student_exam_results (keyed SHA-256 of it, the student''s pseudonym and the exam). Replacing it re-pseudonymises every exam row.';

ALTER TABLE app.analyst_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.analyst_settings FORCE ROW LEVEL SECURITY;

COMMENT ON COLUMN app.student_profiles.pseudonym IS
'Stable pseudonymous id shown to analysts instead of user_id (analytics.student_overview); the analysts'' per-exam rows carry a keyed hash of it instead.';
