-- monitoring policies: event types and monitoring events.
--
-- Repeatable; sql/policies/00_reset.sql has dropped every policy and table
-- privilege before this file runs. Policies name their roles, never PUBLIC.
--
-- Events are append-only: nobody has UPDATE or DELETE (retention detaches
-- whole partitions: monitoring_partitions.sql). Privileges and policies are
-- those of the partitioned table app.monitoring_events; its partitions grant
-- nothing to anyone, so they cannot be reached directly.
--
-- An event row is accepted only for an attempt in progress, with exam_id,
-- student_id and attempt_started_at equal to the attempt's, and severity
-- and is_anomaly equal to those of its event type (the recording function
-- copies them; the policy makes sure nobody downgrades an anomaly). A
-- student's event must also be their own and arrive before the attempt's
-- deadline plus grace.

-- event_types --------------------------------------------------------------------

DROP POLICY IF EXISTS everyone_reads_event_types ON app.event_types;
CREATE POLICY everyone_reads_event_types ON app.event_types
AS PERMISSIVE FOR SELECT TO student, teacher, admin, integration
USING (TRUE);

DROP POLICY IF EXISTS admins_tune_event_types ON app.event_types;
CREATE POLICY admins_tune_event_types ON app.event_types
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_event_types ON app.event_types;
CREATE POLICY definer_helpers_read_event_types ON app.event_types
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON app.event_types TO student, teacher, admin, integration;
GRANT UPDATE (severity, is_anomaly, description) ON app.event_types TO admin;

-- monitoring_events --------------------------------------------------------------

DROP POLICY IF EXISTS students_read_own_events ON app.monitoring_events;
CREATE POLICY students_read_own_events ON app.monitoring_events
AS PERMISSIVE FOR SELECT TO student
USING (student_id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS students_record_events_of_open_attempts ON app.monitoring_events;
CREATE POLICY students_record_events_of_open_attempts ON app.monitoring_events
AS PERMISSIVE FOR INSERT TO student
WITH CHECK (
    student_id = (SELECT internal.current_user_id())
    AND EXISTS (
        SELECT FROM app.exam_attempts AS a
        INNER JOIN app.exams AS e ON a.exam_id = e.id
        WHERE
            a.id = monitoring_events.attempt_id
            AND a.student_id = monitoring_events.student_id
            AND a.exam_id = monitoring_events.exam_id
            AND a.started_at = monitoring_events.attempt_started_at
            AND a.status = 'in_progress'
            AND now() <= a.deadline + make_interval(secs => e.grace_seconds)
    )
    AND EXISTS (
        SELECT FROM app.event_types AS t
        WHERE
            t.event_type = monitoring_events.event_type
            AND t.severity = monitoring_events.severity
            AND t.is_anomaly = monitoring_events.is_anomaly
    )
);

DROP POLICY IF EXISTS teachers_read_events_on_their_exams ON app.monitoring_events;
CREATE POLICY teachers_read_events_on_their_exams ON app.monitoring_events
AS PERMISSIVE FOR SELECT TO teacher
USING (exam_id = any((SELECT internal.teacher_exam_ids())::uuid[]));

-- The monitoring module deduplicates retries; the analysis engine reads
-- timelines.
DROP POLICY IF EXISTS integration_reads_events ON app.monitoring_events;
CREATE POLICY integration_reads_events ON app.monitoring_events
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

-- Any attempt in progress. The deadline plus grace is checked by the
-- recording function (internal.record_events), not here: integration may
-- read only the id and grace period of an exam (sql/policies/exams.sql).
DROP POLICY IF EXISTS integration_records_events_of_open_attempts ON app.monitoring_events;
CREATE POLICY integration_records_events_of_open_attempts ON app.monitoring_events
AS PERMISSIVE FOR INSERT TO integration
WITH CHECK (
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.id = monitoring_events.attempt_id
            AND a.student_id = monitoring_events.student_id
            AND a.exam_id = monitoring_events.exam_id
            AND a.started_at = monitoring_events.attempt_started_at
            AND a.status = 'in_progress'
    )
    AND EXISTS (
        SELECT FROM app.event_types AS t
        WHERE
            t.event_type = monitoring_events.event_type
            AND t.severity = monitoring_events.severity
            AND t.is_anomaly = monitoring_events.is_anomaly
    )
);

DROP POLICY IF EXISTS admins_read_events ON app.monitoring_events;
CREATE POLICY admins_read_events ON app.monitoring_events
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- The built-in analyser (worker) and the analytics refresh.
DROP POLICY IF EXISTS definer_helpers_read_events ON app.monitoring_events;
CREATE POLICY definer_helpers_read_events ON app.monitoring_events
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

GRANT SELECT ON app.monitoring_events TO student, teacher, admin, integration;
-- id and received_at are the server's (defaults).
GRANT INSERT (
    attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at, severity,
    is_anomaly, payload, client_event_id
) ON app.monitoring_events TO student, integration;

-- event_rate_windows ----------------------------------------------------------------

-- Written only by internal.admit_events and admit_event_batch (SECURITY
-- DEFINER), which check the attempt is one the caller may record for;
-- nobody else may touch it.
DROP POLICY IF EXISTS definer_helpers_count_events ON app.event_rate_windows;
CREATE POLICY definer_helpers_count_events ON app.event_rate_windows
AS PERMISSIVE FOR ALL TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);
