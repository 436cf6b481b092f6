-- audit: the disclosure log (FERPA): which teacher or admin was shown which
-- student's records. Read back by api.get_disclosure_log and
-- api.get_my_disclosures (api.sql). docs/audit.md.
--
--   internal.log_disclosure(s)      teacher, admin   record a read of student data

-- Disclosure log ------------------------------------------------------------------------

-- A disclosure row is written only for a record that the caller was able to
-- read and that belongs to the student it names, so that a direct call
-- cannot fill the log with reads that never happened (42501 otherwise). The
-- kinds: profile (record_id: the student), monitoring_events (record_id:
-- the attempt), analysis (record_id: the analysis). Runs as the owner
-- inside the two writers below; never granted.
CREATE OR REPLACE FUNCTION internal.assert_disclosed_records(
    p_role text, p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]
)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_exam_ids constant uuid[] := CASE
        WHEN p_role = 'teacher' THEN internal.teacher_exam_ids()
    END;
BEGIN
    IF p_record_kind IS NULL OR p_record_kind NOT IN ('profile', 'monitoring_events', 'analysis') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('no disclosure kind %L (profile, monitoring_events, analysis)', p_record_kind);
    END IF;
    PERFORM
    FROM unnest(p_student_ids, p_record_ids) AS s (student_id, record_id)
    LEFT JOIN app.behavior_analyses AS b
        ON p_record_kind = 'analysis' AND s.record_id = b.id
    LEFT JOIN app.exam_attempts AS a
        ON a.id = CASE p_record_kind
            WHEN 'monitoring_events' THEN s.record_id
            WHEN 'analysis' THEN b.attempt_id
        END
    WHERE
        s.student_id IS NOT NULL
        AND NOT CASE p_record_kind
            WHEN 'profile' THEN
                s.record_id = s.student_id
                AND (p_role = 'admin' OR internal.teacher_can_see_student(s.student_id))
            ELSE
                a.student_id = s.student_id
                AND (p_role = 'admin' OR a.exam_id = any(v_exam_ids))
        END IS TRUE
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501',
            MESSAGE = 'a disclosure is recorded only by the read it records';
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.assert_disclosed_records(text, uuid[], text, uuid[]) IS
'Raises 42501 unless every (student, record) names a record of that kind that belongs to the student and that the calling teacher or admin may read.';
REVOKE ALL ON FUNCTION internal.assert_disclosed_records(text, uuid[], text, uuid[]) FROM PUBLIC;

-- FERPA (34 CFR 99.32) keeps a record of each disclosure of a student's
-- records. Every API function that shows a teacher or an admin a student's
-- detail, attempt, answers, events or analysis calls this, in its own
-- transaction: such a function must be VOLATILE (a STABLE one runs in a
-- read-only transaction, where the insert fails loudly rather than
-- disclosing without a record). One index-only insert; nothing for other
-- callers (a student reading their own records, the worker, a DBA).
CREATE OR REPLACE FUNCTION internal.log_disclosure(
    p_student_id uuid, p_record_kind text, p_record_id uuid DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role constant text := internal.current_app_role();
BEGIN
    IF v_role IN ('teacher', 'admin') AND p_student_id IS NOT NULL THEN
        PERFORM internal.assert_disclosed_records(
            v_role, ARRAY[p_student_id], p_record_kind, ARRAY[p_record_id]
        );
        INSERT INTO audit.disclosures (viewer_id, viewer_role, student_id, record_kind, record_id)
        VALUES (internal.current_user_id(), v_role, p_student_id, p_record_kind, p_record_id);
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.log_disclosure(uuid, text, uuid) IS
'Records that the calling teacher or admin was shown a record of a student (record_kind: profile, monitoring_events or analysis; record_id: the student, the attempt or the analysis); 42501 for a record that is not the student''s or that the caller may not read. Nothing for other callers. Call it from VOLATILE functions only.';

-- The same for a list (a flagged list, a dashboard naming students): one
-- row per student, with the matching record id when p_record_ids is given
-- (same length, same order).
CREATE OR REPLACE FUNCTION internal.log_disclosures(
    p_student_ids uuid[], p_record_kind text, p_record_ids uuid[] DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role constant text := internal.current_app_role();
BEGIN
    IF v_role IN ('teacher', 'admin') AND cardinality(p_student_ids) > 0 THEN
        PERFORM internal.assert_disclosed_records(v_role, p_student_ids, p_record_kind, p_record_ids);
        INSERT INTO audit.disclosures (viewer_id, viewer_role, student_id, record_kind, record_id)
        SELECT DISTINCT internal.current_user_id(), v_role, s.student_id, p_record_kind, s.record_id
        FROM unnest(p_student_ids, p_record_ids) AS s (student_id, record_id)
        WHERE s.student_id IS NOT NULL;
    END IF;
END;
$$;

COMMENT ON FUNCTION internal.log_disclosures(uuid[], text, uuid[]) IS
'internal.log_disclosure for many students at once (one row per distinct student and record). Call it from VOLATILE functions only.';

REVOKE ALL ON FUNCTION internal.log_disclosure(uuid, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION internal.log_disclosures(uuid[], text, uuid[]) FROM PUBLIC;
-- Every reader role may call it: it records only for teachers and admins, so
-- a function read by students and teachers alike can call it unconditionally.
GRANT EXECUTE ON FUNCTION internal.log_disclosure(uuid, text, uuid)
TO student, teacher, admin, integration;
GRANT EXECUTE ON FUNCTION internal.log_disclosures(uuid[], text, uuid[]) TO teacher, admin;
