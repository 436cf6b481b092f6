-- 0006.question-kind-comment: the comment of app.question_kind pointed to a
-- document outside the repository; docs/exams.md describes the kinds. Run
-- by yoyo as veritas_owner.
COMMENT ON TYPE app.question_kind IS
'Kind of question; fixes the form of options, correct and a student''s answer (see docs/exams.md).';
