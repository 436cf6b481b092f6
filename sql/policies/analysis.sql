-- analysis policies: behaviour analyses, flag reviews, performance and exam
-- metrics, the analysis job queue.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- The built-in analyser, the metrics refresh and the job queue run as
-- SECURITY DEFINER helpers for the worker role (which holds no table
-- privilege), under the definer_helpers_... policies. External engines
-- (integration) and admins write external analyses in their own name.

-- behavior_analyses --------------------------------------------------------------

DROP POLICY IF EXISTS students_read_analyses_of_own_attempts ON app.behavior_analyses;
CREATE POLICY students_read_analyses_of_own_attempts ON app.behavior_analyses
AS PERMISSIVE FOR SELECT TO student
USING (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = behavior_analyses.attempt_id
            AND a.student_id = (SELECT internal.current_user_id())
    )
);

DROP POLICY IF EXISTS teachers_read_analyses_on_their_exams ON app.behavior_analyses;
CREATE POLICY teachers_read_analyses_on_their_exams ON app.behavior_analyses
AS PERMISSIVE FOR SELECT TO teacher
USING (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = behavior_analyses.attempt_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
);

DROP POLICY IF EXISTS integration_reads_analyses ON app.behavior_analyses;
CREATE POLICY integration_reads_analyses ON app.behavior_analyses
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

