-- exams policies: exams, questions, teacher permissions, accommodations.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- Students read published exams, and the questions of published exams that
-- have opened, never the answer key: their column grants leave out
-- questions.correct and questions.tolerance (SELECT * or a row-to-JSON of a
-- question as a student is 42501). Teachers read and author the exams they
-- created or were granted (internal.teacher_exam_ids(), evaluated once per
-- statement); only an exam's creator (or an admin) grants access to it.
-- Admins read and change everything.

-- exams --------------------------------------------------------------------------

DROP POLICY IF EXISTS students_read_published_exams ON app.exams;
CREATE POLICY students_read_published_exams ON app.exams
AS PERMISSIVE FOR SELECT TO student
USING (published);

DROP POLICY IF EXISTS teachers_read_their_exams ON app.exams;
CREATE POLICY teachers_read_their_exams ON app.exams
AS PERMISSIVE FOR SELECT TO teacher
USING (
    created_by = (SELECT internal.current_user_id())
    OR id = any((SELECT internal.teacher_exam_ids())::uuid[])
);

DROP POLICY IF EXISTS teachers_create_own_exams ON app.exams;
CREATE POLICY teachers_create_own_exams ON app.exams
AS PERMISSIVE FOR INSERT TO teacher
WITH CHECK (created_by = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS teachers_update_their_exams ON app.exams;
CREATE POLICY teachers_update_their_exams ON app.exams
AS PERMISSIVE FOR UPDATE TO teacher
USING (
    created_by = (SELECT internal.current_user_id())
    OR id = any((SELECT internal.teacher_exam_ids())::uuid[])
)
WITH CHECK (
    created_by = (SELECT internal.current_user_id())
    OR id = any((SELECT internal.teacher_exam_ids())::uuid[])
);

DROP POLICY IF EXISTS admins_read_exams ON app.exams;
CREATE POLICY admins_read_exams ON app.exams
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_create_own_exams ON app.exams;
CREATE POLICY admins_create_own_exams ON app.exams
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (created_by = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS admins_update_exams ON app.exams;
CREATE POLICY admins_update_exams ON app.exams
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

-- An exam with attempts cannot be deleted anyway (foreign key).
DROP POLICY IF EXISTS admins_delete_exams ON app.exams;
CREATE POLICY admins_delete_exams ON app.exams
AS PERMISSIVE FOR DELETE TO admin
USING (TRUE);

-- The attempt helpers, the analytics views and the access helpers.
DROP POLICY IF EXISTS definer_helpers_read_exams ON app.exams;
CREATE POLICY definer_helpers_read_exams ON app.exams
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- Integration accounts record events of any attempt in progress: they read
-- every exam's grace period (and nothing else of it) to check the deadline.
DROP POLICY IF EXISTS integration_reads_exam_grace ON app.exams;
CREATE POLICY integration_reads_exam_grace ON app.exams
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

GRANT SELECT ON app.exams TO student, teacher, admin;
GRANT SELECT (id, grace_seconds) ON app.exams TO integration;
GRANT INSERT (
    id, title, description, created_by, duration_minutes, opens_at, closes_at, max_attempts,
    grading_method, grace_seconds, shuffle_questions, shuffle_options, published
) ON app.exams TO teacher, admin;
GRANT UPDATE (
    title, description, duration_minutes, opens_at, closes_at, max_attempts, grading_method,
    grace_seconds, shuffle_questions, shuffle_options, published
) ON app.exams TO teacher, admin;
GRANT DELETE ON app.exams TO admin;

-- questions ----------------------------------------------------------------------

-- Published and opened: nothing of an exam's content before its window.
DROP POLICY IF EXISTS students_read_questions_of_open_exams ON app.questions;
CREATE POLICY students_read_questions_of_open_exams ON app.questions
AS PERMISSIVE FOR SELECT TO student
USING (
    EXISTS (
        SELECT FROM app.exams AS e
        WHERE e.id = questions.exam_id AND e.published AND e.opens_at <= now()
    )
);

DROP POLICY IF EXISTS teachers_read_questions_of_their_exams ON app.questions;
CREATE POLICY teachers_read_questions_of_their_exams ON app.questions
AS PERMISSIVE FOR SELECT TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

DROP POLICY IF EXISTS teachers_add_questions_to_their_exams ON app.questions;
CREATE POLICY teachers_add_questions_to_their_exams ON app.questions
AS PERMISSIVE FOR INSERT TO teacher
WITH CHECK (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

DROP POLICY IF EXISTS teachers_edit_questions_of_their_exams ON app.questions;
CREATE POLICY teachers_edit_questions_of_their_exams ON app.questions
AS PERMISSIVE FOR UPDATE TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]))
WITH CHECK (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

-- An answered question cannot be deleted anyway (foreign key).
DROP POLICY IF EXISTS teachers_delete_questions_of_their_exams ON app.questions;
CREATE POLICY teachers_delete_questions_of_their_exams ON app.questions
AS PERMISSIVE FOR DELETE TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

DROP POLICY IF EXISTS admins_read_questions ON app.questions;
CREATE POLICY admins_read_questions ON app.questions
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_add_questions ON app.questions;
CREATE POLICY admins_add_questions ON app.questions
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_edit_questions ON app.questions;
CREATE POLICY admins_edit_questions ON app.questions
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_delete_questions ON app.questions;
CREATE POLICY admins_delete_questions ON app.questions
AS PERMISSIVE FOR DELETE TO admin
USING (TRUE);

-- internal.start_attempt takes the snapshot with the answer key.
DROP POLICY IF EXISTS definer_helpers_read_questions ON app.questions;
CREATE POLICY definer_helpers_read_questions ON app.questions
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- Never correct or tolerance for students.
GRANT SELECT (
    id, exam_id, position, kind, prompt, options, points, version, created_at, updated_at
) ON app.questions TO student;
GRANT SELECT ON app.questions TO teacher, admin;
GRANT INSERT (
    id, exam_id, position, kind, prompt, options, correct, tolerance, points
) ON app.questions TO teacher, admin;
GRANT UPDATE (
    position, kind, prompt, options, correct, tolerance, points, version
) ON app.questions TO teacher, admin;
GRANT DELETE ON app.questions TO teacher, admin;

-- teacher_exam_permissions -------------------------------------------------------

-- Their own grants, and who else shares the exams they may access.
DROP POLICY IF EXISTS teachers_read_permissions_of_their_exams ON app.teacher_exam_permissions;
CREATE POLICY teachers_read_permissions_of_their_exams ON app.teacher_exam_permissions
AS PERMISSIVE FOR SELECT TO teacher
USING (
    teacher_id = (SELECT internal.current_user_id())
    OR exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
);

-- Only the exam's creator grants (the creator's own row at creation too),
-- only to an active teacher (or admin), in their own name.
DROP POLICY IF EXISTS exam_owners_grant_permissions ON app.teacher_exam_permissions;
CREATE POLICY exam_owners_grant_permissions ON app.teacher_exam_permissions
AS PERMISSIVE FOR INSERT TO teacher
WITH CHECK (
    granted_by = (SELECT internal.current_user_id())
    AND EXISTS (
        SELECT FROM app.exams AS e
        WHERE
            e.id = teacher_exam_permissions.exam_id
            AND e.created_by = (SELECT internal.current_user_id())
    )
    AND (
        internal.user_has_role(teacher_id, 'teacher')
        OR internal.user_has_role(teacher_id, 'admin')
    )
);

