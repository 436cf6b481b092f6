-- 0006.question-kind-comment rollback: the comment as 0001 wrote it.
COMMENT ON TYPE app.question_kind IS
'Kind of question; fixes the form of options, correct and a student''s answer (see api-contract.md).';