DROP POLICY IF EXISTS integration_writes_external_analyses ON app.behavior_analyses;
CREATE POLICY integration_writes_external_analyses ON app.behavior_analyses
AS PERMISSIVE FOR INSERT TO integration
WITH CHECK (source = 'external' AND created_by = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS admins_read_analyses ON app.behavior_analyses;
CREATE POLICY admins_read_analyses ON app.behavior_analyses
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_write_external_analyses ON app.behavior_analyses;
CREATE POLICY admins_write_external_analyses ON app.behavior_analyses
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (source = 'external' AND created_by = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS definer_helpers_read_analyses ON app.behavior_analyses;
CREATE POLICY definer_helpers_read_analyses ON app.behavior_analyses
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- The built-in analyser writes builtin analyses, in nobody's name.
DROP POLICY IF EXISTS definer_helpers_write_builtin_analyses ON app.behavior_analyses;
CREATE POLICY definer_helpers_write_builtin_analyses ON app.behavior_analyses
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (source = 'builtin' AND created_by IS NULL);

GRANT SELECT ON app.behavior_analyses TO student, teacher, admin, integration;
GRANT INSERT (
    attempt_id, source, model, integrity_score, lmi_score, flags, summary, is_flagged,
    created_by
) ON app.behavior_analyses TO integration, admin;

-- flag_reviews -------------------------------------------------------------------

DROP POLICY IF EXISTS teachers_read_reviews_on_their_exams ON app.flag_reviews;
CREATE POLICY teachers_read_reviews_on_their_exams ON app.flag_reviews
AS PERMISSIVE FOR SELECT TO teacher
USING (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = flag_reviews.attempt_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
);

-- In their own name, on an attempt of an exam they may access, about an
-- analysis of that attempt (or none).
DROP POLICY IF EXISTS teachers_review_flags_on_their_exams ON app.flag_reviews;
CREATE POLICY teachers_review_flags_on_their_exams ON app.flag_reviews
AS PERMISSIVE FOR INSERT TO teacher
WITH CHECK (
    reviewer_id = (SELECT internal.current_user_id())
    AND EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = flag_reviews.attempt_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
    AND (
        analysis_id IS NULL
        OR EXISTS (
            SELECT FROM app.behavior_analyses AS b
            WHERE b.id = flag_reviews.analysis_id AND b.attempt_id = flag_reviews.attempt_id
        )
    )
);

DROP POLICY IF EXISTS admins_read_reviews ON app.flag_reviews;
CREATE POLICY admins_read_reviews ON app.flag_reviews
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_review_flags ON app.flag_reviews;
CREATE POLICY admins_review_flags ON app.flag_reviews
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (
    reviewer_id = (SELECT internal.current_user_id())
    AND (
        analysis_id IS NULL
        OR EXISTS (
            SELECT FROM app.behavior_analyses AS b
            WHERE b.id = flag_reviews.analysis_id AND b.attempt_id = flag_reviews.attempt_id
        )
    )
);

-- The flagged lists and the analytics refresh.
DROP POLICY IF EXISTS definer_helpers_read_reviews ON app.flag_reviews;
CREATE POLICY definer_helpers_read_reviews ON app.flag_reviews
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON app.flag_reviews TO teacher, admin;
GRANT INSERT (attempt_id, analysis_id, reviewer_id, decision, note) ON app.flag_reviews
TO teacher, admin;

-- performance_metrics ------------------------------------------------------------

DROP POLICY IF EXISTS students_read_own_metrics ON app.performance_metrics;
CREATE POLICY students_read_own_metrics ON app.performance_metrics
AS PERMISSIVE FOR SELECT TO student
USING (student_id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS teachers_read_their_students_metrics ON app.performance_metrics;
CREATE POLICY teachers_read_their_students_metrics ON app.performance_metrics
AS PERMISSIVE FOR SELECT TO teacher
USING (
    -- inline, not internal.teacher_can_see_student(student_id): one index probe a row,
    -- the teacher's exams computed once per statement
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.student_id = performance_metrics.student_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
);

DROP POLICY IF EXISTS integration_reads_metrics ON app.performance_metrics;
CREATE POLICY integration_reads_metrics ON app.performance_metrics
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

DROP POLICY IF EXISTS admins_read_metrics ON app.performance_metrics;
CREATE POLICY admins_read_metrics ON app.performance_metrics
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- internal.create_user (an admin adding a student): the student's empty
-- metrics row (the column grant below names student_id alone). The figures
-- are derived: only the SECURITY DEFINER statistics helpers write them.
DROP POLICY IF EXISTS admins_create_metrics ON app.performance_metrics;
CREATE POLICY admins_create_metrics ON app.performance_metrics
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (TRUE);

-- register_student, internal.refresh_student_metrics (upsert), the analyser.
DROP POLICY IF EXISTS definer_helpers_read_metrics ON app.performance_metrics;
CREATE POLICY definer_helpers_read_metrics ON app.performance_metrics
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_create_metrics ON app.performance_metrics;
CREATE POLICY definer_helpers_create_metrics ON app.performance_metrics
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_metrics ON app.performance_metrics;
CREATE POLICY definer_helpers_update_metrics ON app.performance_metrics
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

GRANT SELECT ON app.performance_metrics TO student, teacher, admin, integration;
GRANT INSERT (student_id) ON app.performance_metrics TO admin;

-- exam_metrics ---------------------------------------------------------------------

DROP POLICY IF EXISTS teachers_read_metrics_of_their_exams ON app.exam_metrics;
CREATE POLICY teachers_read_metrics_of_their_exams ON app.exam_metrics
AS PERMISSIVE FOR SELECT TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

DROP POLICY IF EXISTS integration_reads_exam_metrics ON app.exam_metrics;
CREATE POLICY integration_reads_exam_metrics ON app.exam_metrics
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

DROP POLICY IF EXISTS admins_read_exam_metrics ON app.exam_metrics;
CREATE POLICY admins_read_exam_metrics ON app.exam_metrics
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_exam_metrics ON app.exam_metrics;
CREATE POLICY definer_helpers_read_exam_metrics ON app.exam_metrics
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_create_exam_metrics ON app.exam_metrics;
CREATE POLICY definer_helpers_create_exam_metrics ON app.exam_metrics
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_exam_metrics ON app.exam_metrics;
CREATE POLICY definer_helpers_update_exam_metrics ON app.exam_metrics
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

GRANT SELECT ON app.exam_metrics TO teacher, admin, integration;

-- analysis_jobs --------------------------------------------------------------------

-- Operations: see the queue, requeue a parked job, drop one.
DROP POLICY IF EXISTS admins_read_jobs ON app.analysis_jobs;
CREATE POLICY admins_read_jobs ON app.analysis_jobs
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_requeue_jobs ON app.analysis_jobs;
CREATE POLICY admins_requeue_jobs ON app.analysis_jobs
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_delete_jobs ON app.analysis_jobs;
CREATE POLICY admins_delete_jobs ON app.analysis_jobs
AS PERMISSIVE FOR DELETE TO admin
USING (TRUE);

-- Queued on submit or expiry (internal.close_attempts), claimed with FOR
-- UPDATE SKIP LOCKED and finished by the worker's helpers.
DROP POLICY IF EXISTS definer_helpers_read_jobs ON app.analysis_jobs;
CREATE POLICY definer_helpers_read_jobs ON app.analysis_jobs
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_queue_jobs ON app.analysis_jobs;
CREATE POLICY definer_helpers_queue_jobs ON app.analysis_jobs
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (status = 'queued');

DROP POLICY IF EXISTS definer_helpers_run_jobs ON app.analysis_jobs;
CREATE POLICY definer_helpers_run_jobs ON app.analysis_jobs
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_purge_done_jobs ON app.analysis_jobs;
CREATE POLICY definer_helpers_purge_done_jobs ON app.analysis_jobs
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (status = 'done');

GRANT SELECT, DELETE ON app.analysis_jobs TO admin;
GRANT UPDATE (status, attempts, run_after, locked_by, locked_at, last_error) ON app.analysis_jobs
TO admin;