DROP POLICY IF EXISTS admins_read_permissions ON app.teacher_exam_permissions;
CREATE POLICY admins_read_permissions ON app.teacher_exam_permissions
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_grant_permissions ON app.teacher_exam_permissions;
CREATE POLICY admins_grant_permissions ON app.teacher_exam_permissions
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (
    granted_by = (SELECT internal.current_user_id())
    AND (
        internal.user_has_role(teacher_id, 'teacher')
        OR internal.user_has_role(teacher_id, 'admin')
    )
);

DROP POLICY IF EXISTS admins_revoke_permissions ON app.teacher_exam_permissions;
CREATE POLICY admins_revoke_permissions ON app.teacher_exam_permissions
AS PERMISSIVE FOR DELETE TO admin
USING (TRUE);

-- internal.teacher_exam_ids and the other access helpers.
DROP POLICY IF EXISTS definer_helpers_read_permissions ON app.teacher_exam_permissions;
CREATE POLICY definer_helpers_read_permissions ON app.teacher_exam_permissions
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON app.teacher_exam_permissions TO teacher, admin;
GRANT INSERT (exam_id, teacher_id, granted_by) ON app.teacher_exam_permissions TO teacher, admin;
GRANT DELETE ON app.teacher_exam_permissions TO admin;

-- accommodations -------------------------------------------------------------------

DROP POLICY IF EXISTS students_read_own_accommodations ON app.accommodations;
CREATE POLICY students_read_own_accommodations ON app.accommodations
AS PERMISSIVE FOR SELECT TO student
USING (student_id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS teachers_read_accommodations_of_their_exams ON app.accommodations;
CREATE POLICY teachers_read_accommodations_of_their_exams ON app.accommodations
AS PERMISSIVE FOR SELECT TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

-- Extra time for an active student on an exam the teacher may access. (It
-- does not make the student visible to the teacher: an attempt does, see
-- internal.teacher_can_see_student.)
DROP POLICY IF EXISTS teachers_grant_extra_time_on_their_exams ON app.accommodations;
CREATE POLICY teachers_grant_extra_time_on_their_exams ON app.accommodations
AS PERMISSIVE FOR INSERT TO teacher
WITH CHECK (
    exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    AND internal.user_has_role(student_id, 'student')
);

DROP POLICY IF EXISTS teachers_change_extra_time_on_their_exams ON app.accommodations;
CREATE POLICY teachers_change_extra_time_on_their_exams ON app.accommodations
AS PERMISSIVE FOR UPDATE TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]))
WITH CHECK (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

DROP POLICY IF EXISTS admins_read_accommodations ON app.accommodations;
CREATE POLICY admins_read_accommodations ON app.accommodations
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_grant_extra_time ON app.accommodations;
CREATE POLICY admins_grant_extra_time ON app.accommodations
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (internal.user_has_role(student_id, 'student'));

DROP POLICY IF EXISTS admins_change_extra_time ON app.accommodations;
CREATE POLICY admins_change_extra_time ON app.accommodations
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_delete_accommodations ON app.accommodations;
CREATE POLICY admins_delete_accommodations ON app.accommodations
AS PERMISSIVE FOR DELETE TO admin
USING (TRUE);

-- internal.start_attempt and recompute_attempt_deadline (the deadline),
-- internal.teacher_can_see_student.
DROP POLICY IF EXISTS definer_helpers_read_accommodations ON app.accommodations;
CREATE POLICY definer_helpers_read_accommodations ON app.accommodations
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON app.accommodations TO student, teacher, admin;
GRANT INSERT (exam_id, student_id, extra_minutes) ON app.accommodations TO teacher, admin;
-- updated_at is set by the _100_timestamps trigger whatever is written; it is
-- granted because api.set_accommodation names it.
GRANT UPDATE (extra_minutes, updated_at) ON app.accommodations TO teacher, admin;
GRANT DELETE ON app.accommodations TO admin;
