-- attempts policies: exam attempts and their saved answers.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- How status, score and the answer key are protected (the design the
-- attempt functions of sql/functions/attempts.sql follow):
--
--   * No request role may INSERT, UPDATE or DELETE app.exam_attempts or
--     app.attempt_answers: not students, not teachers, not admins. Every
--     write (start with its snapshot, autosave, submit and grading, abandon,
--     expiry, a deadline moved by an accommodation) goes through the narrow
--     SECURITY DEFINER helpers internal.start_attempt, save_attempt_answers,
--     submit_attempt, abandon_attempt, expire_overdue_attempts and
--     recompute_attempt_deadline. They are owned by veritas_owner, pin their
--     search_path, check that the attempt is the caller's own (or that the
--     teacher may access the exam) and that the state machine allows the
--     step, and run under the definer_helpers_... policies below. The
--     BEFORE UPDATE trigger _200_guard_status refuses an illegal transition
--     whoever writes. So a student can never set status, score, max_score,
--     finished_at, deadline or points_awarded, even through a forgotten
--     check in an API function: the privilege does not exist.
--   * The answer key never reaches a student: the column grants of student
--     leave out exam_attempts.scored_against (the snapshot with the key) and
--     attempt_answers.points_awarded (per-question marks would reveal the
--     key to a later attempt), as they leave out questions.correct and
--     questions.tolerance (exams.sql). A student's SELECT * or row-to-JSON of
--     such a row is 42501: list the columns. The attempt helpers read the
--     key as the owner and return the paper without it.
--   * Reads go through RLS in the API functions (SECURITY INVOKER): a
--     student sees their own attempts and answers, a teacher those on the
--     exams they may access, an integration account the attempts without
--     their questions or key, an admin everything.

-- exam_attempts ------------------------------------------------------------------

DROP POLICY IF EXISTS students_read_own_attempts ON app.exam_attempts;
CREATE POLICY students_read_own_attempts ON app.exam_attempts
AS PERMISSIVE FOR SELECT TO student
USING (student_id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS teachers_read_attempts_on_their_exams ON app.exam_attempts;
CREATE POLICY teachers_read_attempts_on_their_exams ON app.exam_attempts
AS PERMISSIVE FOR SELECT TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

-- The monitoring module checks that an attempt is in progress before it
-- records events; the analysis engine and the metrics need finished ones.
-- All rows, but never the questions or the key (column grants).
DROP POLICY IF EXISTS integration_reads_attempts ON app.exam_attempts;
CREATE POLICY integration_reads_attempts ON app.exam_attempts
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

DROP POLICY IF EXISTS admins_read_attempts ON app.exam_attempts;
CREATE POLICY admins_read_attempts ON app.exam_attempts
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_attempts ON app.exam_attempts;
CREATE POLICY definer_helpers_read_attempts ON app.exam_attempts
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- internal.start_attempt: a new attempt is always in progress.
DROP POLICY IF EXISTS definer_helpers_start_attempts ON app.exam_attempts;
CREATE POLICY definer_helpers_start_attempts ON app.exam_attempts
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (status = 'in_progress' AND finished_at IS NULL AND score IS NULL);

-- Submit, abandon, expire, grade, move a deadline (and SELECT ... FOR
-- UPDATE / FOR SHARE); transitions are checked by _200_guard_status.
DROP POLICY IF EXISTS definer_helpers_update_attempts ON app.exam_attempts;
CREATE POLICY definer_helpers_update_attempts ON app.exam_attempts
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

-- Never scored_against (the answer key) for students nor integration, nor
-- question_order for integration.
GRANT SELECT (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, question_order, created_at, updated_at
) ON app.exam_attempts TO student;
GRANT SELECT (
    id, exam_id, student_id, attempt_number, status, started_at, deadline, finished_at,
    score, max_score, created_at, updated_at
) ON app.exam_attempts TO integration;
GRANT SELECT ON app.exam_attempts TO teacher, admin;

-- attempt_answers -----------------------------------------------------------------

DROP POLICY IF EXISTS students_read_own_answers ON app.attempt_answers;
CREATE POLICY students_read_own_answers ON app.attempt_answers
AS PERMISSIVE FOR SELECT TO student
USING (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = attempt_answers.attempt_id
            AND a.student_id = (SELECT internal.current_user_id())
    )
);

DROP POLICY IF EXISTS teachers_read_answers_on_their_exams ON app.attempt_answers;
CREATE POLICY teachers_read_answers_on_their_exams ON app.attempt_answers
AS PERMISSIVE FOR SELECT TO teacher
USING (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = attempt_answers.attempt_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
);

DROP POLICY IF EXISTS admins_read_answers ON app.attempt_answers;
CREATE POLICY admins_read_answers ON app.attempt_answers
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_answers ON app.attempt_answers;
CREATE POLICY definer_helpers_read_answers ON app.attempt_answers
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- internal.store_answers (autosave, final answers), upserted.
DROP POLICY IF EXISTS definer_helpers_save_answers ON app.attempt_answers;
CREATE POLICY definer_helpers_save_answers ON app.attempt_answers
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

-- Autosave (last write wins) and grading (points_awarded).
DROP POLICY IF EXISTS definer_helpers_update_answers ON app.attempt_answers;
CREATE POLICY definer_helpers_update_answers ON app.attempt_answers
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

-- An answer saved as null is cleared, while the attempt is in progress.
DROP POLICY IF EXISTS definer_helpers_clear_answers ON app.attempt_answers;
CREATE POLICY definer_helpers_clear_answers ON app.attempt_answers
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE a.id = attempt_answers.attempt_id AND a.status = 'in_progress'
    )
);

-- Never points_awarded for students.
GRANT SELECT (attempt_id, question_id, answer, saved_at) ON app.attempt_answers TO student;
GRANT SELECT ON app.attempt_answers TO teacher, admin;
