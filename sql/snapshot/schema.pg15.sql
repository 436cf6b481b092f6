CREATE SCHEMA analytics;

ALTER SCHEMA analytics OWNER TO veritas_owner;

COMMENT ON SCHEMA analytics IS 'Secured, pseudonymous views for the analyst login.';

CREATE SCHEMA api;

ALTER SCHEMA api OWNER TO veritas_owner;

COMMENT ON SCHEMA api IS 'Exposed API: only functions and views that clients may call; re-created at every deploy.';

CREATE SCHEMA app;

ALTER SCHEMA app OWNER TO veritas_owner;

COMMENT ON SCHEMA app IS 'Business tables (profiles, exams, questions, attempts, answers, events, analyses, metrics, jobs), read through RLS.';

CREATE SCHEMA archive;

ALTER SCHEMA archive OWNER TO veritas_owner;

COMMENT ON SCHEMA archive IS 'Detached, archived monitoring-event partitions; DBA only.';

CREATE SCHEMA audit;

ALTER SCHEMA audit OWNER TO veritas_owner;

COMMENT ON SCHEMA audit IS 'Append-only audit trail: row changes, security events, disclosures of student data.';

CREATE SCHEMA auth;

ALTER SCHEMA auth OWNER TO veritas_owner;

COMMENT ON SCHEMA auth IS 'Users, refresh-token families and tokens, revoked access tokens, login attempts, role permissions.';

CREATE SCHEMA internal;

ALTER SCHEMA internal OWNER TO veritas_owner;

COMMENT ON SCHEMA internal IS 'Private helpers: claim readers, trigger functions, SECURITY DEFINER helpers, partition procedures.';

CREATE TYPE app.analysis_source AS ENUM (
    'builtin',
    'external'
);

ALTER TYPE app.analysis_source OWNER TO veritas_owner;

COMMENT ON TYPE app.analysis_source IS 'Who wrote an analysis: the built-in deterministic analyser, or an external engine through the API.';

CREATE TYPE app.attempt_status AS ENUM (
    'in_progress',
    'submitted',
    'expired',
    'abandoned'
);

ALTER TYPE app.attempt_status OWNER TO veritas_owner;

COMMENT ON TYPE app.attempt_status IS 'in_progress, then submitted (by the student), expired (deadline passed; graded on saved answers) or abandoned.';

CREATE TYPE app.event_type AS ENUM (
    'gaze_away',
    'face_missing',
    'multiple_faces',
    'tab_hidden',
    'window_blur',
    'copy',
    'paste',
    'fullscreen_exit',
    'unusual_pause',
    'network_offline',
    'devtools_open',
    'heartbeat',
    'tab_visible',
    'window_focus',
    'fullscreen_enter',
    'network_online'
);

ALTER TYPE app.event_type OWNER TO veritas_owner;

COMMENT ON TYPE app.event_type IS 'Kinds of monitoring event. tab_visible, window_focus, fullscreen_enter and network_online close the matching hidden/blur/exit/offline event, so that durations can be computed.';

CREATE TYPE app.grading_method AS ENUM (
    'highest',
    'average',
    'first',
    'last'
);

ALTER TYPE app.grading_method OWNER TO veritas_owner;

COMMENT ON TYPE app.grading_method IS 'How a student''s grade on an exam is drawn from their graded attempts.';

CREATE TYPE app.job_status AS ENUM (
    'queued',
    'running',
    'done',
    'failed',
    'parked'
);

ALTER TYPE app.job_status OWNER TO veritas_owner;

COMMENT ON TYPE app.job_status IS 'queued (waiting for run_after), running (claimed by a worker), done, failed (will be retried), parked (gave up; needs a human).';

CREATE TYPE app.question_kind AS ENUM (
    'single_choice',
    'multiple_choice',
    'true_false',
    'numeric',
    'short_text'
);

ALTER TYPE app.question_kind OWNER TO veritas_owner;

COMMENT ON TYPE app.question_kind IS 'Kind of question; fixes the form of options, correct and a student''s answer (see docs/exams.md).';

CREATE TYPE app.review_status AS ENUM (
    'cleared',
    'confirmed'
);

ALTER TYPE app.review_status OWNER TO veritas_owner;

COMMENT ON TYPE app.review_status IS 'A teacher''s decision on a flagged attempt; an attempt without a review is pending.';

CREATE TYPE auth.user_role AS ENUM (
    'student',
    'teacher',
    'admin',
    'integration'
);

ALTER TYPE auth.user_role OWNER TO veritas_owner;

COMMENT ON TYPE auth.user_role IS 'Application role of a user; each value is also the name of the database role a request switches to.';

CREATE FUNCTION api.abandon_exam_attempt(attempt_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_own_attempt_visible(abandon_exam_attempt.attempt_id);
    PERFORM internal.abandon_attempt(abandon_exam_attempt.attempt_id);
    SELECT jsonb_build_object('attempt_id', a.id, 'status', a.status)
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = abandon_exam_attempt.attempt_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.abandon_exam_attempt(attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.abandon_exam_attempt(attempt_id uuid) IS 'Abandon the caller''s attempt in progress: {attempt_id, status: "abandoned"}. It is not graded and still counts against max_attempts. Abandoning twice changes nothing. 409 if it was submitted or expired, or the deadline plus grace has passed; 404 for an attempt that is not the caller''s.';

CREATE FUNCTION api.add_question(exam_id uuid, kind text, prompt text, correct jsonb, options jsonb DEFAULT NULL::jsonb, tolerance numeric DEFAULT NULL::numeric, points numeric DEFAULT 1) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_question jsonb := jsonb_strip_nulls(jsonb_build_object(
        'kind', kind, 'prompt', prompt, 'options', options, 'correct', correct,
        'tolerance', tolerance, 'points', points
    ));
    v_problem text := internal.question_problem(v_question);
    v_question_id uuid := gen_random_uuid();
BEGIN
    PERFORM internal.assert_author();
    -- Lock the exam so that two additions do not race for a position.
    PERFORM FROM app.exams AS e WHERE e.id = add_question.exam_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_problem;
    END IF;
    INSERT INTO app.questions (
        id, exam_id, position, kind, prompt, options, correct, tolerance, points
    )
    SELECT
        v_question_id,
        add_question.exam_id,
        coalesce(max(q.position), 0) + 1,
        (v_question ->> 'kind')::app.question_kind,
        v_question ->> 'prompt',
        coalesce(v_question -> 'options', '[]'::jsonb),
        v_question -> 'correct',
        (v_question ->> 'tolerance')::numeric,
        coalesce((v_question ->> 'points')::numeric, 1)
    FROM app.questions AS q
    WHERE q.exam_id = add_question.exam_id;
    RETURN internal.question_document(v_question_id);
END
$$;

ALTER FUNCTION api.add_question(exam_id uuid, kind text, prompt text, correct jsonb, options jsonb, tolerance numeric, points numeric) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.add_question(exam_id uuid, kind text, prompt text, correct jsonb, options jsonb, tolerance numeric, points numeric) IS 'Append a question to an exam (teacher with permission, or admin). Attempts already started are not affected: they keep the questions they started with. 404 if the exam is not visible, 400 (22023) for an invalid question.';

CREATE FUNCTION api.can_access_exam(exam_id uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT internal.can_access_exam(can_access_exam.exam_id);
$$;

ALTER FUNCTION api.can_access_exam(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.can_access_exam(exam_id uuid) IS 'True when the caller may access the exam: an admin any exam, a teacher the exams they created or were granted, a student the published ones.';

CREATE FUNCTION api.can_access_student_data(student_id uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT internal.can_access_student_data(can_access_student_data.student_id);
$$;

ALTER FUNCTION api.can_access_student_data(student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.can_access_student_data(student_id uuid) IS 'True when the caller may see the student''s data: an admin any student, a teacher the students with an attempt on their exams, a student themself.';

CREATE FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb DEFAULT NULL::jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_own_attempt_visible(complete_exam_attempt.attempt_id);
    PERFORM internal.submit_attempt(complete_exam_attempt.attempt_id, answers);
    SELECT jsonb_build_object(
        'attempt_id', a.id,
        'status', a.status,
        'score', a.score,
        'max_score', a.max_score,
        'percentage', trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2)),
        'submitted_at', a.finished_at
    )
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = complete_exam_attempt.attempt_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb) IS 'Submit the caller''s attempt, with optional final answers {question_id: answer} saved first: {attempt_id, status: "submitted", score, max_score, percentage, submitted_at}. Graded at once against the questions as they were at the start; analysis is queued and the student''s metrics updated in the same transaction. Submitting within the grace period after the deadline counts. A second submit changes nothing and returns the same result. 409 once the deadline plus grace has passed (the attempt is expired and graded on its saved answers) or if it was abandoned; 404 for an attempt that is not the caller''s.';

CREATE FUNCTION api.create_exam(title text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, questions jsonb, description text DEFAULT NULL::text, published boolean DEFAULT true, grading_method text DEFAULT 'highest'::text, grace_seconds integer DEFAULT 60, shuffle_questions boolean DEFAULT false, shuffle_options boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user_id uuid := internal.assert_author();
    v_exam_id uuid := gen_random_uuid();
    v_method app.grading_method := internal.grading_method_of(grading_method);
    v_problem record;
BEGIN
    PERFORM internal.assert_exam_settings(
        title, description, duration_minutes, opens_at, closes_at, max_attempts, grace_seconds
    );
    IF questions IS NULL OR jsonb_typeof(questions) <> 'array'
        OR jsonb_array_length(questions) = 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'questions must be a non-empty list of questions';
    END IF;
    IF jsonb_array_length(questions) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an exam has at most 500 questions';
    END IF;
    SELECT q.ord, internal.question_problem(q.value) AS problem
    INTO v_problem
    FROM jsonb_array_elements(questions) WITH ORDINALITY AS q (value, ord)
    WHERE internal.question_problem(q.value) IS NOT NULL
    ORDER BY q.ord
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('question %s: %s', v_problem.ord, v_problem.problem);
    END IF;

    -- No RETURNING: the new exam becomes visible to its author only once the
    -- permission row below exists.
    INSERT INTO app.exams (
        id, title, description, created_by, duration_minutes, opens_at, closes_at,
        max_attempts, grading_method, grace_seconds, shuffle_questions, shuffle_options,
        published
    ) VALUES (
        v_exam_id, title, description, v_user_id, duration_minutes, opens_at, closes_at,
        max_attempts, v_method, grace_seconds, coalesce(shuffle_questions, FALSE),
        coalesce(shuffle_options, FALSE), coalesce(published, TRUE)
    );
    INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by)
    VALUES (v_exam_id, v_user_id, v_user_id);
    INSERT INTO app.questions (exam_id, position, kind, prompt, options, correct, tolerance, points)
    SELECT
        v_exam_id,
        q.ord,
        (q.value ->> 'kind')::app.question_kind,
        q.value ->> 'prompt',
        coalesce(nullif(q.value -> 'options', 'null'::jsonb), '[]'::jsonb),
        q.value -> 'correct',
        (q.value ->> 'tolerance')::numeric,
        coalesce((q.value ->> 'points')::numeric, 1)
    FROM jsonb_array_elements(questions) WITH ORDINALITY AS q (value, ord);

    RETURN internal.exam_document(v_exam_id);
END
$$;

ALTER FUNCTION api.create_exam(title text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, questions jsonb, description text, published boolean, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.create_exam(title text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, questions jsonb, description text, published boolean, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean) IS 'Create an exam with its questions (teacher or admin); the creator gets permission on it. description (optional, at most 10000 characters) defaults to none. questions: [{kind, prompt, options, correct, tolerance, points}] of the kinds single_choice, multiple_choice, true_false, numeric, short_text. published (default true) lets students start it inside its window at once. grading_method: highest (default), average, first or last. grace_seconds (default 60, at most 600) absorbs network delay after a deadline. Returns the exam with its questions and answer key. 400 (22023) names the first invalid field.';

CREATE FUNCTION api.create_exam_attempt(exam_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_start record;
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_caller();
    SELECT s.o_attempt_id, s.o_resumed INTO v_start
    FROM internal.start_attempt(create_exam_attempt.exam_id) AS s;
    SELECT jsonb_build_object(
        'attempt_id', a.id,
        'exam_id', a.exam_id,
        'attempt_number', a.attempt_number,
        'status', a.status,
        'started_at', a.started_at,
        'deadline', a.deadline,
        'questions', internal.attempt_paper(a.id),
        'resumed', v_start.o_resumed
    )
    INTO v_result
    FROM app.exam_attempts AS a
    WHERE a.id = v_start.o_attempt_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.create_exam_attempt(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.create_exam_attempt(exam_id uuid) IS 'Start an attempt at a published exam inside its window: {attempt_id, exam_id, attempt_number, status: "in_progress", started_at, deadline, questions: [{id, position, kind, prompt, options, points, answer}], resumed}. Never the correct answers. The deadline is started_at + duration + the student''s extra time, capped by closes_at. If an attempt is already in progress it is returned with resumed = true (HTTP 200, else 201), however many requests race. When the exam shuffles, the order of questions and options is this attempt''s own, fixed at start. 404 unknown exam; 409 not published, not open yet, closed, or all attempts used.';

CREATE FUNCTION api.find_students(q text DEFAULT NULL::text, "limit" integer DEFAULT 20) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_pattern constant text := internal.search_pattern(find_students.q);
    v_any_student constant boolean := internal.current_app_role() = 'admin';
    v_students jsonb;
BEGIN
    IF find_students."limit" IS NULL OR find_students."limit" NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 100';
    END IF;
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object('id', s.id, 'full_name', s.full_name, 'email', s.email)
            ORDER BY lower(s.full_name), lower(s.email)
        ),
        '[]'::jsonb
    )
    INTO v_students
    FROM (
        SELECT u.id, u.full_name, u.email
        FROM auth.users AS u
        WHERE
            u.role = 'student'
            AND u.is_active
            AND (
                v_any_student
                OR u.id IN (SELECT a.student_id FROM app.exam_attempts AS a)
            )
            AND (
                v_pattern IS NULL
                OR lower(u.email) LIKE v_pattern
                OR lower(u.full_name) LIKE v_pattern
            )
        ORDER BY lower(u.full_name), lower(u.email)
        LIMIT find_students."limit"
    ) AS s;
    RETURN v_students;
END;
$$;

ALTER FUNCTION api.find_students(q text, "limit" integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.find_students(q text, "limit" integer) IS 'Teacher or admin: the active students whose name or email contains q (case-insensitive; none given: all), [{id, full_name, email}] by name, at most limit (1 to 100, default 20), to give one extra time. A teacher finds only the students they can already see (an attempt on one of their exams); an admin any. 403 for students and integration accounts.';

CREATE FUNCTION api.find_teachers(q text DEFAULT NULL::text, "limit" integer DEFAULT 20) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF find_teachers."limit" IS NULL OR find_teachers."limit" NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 100';
    END IF;
    RETURN internal.find_active_teachers(
        internal.search_pattern(find_teachers.q), find_teachers."limit"
    );
END;
$$;

ALTER FUNCTION api.find_teachers(q text, "limit" integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.find_teachers(q text, "limit" integer) IS 'Teacher or admin: the other active teachers whose name or email contains q (case-insensitive; none given: all), [{id, full_name, email}] by name, at most limit (1 to 100, default 20), to grant one access to an exam. Only name and email; never disabled accounts, students, admins or integration accounts. 403 for students and integration accounts.';

CREATE FUNCTION api.get_attempt_monitoring_events(attempt_id uuid, after_occurred_at timestamp with time zone DEFAULT NULL::timestamp with time zone, after_id uuid DEFAULT NULL::uuid, "limit" integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT internal.attempt_timeline(attempt_id, after_occurred_at, after_id, "limit");
$$;

ALTER FUNCTION api.get_attempt_monitoring_events(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_attempt_monitoring_events(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) IS 'An attempt''s own monitoring timeline, oldest first, for its student (also integration); same pages as get_monitoring_events_for_attempt, which teachers and admins use (it logs the disclosure); a page that is not the last links the next by GET /rpc (Link, rel="next"). 404 when not visible.';

CREATE FUNCTION api.get_audit_log("table" text DEFAULT NULL::text, actor uuid DEFAULT NULL::uuid, since timestamp with time zone DEFAULT NULL::timestamp with time zone, "limit" integer DEFAULT 100, before bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_limit constant integer := internal.audit_page_size(get_audit_log."limit");
    v_schema text;
    v_name text := get_audit_log."table";
    v_where text[] := '{}'::text[];
    v_result jsonb;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'only admins may read the audit trail';
    END IF;
    IF strpos(v_name, '.') > 0 THEN
        v_schema := split_part(v_name, '.', 1);
        v_name := split_part(v_name, '.', 2);
    END IF;
    -- Only the filters given, so that each picks its index: (table_name, id),
    -- (actor_id, id), the primary key.
    IF v_name IS NOT NULL THEN
        v_where := v_where || 'l.table_name = $1'::text;
    END IF;
    IF v_schema IS NOT NULL THEN
        v_where := v_where || 'l.table_schema = $2'::text;
    END IF;
    IF actor IS NOT NULL THEN
        v_where := v_where || 'l.actor_id = $3'::text;
    END IF;
    IF since IS NOT NULL THEN
        v_where := v_where || 'l.occurred_at >= $4'::text;
    END IF;
    IF before IS NOT NULL THEN
        v_where := v_where || 'l.id < $5'::text;
    END IF;
    EXECUTE format(
        $q$
        SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
        FROM (
            SELECT l.id, jsonb_build_object(
                'id', l.id,
                'occurred_at', internal.audit_time(l.occurred_at),
                'table', CASE WHEN l.table_name IS NOT NULL THEN l.table_schema || '.' || l.table_name END,
                'operation', l.operation,
                'row_pk', l.row_pk,
                'changed_columns', l.changed_columns,
                'old_values', l.old_values,
                'new_values', l.new_values,
                'actor_id', l.actor_id,
                'actor_role', l.actor_role,
                'db_user', l.db_user,
                'request_method', l.request_method,
                'request_path', l.request_path,
                'txid', l.txid
            ) AS entry
            FROM audit.log AS l
            WHERE %s
            ORDER BY l.id DESC
            LIMIT $6
        ) AS e
        $q$,
        coalesce(nullif(array_to_string(v_where, ' AND '), ''), 'TRUE')
    )
    INTO v_result
    USING v_name, v_schema, actor, since, before, v_limit;
    RETURN v_result;
END;
$_$;

ALTER FUNCTION api.get_audit_log("table" text, actor uuid, since timestamp with time zone, "limit" integer, before bigint) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_audit_log("table" text, actor uuid, since timestamp with time zone, "limit" integer, before bigint) IS 'Admin: the audit trail of row changes, newest first: [{id, occurred_at (UTC), table, operation, row_pk, changed_columns, old_values, new_values, actor_id, actor_role, db_user, request_method, request_path, txid}]. Filters: table (exam_attempts or app.exam_attempts), actor (a user id), since (a time). limit 1 to 1000 (default 100). Keyset pagination: before = the id of the last entry of the previous page. actor_id is the API user; for direct database sessions it is null and db_user names the login. Secrets are never included.';

CREATE FUNCTION api.get_available_exams_for_student() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT internal.available_exams(internal.assert_student_caller());
$$;

ALTER FUNCTION api.get_available_exams_for_student() OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_available_exams_for_student() IS 'Published exams open now or later: [{id, title, description, duration_minutes, opens_at, closes_at, max_attempts, attempts_used, is_open, attempt_in_progress}], soonest first. attempt_in_progress is the id of the caller''s attempt in progress, or null.';

CREATE FUNCTION api.get_behavior_analysis(attempt_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_row app.behavior_analyses;
BEGIN
    SELECT b.* INTO v_row
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = get_behavior_analysis.attempt_id
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'no analysis of this attempt';
    END IF;
    PERFORM internal.log_disclosure(
        (SELECT a.student_id FROM app.exam_attempts AS a WHERE a.id = v_row.attempt_id),
        'analysis',
        v_row.id
    );
    RETURN internal.analysis_document(v_row);
END
$$;

ALTER FUNCTION api.get_behavior_analysis(attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_behavior_analysis(attempt_id uuid) IS 'The attempt''s latest behaviour analysis, built-in or external (GET /analysis/behavior/{attempt_id}): {id, attempt_id, source, model, integrity_score, lmi_score, is_flagged, flags, summary, created_by, created_at}. For the student who owns the attempt, a teacher of its exam, an admin or an integration account; 404 when there is none, or the caller may not see the attempt.';

CREATE FUNCTION api.get_disclosure_log(student_id uuid DEFAULT NULL::uuid, viewer uuid DEFAULT NULL::uuid, since timestamp with time zone DEFAULT NULL::timestamp with time zone, "limit" integer DEFAULT 100, before bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
    FROM (
        SELECT d.id, jsonb_build_object(
            'id', d.id,
            'occurred_at', internal.audit_time(d.occurred_at),
            'viewer_id', d.viewer_id,
            'viewer_role', d.viewer_role,
            'student_id', d.student_id,
            'record_kind', d.record_kind,
            'record_id', d.record_id
        ) AS entry
        FROM audit.disclosures AS d
        WHERE
            (get_disclosure_log.student_id IS NULL OR d.student_id = get_disclosure_log.student_id)
            AND (get_disclosure_log.viewer IS NULL OR d.viewer_id = get_disclosure_log.viewer)
            AND (get_disclosure_log.since IS NULL OR d.occurred_at >= get_disclosure_log.since)
            AND (get_disclosure_log.before IS NULL OR d.id < get_disclosure_log.before)
        ORDER BY d.id DESC
        LIMIT internal.audit_page_size(get_disclosure_log."limit")
    ) AS e;
$$;

ALTER FUNCTION api.get_disclosure_log(student_id uuid, viewer uuid, since timestamp with time zone, "limit" integer, before bigint) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_disclosure_log(student_id uuid, viewer uuid, since timestamp with time zone, "limit" integer, before bigint) IS 'Admin: who was shown which student''s records, newest first: [{id, occurred_at (UTC), viewer_id, viewer_role, student_id, record_kind, record_id}]. Filters student_id, viewer, since; limit 1 to 1000; before = the last id of the previous page.';

CREATE FUNCTION api.get_exam(exam_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_document jsonb;
BEGIN
    PERFORM internal.assert_author();
    v_document := internal.exam_document(exam_id);
    IF v_document IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_document;
END
$$;

ALTER FUNCTION api.get_exam(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_exam(exam_id uuid) IS 'An exam with its questions and answer key, for a teacher with permission on it or an admin; 404 otherwise.';

CREATE FUNCTION api.get_flagged_students_for_exam(exam_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    PERFORM FROM app.exams AS e WHERE e.id = get_flagged_students_for_exam.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    PERFORM internal.lazy_expire(NULL, get_flagged_students_for_exam.exam_id);

    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'student_id', f.student_id,
                'student_name', f.student_name,
                'attempt_id', f.attempt_id,
                'attempt_number', f.attempt_number,
                'status', f.status,
                'integrity_score', f.integrity_score,
                'lmi_score', f.lmi_score,
                'flags', f.flags,
                'analysis_id', f.analysis_id,
                'model', f.model,
                'analysed_at', f.analysed_at,
                'review_status', coalesce(f.decision::text, 'pending'),
                'reviewed_at', f.reviewed_at
            )
            ORDER BY f.integrity_score, f.lmi_score DESC, f.attempt_id
        ),
        '[]'::jsonb
    )
    INTO v_result
    FROM (
        SELECT
            a.student_id,
            u.full_name AS student_name,
            a.id AS attempt_id,
            a.attempt_number,
            a.status,
            b.id AS analysis_id,
            b.integrity_score,
            b.lmi_score,
            b.flags,
            b.model,
            b.created_at AS analysed_at,
            r.decision,
            r.created_at AS reviewed_at
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT la.id, la.integrity_score, la.lmi_score, la.flags, la.model, la.created_at,
                la.is_flagged
            FROM app.behavior_analyses AS la
            WHERE la.attempt_id = a.id
            ORDER BY la.created_at DESC, la.id DESC
            LIMIT 1
        ) AS b
        LEFT JOIN LATERAL (
            SELECT lr.decision, lr.created_at
            FROM app.flag_reviews AS lr
            WHERE lr.attempt_id = a.id
            ORDER BY lr.created_at DESC, lr.id DESC
            LIMIT 1
        ) AS r ON TRUE
        LEFT JOIN auth.users AS u ON a.student_id = u.id
        WHERE a.exam_id = get_flagged_students_for_exam.exam_id AND b.is_flagged
    ) AS f;

    -- Each flagged analysis shown is a disclosure of that student's record.
    PERFORM internal.log_disclosures(
        array_agg((x.value ->> 'student_id')::uuid),
        'analysis',
        array_agg((x.value ->> 'analysis_id')::uuid)
    )
    FROM jsonb_array_elements(v_result) AS x (value);
    RETURN v_result;
END
$$;

ALTER FUNCTION api.get_flagged_students_for_exam(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_flagged_students_for_exam(exam_id uuid) IS 'The exam''s attempts whose latest behaviour analysis is flagged, most suspicious first (lowest integrity): [{student_id, student_name, attempt_id, attempt_number, status, integrity_score, lmi_score, flags, analysis_id, model, analysed_at, review_status, reviewed_at}]. review_status is the latest review''s decision (cleared or confirmed), pending when there is none. Live: a newer analysis or a review shows at once. Each row shown is recorded in the disclosure log. 404 for an exam the caller may not access.';

CREATE FUNCTION api.get_monitoring_events_for_attempt(attempt_id uuid, after_occurred_at timestamp with time zone DEFAULT NULL::timestamp with time zone, after_id uuid DEFAULT NULL::uuid, "limit" integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_events jsonb := internal.attempt_timeline(attempt_id, after_occurred_at, after_id, "limit");
BEGIN
    PERFORM internal.log_disclosure(
        (SELECT a.student_id FROM app.exam_attempts AS a WHERE a.id = attempt_id),
        'monitoring_events',
        attempt_id
    );
    RETURN v_events;
END;
$$;

ALTER FUNCTION api.get_monitoring_events_for_attempt(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_monitoring_events_for_attempt(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) IS 'The attempt''s monitoring timeline, oldest first: [{id, event_type, occurred_at, received_at, payload, is_anomaly}], for a teacher of the exam or an admin (recorded in the disclosure log). Keyset pages: pass the last row''s occurred_at and id as after_occurred_at and after_id; limit 1 to 5000 (default 1000). A page that is not the last carries a Link header to the next (rel="next"); the last page carries none. 404 when the attempt is not visible.';

CREATE FUNCTION api.get_my_disclosures("limit" integer DEFAULT 100, before bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
    FROM (
        SELECT d.id, jsonb_build_object(
            'id', d.id,
            'occurred_at', internal.audit_time(d.occurred_at),
            'viewer_id', d.viewer_id,
            'viewer_name', internal.disclosure_viewer_name(d.viewer_id),
            'viewer_role', d.viewer_role,
            'record_kind', d.record_kind,
            'record_id', d.record_id
        ) AS entry
        FROM audit.disclosures AS d
        WHERE
            d.student_id = (SELECT internal.current_user_id())
            AND (get_my_disclosures.before IS NULL OR d.id < get_my_disclosures.before)
        ORDER BY d.id DESC
        LIMIT internal.audit_page_size(get_my_disclosures."limit")
    ) AS e;
$$;

ALTER FUNCTION api.get_my_disclosures("limit" integer, before bigint) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_my_disclosures("limit" integer, before bigint) IS 'Student: who was shown your records, newest first (FERPA gives you the right to inspect it): [{id, occurred_at (UTC), viewer_id, viewer_name, viewer_role, record_kind, record_id}]. limit 1 to 1000 (default 100); before = the last id of the previous page.';

CREATE FUNCTION api.get_security_events(kind text DEFAULT NULL::text, user_id uuid DEFAULT NULL::uuid, since timestamp with time zone DEFAULT NULL::timestamp with time zone, "limit" integer DEFAULT 100, before bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(jsonb_agg(e.entry ORDER BY e.id DESC), '[]')
    FROM (
        SELECT s.id, jsonb_build_object(
            'id', s.id,
            'occurred_at', internal.audit_time(s.occurred_at),
            'kind', s.kind,
            'user_id', s.user_id,
            'email', s.email,
            'client_addr', host(s.client_addr),
            'details', s.details
        ) AS entry
        FROM audit.security_events AS s
        WHERE
            (get_security_events.kind IS NULL OR s.kind = get_security_events.kind)
            AND (get_security_events.user_id IS NULL OR s.user_id = get_security_events.user_id)
            AND (get_security_events.since IS NULL OR s.occurred_at >= get_security_events.since)
            AND (get_security_events.before IS NULL OR s.id < get_security_events.before)
        ORDER BY s.id DESC
        LIMIT internal.audit_page_size(get_security_events."limit")
    ) AS e;
$$;

ALTER FUNCTION api.get_security_events(kind text, user_id uuid, since timestamp with time zone, "limit" integer, before bigint) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_security_events(kind text, user_id uuid, since timestamp with time zone, "limit" integer, before bigint) IS 'Admin: security events, newest first: [{id, occurred_at (UTC), kind (login_success, login_failure, refresh, logout, reuse_detected, lockout, role_change), user_id, email, client_addr, details}]. Filters kind, user_id, since; limit 1 to 1000; before = the last id of the previous page.';

CREATE FUNCTION api.get_service_tokens() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(
        jsonb_agg(
            internal.service_token_document(s.jti) - 'iat' - 'exp'
            ORDER BY s.issued_at DESC, s.jti
        ),
        '[]'::jsonb
    )
    FROM auth.service_tokens AS s;
$$;

ALTER FUNCTION api.get_service_tokens() OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_service_tokens() IS 'Admin: every service token issued, newest first: [{jti, user_id, email, label, issued_by, issued_at, expires_at, revoked_at, revoked_by}] (GET /admin/service-tokens). The tokens themselves are never stored.';

CREATE FUNCTION api.get_student_dashboard_data() RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_student_id uuid := internal.assert_student_caller();
BEGIN
    PERFORM internal.lazy_expire(v_student_id);
    RETURN jsonb_build_object(
        'profile', (
            SELECT jsonb_build_object(
                'id', u.id,
                'email', u.email,
                'full_name', u.full_name,
                'student_number', p.student_number,
                'integrity_score', p.integrity_score,
                'lmi_score', p.lmi_score,
                'exams_taken', coalesce(p.exams_taken, 0),
                'average_score', p.average_score,
                'best_score', p.best_score,
                'flags_count', coalesce(p.flags_count, 0)
            )
            FROM auth.users AS u
            LEFT JOIN app.student_profiles AS p ON p.user_id = u.id
            WHERE u.id = v_student_id
        ),
        'metrics', coalesce(
            (
                SELECT jsonb_build_object(
                    'exams_taken', m.exams_taken,
                    'attempts_count', m.attempts_count,
                    'average_score', m.average_score,
                    'best_score', m.best_score,
                    'average_integrity', m.average_integrity,
                    'flags_count', m.flags_count,
                    'trend', m.trend,
                    'updated_at', m.updated_at
                )
                FROM app.performance_metrics AS m
                WHERE m.student_id = v_student_id
            ),
            jsonb_build_object(
                'exams_taken', 0, 'attempts_count', 0, 'average_score', NULL,
                'best_score', NULL, 'average_integrity', NULL, 'flags_count', 0,
                'trend', NULL, 'updated_at', NULL
            )
        ),
        'recent_attempts', (
            SELECT coalesce(
                jsonb_agg(to_jsonb(r) ORDER BY r.started_at DESC, r.attempt_id), '[]'::jsonb
            )
            FROM (
                SELECT *
                FROM internal.student_attempts(v_student_id) AS sa
                ORDER BY sa.started_at DESC, sa.attempt_id
                LIMIT 10
            ) AS r
        ),
        'available_exams', internal.available_exams(v_student_id)
    );
END
$$;

ALTER FUNCTION api.get_student_dashboard_data() OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_student_dashboard_data() IS 'The student dashboard: {profile: {id, email, full_name, student_number, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count}, metrics: {exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}, recent_attempts: the last 10 [{attempt_id, exam_id, exam_title, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage}], available_exams: as get_available_exams_for_student}. Scores in metrics and profile are percentages of max_score; attempts left in progress past their deadline are closed first.';

CREATE FUNCTION api.get_student_detail_for_teacher(student_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_student jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    -- A teacher sees the students of their exams (auth.users' policy), an
    -- admin every user; anyone else, or a user who is not a student, is 404.
    SELECT jsonb_build_object(
        'id', u.id,
        'email', u.email,
        'full_name', u.full_name,
        'is_active', u.is_active,
        'student_number', p.student_number,
        'integrity_score', p.integrity_score,
        'lmi_score', p.lmi_score,
        'exams_taken', coalesce(p.exams_taken, 0),
        'average_score', p.average_score,
        'best_score', p.best_score,
        'flags_count', coalesce(p.flags_count, 0)
    )
    INTO v_student
    FROM auth.users AS u
    LEFT JOIN app.student_profiles AS p ON u.id = p.user_id
    WHERE u.id = get_student_detail_for_teacher.student_id AND u.role = 'student';
    IF v_student IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
    END IF;
    PERFORM internal.lazy_expire(get_student_detail_for_teacher.student_id);
    PERFORM internal.log_disclosure(
        get_student_detail_for_teacher.student_id, 'profile', get_student_detail_for_teacher.student_id
    );

    RETURN jsonb_build_object(
        'student', v_student,
        'metrics', coalesce(
            (
                SELECT jsonb_build_object(
                    'exams_taken', m.exams_taken,
                    'attempts_count', m.attempts_count,
                    'average_score', m.average_score,
                    'best_score', m.best_score,
                    'average_integrity', m.average_integrity,
                    'flags_count', m.flags_count,
                    'trend', m.trend,
                    'updated_at', m.updated_at
                )
                FROM app.performance_metrics AS m
                WHERE m.student_id = get_student_detail_for_teacher.student_id
            ),
            jsonb_build_object(
                'exams_taken', 0, 'attempts_count', 0, 'average_score', NULL,
                'best_score', NULL, 'average_integrity', NULL, 'flags_count', 0,
                'trend', NULL, 'updated_at', NULL
            )
        ),
        -- Under the caller's row-level security: only attempts at the exams
        -- this teacher may access.
        'attempts', (
            SELECT coalesce(
                jsonb_agg(
                    jsonb_build_object(
                        'attempt_id', sa.attempt_id,
                        'exam_id', sa.exam_id,
                        'exam_title', sa.exam_title,
                        'attempt_number', sa.attempt_number,
                        'status', sa.status,
                        'started_at', sa.started_at,
                        'deadline', sa.deadline,
                        'finished_at', sa.finished_at,
                        'score', sa.score,
                        'max_score', sa.max_score,
                        'percentage', sa.percentage,
                        'analysis', CASE WHEN b.id IS NOT NULL THEN jsonb_build_object(
                            'analysis_id', b.id,
                            'integrity_score', b.integrity_score,
                            'lmi_score', b.lmi_score,
                            'is_flagged', b.is_flagged,
                            'flags_count', jsonb_array_length(b.flags),
                            'model', b.model,
                            'analysed_at', b.created_at
                        ) END,
                        'review_status', CASE
                            WHEN r.decision IS NOT NULL THEN r.decision::text
                            WHEN b.is_flagged THEN 'pending'
                        END
                    )
                    ORDER BY sa.started_at DESC, sa.attempt_id
                ),
                '[]'::jsonb
            )
            FROM internal.student_attempts(get_student_detail_for_teacher.student_id) AS sa
            LEFT JOIN LATERAL (
                SELECT la.id, la.integrity_score, la.lmi_score, la.is_flagged, la.flags,
                    la.model, la.created_at
                FROM app.behavior_analyses AS la
                WHERE la.attempt_id = sa.attempt_id
                ORDER BY la.created_at DESC, la.id DESC
                LIMIT 1
            ) AS b ON TRUE
            LEFT JOIN LATERAL (
                SELECT lr.decision
                FROM app.flag_reviews AS lr
                WHERE lr.attempt_id = sa.attempt_id
                ORDER BY lr.created_at DESC, lr.id DESC
                LIMIT 1
            ) AS r ON TRUE
        )
    );
END
$$;

ALTER FUNCTION api.get_student_detail_for_teacher(student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_student_detail_for_teacher(student_id uuid) IS 'A student as a teacher of theirs (or an admin) sees them: {student: {id, email, full_name, is_active, student_number, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count}, metrics: {exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}, attempts: newest first, only at the exams the caller may access [{attempt_id, exam_id, exam_title, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage, analysis: {analysis_id, integrity_score, lmi_score, is_flagged, flags_count, model, analysed_at} or null, review_status: cleared, confirmed, pending (flagged, not reviewed) or null}]}. Recorded in the disclosure log. 404 for a student who has no attempt at (nor extra time on) the caller''s exams.';

CREATE FUNCTION api.get_student_exam_detail(exam_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_student_id uuid := internal.assert_student_caller();
    v_result jsonb;
BEGIN
    PERFORM internal.lazy_expire(v_student_id, get_student_exam_detail.exam_id);
    SELECT jsonb_build_object(
        'exam', jsonb_build_object(
            'id', e.id,
            'title', e.title,
            'description', e.description,
            'duration_minutes', e.duration_minutes,
            'opens_at', e.opens_at,
            'closes_at', e.closes_at,
            'max_attempts', e.max_attempts,
            'grading_method', e.grading_method,
            'grace_seconds', e.grace_seconds,
            'published', e.published,
            'is_open', e.published AND now() >= e.opens_at AND now() < e.closes_at,
            'extra_minutes', coalesce(acc.extra_minutes, 0),
            'attempts_used', coalesce(jsonb_array_length(att.attempts), 0),
            'attempts_left', greatest(
                e.max_attempts - coalesce(jsonb_array_length(att.attempts), 0), 0
            )
        ),
        'attempts', coalesce(att.attempts, '[]'::jsonb),
        'grade', (
            SELECT jsonb_build_object(
                'grading_method', g.grading_method,
                'percentage', g.percentage,
                'graded_attempts', g.graded_attempts,
                'attempt_id', g.attempt_id
            )
            FROM internal.student_exam_grades(v_student_id) AS g
            WHERE g.exam_id = e.id
        )
    )
    INTO v_result
    FROM app.exams AS e
    LEFT JOIN app.accommodations AS acc
        ON acc.exam_id = e.id AND acc.student_id = v_student_id
    LEFT JOIN LATERAL (
        SELECT jsonb_agg(
            jsonb_build_object(
                'attempt_id', sa.attempt_id,
                'attempt_number', sa.attempt_number,
                'status', sa.status,
                'started_at', sa.started_at,
                'deadline', sa.deadline,
                'finished_at', sa.finished_at,
                'score', sa.score,
                'max_score', sa.max_score,
                'percentage', sa.percentage
            )
            ORDER BY sa.attempt_number
        ) AS attempts
        FROM internal.student_attempts(v_student_id) AS sa
        WHERE sa.exam_id = e.id
    ) AS att ON TRUE
    WHERE e.id = get_student_exam_detail.exam_id AND (e.published OR att.attempts IS NOT NULL);
    IF v_result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.get_student_exam_detail(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_student_exam_detail(exam_id uuid) IS 'An exam as its student sees it, and the caller''s own attempts at it: {exam: {id, title, description, duration_minutes, opens_at, closes_at, max_attempts, grading_method, grace_seconds, published, is_open, extra_minutes, attempts_used, attempts_left}, attempts: [{attempt_id, attempt_number, status, started_at, deadline, finished_at, score, max_score, percentage}], grade: {grading_method, percentage, graded_attempts, attempt_id} or null}. 404 for an exam that is neither published nor attempted by the caller.';

CREATE FUNCTION api.get_teacher_dashboard_data() RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_alerts constant integer := 20;
    c_exams constant integer := 200;
    v_me constant uuid := internal.assert_staff_caller();
    v_exams jsonb;
    v_alerts jsonb;
    v_summary jsonb;
BEGIN
    WITH pending AS (
        SELECT f.attempt_id, f.exam_id, f.student_id, f.analysis_id, f.analysed_at,
            f.integrity_score, f.lmi_score, f.flags_count
        FROM app.visible_flagged_attempts AS f
        WHERE NOT EXISTS (SELECT FROM app.flag_reviews AS r WHERE r.attempt_id = f.attempt_id)
    ),
    exams AS (
        SELECT
            e.id,
            e.title,
            e.published,
            e.opens_at,
            e.closes_at,
            e.created_by = v_me AS owned,
            e.published AND now() >= e.opens_at AND now() < e.closes_at AS is_open,
            coalesce(s.attempts, 0) AS attempts,
            coalesce(s.in_progress, 0) AS in_progress,
            coalesce(s.submitted, 0) AS submitted,
            coalesce(s.expired, 0) AS expired,
            coalesce(s.abandoned, 0) AS abandoned,
            coalesce(s.graded, 0) AS graded,
            coalesce(s.flagged, 0) AS flagged,
            coalesce(p.pending_reviews, 0) AS pending_reviews,
            s.average_score,
            s.average_percentage
        FROM app.exams AS e
        LEFT JOIN app.visible_exam_stats AS s ON e.id = s.exam_id
        LEFT JOIN (
            SELECT pe.exam_id, count(*) AS pending_reviews
            FROM pending AS pe
            GROUP BY pe.exam_id
        ) AS p ON e.id = p.exam_id
    ),
    -- The newest first, then their names: the users' policy runs for 20 rows.
    alerts AS (
        SELECT pe.*, e.title AS exam_title, u.full_name AS student_name
        FROM (
            SELECT p.*
            FROM pending AS p
            ORDER BY p.analysed_at DESC, p.attempt_id
            LIMIT c_alerts
        ) AS pe
        INNER JOIN exams AS e ON pe.exam_id = e.id
        LEFT JOIN auth.users AS u ON pe.student_id = u.id
    )
    SELECT
        (
            SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.opens_at DESC, x.id), '[]'::jsonb)
            FROM (
                SELECT * FROM exams AS ex ORDER BY ex.opens_at DESC, ex.id LIMIT c_exams
            ) AS x
        ),
        (
            SELECT coalesce(
                jsonb_agg(
                    jsonb_build_object(
                        'attempt_id', a.attempt_id,
                        'exam_id', a.exam_id,
                        'exam_title', a.exam_title,
                        'student_id', a.student_id,
                        'student_name', a.student_name,
                        'analysis_id', a.analysis_id,
                        'integrity_score', a.integrity_score,
                        'lmi_score', a.lmi_score,
                        'flags_count', a.flags_count,
                        'flagged_at', a.analysed_at
                    )
                    ORDER BY a.analysed_at DESC, a.attempt_id
                ),
                '[]'::jsonb
            )
            FROM alerts AS a
        ),
        (
            SELECT jsonb_build_object(
                'exams', count(*),
                'attempts', coalesce(sum(x.attempts), 0),
                'submitted', coalesce(sum(x.submitted), 0),
                'flagged', coalesce(sum(x.flagged), 0),
                'pending_reviews', coalesce(sum(x.pending_reviews), 0)
            )
            FROM exams AS x
        )
    INTO v_exams, v_alerts, v_summary;

    -- The alerts show students' analyses: a disclosure each.
    PERFORM internal.log_disclosures(
        array_agg((a.value ->> 'student_id')::uuid),
        'analysis',
        array_agg((a.value ->> 'analysis_id')::uuid)
    )
    FROM jsonb_array_elements(v_alerts) AS a (value);

    RETURN jsonb_build_object(
        'exams', v_exams,
        'alerts', v_alerts,
        'summary', v_summary,
        'refreshed_at', internal.analytics_refreshed_at(
            ARRAY['exam_stats', 'flagged_attempts']
        )
    );
END
$$;

ALTER FUNCTION api.get_teacher_dashboard_data() OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_teacher_dashboard_data() IS 'The teacher dashboard, over the exams the caller created or was granted (admin: all): {exams: the 200 that open latest [{id, title, published, opens_at, closes_at, owned, is_open, attempts, in_progress, submitted, expired, abandoned, graded, flagged, pending_reviews, average_score, average_percentage}], alerts: the newest 20 flagged attempts not yet reviewed [{attempt_id, exam_id, exam_title, student_id, student_name, analysis_id, integrity_score, lmi_score, flags_count, flagged_at}], summary: {exams, attempts, submitted, flagged, pending_reviews}, refreshed_at}. Counts and alerts come from the analytics summary tables, complete up to refreshed_at (seconds behind); a review removes its alert at once. Each alert shown is recorded in the disclosure log.';

CREATE FUNCTION api.get_teacher_exam_analytics(exam_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_staff_caller();
    SELECT jsonb_build_object(
        'exam_id', e.id,
        'title', e.title,
        'attempts', coalesce(s.attempts, 0),
        'students', coalesce(s.students, 0),
        'in_progress', coalesce(s.in_progress, 0),
        'submitted', coalesce(s.submitted, 0),
        'expired', coalesce(s.expired, 0),
        'abandoned', coalesce(s.abandoned, 0),
        'graded', coalesce(s.graded, 0),
        'average_score', s.average_score,
        'median_score', s.median_score,
        'average_percentage', s.average_percentage,
        'median_percentage', s.median_percentage,
        'score_histogram', internal.score_histogram(s.histogram),
        'analysed', coalesce(s.analysed, 0),
        'flagged', coalesce(s.flagged, 0),
        'average_integrity', s.average_integrity,
        'integrity_histogram', internal.score_histogram(s.integrity_histogram),
        'events_by_type', (
            SELECT jsonb_object_agg(t.event_type, coalesce(c.events, 0))
            FROM unnest(enum_range(NULL::app.event_type)) AS t (event_type)
            LEFT JOIN app.visible_exam_event_counts AS c
                ON c.exam_id = e.id AND t.event_type = c.event_type
        ),
        'refreshed_at', internal.analytics_refreshed_at(
            ARRAY['exam_stats', 'exam_event_counts']
        )
    )
    INTO v_result
    FROM app.exams AS e
    LEFT JOIN app.visible_exam_stats AS s ON e.id = s.exam_id
    WHERE e.id = get_teacher_exam_analytics.exam_id;
    IF v_result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.get_teacher_exam_analytics(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_teacher_exam_analytics(exam_id uuid) IS 'Per-exam analytics from the summary tables (kept by the worker every few seconds, exam by exam: reading never waits): {exam_id, title, attempts, students, in_progress, submitted, expired, abandoned, graded, average_score, median_score (points), average_percentage, median_percentage (of max_score), score_histogram: [{from, to, count}] ten buckets of percentage, analysed, flagged (attempts whose latest analysis is flagged), average_integrity, integrity_histogram: [{from, to, count}] ten buckets of the integrity score (0-100) of every analysed attempt (its latest analysis), events_by_type: {event_type: count} for every type, refreshed_at: the figures hold everything committed before it}. submitted counts attempts the student submitted; graded also counts expired ones (scored on their saved answers); an attempt past its deadline counts as expired. 404 for an exam the caller may not access.';

CREATE FUNCTION api.get_users(role text DEFAULT NULL::text, active boolean DEFAULT NULL::boolean, q text DEFAULT NULL::text, after_email text DEFAULT NULL::text, "limit" integer DEFAULT 100) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_pattern constant text := internal.search_pattern(get_users.q);
    v_users jsonb;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'only an admin may list users'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF get_users.role IS NOT NULL
        AND get_users.role NOT IN ('student', 'teacher', 'admin', 'integration')
    THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'role must be one of student, teacher, admin, integration';
    END IF;
    IF get_users."limit" IS NULL OR get_users."limit" NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 500';
    END IF;

    SELECT coalesce(jsonb_agg(x.doc ORDER BY x.sort_key), '[]'::jsonb)
    INTO v_users
    FROM (
        SELECT
            lower(u.email) AS sort_key,
            jsonb_build_object(
                'id', u.id,
                'email', u.email,
                'full_name', u.full_name,
                'role', u.role,
                'is_active', u.is_active,
                'department', tp.department,
                'created_at', u.created_at,
                'sessions_revoked_at', u.sessions_revoked_at
            ) AS doc
        FROM auth.users AS u
        LEFT JOIN app.teacher_profiles AS tp ON u.id = tp.user_id
        WHERE
            (get_users.role IS NULL OR u.role::text = get_users.role)
            AND (get_users.active IS NULL OR u.is_active = get_users.active)
            AND (
                v_pattern IS NULL
                OR lower(u.email) LIKE v_pattern
                OR lower(u.full_name) LIKE v_pattern
            )
            AND (get_users.after_email IS NULL OR lower(u.email) > lower(get_users.after_email))
        ORDER BY lower(u.email)
        LIMIT get_users."limit" + 1
    ) AS x;

    IF jsonb_array_length(v_users) > get_users."limit" THEN
        v_users := v_users - get_users."limit";  -- the look-ahead row opens the next page
        PERFORM set_config('response.next_page', jsonb_build_object(
            'after_email', v_users -> -1 ->> 'email'
        )::text, TRUE);
    END IF;
    RETURN v_users;
END;
$$;

ALTER FUNCTION api.get_users(role text, active boolean, q text, after_email text, "limit" integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.get_users(role text, active boolean, q text, after_email text, "limit" integer) IS 'Admin: users ordered by email, [{id, email, full_name, role, is_active, department, created_at, sessions_revoked_at}]; filters: role (student, teacher, admin, integration), active (true: enabled, false: disabled), q (a case-insensitive substring of the name or email, at most 200 characters). Keyset pages: limit 1 to 500 (default 100); a page that is not the last carries a Link header to the next (rel="next", after_email: the last row''s email). 403 for anyone but an admin; 400 for an unknown role.';

CREATE FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user_id uuid := internal.assert_author();
    v_created_by uuid;
    v_result jsonb;
BEGIN
    SELECT e.created_by INTO v_created_by
    FROM app.exams AS e
    WHERE e.id = grant_exam_permission.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF v_created_by <> v_user_id AND internal.current_app_role() <> 'admin' THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501',
            MESSAGE = 'only the exam''s owner or an admin may grant access to it';
    END IF;
    IF NOT internal.user_has_role(grant_exam_permission.teacher_id, 'teacher') THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'teacher not found';
    END IF;
    -- Granting twice is harmless: the first grant stands.
    INSERT INTO app.teacher_exam_permissions (exam_id, teacher_id, granted_by)
    VALUES (grant_exam_permission.exam_id, grant_exam_permission.teacher_id, v_user_id)
    ON CONFLICT ON CONSTRAINT teacher_exam_permissions_pkey DO NOTHING;
    SELECT jsonb_build_object(
        'exam_id', p.exam_id,
        'teacher_id', p.teacher_id,
        'granted_by', p.granted_by,
        'granted_at', p.granted_at
    )
    INTO v_result
    FROM app.teacher_exam_permissions AS p
    WHERE
        p.exam_id = grant_exam_permission.exam_id
        AND p.teacher_id = grant_exam_permission.teacher_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid) IS 'Give another teacher access to an exam: its attempts, students, events and analytics. The exam''s owner or an admin only: 404 if the caller cannot see the exam, 403 if they can but do not own it, 404 if teacher_id is not an active teacher. Granting twice is harmless.';

CREATE FUNCTION api.has_permission(permission text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (
        SELECT FROM auth.role_permissions AS rp
        WHERE
            rp.role::text = internal.current_app_role()
            AND rp.permission = has_permission.permission
    );
$$;

ALTER FUNCTION api.has_permission(permission text) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.has_permission(permission text) IS 'True when the caller''s role holds the permission (for example create_exam, review_flags, view_audit).';

CREATE FUNCTION api.me() RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user jsonb;
BEGIN
    SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role)
    INTO v_user
    FROM auth.users AS u
    WHERE u.id = (SELECT internal.current_user_id());
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;
    RETURN v_user;
END;
$$;

ALTER FUNCTION api.me() OWNER TO veritas_owner;

COMMENT ON FUNCTION api.me() IS 'The calling user: {id, email, full_name, role} (GET /auth/me).';

CREATE FUNCTION api.publish_exam(exam_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN api.update_exam(exam_id => publish_exam.exam_id, published => TRUE);
END
$$;

ALTER FUNCTION api.publish_exam(exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.publish_exam(exam_id uuid) IS 'Publish a draft exam (created with "published": false): students can then start it inside its window. Publishing twice is harmless. 404 if the exam is not visible, 409 if it has no questions.';

CREATE FUNCTION api.record_monitoring_event(attempt_id uuid, event_type text, occurred_at timestamp with time zone, payload jsonb DEFAULT '{}'::jsonb, client_event_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql
    AS $$
    SELECT api.record_monitoring_events(
        jsonb_strip_nulls(jsonb_build_object(
            'attempt_id', attempt_id, 'event_type', event_type, 'occurred_at', occurred_at,
            'payload', payload, 'client_event_id', client_event_id
        ))
    );
$$;

ALTER FUNCTION api.record_monitoring_event(attempt_id uuid, event_type text, occurred_at timestamp with time zone, payload jsonb, client_event_id text) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.record_monitoring_event(attempt_id uuid, event_type text, occurred_at timestamp with time zone, payload jsonb, client_event_id text) IS 'Record one monitoring event, its fields as arguments (same rules as record_monitoring_events). Returns {id, duplicate}.';

CREATE FUNCTION api.record_monitoring_events(body jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_result record;
BEGIN
    IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the body must be a JSON object';
    END IF;
    IF NOT body ? 'events' THEN
        RETURN internal.record_event(body);
    END IF;
    SELECT * INTO v_result FROM internal.record_events(body -> 'events');
    RETURN jsonb_build_object('accepted', v_result.accepted, 'duplicates', v_result.duplicates);
END;
$$;

ALTER FUNCTION api.record_monitoring_events(body jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.record_monitoring_events(body jsonb) IS 'Record monitoring events (POST /monitor/events), by the attempt''s student or an integration account. One event {attempt_id, event_type, occurred_at, payload, client_event_id} answers {id, duplicate}; a batch {events: [...]} of up to 500 answers {accepted, duplicates}. The same client_event_id for the same attempt is stored once. Unknown event type: 400; attempt not in progress or past deadline plus grace: 409; another student''s attempt: 404; more than 600 events a minute for one attempt: 429.';

CREATE FUNCTION api.remove_question(question_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_old app.questions;
BEGIN
    PERFORM internal.assert_author();
    SELECT q.* INTO v_old FROM app.questions AS q WHERE q.id = remove_question.question_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'question not found';
    END IF;
    PERFORM FROM app.exams AS e WHERE e.id = v_old.exam_id FOR UPDATE;
    IF EXISTS (SELECT FROM app.exam_attempts AS a WHERE a.exam_id = v_old.exam_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the exam has attempts: its questions can be edited but not removed';
    END IF;
    IF (SELECT count(*) FROM app.questions AS q WHERE q.exam_id = v_old.exam_id) = 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409', MESSAGE = 'an exam keeps at least one question';
    END IF;
    DELETE FROM app.questions AS q WHERE q.id = v_old.id;
    -- Close the gap; the unique (exam_id, position) is checked per statement.
    UPDATE app.questions AS q SET position = q.position - 1
    WHERE q.exam_id = v_old.exam_id AND q.position > v_old.position;
    RETURN internal.exam_document(v_old.exam_id);
END
$$;

ALTER FUNCTION api.remove_question(question_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.remove_question(question_id uuid) IS 'Remove a question from an exam that has no attempts yet (teacher with permission, or admin); returns the exam. 404 if not visible, 409 once the exam has attempts (edit the question instead).';

CREATE FUNCTION api.review_attempt(attempt_id uuid, decision text, note text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_me constant uuid := internal.assert_staff_caller();
    v_note constant text := nullif(btrim(review_attempt.note), '');
    v_analysis_id uuid;
    v_review record;
BEGIN
    IF review_attempt.decision IS NULL OR review_attempt.decision NOT IN ('cleared', 'confirmed') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'decision must be cleared or confirmed',
            HINT = 'cleared: the flags were unfounded; confirmed: malpractice (a note is required).';
    END IF;
    IF review_attempt.decision = 'confirmed' AND v_note IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'a note is required to confirm: say what was found';
    END IF;
    IF length(v_note) > 10000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'the note is longer than 10000 characters';
    END IF;

    PERFORM FROM app.exam_attempts AS a WHERE a.id = review_attempt.attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;

    SELECT b.id INTO v_analysis_id
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = review_attempt.attempt_id
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the attempt has no behaviour analysis to review yet',
            HINT = 'An attempt is analysed shortly after it is submitted or expires.';
    END IF;

    INSERT INTO app.flag_reviews AS fr (attempt_id, analysis_id, reviewer_id, decision, note)
    VALUES (
        review_attempt.attempt_id, v_analysis_id, v_me,
        review_attempt.decision::app.review_status, v_note
    )
    RETURNING fr.id, fr.attempt_id, fr.analysis_id, fr.reviewer_id, fr.decision, fr.note, fr.created_at
    INTO v_review;

    RETURN jsonb_build_object(
        'id', v_review.id,
        'attempt_id', v_review.attempt_id,
        'analysis_id', v_review.analysis_id,
        'reviewer_id', v_review.reviewer_id,
        'decision', v_review.decision,
        'note', v_review.note,
        'created_at', v_review.created_at,
        'review_status', v_review.decision
    );
END
$$;

ALTER FUNCTION api.review_attempt(attempt_id uuid, decision text, note text) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.review_attempt(attempt_id uuid, decision text, note text) IS 'Review an attempt''s flags: decision cleared or confirmed (400 otherwise), note required to confirm (400). Stored as a new review of the attempt''s latest analysis, which itself is left as it is; every review is kept and the latest is the attempt''s review_status. Answers {id, attempt_id, analysis_id, reviewer_id, decision, note, created_at, review_status}. 404 for an attempt at an exam the caller may not access; 409 when the attempt has no analysis yet.';

CREATE FUNCTION api.revoke_service_token(jti uuid) RETURNS jsonb
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT internal.revoke_service_token(revoke_service_token.jti);
$$;

ALTER FUNCTION api.revoke_service_token(jti uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.revoke_service_token(jti uuid) IS 'Admin: revokes a service token (POST /admin/service-tokens/{jti}/revoke); requests with it are refused (401) at once. A second revoke changes nothing. Returns the token {jti, user_id, email, label, issued_by, issued_at, expires_at, revoked_at, revoked_by}; 404 for an unknown jti.';

CREATE FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_saved_at timestamptz;
BEGIN
    PERFORM internal.assert_own_attempt_visible(save_answer.attempt_id);
    v_saved_at := internal.save_attempt_answers(
        save_answer.attempt_id,
        jsonb_build_object(save_answer.question_id::text, coalesce(answer, 'null'::jsonb))
    );
    RETURN jsonb_build_object(
        'attempt_id', save_answer.attempt_id,
        'question_id', save_answer.question_id,
        'saved_at', v_saved_at
    );
END
$$;

ALTER FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb) IS 'Autosave one answer of the caller''s attempt: {saved_at}. Last write wins; null clears the answer. The answer must fit the question''s kind: an option string (single_choice), a list of option strings (multiple_choice), true or false (true_false), a number (numeric), a string (short_text); 400 otherwise. Accepted until the deadline plus the exam''s grace period, 409 after it or once the attempt is finished; 404 for an attempt or question that is not the caller''s.';

CREATE FUNCTION api.save_behavior_analysis(attempt_id uuid, integrity_score numeric, lmi_score numeric, flags jsonb DEFAULT '[]'::jsonb, summary text DEFAULT NULL::text, model text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_flag_threshold constant numeric := 0.5;
    v_caller uuid := internal.current_user_id();
    v_flags jsonb := coalesce(save_behavior_analysis.flags, '[]'::jsonb);
    v_model text := coalesce(nullif(btrim(save_behavior_analysis.model), ''), 'external');
    v_status app.attempt_status;
    v_row app.behavior_analyses;
BEGIN
    IF v_caller IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to write an analysis';
    END IF;
    IF save_behavior_analysis.attempt_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attempt_id is required';
    END IF;
    IF save_behavior_analysis.integrity_score IS NULL
        OR NOT save_behavior_analysis.integrity_score BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'integrity_score must be a number from 0 to 100';
    END IF;
    IF save_behavior_analysis.lmi_score IS NULL
        OR NOT save_behavior_analysis.lmi_score BETWEEN 0 AND 1 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'lmi_score must be a number from 0 to 1';
    END IF;
    IF jsonb_typeof(v_flags) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'flags must be a list of objects';
    END IF;
    IF jsonb_array_length(v_flags) > 500 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'flags holds at most 500 flags';
    END IF;
    IF EXISTS (
        SELECT FROM jsonb_array_elements(v_flags) AS f (value)
        WHERE jsonb_typeof(f.value) <> 'object'
    ) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'flags must be a list of objects';
    END IF;
    IF length(save_behavior_analysis.summary) > 20000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'summary holds at most 20000 characters';
    END IF;
    IF length(v_model) > 200 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'model holds at most 200 characters';
    END IF;

    -- The attempt, as the caller sees it.
    SELECT a.status INTO v_status
    FROM app.exam_attempts AS a
    WHERE a.id = save_behavior_analysis.attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_status NOT IN ('submitted', 'expired') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'the attempt is %s: only a submitted or expired attempt is analysed', v_status
            );
    END IF;

    INSERT INTO app.behavior_analyses AS b (
        attempt_id, source, model, integrity_score, lmi_score, flags, summary, is_flagged,
        created_by
    ) VALUES (
        save_behavior_analysis.attempt_id,
        'external',
        v_model,
        save_behavior_analysis.integrity_score,
        save_behavior_analysis.lmi_score,
        v_flags,
        save_behavior_analysis.summary,
        save_behavior_analysis.lmi_score >= c_flag_threshold,
        v_caller
    )
    RETURNING b.* INTO v_row;

    PERFORM internal.refresh_analysis_figures(save_behavior_analysis.attempt_id);
    RETURN internal.analysis_document(v_row);
END
$$;

ALTER FUNCTION api.save_behavior_analysis(attempt_id uuid, integrity_score numeric, lmi_score numeric, flags jsonb, summary text, model text) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.save_behavior_analysis(attempt_id uuid, integrity_score numeric, lmi_score numeric, flags jsonb, summary text, model text) IS 'Store an external engine''s analysis of a submitted or expired attempt (POST /analysis/behavior, 201): integrity_score 0-100, lmi_score 0-1, flags a list of objects (each with its evidence), summary, model (default "external"). Flagged when lmi_score >= 0.5. Every analysis is kept; the latest is the one shown. The student''s metrics and profile and the exam''s metrics are brought up to date at once. Integration accounts and admins only (403 otherwise); 400 out of range; 404 unknown attempt; 409 attempt not finished. Answers {id, attempt_id, source: "external", model, integrity_score, lmi_score, is_flagged, flags, summary, created_by, created_at}.';

CREATE FUNCTION api.set_accommodation(exam_id uuid, student_id uuid, extra_minutes integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
    v_deadline timestamptz;
BEGIN
    PERFORM internal.assert_author();
    PERFORM FROM app.exams AS e WHERE e.id = set_accommodation.exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF extra_minutes IS NULL OR extra_minutes NOT BETWEEN 0 AND 1440 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'extra_minutes must be between 0 and 1440';
    END IF;
    IF NOT internal.user_has_role(set_accommodation.student_id, 'student') THEN
        -- An admin sees every user: a typo gets a clear 404. A teacher must
        -- not learn whether an id is an active student it cannot see, so it
        -- gets the answer a new accommodation gets, and nothing is stored.
        IF internal.current_app_role() = 'admin' THEN
            RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
        END IF;
        RETURN jsonb_build_object(
            'exam_id', set_accommodation.exam_id,
            'student_id', set_accommodation.student_id,
            'extra_minutes', set_accommodation.extra_minutes,
            'created_at', now(),
            'updated_at', now(),
            'attempt_deadline', NULL
        );
    END IF;

    INSERT INTO app.accommodations AS a (exam_id, student_id, extra_minutes)
    VALUES (
        set_accommodation.exam_id, set_accommodation.student_id, set_accommodation.extra_minutes
    )
    ON CONFLICT ON CONSTRAINT accommodations_pkey
    DO UPDATE SET extra_minutes = excluded.extra_minutes, updated_at = now();

    -- A running attempt gets its deadline recomputed at once.
    v_deadline := internal.recompute_attempt_deadline(
        set_accommodation.exam_id, set_accommodation.student_id
    );

    SELECT jsonb_build_object(
        'exam_id', a.exam_id,
        'student_id', a.student_id,
        'extra_minutes', a.extra_minutes,
        'created_at', a.created_at,
        'updated_at', a.updated_at,
        'attempt_deadline', v_deadline
    )
    INTO v_result
    FROM app.accommodations AS a
    WHERE a.exam_id = set_accommodation.exam_id AND a.student_id = set_accommodation.student_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.set_accommodation(exam_id uuid, student_id uuid, extra_minutes integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.set_accommodation(exam_id uuid, student_id uuid, extra_minutes integer) IS 'Set a student''s extra time on an exam (teacher with permission, or admin), replacing any earlier value. It applies to attempts started from now on, and recomputes the deadline of an attempt in progress (attempt_deadline: started_at + duration + extra time, capped by the exam''s closing time, never shortened below now). 404 if the exam is not visible, or (admins only) if student_id is not an active student: a teacher gets the same answer for any id, stored only for an active student, so that it learns nothing of students it cannot see; 400 (22023) unless 0 <= extra_minutes <= 1440.';

CREATE FUNCTION api.set_user_active(user_id uuid, active boolean) RETURNS jsonb
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT internal.set_user_active(set_user_active.user_id, set_user_active.active);
$$;

ALTER FUNCTION api.set_user_active(user_id uuid, active boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.set_user_active(user_id uuid, active boolean) IS 'Admin: enables (active true) or disables (active false) a user; disabling ends all their sessions at once. Returns {id, email, full_name, role, is_active}; 404 for an unknown user, 409 for disabling yourself.';

CREATE FUNCTION api.update_exam(exam_id uuid, title text DEFAULT NULL::text, description text DEFAULT NULL::text, duration_minutes integer DEFAULT NULL::integer, opens_at timestamp with time zone DEFAULT NULL::timestamp with time zone, closes_at timestamp with time zone DEFAULT NULL::timestamp with time zone, max_attempts integer DEFAULT NULL::integer, grading_method text DEFAULT NULL::text, grace_seconds integer DEFAULT NULL::integer, shuffle_questions boolean DEFAULT NULL::boolean, shuffle_options boolean DEFAULT NULL::boolean, published boolean DEFAULT NULL::boolean) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_exam app.exams;
    v_method app.grading_method;
BEGIN
    PERFORM internal.assert_author();
    SELECT e.* INTO v_exam FROM app.exams AS e WHERE e.id = update_exam.exam_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    v_method := CASE
        WHEN update_exam.grading_method IS NULL THEN v_exam.grading_method
        ELSE internal.grading_method_of(update_exam.grading_method)
    END;
    v_exam.title := coalesce(update_exam.title, v_exam.title);
    v_exam.description := coalesce(update_exam.description, v_exam.description);
    v_exam.duration_minutes := coalesce(update_exam.duration_minutes, v_exam.duration_minutes);
    v_exam.opens_at := coalesce(update_exam.opens_at, v_exam.opens_at);
    v_exam.closes_at := coalesce(update_exam.closes_at, v_exam.closes_at);
    v_exam.max_attempts := coalesce(update_exam.max_attempts, v_exam.max_attempts);
    v_exam.grace_seconds := coalesce(update_exam.grace_seconds, v_exam.grace_seconds);
    PERFORM internal.assert_exam_settings(
        v_exam.title, v_exam.description, v_exam.duration_minutes, v_exam.opens_at,
        v_exam.closes_at, v_exam.max_attempts, v_exam.grace_seconds
    );
    -- Students keep seeing the exams they took: no unpublishing then.
    IF NOT update_exam.published AND v_exam.published AND EXISTS (
        SELECT FROM app.exam_attempts AS a WHERE a.exam_id = v_exam.id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'an exam with attempts cannot be unpublished: move closes_at to close it';
    END IF;
    IF update_exam.published AND NOT EXISTS (
        SELECT FROM app.questions AS q WHERE q.exam_id = v_exam.id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409', MESSAGE = 'an exam without questions cannot be published';
    END IF;

    -- Attempts already started keep their deadline and their snapshot.
    UPDATE app.exams AS e SET
        title = v_exam.title,
        description = v_exam.description,
        duration_minutes = v_exam.duration_minutes,
        opens_at = v_exam.opens_at,
        closes_at = v_exam.closes_at,
        max_attempts = v_exam.max_attempts,
        grading_method = v_method,
        grace_seconds = v_exam.grace_seconds,
        shuffle_questions = coalesce(update_exam.shuffle_questions, e.shuffle_questions),
        shuffle_options = coalesce(update_exam.shuffle_options, e.shuffle_options),
        published = coalesce(update_exam.published, e.published)
    WHERE e.id = v_exam.id;

    RETURN internal.exam_document(v_exam.id);
END
$$;

ALTER FUNCTION api.update_exam(exam_id uuid, title text, description text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean, published boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.update_exam(exam_id uuid, title text, description text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean, published boolean) IS 'Change an exam''s settings (teacher with permission, or admin); arguments left out keep their value. Attempts already started keep their deadline and are still scored against the questions as they were when they started. 404 if the exam is not visible, 400 (22023) for an invalid value, 409 to unpublish an exam that has attempts.';

CREATE FUNCTION api.update_performance_metrics(student_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_visible(update_performance_metrics.student_id);
    PERFORM internal.refresh_student_metrics(ARRAY[update_performance_metrics.student_id]);
    SELECT jsonb_build_object(
        'student_id', m.student_id,
        'exams_taken', m.exams_taken,
        'attempts_count', m.attempts_count,
        'average_score', m.average_score,
        'best_score', m.best_score,
        'average_integrity', m.average_integrity,
        'flags_count', m.flags_count,
        'trend', m.trend,
        'updated_at', m.updated_at
    )
    INTO v_result
    FROM app.performance_metrics AS m
    WHERE m.student_id = update_performance_metrics.student_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.update_performance_metrics(student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.update_performance_metrics(student_id uuid) IS 'Recompute a student''s performance metrics from their graded attempts and latest analyses (idempotent; the analysis worker does it after every submit, so no client needs to): {student_id, exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend, updated_at}. Scores in percent of max_score; trend in percentage points per attempt over the last 10. Integration accounts and admins only; 404 unknown student.';

CREATE FUNCTION api.update_question(question_id uuid, kind text DEFAULT NULL::text, prompt text DEFAULT NULL::text, options jsonb DEFAULT NULL::jsonb, correct jsonb DEFAULT NULL::jsonb, tolerance numeric DEFAULT NULL::numeric, points numeric DEFAULT NULL::numeric) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_old app.questions;
    v_question jsonb;
    v_problem text;
BEGIN
    PERFORM internal.assert_author();
    SELECT q.* INTO v_old FROM app.questions AS q WHERE q.id = update_question.question_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'question not found';
    END IF;
    -- The question as it would be: the given fields over the current ones. A
    -- change of kind drops a tolerance that no longer applies.
    v_question := jsonb_strip_nulls(jsonb_build_object(
        'kind', v_old.kind,
        'prompt', v_old.prompt,
        'options', v_old.options,
        'correct', v_old.correct,
        'tolerance', CASE
            WHEN coalesce(update_question.kind, v_old.kind::text) = 'numeric' THEN v_old.tolerance
        END,
        'points', v_old.points
    )) || jsonb_strip_nulls(jsonb_build_object(
        'kind', update_question.kind,
        'prompt', update_question.prompt,
        'options', update_question.options,
        'correct', nullif(update_question.correct, 'null'::jsonb),
        'tolerance', update_question.tolerance,
        'points', update_question.points
    ));
    v_problem := internal.question_problem(v_question);
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_problem;
    END IF;
    -- A new version; attempts keep the snapshot taken at their start.
    UPDATE app.questions AS q SET
        kind = (v_question ->> 'kind')::app.question_kind,
        prompt = v_question ->> 'prompt',
        options = coalesce(v_question -> 'options', '[]'::jsonb),
        correct = v_question -> 'correct',
        tolerance = (v_question ->> 'tolerance')::numeric,
        points = (v_question ->> 'points')::numeric,
        version = q.version + 1
    WHERE q.id = v_old.id;
    RETURN internal.question_document(v_old.id);
END
$$;

ALTER FUNCTION api.update_question(question_id uuid, kind text, prompt text, options jsonb, correct jsonb, tolerance numeric, points numeric) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.update_question(question_id uuid, kind text, prompt text, options jsonb, correct jsonb, tolerance numeric, points numeric) IS 'Edit a question (teacher with permission on its exam, or admin); arguments left out keep their value, and the question''s version goes up by one. Attempts already started are still scored against the question as it was when they started. 404 if not visible, 400 (22023) if the result is not a valid question.';

CREATE FUNCTION api.update_student_profile_stats(student_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM internal.assert_student_visible(update_student_profile_stats.student_id);
    PERFORM internal.refresh_student_metrics(ARRAY[update_student_profile_stats.student_id]);
    SELECT jsonb_build_object(
        'student_id', p.user_id,
        'integrity_score', p.integrity_score,
        'lmi_score', p.lmi_score,
        'exams_taken', p.exams_taken,
        'average_score', p.average_score,
        'best_score', p.best_score,
        'flags_count', p.flags_count,
        'updated_at', p.updated_at
    )
    INTO v_result
    FROM app.student_profiles AS p
    WHERE p.user_id = update_student_profile_stats.student_id;
    RETURN v_result;
END
$$;

ALTER FUNCTION api.update_student_profile_stats(student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION api.update_student_profile_stats(student_id uuid) IS 'Recompute a student''s profile statistics (idempotent; kept up to date by the analysis worker): {student_id, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count, updated_at}. integrity_score and lmi_score are the latest analysis of the most recently finished attempt that has one. Integration accounts and admins only; 404 unknown student.';

CREATE FUNCTION internal.abandon_attempt(p_attempt_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.id, a.status, a.deadline, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status = 'abandoned' THEN
        RETURN;
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    PERFORM internal.close_attempts(ARRAY[v_attempt.id], 'abandoned');
END
$$;

ALTER FUNCTION internal.abandon_attempt(p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.abandon_attempt(p_attempt_id uuid) IS 'Abandon the caller''s own attempt in progress (not graded; it still counts against max_attempts); abandoning twice changes nothing. VT409 if submitted, expired, or past deadline + grace.';

CREATE FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_limit constant integer := coalesce(
        nullif(current_setting('veritas.events_per_attempt_minute', TRUE), '')::integer, 600
    );
    v_window constant timestamptz := date_trunc('minute', now());
    v_role constant text := current_setting('role', TRUE);
    v_student constant uuid := CASE WHEN v_role = 'student' THEN internal.current_user_id() END;
    v_refused record;
    v_used integer;
BEGIN
    SELECT
        r.attempt_id,
        a.id IS NOT NULL AS visible
    INTO v_refused
    FROM unnest(p_attempts) AS r (attempt_id)
    LEFT JOIN app.exam_attempts AS a
        ON
            r.attempt_id = a.id
            AND (v_role = 'integration' OR a.student_id = v_student)
    LEFT JOIN app.exams AS x ON a.exam_id = x.id
    WHERE
        a.id IS NULL
        OR a.status <> 'in_progress'
        OR now() > a.deadline + make_interval(secs => x.grace_seconds)
    ORDER BY r.attempt_id
    LIMIT 1;
    IF FOUND AND NOT v_refused.visible THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT404', MESSAGE = format('no attempt %s', v_refused.attempt_id);
    ELSIF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'attempt %s is not in progress (finished, or past its deadline)',
                v_refused.attempt_id
            );
    END IF;

    WITH counted AS (
        INSERT INTO app.event_rate_windows AS w (attempt_id, window_start, events)
        SELECT r.attempt_id, v_window, r.events
        FROM unnest(p_attempts, p_events) AS r (attempt_id, events)
        ORDER BY r.attempt_id
        ON CONFLICT (attempt_id) DO UPDATE
            SET
                window_start = excluded.window_start,
                events = CASE
                    WHEN w.window_start = excluded.window_start THEN w.events + excluded.events
                    ELSE excluded.events
                END
        RETURNING w.events
    )
    SELECT max(c.events) INTO v_used FROM counted AS c;
    IF v_used > v_limit THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT429',
            MESSAGE = format('too many events for this attempt: at most %s a minute', v_limit),
            DETAIL = json_build_object(
                'retry_after',
                greatest(1, ceil(extract(EPOCH FROM v_window + interval '1 minute' - now())))
            )::text;
    END IF;
END;
$$;

ALTER FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[]) IS 'Admits a batch: p_events[i] events for attempt p_attempts[i] (distinct, in order), with the checks and budget of internal.admit_events.';

CREATE FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer) RETURNS TABLE(attempt_started_at timestamp with time zone, exam_id uuid, student_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    -- 600 unless the DBA tunes it: ALTER DATABASE ... SET veritas.events_per_attempt_minute
    v_limit constant integer := coalesce(
        nullif(current_setting('veritas.events_per_attempt_minute', TRUE), '')::integer, 600
    );
    v_window constant timestamptz := date_trunc('minute', now());
    -- The database role in effect (SECURITY DEFINER does not change it); a
    -- student's id from the claims, which count only when their role is
    -- that role (internal.current_user_id).
    v_role constant text := current_setting('role', TRUE);
    v_student constant uuid := CASE WHEN v_role = 'student' THEN internal.current_user_id() END;
    v_used integer;
    v_open boolean;
BEGIN
    UPDATE app.event_rate_windows AS w
    SET
        window_start = v_window,
        events = CASE WHEN w.window_start = v_window THEN w.events + p_events ELSE p_events END
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS x ON a.exam_id = x.id
    WHERE
        w.attempt_id = p_attempt_id
        AND a.id = p_attempt_id
        AND (v_role = 'integration' OR a.student_id = v_student)
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => x.grace_seconds)
    RETURNING w.events, a.started_at, a.exam_id, a.student_id
    INTO v_used, attempt_started_at, exam_id, student_id;

    IF NOT FOUND THEN
        SELECT
            a.started_at,
            a.exam_id,
            a.student_id,
            a.status = 'in_progress' AND now() <= a.deadline + make_interval(secs => x.grace_seconds)
        INTO attempt_started_at, exam_id, student_id, v_open
        FROM app.exam_attempts AS a
        INNER JOIN app.exams AS x ON a.exam_id = x.id
        WHERE
            a.id = p_attempt_id
            AND (v_role = 'integration' OR a.student_id = v_student);
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = format('no attempt %s', p_attempt_id);
        END IF;
        IF NOT v_open THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = format(
                    'attempt %s is not in progress (finished, or past its deadline)', p_attempt_id
                );
        END IF;
        INSERT INTO app.event_rate_windows AS w (attempt_id, window_start, events)
        VALUES (p_attempt_id, v_window, p_events)
        ON CONFLICT (attempt_id) DO UPDATE
            SET
                window_start = excluded.window_start,
                events = CASE
                    WHEN w.window_start = excluded.window_start THEN w.events + excluded.events
                    ELSE excluded.events
                END
        RETURNING w.events INTO v_used;
    END IF;

    IF v_used > v_limit THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT429',
            MESSAGE = format('too many events for this attempt: at most %s a minute', v_limit),
            DETAIL = json_build_object(
                'retry_after',
                greatest(1, ceil(extract(EPOCH FROM v_window + interval '1 minute' - now())))
            )::text;
    END IF;
    RETURN NEXT;
END;
$$;

ALTER FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer) IS 'Admits p_events events for the attempt: VT404 unless the caller may record for it, VT409 unless it is open, VT429 past its budget for this minute (600, or veritas.events_per_attempt_minute); returns the attempt''s started_at, exam_id and student_id.';

CREATE FUNCTION internal.analyse_attempt(p_attempt_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_model constant text := 'veritas-builtin-v1';
    c_flag_threshold constant numeric := 0.5;
    v_attempt record;
    v_end timestamptz;
    v_total numeric;
    v_flag record;
    v_penalties numeric := 0;
    v_unflagged numeric := 1;
    v_flags jsonb := '[]'::jsonb;
    v_labels text[] := '{}'::text[];
    v_integrity numeric;
    v_lmi numeric;
    v_is_flagged boolean;
    v_summary text;
    v_row app.behavior_analyses;
BEGIN
    SELECT a.id, a.status, a.started_at, a.finished_at
    INTO v_attempt
    FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status NOT IN ('submitted', 'expired') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'the attempt is %s: only a submitted or expired attempt is analysed',
                v_attempt.status
            );
    END IF;

    -- The observed window: start to finish (the deadline, when expired).
    v_end := greatest(v_attempt.finished_at, v_attempt.started_at);
    v_total := greatest(extract(EPOCH FROM v_end - v_attempt.started_at), 1);

    FOR v_flag IN
        SELECT
            s.*,
            least(
                s.penalty_cap,
                s.penalty_per_percent * s.percent + s.penalty_per_occurrence * s.occurrences
            ) AS penalty,
            least(
                s.weight_cap,
                s.weight_per_percent * s.percent + s.weight_per_occurrence * s.occurrences
            ) AS weight
        FROM (
            SELECT
                r.*,
                e.occurrences,
                e.seconds,
                e.event_ids,
                e.details,
                coalesce(e.seconds, 0) / v_total * 100 AS percent
            FROM internal.attempt_behaviour_evidence(
                p_attempt_id, v_attempt.started_at, v_end
            ) AS e
            INNER JOIN internal.builtin_analysis_rules() AS r ON r.code = e.code
        ) AS s
        ORDER BY weight DESC, penalty DESC, s.code
    LOOP
        CONTINUE WHEN v_flag.penalty <= 0 AND v_flag.weight <= 0;
        v_penalties := v_penalties + v_flag.penalty;
        v_unflagged := v_unflagged * (1 - v_flag.weight);
        v_labels := v_labels || format('%s (%s)', v_flag.label, v_flag.occurrences);
        v_flags := v_flags || jsonb_build_array(
            jsonb_strip_nulls(jsonb_build_object(
                'code', v_flag.code,
                'label', v_flag.label,
                'severity', v_flag.severity,
                'count', v_flag.occurrences,
                'seconds', CASE WHEN v_flag.timed THEN trim_scale(round(v_flag.seconds, 1)) END,
                'percent', CASE WHEN v_flag.timed THEN trim_scale(round(v_flag.percent, 2)) END,
                'penalty', trim_scale(round(v_flag.penalty, 2)),
                'weight', trim_scale(round(v_flag.weight, 4)),
                'message', v_flag.label || ': ' || v_flag.occurrences
                || CASE WHEN v_flag.occurrences = 1 THEN ' time' ELSE ' times' END
                || CASE
                    WHEN v_flag.timed THEN format(
                        ', %s s in total (%s%% of the attempt)',
                        trim_scale(round(v_flag.seconds, 1)),
                        trim_scale(round(v_flag.percent, 2))
                    )
                    ELSE ''
                END,
                'event_ids', to_jsonb(v_flag.event_ids)
            )) || v_flag.details
        );
    END LOOP;

    v_integrity := trim_scale(round(greatest(0, 100 - v_penalties), 2));
    v_lmi := trim_scale(round(1 - v_unflagged, 4));
    v_is_flagged := v_lmi >= c_flag_threshold;
    v_summary := CASE
        WHEN jsonb_array_length(v_flags) = 0
            THEN 'No anomaly observed: integrity 100, lmi 0.'
        ELSE format(
            '%s: integrity %s, lmi %s. Seen: %s.',
            CASE WHEN v_is_flagged THEN 'Flagged' ELSE 'Not flagged' END,
            v_integrity, v_lmi, array_to_string(v_labels, '; ')
        )
    END;

    -- Idempotent: the same result as the latest builtin analysis of this
    -- model is not stored twice.
    SELECT b.* INTO v_row
    FROM app.behavior_analyses AS b
    WHERE b.attempt_id = p_attempt_id AND b.source = 'builtin' AND b.model = c_model
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT 1;
    IF FOUND
        AND v_row.integrity_score = v_integrity
        AND v_row.lmi_score = v_lmi
        AND v_row.is_flagged = v_is_flagged
        AND v_row.flags = v_flags THEN
        RETURN internal.analysis_document(v_row);
    END IF;

    INSERT INTO app.behavior_analyses AS b (
        attempt_id, source, model, integrity_score, lmi_score, flags, summary, is_flagged,
        created_by
    ) VALUES (
        p_attempt_id, 'builtin', c_model, v_integrity, v_lmi, v_flags, v_summary, v_is_flagged,
        NULL
    )
    RETURNING b.* INTO v_row;
    RETURN internal.analysis_document(v_row);
END
$$;

ALTER FUNCTION internal.analyse_attempt(p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.analyse_attempt(p_attempt_id uuid) IS 'The built-in analyser: integrity 0-100, lmi 0-1 and flags with their evidence from a submitted or expired attempt''s monitoring events, stored as a builtin analysis (model veritas-builtin-v1); flagged when lmi >= 0.5. Deterministic and idempotent (the same result is not stored twice). VT404 unknown attempt, VT409 attempt not finished. Rules in docs/analysis.md.';

CREATE TABLE app.behavior_analyses (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_id uuid NOT NULL,
    source app.analysis_source NOT NULL,
    model text NOT NULL,
    integrity_score numeric NOT NULL,
    lmi_score numeric NOT NULL,
    flags jsonb DEFAULT '[]'::jsonb NOT NULL,
    summary text,
    is_flagged boolean DEFAULT false NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT behavior_analyses_flags_check CHECK ((jsonb_typeof(flags) = 'array'::text)),
    CONSTRAINT behavior_analyses_integrity_score_check CHECK (((integrity_score >= (0)::numeric) AND (integrity_score <= (100)::numeric))),
    CONSTRAINT behavior_analyses_lmi_score_check CHECK (((lmi_score >= (0)::numeric) AND (lmi_score <= (1)::numeric))),
    CONSTRAINT behavior_analyses_model_check CHECK (((length(model) >= 1) AND (length(model) <= 200))),
    CONSTRAINT behavior_analyses_summary_check CHECK ((length(summary) <= 20000))
);

ALTER TABLE ONLY app.behavior_analyses FORCE ROW LEVEL SECURITY;

ALTER TABLE app.behavior_analyses OWNER TO veritas_owner;

COMMENT ON TABLE app.behavior_analyses IS 'Behaviour analyses of an attempt, built-in or external; all are kept, the latest (created_at) wins.';

COMMENT ON COLUMN app.behavior_analyses.model IS 'The analyser and its version, for example veritas-builtin-v1 or the external engine''s model name.';

COMMENT ON COLUMN app.behavior_analyses.integrity_score IS '0 (certain malpractice) to 100 (clean).';

COMMENT ON COLUMN app.behavior_analyses.lmi_score IS 'Likelihood-of-malpractice index, 0 to 1.';

COMMENT ON COLUMN app.behavior_analyses.flags IS 'JSON array of flags, each an object with the evidence that raised it (for example {"code": "tab_hidden", "count": 7, "seconds": 95, "event_ids": [...]}).';

CREATE FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'id', p_analysis.id,
        'attempt_id', p_analysis.attempt_id,
        'source', p_analysis.source,
        'model', p_analysis.model,
        'integrity_score', p_analysis.integrity_score,
        'lmi_score', p_analysis.lmi_score,
        'is_flagged', p_analysis.is_flagged,
        'flags', p_analysis.flags,
        'summary', p_analysis.summary,
        'created_by', p_analysis.created_by,
        'created_at', p_analysis.created_at
    );
$$;

ALTER FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) IS 'An analysis as JSON: {id, attempt_id, source, model, integrity_score, lmi_score, is_flagged, flags, summary, created_by, created_at}.';

CREATE FUNCTION internal.analytics_refreshed_at(p_views text[]) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE WHEN count(*) = cardinality(p_views) THEN min(r.up_to_date_at) END
    FROM app.analytics_refreshes AS r
    WHERE r.view_name = ANY (p_views);
$$;

ALTER FUNCTION internal.analytics_refreshed_at(p_views text[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.analytics_refreshed_at(p_views text[]) IS 'The oldest up_to_date_at of the given analytics summary tables: the answer holds everything committed before it; NULL until each has been refreshed once.';

CREATE FUNCTION internal.answer_problem(p_question jsonb, p_answer jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_options jsonb := coalesce(p_question -> 'options', '[]'::jsonb);
BEGIN
    IF p_answer IS NULL THEN
        RETURN 'answer is required';
    END IF;
    CASE p_question ->> 'kind'
        WHEN 'single_choice' THEN
            IF jsonb_typeof(p_answer) <> 'string'
                OR NOT v_options @> jsonb_build_array(p_answer) THEN
                RETURN 'the answer must be one of the question''s options';
            END IF;
        WHEN 'multiple_choice' THEN
            IF jsonb_typeof(p_answer) <> 'array' THEN
                RETURN 'the answer must be a list of the question''s options';
            END IF;
            IF EXISTS (
                SELECT FROM jsonb_array_elements(p_answer) AS s (value)
                WHERE
                    jsonb_typeof(s.value) <> 'string'
                    OR NOT v_options @> jsonb_build_array(s.value)
            ) THEN
                RETURN 'every chosen answer must be one of the question''s options';
            END IF;
            IF (SELECT count(DISTINCT s.value) FROM jsonb_array_elements(p_answer) AS s (value))
                <> jsonb_array_length(p_answer) THEN
                RETURN 'an option is chosen at most once';
            END IF;
        WHEN 'true_false' THEN
            IF jsonb_typeof(p_answer) <> 'boolean' THEN
                RETURN 'the answer must be true or false';
            END IF;
        WHEN 'numeric' THEN
            IF jsonb_typeof(p_answer) <> 'number' THEN
                RETURN 'the answer must be a number';
            END IF;
        WHEN 'short_text' THEN
            IF jsonb_typeof(p_answer) <> 'string' THEN
                RETURN 'the answer must be a string';
            END IF;
            IF length(p_answer #>> '{}') > 10000 THEN
                RETURN 'the answer is longer than 10000 characters';
            END IF;
        ELSE
            RETURN 'unknown question kind';
    END CASE;
    RETURN NULL;
END
$$;

ALTER FUNCTION internal.answer_problem(p_question jsonb, p_answer jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.answer_problem(p_question jsonb, p_answer jsonb) IS 'What is wrong with the form of an answer to a snapshot question (one of the options, a list of options, a boolean, a number, a string), or NULL.';

CREATE FUNCTION internal.archive_event_partitions(p_older_than interval) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_part record;
    v_fk name;
BEGIN
    IF p_older_than < interval '1 day' THEN
        RAISE EXCEPTION 'refusing to archive events younger than one day (asked: %)', p_older_than
            USING ERRCODE = '22023';
    END IF;
    FOR v_part IN
        SELECT
            c.relname,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
            AS upper_bound
        FROM pg_inherits AS i
        INNER JOIN pg_class AS c ON i.inhrelid = c.oid
        WHERE
            i.inhparent = 'app.monitoring_events'::regclass
            AND c.relname ~ '^monitoring_events_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        CONTINUE WHEN v_part.upper_bound > now() - p_older_than;
        -- Detaching fires no row trigger: the audit trail records it here.
        PERFORM internal.audit_operation(
            'DETACH', format('app.%I', v_part.relname)::regclass,
            jsonb_build_object(
                'parent', 'app.monitoring_events',
                'archived_as', 'archive.' || v_part.relname,
                'upper_bound', internal.audit_time(v_part.upper_bound)
            )
        );
        EXECUTE format('ALTER TABLE app.monitoring_events DETACH PARTITION app.%I', v_part.relname);
        EXECUTE format('ALTER TABLE app.%I SET SCHEMA archive', v_part.relname);
        -- An archive no longer belongs to live attempts: deleting an attempt
        -- must not reach into it.
        FOR v_fk IN
            SELECT conname FROM pg_constraint
            WHERE conrelid = format('archive.%I', v_part.relname)::regclass AND contype = 'f'
        LOOP
            EXECUTE format(
                'ALTER TABLE archive.%I DROP CONSTRAINT %I', v_part.relname, v_fk
            );
        END LOOP;
        RETURN NEXT 'archive.' || v_part.relname;
    END LOOP;
END;
$_$;

ALTER FUNCTION internal.archive_event_partitions(p_older_than interval) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.archive_event_partitions(p_older_than interval) IS 'Detaches the monthly event partitions older than p_older_than into the archive schema; returns their new names.';

CREATE FUNCTION internal.assert_attempt_open(p_status app.attempt_status, p_deadline timestamp with time zone, p_grace_seconds integer) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_status <> 'in_progress' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the attempt is not in progress: it is %s', p_status);
    END IF;
    IF now() > p_deadline + make_interval(secs => p_grace_seconds) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the deadline has passed: '
            || 'the attempt is expired and graded on its saved answers',
            DETAIL = format('deadline %s, grace %s seconds', p_deadline, p_grace_seconds);
    END IF;
END
$$;

ALTER FUNCTION internal.assert_attempt_open(p_status app.attempt_status, p_deadline timestamp with time zone, p_grace_seconds integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_attempt_open(p_status app.attempt_status, p_deadline timestamp with time zone, p_grace_seconds integer) IS 'VT409 unless the attempt is in progress and its deadline plus grace has not passed.';

CREATE FUNCTION internal.assert_author() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user_id uuid := internal.current_user_id();
BEGIN
    IF v_user_id IS NULL OR internal.current_app_role() NOT IN ('teacher', 'admin') THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501', MESSAGE = 'only teachers and admins manage exams';
    END IF;
    RETURN v_user_id;
END
$$;

ALTER FUNCTION internal.assert_author() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_author() IS 'The calling teacher''s or admin''s user id; 42501 for anyone else.';

CREATE FUNCTION internal.assert_disclosed_records(p_role text, p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION internal.assert_disclosed_records(p_role text, p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_disclosed_records(p_role text, p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) IS 'Raises 42501 unless every (student, record) names a record of that kind that belongs to the student and that the calling teacher or admin may read.';

CREATE FUNCTION internal.assert_exam_settings(p_title text, p_description text, p_duration_minutes integer, p_opens_at timestamp with time zone, p_closes_at timestamp with time zone, p_max_attempts integer, p_grace_seconds integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_problem text;
BEGIN
    v_problem := CASE
        WHEN p_title IS NULL OR btrim(p_title) = '' THEN 'title is required'
        WHEN length(p_title) > 200 THEN 'title is longer than 200 characters'
        WHEN length(p_description) > 10000 THEN 'description is longer than 10000 characters'
        WHEN p_duration_minutes IS NULL THEN 'duration_minutes is required'
        WHEN p_duration_minutes NOT BETWEEN 1 AND 1440
            THEN 'duration_minutes must be between 1 and 1440'
        WHEN p_opens_at IS NULL THEN 'opens_at is required'
        WHEN p_closes_at IS NULL THEN 'closes_at is required'
        WHEN p_closes_at <= p_opens_at THEN 'closes_at must be after opens_at'
        WHEN p_max_attempts IS NULL THEN 'max_attempts is required'
        WHEN p_max_attempts NOT BETWEEN 1 AND 100 THEN 'max_attempts must be between 1 and 100'
        WHEN p_grace_seconds IS NULL THEN 'grace_seconds is required'
        WHEN p_grace_seconds NOT BETWEEN 0 AND 600 THEN 'grace_seconds must be between 0 and 600'
    END;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_problem;
    END IF;
END
$$;

ALTER FUNCTION internal.assert_exam_settings(p_title text, p_description text, p_duration_minutes integer, p_opens_at timestamp with time zone, p_closes_at timestamp with time zone, p_max_attempts integer, p_grace_seconds integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_exam_settings(p_title text, p_description text, p_duration_minutes integer, p_opens_at timestamp with time zone, p_closes_at timestamp with time zone, p_max_attempts integer, p_grace_seconds integer) IS 'Raises 22023 naming the first invalid exam setting (title, duration, window, attempts, grace).';

CREATE FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    -- First, and apart: in the WHERE clause the planner would call it while
    -- estimating (it is STABLE), before the query runs.
    v_student_id constant uuid := internal.assert_student_caller();
BEGIN
    PERFORM FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id AND a.student_id = v_student_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
END
$$;

ALTER FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid) IS 'VT404 unless the caller sees this attempt as their own under RLS.';

CREATE FUNCTION internal.assert_session_active() RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    c_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
    v_claims constant jsonb := internal.jwt_claims();
    v_role constant text := v_claims ->> 'role';
    v_sub constant text := v_claims ->> 'sub';
    v_jti constant text := v_claims ->> 'jti';
    v_iat constant text := v_claims ->> 'iat';
    v_ok boolean;
BEGIN
    -- The claims must hold (as internal.current_user_id() demands: the role
    -- claim is the database role in effect) and be complete.
    IF v_role IS DISTINCT FROM current_setting('role', true)
        OR v_sub IS NULL OR v_sub !~* c_uuid
        OR v_jti IS NULL OR v_jti !~* c_uuid
        OR v_iat IS NULL OR v_iat !~ '^[0-9]{1,11}(\.[0-9]+)?$'
    THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;

    SELECT
        u.is_active
        AND u.role::text = v_role
        AND (u.sessions_revoked_at IS NULL OR to_timestamp(v_iat::numeric) >= u.sessions_revoked_at)
        AND NOT EXISTS (SELECT FROM auth.revoked_tokens AS r WHERE r.jti = v_jti::uuid)
    INTO v_ok
    FROM auth.users AS u
    WHERE u.id = v_sub::uuid;

    IF v_ok IS NOT TRUE THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;
END;
$_$;

ALTER FUNCTION internal.assert_session_active() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_session_active() IS 'Raises VT401 unless the request''s token is still good: jti not revoked, user present, active and of the token''s role, token issued after the user''s sessions_revoked_at.';

CREATE FUNCTION internal.assert_staff_caller() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user_id constant uuid := internal.current_user_id();
BEGIN
    IF v_user_id IS NULL OR internal.current_app_role() NOT IN ('teacher', 'admin') THEN
        RAISE EXCEPTION USING
            ERRCODE = '42501', MESSAGE = 'only teachers and admins may do this';
    END IF;
    RETURN v_user_id;
END
$$;

ALTER FUNCTION internal.assert_staff_caller() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_staff_caller() IS 'The calling teacher''s or admin''s user id, or 42501 for anyone else (or claims that do not hold).';

CREATE FUNCTION internal.assert_student_caller() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_user_id uuid := internal.current_user_id();
BEGIN
    IF v_user_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to take exams';
    END IF;
    RETURN v_user_id;
END
$$;

ALTER FUNCTION internal.assert_student_caller() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_student_caller() IS 'The caller''s user id, or 42501 without one.';

CREATE FUNCTION internal.assert_student_visible(p_student_id uuid) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM FROM app.student_profiles AS p WHERE p.user_id = p_student_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'student not found';
    END IF;
END
$$;

ALTER FUNCTION internal.assert_student_visible(p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.assert_student_visible(p_student_id uuid) IS 'VT404 unless the caller sees the student''s profile under RLS.';

CREATE FUNCTION internal.attempt_behaviour_evidence(p_attempt_id uuid, p_start timestamp with time zone, p_end timestamp with time zone) RETURNS TABLE(code text, occurrences integer, seconds numeric, event_ids uuid[], details jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH ev AS (
        SELECT
            e.id,
            e.event_type::text AS kind,
            e.payload,
            e.occurred_at,
            least(greatest(e.occurred_at, p_start), p_end) AS t,
            row_number() OVER (ORDER BY e.occurred_at, e.received_at, e.id) AS n
        FROM app.monitoring_events AS e
        WHERE e.attempt_id = p_attempt_id AND e.attempt_started_at = p_start
    ),

    -- Every event with the time of the next heartbeat after it. Ordered
    -- newest first, the frame (everything before this row) grows by one row
    -- at a time: one pass.
    marked AS (
        SELECT
            ev.*,
            min(ev.t) FILTER (WHERE ev.kind = 'heartbeat') OVER (
                ORDER BY ev.n DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS next_heartbeat
        FROM ev
    ),

    pairs (start_kind, end_kind) AS (
        VALUES
        ('tab_hidden', 'tab_visible'),
        ('window_blur', 'window_focus'),
        ('fullscreen_exit', 'fullscreen_enter'),
        ('network_offline', 'network_online')
    ),

    paired AS (
        SELECT
            p.start_kind AS code,
            m.id,
            m.n,
            m.t,
            m.kind = p.start_kind AS is_start,
            m.next_heartbeat,
            min(m.n) FILTER (WHERE m.kind = p.end_kind) OVER w AS next_end_n,
            min(m.t) FILTER (WHERE m.kind = p.end_kind) OVER w AS next_end_t,
            min(m.n) FILTER (WHERE m.kind = p.start_kind) OVER w AS next_start_n,
            min(m.t) FILTER (WHERE m.kind = p.start_kind) OVER w AS next_start_t
        FROM marked AS m
        INNER JOIN pairs AS p ON m.kind IN (p.start_kind, p.end_kind)
        WINDOW w AS (
            PARTITION BY p.start_kind
            ORDER BY m.n DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )
    ),

    episodes AS (
        SELECT
            x.code,
            x.id,
            x.n,
            x.t AS started,
            x.next_end_n IS NOT NULL
            AND (x.next_start_n IS NULL OR x.next_end_n < x.next_start_n) AS is_paired,
            CASE
                WHEN
                    x.next_end_n IS NOT NULL
                    AND (x.next_start_n IS NULL OR x.next_end_n < x.next_start_n)
                    THEN x.next_end_t
                ELSE least(x.next_heartbeat, x.next_start_t, p_end)
            END AS ended
        FROM paired AS x
        WHERE x.is_start
    ),

    spans AS (
        SELECT
            ev.kind AS code,
            ev.id,
            ev.n,
            greatest(least(
                -- Nested, so that the cast only ever sees a number.
                CASE
                    WHEN jsonb_typeof(ev.payload -> 'duration_seconds') IS DISTINCT FROM 'number'
                        THEN 5
                    WHEN (ev.payload ->> 'duration_seconds')::numeric >= 0
                        THEN (ev.payload ->> 'duration_seconds')::numeric
                    ELSE 5
                END,
                extract(EPOCH FROM coalesce(
                    lead(ev.t) OVER (PARTITION BY ev.kind ORDER BY ev.n), p_end
                ) - ev.t),
                extract(EPOCH FROM p_end - ev.t)
            ), 0) AS seconds
        FROM ev
        WHERE ev.kind IN ('gaze_away', 'face_missing')
    ),

    gaps AS (
        SELECT
            ev.id AS after_gap_id,
            ev.n,
            coalesce(lag(ev.t) OVER (ORDER BY ev.n), p_start) AS gap_from,
            ev.t AS gap_to
        FROM ev
        UNION ALL
        SELECT NULL::uuid, NULL::bigint, coalesce(max(ev.t), p_start), p_end
        FROM ev
    ),

    long_gaps AS (
        SELECT
            g.after_gap_id,
            g.n,
            g.gap_from,
            g.gap_to,
            extract(EPOCH FROM g.gap_to - g.gap_from) AS seconds
        FROM gaps AS g
        WHERE g.gap_to - g.gap_from > interval '60 seconds'
    ),

    pastes_before_correct AS (
        SELECT
            p.id AS paste_id,
            p.n,
            aa.question_id
        FROM ev AS p
        INNER JOIN app.attempt_answers AS aa
            ON
                aa.attempt_id = p_attempt_id
                AND aa.saved_at >= p.occurred_at
                AND aa.saved_at <= p.occurred_at + interval '30 seconds'
                AND aa.points_awarded > 0
        INNER JOIN app.exam_attempts AS a ON a.id = p_attempt_id
        CROSS JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        WHERE
            p.kind = 'paste'
            AND q.value ->> 'id' = aa.question_id::text
            AND q.value ->> 'kind' = 'short_text'
            AND (
                NOT p.payload ? 'question_id'
                OR p.payload ->> 'question_id' = aa.question_id::text
            )
    )

    SELECT
        e.code,
        count(*)::integer,
        sum(greatest(extract(EPOCH FROM e.ended - e.started), 0)),
        (array_agg(e.id ORDER BY e.n))[1:100],
        jsonb_build_object('unpaired', count(*) FILTER (WHERE NOT e.is_paired))
    FROM episodes AS e
    GROUP BY e.code

    UNION ALL

    SELECT
        s.code,
        count(*)::integer,
        sum(s.seconds),
        (array_agg(s.id ORDER BY s.n))[1:100],
        '{}'::jsonb
    FROM spans AS s
    GROUP BY s.code

    UNION ALL

    SELECT
        ev.kind,
        count(*)::integer,
        NULL::numeric,
        (array_agg(ev.id ORDER BY ev.n))[1:100],
        '{}'::jsonb
    FROM ev
    WHERE ev.kind IN ('copy', 'paste', 'devtools_open', 'multiple_faces', 'unusual_pause')
    GROUP BY ev.kind

    UNION ALL

    SELECT
        'unobserved',
        count(*)::integer,
        sum(g.seconds),
        coalesce(
            (array_agg(g.after_gap_id ORDER BY g.n) FILTER (WHERE g.after_gap_id IS NOT NULL))[1:100],
            '{}'
        ),
        jsonb_build_object(
            'gaps',
            to_jsonb((
                array_agg(
                    jsonb_build_object(
                        'from', g.gap_from, 'to', g.gap_to, 'seconds', trim_scale(round(g.seconds, 3))
                    )
                    ORDER BY g.gap_from
                )
            )[1:20])
        )
    FROM long_gaps AS g
    HAVING count(*) > 0

    UNION ALL

    SELECT
        'paste_before_correct_answer',
        count(DISTINCT pc.question_id)::integer,
        NULL::numeric,
        (
            SELECT (array_agg(d.paste_id ORDER BY d.n))[1:100]
            FROM (SELECT DISTINCT x.paste_id, x.n FROM pastes_before_correct AS x) AS d
        ),
        jsonb_build_object(
            'question_ids', jsonb_agg(DISTINCT pc.question_id)
        )
    FROM pastes_before_correct AS pc
    HAVING count(*) > 0;
END;
$$;

ALTER FUNCTION internal.attempt_behaviour_evidence(p_attempt_id uuid, p_start timestamp with time zone, p_end timestamp with time zone) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.attempt_behaviour_evidence(p_attempt_id uuid, p_start timestamp with time zone, p_end timestamp with time zone) IS 'What an attempt''s monitoring events show, one row per flag code seen: occurrences, seconds (timed codes), event ids (at most 100) and details. Paired events make episodes (an unpaired start lasts until the next heartbeat, the next start or the end); gaps over 60 s are unobserved time. Rules in docs/analysis.md.';

CREATE FUNCTION internal.attempt_paper(p_attempt_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'id', q.value -> 'id',
                'position', o.ord,
                'kind', q.value -> 'kind',
                'prompt', q.value -> 'prompt',
                'options', q.value -> 'options',
                'points', q.value -> 'points',
                'answer', aa.answer
            )
            ORDER BY o.ord
        ),
        '[]'::jsonb
    )
    FROM app.exam_attempts AS a
    CROSS JOIN LATERAL jsonb_array_elements_text(a.question_order)
        WITH ORDINALITY AS o (question_id, ord)
    INNER JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        ON q.value ->> 'id' = o.question_id
    LEFT JOIN app.attempt_answers AS aa
        ON aa.attempt_id = a.id AND aa.question_id = o.question_id::uuid
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id();
$$;

ALTER FUNCTION internal.attempt_paper(p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.attempt_paper(p_attempt_id uuid) IS 'The caller''s own attempt''s questions without the answer key: [{id, position, kind, prompt, options, points, answer}] in the attempt''s order; [] for an attempt that is not theirs.';

CREATE FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_events jsonb;
    v_started_at timestamptz;
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 5000 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 5000';
    END IF;
    IF (p_after_occurred_at IS NULL) <> (p_after_id IS NULL) THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'after_occurred_at and after_id go together (the last row of a page)';
    END IF;
    SELECT a.started_at INTO v_started_at
    FROM app.exam_attempts AS a
    WHERE
        a.id = p_attempt_id
        AND CASE current_setting('role', TRUE)
            WHEN 'student' THEN a.student_id = internal.current_user_id()
            WHEN 'teacher' THEN a.exam_id = any(internal.teacher_exam_ids())
            WHEN 'admin' THEN TRUE
            WHEN 'integration' THEN TRUE
            ELSE FALSE
        END;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = format('no attempt %s', p_attempt_id);
    END IF;
    SELECT coalesce(jsonb_agg(
        jsonb_build_object(
            'id', e.id, 'event_type', e.event_type, 'occurred_at', e.occurred_at,
            'received_at', e.received_at, 'payload', e.payload, 'is_anomaly', e.is_anomaly
        ) ORDER BY e.occurred_at, e.id
    ), '[]'::jsonb)
    INTO v_events
    FROM (
        SELECT m.id, m.event_type, m.occurred_at, m.received_at, m.payload, m.is_anomaly
        FROM app.monitoring_events AS m
        WHERE
            m.attempt_id = p_attempt_id
            -- the partition key: the scan touches the attempt's partition only
            AND m.attempt_started_at = v_started_at
            AND (
                p_after_occurred_at IS NULL
                OR (m.occurred_at, m.id) > (p_after_occurred_at, p_after_id)
            )
        ORDER BY m.occurred_at, m.id
        LIMIT p_limit + 1
    ) AS e;
    IF jsonb_array_length(v_events) > p_limit THEN
        v_events := v_events - p_limit;  -- the look-ahead row is the next page's first
        PERFORM set_config('response.next_page', jsonb_build_object(
            'after_occurred_at', v_events -> -1 -> 'occurred_at',
            'after_id', v_events -> -1 -> 'id'
        )::text, TRUE);
    END IF;
    RETURN v_events;
END;
$$;

ALTER FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) IS 'An attempt''s monitoring events oldest first, one keyset page, for a caller who may see the attempt (as the attempts'' SELECT policies say); sets response.next_page unless it is the last page.';

CREATE FUNCTION internal.audit_actor(OUT actor_id uuid, OUT actor_role text) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_role constant text := current_setting('role');
    v_key constant text := txid_current() || ' ' || v_role || ' '
        || coalesce(current_setting('request.jwt.claims', TRUE), '');
    v_claims jsonb;
BEGIN
    IF current_setting('veritas.audit_actor_key', TRUE) = v_key THEN
        actor_id := nullif(current_setting('veritas.audit_actor_id'), '')::uuid;
        actor_role := current_setting('veritas.audit_actor_role');
        RETURN;
    END IF;
    actor_role := CASE WHEN v_role = 'none' THEN session_user::text ELSE v_role END;
    IF v_role IN ('student', 'teacher', 'admin', 'integration') THEN
        v_claims := internal.jwt_claims();
        IF v_claims ->> 'role' = v_role
            AND v_claims ->> 'sub' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN
            actor_id := (v_claims ->> 'sub')::uuid;
        END IF;
    END IF;
    PERFORM
        set_config('veritas.audit_actor_id', coalesce(actor_id::text, ''), TRUE),
        set_config('veritas.audit_actor_role', actor_role, TRUE),
        set_config('veritas.audit_actor_key', v_key, TRUE);
END;
$_$;

ALTER FUNCTION internal.audit_actor(OUT actor_id uuid, OUT actor_role text) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_actor(OUT actor_id uuid, OUT actor_role text) IS 'Who is acting, for the audit trail: the JWT subject and role of an API request; else no user and the database role in effect (SET ROLE, or the login). Owner only.';

CREATE FUNCTION internal.audit_attach(p_table regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_pk text[];
    v_secrets text[];
    v_part regclass;
BEGIN
    SELECT array_agg(a.attname::text ORDER BY k.ord)
    INTO v_pk
    FROM pg_index AS i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
    INNER JOIN pg_attribute AS a ON i.indrelid = a.attrelid AND k.attnum = a.attnum
    WHERE i.indrelid = p_table AND i.indisprimary;
    IF v_pk IS NULL OR cardinality(v_pk) > 3 THEN
        RAISE EXCEPTION USING
            ERRCODE = '42P16',
            MESSAGE = format(
                '%s has no primary key of one to three columns: the audit trail cannot name its rows',
                p_table
            ),
            HINT = 'Give it one, or add it to internal.audit_exclusions() with a reason.';
    END IF;
    SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}')
    INTO v_secrets
    FROM pg_attribute AS a
    WHERE
        a.attrelid = p_table AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attname ~* '(hash|passw|secret)';

    FOR v_part IN
        WITH RECURSIVE tree (rel) AS (
            SELECT p_table::oid
            UNION ALL
            SELECT i.inhrelid FROM pg_inherits AS i INNER JOIN tree AS t ON i.inhparent = t.rel
        )
        SELECT tree.rel::regclass FROM tree
    LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_insert AFTER INSERT ON %s '
            'REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_update AFTER UPDATE ON %s '
            'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_delete AFTER DELETE ON %s '
            'REFERENCING OLD TABLE AS old_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER _500_audit_truncate AFTER TRUNCATE ON %s '
            'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit(%L, %L)',
            v_part, v_pk, v_secrets
        );
    END LOOP;
END;
$$;

ALTER FUNCTION internal.audit_attach(p_table regclass) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_attach(p_table regclass) IS 'Attaches the audit triggers (_500_audit_insert, _update, _delete, _truncate) to a business table and its partitions, with its primary key and secret columns from the catalog. Owner only; run for every table at each deploy.';

CREATE TABLE audit.disclosures (
    id bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    viewer_id uuid,
    viewer_role text,
    student_id uuid NOT NULL,
    record_kind text NOT NULL,
    record_id uuid,
    CONSTRAINT disclosures_record_kind_check CHECK ((record_kind ~ '^[a-z][a-z_]{1,62}$'::text))
)
WITH (autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_analyze_scale_factor='0.02');

ALTER TABLE ONLY audit.disclosures FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.disclosures OWNER TO veritas_owner;

COMMENT ON TABLE audit.disclosures IS 'Who was shown which record of a student, and when (teachers and admins reading student data), so that a student''s data access can be accounted for.';

COMMENT ON COLUMN audit.disclosures.record_kind IS 'What was shown, for example attempt, events, analysis, profile.';

CREATE FUNCTION internal.audit_content(p_row audit.disclosures) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_array(
        p_row.id,
        to_char(p_row.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_row.viewer_id, p_row.viewer_role, p_row.student_id, p_row.record_kind, p_row.record_id
    )::text;
$$;

ALTER FUNCTION internal.audit_content(p_row audit.disclosures) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_content(p_row audit.disclosures) IS 'Canonical content of an audit.disclosures row, as hashed into the chain.';

CREATE TABLE audit.log (
    id bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    table_schema text,
    table_name text,
    operation text NOT NULL,
    row_pk jsonb,
    old_values jsonb,
    new_values jsonb,
    changed_columns text[],
    actor_id uuid,
    actor_role text,
    db_user text DEFAULT SESSION_USER NOT NULL,
    request_method text,
    request_path text,
    txid bigint DEFAULT txid_current() NOT NULL,
    CONSTRAINT log_operation_check CHECK ((operation = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'DELETE'::text, 'TRUNCATE'::text, 'DETACH'::text, 'SELECT'::text, 'LOGIN'::text, 'LOGOUT'::text, 'EXPORT'::text]))),
    CONSTRAINT log_table_check CHECK (((table_schema IS NULL) = (table_name IS NULL)))
)
WITH (autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_analyze_scale_factor='0.02');

ALTER TABLE ONLY audit.log FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.log OWNER TO veritas_owner;

COMMENT ON TABLE audit.log IS 'Append-only audit trail: one row per audited row change (or other operation), with who and from which request; hash-chained through audit.seals.';

COMMENT ON COLUMN audit.log.table_schema IS 'Schema of the audited table; NULL (with table_name) for operations not about a table, such as LOGIN.';

COMMENT ON COLUMN audit.log.operation IS 'INSERT, UPDATE, DELETE (one row each; for app.monitoring_events one row per statement), TRUNCATE, DETACH (an event partition archived).';

COMMENT ON COLUMN audit.log.row_pk IS 'Primary key of the audited row as a JSON object, for example {"id": "..."}; NULL for a statement-level entry.';

COMMENT ON COLUMN audit.log.old_values IS 'UPDATE: the old values of the changed columns; DELETE: the whole row. Secret columns (password or token hashes) are never copied, only named in changed_columns.';

COMMENT ON COLUMN audit.log.new_values IS 'INSERT: the whole row; UPDATE: the new values of the changed columns. Secret columns are never copied.';

COMMENT ON COLUMN audit.log.changed_columns IS 'UPDATE only: the columns whose value changed (secret columns included, by name only).';

COMMENT ON COLUMN audit.log.actor_id IS 'The user of the request (sub claim); NULL for work of the database itself (expiry sweep, workers).';

COMMENT ON COLUMN audit.log.actor_role IS 'The role claim of the request, or the database role in effect (SET ROLE, else the login) when there was no request.';

COMMENT ON COLUMN audit.log.db_user IS 'The database login of the session (session_user): authenticator for API requests, the DBA''s own login for direct sessions and migrations.';

COMMENT ON COLUMN audit.log.txid IS 'The writing transaction (txid_current()): rows of one request share it.';

CREATE FUNCTION internal.audit_content(p_row audit.log) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_array(
        p_row.id,
        to_char(p_row.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_row.table_schema, p_row.table_name, p_row.operation, p_row.row_pk,
        p_row.old_values, p_row.new_values, p_row.changed_columns,
        p_row.actor_id, p_row.actor_role, p_row.db_user,
        p_row.request_method, p_row.request_path, p_row.txid
    )::text;
$$;

ALTER FUNCTION internal.audit_content(p_row audit.log) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_content(p_row audit.log) IS 'Canonical content of an audit.log row, as hashed into the chain (glue/audit_verify.py has the same expression).';

CREATE TABLE audit.security_events (
    id bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    kind text NOT NULL,
    user_id uuid,
    email text,
    client_addr inet,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT security_events_details_check CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT security_events_kind_check CHECK ((kind = ANY (ARRAY['login_success'::text, 'login_failure'::text, 'refresh'::text, 'logout'::text, 'reuse_detected'::text, 'lockout'::text, 'role_change'::text])))
)
WITH (autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_analyze_scale_factor='0.02');

ALTER TABLE ONLY audit.security_events FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.security_events OWNER TO veritas_owner;

COMMENT ON TABLE audit.security_events IS 'Authentication and authorisation events: logins, refreshes, logouts, refresh-token reuse, lockouts, role changes.';

CREATE FUNCTION internal.audit_content(p_row audit.security_events) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_array(
        p_row.id,
        to_char(p_row.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_row.kind, p_row.user_id, p_row.email, p_row.client_addr::text, p_row.details
    )::text;
$$;

ALTER FUNCTION internal.audit_content(p_row audit.security_events) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_content(p_row audit.security_events) IS 'Canonical content of an audit.security_events row, as hashed into the chain.';

CREATE FUNCTION internal.audit_event_partition(p_table regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    -- Citus refuses triggers on a table it distributes (the audit.log they
    -- write is on the coordinator): none there (sql/functions/deploy/citus.sql).
    IF internal.citus_distributed(p_table) THEN
        RETURN;
    END IF;
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER _500_audit_update AFTER UPDATE ON %s '
        'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit()',
        p_table
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER _500_audit_delete AFTER DELETE ON %s '
        'REFERENCING OLD TABLE AS old_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit()',
        p_table
    );
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER _500_audit_truncate AFTER TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit()',
        p_table
    );
END;
$$;

ALTER FUNCTION internal.audit_event_partition(p_table regclass) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_event_partition(p_table regclass) IS 'Attaches the statement-level audit triggers to app.monitoring_events or one of its partitions (create_event_partitions calls it for each new one). Owner only.';

CREATE FUNCTION internal.audit_exclusions() RETURNS TABLE(table_name text, reason text)
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    VALUES
    -- Append-only records of their own, the high-volume table: audited at
    -- statement level (any UPDATE, DELETE, TRUNCATE; detaching a partition)
    -- by event_triggers.sql. Its partitions are covered with it.
    ('app.monitoring_events', 'append-only events: statement-level audit'),
    -- Per-attempt counters of the event rate limit, unlogged (lost on a crash
    -- by design), rewritten by every event: no business meaning.
    ('app.event_rate_windows', 'unlogged rate-limit counters on the event hot path'),
    -- The job queue's bookkeeping (claims, locks, retries); what the jobs
    -- produce (analyses, metrics, profile statistics) is audited.
    ('app.analysis_jobs', 'job queue bookkeeping; its results are audited'),
    -- When each analytics summary table was last brought up to date (the
    -- worker, every few seconds): derived bookkeeping, no business data.
    ('app.analytics_refreshes', 'analytics refresh bookkeeping'),
    -- The analytics summary tables, recomputed by the worker from audited
    -- attempts, analyses and events every few seconds: derived, never entered.
    ('app.exam_stats', 'derived: analytics recomputed from audited attempts and analyses'),
    ('app.flagged_attempts', 'derived: analytics recomputed from audited analyses'),
    ('app.exam_event_counts', 'derived: analytics counted from the append-only events'),
    ('app.counted_attempts', 'derived: analytics bookkeeping of the event counts'),
    -- Per-student and per-exam figures recomputed from the attempts and
    -- analyses (internal.refresh_student_metrics, the analysis queue) at every
    -- submit: derived, never entered, and their sources are audited.
    ('app.performance_metrics', 'derived: recomputed from audited attempts and analyses'),
    ('app.exam_metrics', 'derived: recomputed from audited attempts and analyses'),
    -- Throttling bookkeeping, purged after 30 days: every attempt is already a
    -- login_success or login_failure in audit.security_events (chained).
    ('auth.login_attempts', 'mirrored one to one by audit.security_events')
$$;

ALTER FUNCTION internal.audit_exclusions() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_exclusions() IS 'The app and auth tables deliberately left without the _500_audit_* triggers, with the reason for each.';

CREATE FUNCTION internal.audit_operation(p_operation text, p_table regclass, p_details jsonb DEFAULT NULL::jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_actor record := internal.audit_actor();
BEGIN
    INSERT INTO audit.log (
        table_schema, table_name, operation, new_values, actor_id, actor_role,
        request_method, request_path
    )
    SELECT
        n.nspname, c.relname, p_operation, p_details, v_actor.actor_id, v_actor.actor_role,
        nullif(current_setting('request.method', TRUE), ''),
        nullif(current_setting('request.path', TRUE), '')
    FROM pg_class AS c
    INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
    WHERE c.oid = p_table;
END;
$$;

ALTER FUNCTION internal.audit_operation(p_operation text, p_table regclass, p_details jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_operation(p_operation text, p_table regclass, p_details jsonb) IS 'Appends an audit.log entry that is not a row change (for example DETACH of an event partition), details in new_values. Owner only.';

CREATE FUNCTION internal.audit_page_size(p_limit integer) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'limit must be between 1 and 1000';
    END IF;
    RETURN p_limit;
END;
$$;

ALTER FUNCTION internal.audit_page_size(p_limit integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_page_size(p_limit integer) IS 'Validates the limit of an audit reader (1 to 1000), 22023 otherwise.';

CREATE FUNCTION internal.audit_pk(p_row jsonb, p_columns text[]) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE cardinality(p_columns)
        WHEN 1 THEN jsonb_build_object(p_columns[1], p_row -> p_columns[1])
        WHEN 2 THEN jsonb_build_object(
            p_columns[1], p_row -> p_columns[1], p_columns[2], p_row -> p_columns[2]
        )
        WHEN 3 THEN jsonb_build_object(
            p_columns[1], p_row -> p_columns[1], p_columns[2], p_row -> p_columns[2],
            p_columns[3], p_row -> p_columns[3]
        )
    END;
$$;

ALTER FUNCTION internal.audit_pk(p_row jsonb, p_columns text[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_pk(p_row jsonb, p_columns text[]) IS 'The primary key {column: value} of a row given as jsonb, from its key columns.';

CREATE FUNCTION internal.audit_time(p_at timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
$$;

ALTER FUNCTION internal.audit_time(p_at timestamp with time zone) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.audit_time(p_at timestamp with time zone) IS 'A timestamp as RFC 3339 text in UTC (2026-11-24T10:00:00.000000Z), whatever the session time zone.';

CREATE FUNCTION internal.available_exams(p_student_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object(
                'id', e.id,
                'title', e.title,
                'description', e.description,
                'duration_minutes', e.duration_minutes,
                'opens_at', e.opens_at,
                'closes_at', e.closes_at,
                'max_attempts', e.max_attempts,
                'attempts_used', u.attempts_used,
                'is_open', e.opens_at <= now(),
                'attempt_in_progress', u.attempt_in_progress
            )
            ORDER BY e.opens_at, e.id
        ),
        '[]'::jsonb
    )
    FROM app.exams AS e
    CROSS JOIN LATERAL (
        SELECT
            count(*) AS attempts_used,
            (array_agg(a.id) FILTER (
                WHERE a.status = 'in_progress'
                AND now() <= a.deadline + make_interval(secs => e.grace_seconds)
            ))[1] AS attempt_in_progress
        FROM app.exam_attempts AS a
        WHERE a.exam_id = e.id AND a.student_id = p_student_id
    ) AS u
    WHERE e.published AND e.closes_at > now();
$$;

ALTER FUNCTION internal.available_exams(p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.available_exams(p_student_id uuid) IS 'Published exams open now or later with the student''s attempts_used and attempt in progress, as JSON; under the caller''s RLS.';

CREATE FUNCTION internal.builtin_analysis_rules() RETURNS TABLE(code text, label text, severity smallint, timed boolean, penalty_per_percent numeric, penalty_per_occurrence numeric, penalty_cap numeric, weight_per_percent numeric, weight_per_occurrence numeric, weight_cap numeric)
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT
        r.code, r.label, r.severity::smallint, r.timed,
        r.pp, r.po, r.pc, r.wp, r.wo, r.wc
    FROM (
        VALUES
        ('paste_before_correct_answer', 'paste right before a correct short-text answer',
            3, FALSE, 0, 20, 40, 0, 0.5, 0.9),
        ('multiple_faces', 'more than one face in front of the camera',
            3, FALSE, 0, 10, 30, 0, 0.3, 0.8),
        ('devtools_open', 'developer tools opened',
            3, FALSE, 0, 15, 30, 0, 0.35, 0.7),
        ('face_missing', 'no face in front of the camera',
            3, TRUE, 0.75, 2, 30, 0.0125, 0.05, 0.6),
        ('paste', 'text pasted',
            3, FALSE, 0, 5, 20, 0, 0.1, 0.4),
        ('tab_hidden', 'exam tab hidden',
            2, TRUE, 1, 1, 40, 0.015, 0.03, 0.6),
        ('gaze_away', 'eyes away from the screen',
            2, TRUE, 0.75, 0, 30, 0.0125, 0, 0.5),
        ('fullscreen_exit', 'full screen left',
            2, TRUE, 0.5, 1, 20, 0.0075, 0.02, 0.3),
        ('unobserved', 'no sign of the monitoring module for over 60 s',
            2, TRUE, 0.6, 0, 30, 0.008, 0, 0.4),
        ('copy', 'text copied',
            2, FALSE, 0, 2, 10, 0, 0.05, 0.2),
        ('window_blur', 'exam window out of focus',
            1, TRUE, 0.5, 0.5, 20, 0.0075, 0.01, 0.3),
        ('network_offline', 'network lost',
            1, TRUE, 0.3, 0.5, 15, 0.004, 0.01, 0.2),
        ('unusual_pause', 'unusually long pause',
            1, FALSE, 0, 2, 10, 0, 0.05, 0.2)
    ) AS r (code, label, severity, timed, pp, po, pc, wp, wo, wc);
$$;

ALTER FUNCTION internal.builtin_analysis_rules() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.builtin_analysis_rules() IS 'The built-in analyser''s flag codes with their severity and weights (docs/analysis.md): penalty = least(penalty_cap, penalty_per_percent * percent + penalty_per_occurrence * count), weight likewise; integrity = greatest(0, 100 - sum(penalty)), lmi = 1 - product(1 - weight).';

CREATE FUNCTION internal.can_access_exam(p_exam_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE internal.current_app_role()
        WHEN 'admin' THEN EXISTS (SELECT FROM app.exams AS e WHERE e.id = p_exam_id)
        WHEN 'teacher' THEN internal.teacher_can_access_exam(p_exam_id)
        WHEN 'student' THEN EXISTS (
            SELECT FROM app.exams AS e WHERE e.id = p_exam_id AND e.published
        )
        ELSE FALSE
    END;
$$;

ALTER FUNCTION internal.can_access_exam(p_exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.can_access_exam(p_exam_id uuid) IS 'True when the caller may access the exam: admin any, teacher created or granted, student published.';

CREATE FUNCTION internal.can_access_student_data(p_student_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE internal.current_app_role()
        WHEN 'admin' THEN EXISTS (
            SELECT FROM app.student_profiles AS s WHERE s.user_id = p_student_id
        )
        WHEN 'teacher' THEN internal.teacher_can_see_student(p_student_id)
        WHEN 'student' THEN p_student_id = internal.current_user_id()
        ELSE FALSE
    END;
$$;

ALTER FUNCTION internal.can_access_student_data(p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.can_access_student_data(p_student_id uuid) IS 'True when the caller may see the student''s data: admin any student, teacher students of their exams, a student themself.';

CREATE FUNCTION internal.citus_distribute() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_table regclass;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF internal.citus_distributed('app.monitoring_events'::regclass) THEN
        RETURN;
    END IF;
    ALTER TABLE app.monitoring_events DROP CONSTRAINT IF EXISTS monitoring_events_attempt_id_fkey;
    FOR v_table IN
        SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
        UNION ALL
        SELECT 'app.monitoring_events'::regclass
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS _500_audit_update ON %s', v_table);
        EXECUTE format('DROP TRIGGER IF EXISTS _500_audit_delete ON %s', v_table);
        EXECUTE format('DROP TRIGGER IF EXISTS _500_audit_truncate ON %s', v_table);
    END LOOP;
    -- Copies the rows already there to the shards (docs/scaling.md: moving an
    -- existing database), with COPY, which PostgreSQL refuses on a table
    -- whose row policies apply to the writer: the owner, under FORCE. So
    -- FORCE is off (the shards are made without it) until the rows are in,
    -- then back on, on every shard, in this one transaction.
    PERFORM internal.citus_force_event_policies(FALSE);
    EXECUTE format('SELECT %s(%L, %L)', 'create_distributed_table', 'app.monitoring_events',
        'attempt_id');
    PERFORM internal.citus_force_event_policies(TRUE);
END;
$$;

ALTER FUNCTION internal.citus_distribute() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.citus_distribute() IS 'Citus mode: distributes app.monitoring_events by attempt_id (once; nothing without the citus extension). Called by veritas db migrate as the owner.';

CREATE FUNCTION internal.citus_distributed(p_table regclass) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_found boolean;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN FALSE;
    END IF;
    -- dynamic: the catalog exists only with the extension (and plpgsql_check,
    -- which reads a constant query string, runs without it)
    EXECUTE format(
        'SELECT EXISTS (SELECT FROM %s WHERE logicalrelid = $1 AND partmethod = %L)',
        'pg_catalog.pg_dist_partition', 'h'
    )
    INTO v_found
    USING p_table;
    RETURN v_found;
END;
$_$;

ALTER FUNCTION internal.citus_distributed(p_table regclass) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.citus_distributed(p_table regclass) IS 'Whether Citus hash-distributes this table (false without the citus extension). Owner only.';

CREATE FUNCTION internal.citus_force_event_policies(p_force boolean) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN
        SELECT 'app.monitoring_events'::regclass
        UNION ALL
        SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits AS i
        WHERE i.inhparent = 'app.monitoring_events'::regclass
    LOOP
        -- one statement per EXECUTE: Citus sends a DDL's text to the workers
        EXECUTE format(
            'ALTER TABLE %s %s ROW LEVEL SECURITY', v_table,
            CASE WHEN p_force THEN 'FORCE' ELSE 'NO FORCE' END
        );
    END LOOP;
END;
$$;

ALTER FUNCTION internal.citus_force_event_policies(p_force boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.citus_force_event_policies(p_force boolean) IS 'FORCE (or NO FORCE) row-level security on the events and each partition: lifted while rows are copied in with COPY (internal.citus_distribute; veritas seed scale). Owner only.';

CREATE FUNCTION internal.close_attempts(p_attempt_ids uuid[], p_status app.attempt_status) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_closed uuid[];
    v_students uuid[];
BEGIN
    IF p_status NOT IN ('submitted', 'expired', 'abandoned') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'an attempt closes as submitted, expired or abandoned';
    END IF;

    IF p_status <> 'abandoned' THEN
        UPDATE app.attempt_answers AS aa
        SET points_awarded = internal.grade_answer(q.value, aa.answer)
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL jsonb_array_elements(a.scored_against) AS q (value)
        WHERE
            a.id = ANY (p_attempt_ids)
            AND a.status = 'in_progress'
            AND aa.attempt_id = a.id
            AND (q.value ->> 'id')::uuid = aa.question_id
            -- Answers stored graded by the submit itself are not written again.
            AND aa.points_awarded IS DISTINCT FROM internal.grade_answer(q.value, aa.answer);
    END IF;

    WITH closed AS (
        UPDATE app.exam_attempts AS a SET
            status = p_status,
            finished_at = CASE
                WHEN p_status = 'expired' THEN a.deadline
                ELSE greatest(now(), a.started_at)
            END,
            max_score = (
                SELECT coalesce(sum((q.value ->> 'points')::numeric), 0)
                FROM jsonb_array_elements(a.scored_against) AS q (value)
            ),
            score = CASE
                WHEN p_status <> 'abandoned' THEN (
                    SELECT coalesce(sum(aa.points_awarded), 0)
                    FROM app.attempt_answers AS aa
                    WHERE aa.attempt_id = a.id
                )
            END
        WHERE a.id = ANY (p_attempt_ids) AND a.status = 'in_progress'
        RETURNING a.id, a.student_id
    )
    SELECT array_agg(c.id), array_agg(DISTINCT c.student_id)
    INTO v_closed, v_students
    FROM closed AS c;

    IF v_closed IS NULL THEN
        RETURN 0;
    END IF;

    IF p_status <> 'abandoned' THEN
        INSERT INTO app.analysis_jobs (attempt_id, kind)
        SELECT x.id, 'analyse_attempt' FROM unnest(v_closed) AS x (id)
        ON CONFLICT (attempt_id, kind) WHERE status IN ('queued', 'running', 'failed') DO NOTHING;
        PERFORM pg_notify('veritas_jobs', 'analyse_attempt');
        PERFORM internal.refresh_student_metrics(v_students);
    END IF;
    RETURN cardinality(v_closed);
END
$$;

ALTER FUNCTION internal.close_attempts(p_attempt_ids uuid[], p_status app.attempt_status) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.close_attempts(p_attempt_ids uuid[], p_status app.attempt_status) IS 'Close locked in_progress attempts as submitted, expired (finished_at = deadline) or abandoned: grade on saved answers against the snapshot, queue analyse_attempt jobs, NOTIFY veritas_jobs, refresh the students'' statistics. Internal: no role may call it directly.';

CREATE FUNCTION internal.count_closed_attempts(p_from timestamp with time zone, p_to timestamp with time zone, p_at timestamp with time zone) RETURNS uuid[]
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_exam_ids uuid[];
BEGIN
    IF p_from IS NULL THEN
        DELETE FROM app.counted_attempts;
        DELETE FROM app.exam_event_counts;
        INSERT INTO app.counted_attempts (attempt_id, exam_id, events, counted_at)
        SELECT a.id, a.exam_id, coalesce(e.events, 0), p_at
        FROM app.exam_attempts AS a
        LEFT JOIN (
            SELECT m.attempt_id, count(*)::integer AS events
            FROM app.monitoring_events AS m
            GROUP BY m.attempt_id
        ) AS e ON a.id = e.attempt_id
        WHERE a.status <> 'in_progress' AND a.updated_at < p_to;
        -- Its statistics, for the plans of the statements below and of the
        -- next passes (the table was just rewritten).
        ANALYZE app.counted_attempts;
        INSERT INTO app.exam_event_counts (exam_id, event_type, settled_events, events)
        SELECT m.exam_id, m.event_type, count(*), count(*)
        FROM app.monitoring_events AS m
        INNER JOIN app.counted_attempts AS c ON m.attempt_id = c.attempt_id
        GROUP BY m.exam_id, m.event_type;
        RETURN ARRAY(SELECT DISTINCT c.exam_id FROM app.counted_attempts AS c);
    END IF;

    WITH closed AS MATERIALIZED (
        SELECT a.id, a.exam_id, a.started_at
        FROM app.exam_attempts AS a
        WHERE
            a.updated_at >= p_from AND a.updated_at < p_to
            AND a.status <> 'in_progress'
            AND NOT EXISTS (SELECT FROM app.counted_attempts AS c WHERE c.attempt_id = a.id)
    ),

    -- The partition key beside attempt_id: each attempt's own partition only.
    per_type AS MATERIALIZED (
        SELECT c.id, c.exam_id, m.event_type, count(*) AS events
        FROM closed AS c
        INNER JOIN app.monitoring_events AS m
            ON m.attempt_id = c.id AND m.attempt_started_at = c.started_at
        GROUP BY c.id, c.exam_id, m.event_type
    ),

    counted AS (
        INSERT INTO app.counted_attempts (attempt_id, exam_id, events, counted_at)
        SELECT c.id, c.exam_id, coalesce(t.events, 0), p_at
        FROM closed AS c
        LEFT JOIN (
            SELECT p.id, sum(p.events)::integer AS events FROM per_type AS p GROUP BY p.id
        ) AS t ON c.id = t.id
        RETURNING exam_id
    ),

    added AS (
        INSERT INTO app.exam_event_counts AS x (exam_id, event_type, settled_events, events)
        SELECT p.exam_id, p.event_type, sum(p.events), sum(p.events)
        FROM per_type AS p
        GROUP BY p.exam_id, p.event_type
        ON CONFLICT (exam_id, event_type) DO UPDATE SET
            settled_events = x.settled_events + excluded.settled_events,
            events = greatest(x.events, x.settled_events + excluded.settled_events)
        RETURNING x.exam_id
    )

    SELECT array_agg(DISTINCT e.exam_id)
    INTO v_exam_ids
    FROM (SELECT c.exam_id FROM counted AS c UNION ALL SELECT a.exam_id FROM added AS a) AS e;
    RETURN coalesce(v_exam_ids, '{}');
END
$$;

ALTER FUNCTION internal.count_closed_attempts(p_from timestamp with time zone, p_to timestamp with time zone, p_at timestamp with time zone) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.count_closed_attempts(p_from timestamp with time zone, p_to timestamp with time zone, p_at timestamp with time zone) IS 'Add the events of the closed attempts written in [p_from, p_to) and not counted yet to app.exam_event_counts.settled_events, once each (app.counted_attempts). Returns the exams concerned.';

CREATE FUNCTION internal.create_event_partitions(p_months_ahead integer DEFAULT 3) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_month date;
    v_next date;
    v_name text;
    v_option record;
    v_citus constant boolean := internal.citus_distributed('app.monitoring_events'::regclass);
    v_parked app.monitoring_events[] := '{}'::app.monitoring_events[];
    v_event app.monitoring_events;
BEGIN
    IF p_months_ahead NOT BETWEEN 0 AND 24 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 24, not %', p_months_ahead
            USING ERRCODE = '22023';
    END IF;
    IF v_citus THEN
        -- One connection per worker for the whole transaction: attaching
        -- (distributing) a partition over several would deadlock with the
        -- shards this transaction already touched.
        PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', TRUE);
    END IF;
    FOR v_month IN
        SELECT generate_series(
            date_trunc('month', now() AT TIME ZONE 'UTC'),
            date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => p_months_ahead),
            interval '1 month'
        )::date
    LOOP
        v_name := internal.event_partition_name(v_month);
        CONTINUE WHEN to_regclass('app.' || v_name) IS NOT NULL;
        v_next := (v_month + interval '1 month')::date;
        EXECUTE format(
            'CREATE TABLE app.%I (LIKE app.monitoring_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
            v_name
        );
        FOR v_option IN
            SELECT split_part(o.item, '=', 1) AS name, substr(o.item, strpos(o.item, '=') + 1) AS value
            FROM pg_catalog.pg_class AS c
            CROSS JOIN LATERAL unnest(c.reloptions) AS o (item)
            WHERE c.oid = 'app.monitoring_events_default'::regclass
        LOOP
            EXECUTE format('ALTER TABLE app.%I SET (%I = %L)', v_name, v_option.name, v_option.value);
        END LOOP;
        IF NOT v_citus THEN
            EXECUTE format(
                'WITH moved AS (DELETE FROM app.monitoring_events_default
                     WHERE attempt_started_at >= %L::timestamptz AND attempt_started_at < %L::timestamptz
                     RETURNING *)
                 INSERT INTO app.%I SELECT * FROM moved',
                v_month::timestamp AT TIME ZONE 'UTC', v_next::timestamp AT TIME ZONE 'UTC', v_name
            );
        ELSE
            -- Citus (sql/functions/deploy/citus.sql): the new table becomes a
            -- distributed partition when attached, and rows it held before are
            -- not carried over; the parked events leave the default partition
            -- first and are recorded again once it is attached, one INSERT
            -- each (few: only attempts started beyond the months made ahead).
            EXECUTE format(
                'WITH moved AS (DELETE FROM app.monitoring_events_default
                     WHERE attempt_started_at >= %L::timestamptz AND attempt_started_at < %L::timestamptz
                     RETURNING *)
                 SELECT coalesce(array_agg(moved::app.monitoring_events), ''{}'') FROM moved',
                v_month::timestamp AT TIME ZONE 'UTC', v_next::timestamp AT TIME ZONE 'UTC'
            ) INTO v_parked;
        END IF;
        EXECUTE format(
            'ALTER TABLE app.monitoring_events ATTACH PARTITION app.%I
                 FOR VALUES FROM (%L) TO (%L)',
            v_name, v_month::timestamp AT TIME ZONE 'UTC', v_next::timestamp AT TIME ZONE 'UTC'
        );
        FOREACH v_event IN ARRAY v_parked LOOP
            INSERT INTO app.monitoring_events VALUES (v_event.*);
        END LOOP;
        v_parked := '{}'::app.monitoring_events[];
        EXECUTE format('ALTER TABLE app.%I ENABLE ROW LEVEL SECURITY', v_name);
        EXECUTE format('ALTER TABLE app.%I FORCE ROW LEVEL SECURITY', v_name);
        -- Any UPDATE, DELETE or TRUNCATE aimed at the partition is audited
        -- (sql/functions/audit/event_triggers.sql).
        PERFORM internal.audit_event_partition(format('app.%I', v_name)::regclass);
        EXECUTE format(
            'COMMENT ON TABLE app.%I IS %L', v_name,
            'Monthly partition of app.monitoring_events (attempts started in '
            || to_char(v_month, 'YYYY-MM') || ').'
        );
        RETURN NEXT v_name;
    END LOOP;
END;
$$;

ALTER FUNCTION internal.create_event_partitions(p_months_ahead integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.create_event_partitions(p_months_ahead integer) IS 'Creates the missing monthly partitions of app.monitoring_events from this month to p_months_ahead months ahead, with the default partition''s storage parameters; returns their names.';

CREATE FUNCTION internal.create_user(p_email text, p_password_hash text, p_full_name text, p_role auth.user_role, p_department text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_role IS NULL THEN
        RAISE EXCEPTION 'role must be one of student, teacher, admin, integration'
            USING ERRCODE = 'not_null_violation';
    END IF;
    BEGIN
        INSERT INTO auth.users (email, password_hash, full_name, role)
        VALUES (p_email, p_password_hash, p_full_name, p_role)
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'an account with this email already exists'
            USING ERRCODE = 'unique_violation';
    END;
    IF p_role = 'student' THEN
        INSERT INTO app.student_profiles (user_id) VALUES (v_id);
        INSERT INTO app.performance_metrics (student_id) VALUES (v_id);
    ELSIF p_role IN ('teacher', 'admin') THEN
        INSERT INTO app.teacher_profiles (user_id, department) VALUES (v_id, p_department);
    END IF;
    RETURN jsonb_build_object(
        'id', v_id, 'email', p_email, 'full_name', p_full_name, 'role', p_role
    );
END;
$$;

ALTER FUNCTION internal.create_user(p_email text, p_password_hash text, p_full_name text, p_role auth.user_role, p_department text) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.create_user(p_email text, p_password_hash text, p_full_name text, p_role auth.user_role, p_department text) IS 'Creates a user of any role with the right profile rows; the user as JSON. For admins (POST /admin/users, under RLS) and the DBA.';

CREATE FUNCTION internal.current_app_role() RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_role constant text := internal.jwt_claims() ->> 'role';
BEGIN
    IF v_role = current_setting('role', true)
        AND v_role IN ('student', 'teacher', 'admin', 'integration')
    THEN
        RETURN v_role;
    END IF;
    RETURN NULL;
END;
$$;

ALTER FUNCTION internal.current_app_role() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.current_app_role() IS 'The caller''s application role (role claim: student, teacher, admin, integration); NULL unless it is the database role in effect.';

CREATE FUNCTION internal.current_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_claims constant jsonb := internal.jwt_claims();
    v_sub constant text := v_claims ->> 'sub';
BEGIN
    IF v_claims ->> 'role' = current_setting('role', true)
        AND v_sub ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    THEN
        RETURN v_sub::uuid;
    END IF;
    RETURN NULL;
END;
$_$;

ALTER FUNCTION internal.current_user_id() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.current_user_id() IS 'The caller''s user id (sub claim); NULL unless the role claim is the database role in effect. Write (SELECT internal.current_user_id()) in policies.';

CREATE FUNCTION internal.disclosure_viewer_name(p_viewer_id uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u.full_name
    FROM auth.users AS u
    WHERE
        u.id = p_viewer_id
        AND EXISTS (
            SELECT FROM audit.disclosures AS d
            WHERE d.viewer_id = p_viewer_id AND d.student_id = internal.current_user_id()
        );
$$;

ALTER FUNCTION internal.disclosure_viewer_name(p_viewer_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.disclosure_viewer_name(p_viewer_id uuid) IS 'Full name of a user who was shown the calling student''s records; NULL for anyone else.';

CREATE FUNCTION internal.drop_policies(VARIADIC p_tables regclass[]) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_policy record;
    v_count integer := 0;
BEGIN
    FOR v_policy IN
        SELECT p.polname, p.polrelid::regclass AS rel
        FROM pg_catalog.pg_policy AS p
        WHERE p.polrelid = ANY (p_tables)
    LOOP
        EXECUTE format('DROP POLICY %I ON %s', v_policy.polname, v_policy.rel);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;

ALTER FUNCTION internal.drop_policies(VARIADIC p_tables regclass[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.drop_policies(VARIADIC p_tables regclass[]) IS 'Deploy helper: drops every policy of the given tables (the policies files then re-create theirs).';

CREATE FUNCTION internal.event_partition_name(p_month date) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT 'monitoring_events_p' || to_char(p_month, 'YYYYMM');
$$;

ALTER FUNCTION internal.event_partition_name(p_month date) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.event_partition_name(p_month date) IS 'Name of the monthly partition of app.monitoring_events holding attempts started in that month.';

CREATE FUNCTION internal.event_problem(p_event jsonb, p_types text[]) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE
        WHEN jsonb_typeof(p_event) <> 'object' THEN 'must be an object'
        WHEN jsonb_typeof(p_event -> 'attempt_id') IS DISTINCT FROM 'string'
            THEN 'attempt_id is required'
        WHEN jsonb_typeof(p_event -> 'event_type') IS DISTINCT FROM 'string'
            THEN 'event_type is required'
        WHEN NOT (p_event ->> 'event_type') = ANY (p_types)
            THEN format(
                'unknown event_type %s; the event types are %s',
                to_json(p_event ->> 'event_type'), array_to_string(p_types, ', ')
            )
        WHEN jsonb_typeof(p_event -> 'occurred_at') IS DISTINCT FROM 'string'
            THEN 'occurred_at is required (an RFC 3339 time)'
        WHEN p_event ? 'payload' AND jsonb_typeof(p_event -> 'payload') NOT IN ('object', 'null')
            THEN 'payload must be an object'
        WHEN
            p_event ? 'client_event_id'
            AND jsonb_typeof(p_event -> 'client_event_id') NOT IN ('string', 'null')
            THEN 'client_event_id must be a string'
        WHEN length(p_event ->> 'client_event_id') NOT BETWEEN 1 AND 128
            THEN 'client_event_id must have 1 to 128 characters'
    END;
$$;

ALTER FUNCTION internal.event_problem(p_event jsonb, p_types text[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.event_problem(p_event jsonb, p_types text[]) IS 'What is wrong with the shape of one event (a message naming the field), or NULL.';

CREATE FUNCTION internal.events_inserted() RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_total bigint;
BEGIN
    IF internal.citus_distributed('app.monitoring_events'::regclass) THEN
        -- dynamic: run_command_on_workers exists only with the extension
        EXECUTE format(
            'SELECT coalesce(sum(w.result::bigint), 0) FROM %s(%L) AS w WHERE w.success',
            'run_command_on_workers',
            'SELECT coalesce(sum(n_tup_ins), 0) FROM pg_catalog.pg_stat_user_tables '
            || 'WHERE schemaname = ''app'' AND relname LIKE ''monitoring\_events\_%'''
        )
        INTO v_total;
        RETURN v_total;
    END IF;
    SELECT coalesce(sum(t.n_tup_ins), 0)::bigint
    INTO v_total
    FROM pg_catalog.pg_stat_user_tables AS t
    INNER JOIN pg_catalog.pg_inherits AS i ON t.relid = i.inhrelid
    WHERE i.inhparent = 'app.monitoring_events'::regclass;
    RETURN v_total;
END;
$$;

ALTER FUNCTION internal.events_inserted() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.events_inserted() IS 'Monitoring events inserted since the statistics were last reset (on Citus, counted on the workers). Owner only, for internal.operational_metrics.';

CREATE FUNCTION internal.exam_document(p_exam_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'id', e.id,
        'title', e.title,
        'description', e.description,
        'created_by', e.created_by,
        'duration_minutes', e.duration_minutes,
        'opens_at', e.opens_at,
        'closes_at', e.closes_at,
        'max_attempts', e.max_attempts,
        'grading_method', e.grading_method,
        'grace_seconds', e.grace_seconds,
        'shuffle_questions', e.shuffle_questions,
        'shuffle_options', e.shuffle_options,
        'published', e.published,
        'created_at', e.created_at,
        'updated_at', e.updated_at,
        'max_score', coalesce(q.max_score, 0),
        'questions', coalesce(q.questions, '[]'::jsonb)
    )
    FROM app.exams AS e
    LEFT JOIN LATERAL (
        SELECT
            sum(qq.points) AS max_score,
            jsonb_agg(
                jsonb_build_object(
                    'id', qq.id,
                    'position', qq.position,
                    'kind', qq.kind,
                    'prompt', qq.prompt,
                    'options', qq.options,
                    'correct', qq.correct,
                    'tolerance', qq.tolerance,
                    'points', qq.points,
                    'version', qq.version
                )
                ORDER BY qq.position
            ) AS questions
        FROM app.questions AS qq
        WHERE qq.exam_id = e.id
    ) AS q ON TRUE
    WHERE e.id = p_exam_id;
$$;

ALTER FUNCTION internal.exam_document(p_exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.exam_document(p_exam_id uuid) IS 'A teacher''s view of an exam with its questions and answer key, under RLS (NULL when not visible).';

CREATE FUNCTION internal.expire_overdue_attempts(p_limit integer DEFAULT 1000, p_student_id uuid DEFAULT NULL::uuid, p_exam_id uuid DEFAULT NULL::uuid, p_attempt_id uuid DEFAULT NULL::uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_ids uuid[];
BEGIN
    SELECT array_agg(o.id)
    INTO v_ids
    FROM (
        SELECT a.id
        FROM app.exam_attempts AS a
        INNER JOIN app.exams AS e ON e.id = a.exam_id
        WHERE
            a.status = 'in_progress'
            AND a.deadline < now()
            AND now() > a.deadline + make_interval(secs => e.grace_seconds)
            AND (p_student_id IS NULL OR a.student_id = p_student_id)
            AND (p_exam_id IS NULL OR a.exam_id = p_exam_id)
            AND (p_attempt_id IS NULL OR a.id = p_attempt_id)
        ORDER BY a.deadline
        LIMIT greatest(coalesce(p_limit, 1000), 0)
        FOR UPDATE OF a SKIP LOCKED
    ) AS o;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    RETURN internal.close_attempts(v_ids, 'expired');
END
$$;

ALTER FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) IS 'Expiry sweep (SKIP LOCKED, any number at once): close as expired the attempts in progress past deadline + grace, graded on saved answers, finished_at = deadline; queues their analysis and refreshes statistics. Optional filters (student, exam, attempt) serve lazy expiry on reads. Returns how many it closed. Only ever closes what is overdue, so every reader may call it.';

CREATE FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(
        jsonb_agg(
            jsonb_build_object('id', t.id, 'full_name', t.full_name, 'email', t.email)
            ORDER BY lower(t.full_name), lower(t.email)
        ),
        '[]'::jsonb
    )
    FROM (
        SELECT u.id, u.full_name, u.email
        FROM auth.users AS u
        WHERE
            u.role = 'teacher'
            AND u.is_active
            AND u.id IS DISTINCT FROM internal.current_user_id()
            -- the caller's claims must be a teacher's or an admin's: a login
            -- that switches to the role without them finds nobody
            AND internal.current_app_role() IN ('teacher', 'admin')
            AND (
                p_pattern IS NULL
                OR lower(u.email) LIKE p_pattern
                OR lower(u.full_name) LIKE p_pattern
            )
        ORDER BY lower(u.full_name), lower(u.email)
        LIMIT p_limit
    ) AS t;
$$;

ALTER FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer) IS 'Other active teachers whose name or email matches the LIKE pattern (NULL: all), [{id, full_name, email}], at most p_limit: a teacher''s staff directory (api.find_teachers). Nothing else of a teacher''s row.';

CREATE FUNCTION internal.grade_answer(p_question jsonb, p_answer jsonb) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_points numeric := coalesce((p_question ->> 'points')::numeric, 0);
    v_correct jsonb := p_question -> 'correct';
    v_fraction numeric := 0;
    v_right integer;
    v_wrong integer;
    v_expected integer;
BEGIN
    IF p_answer IS NULL OR p_answer = 'null'::jsonb THEN
        RETURN 0;
    END IF;
    CASE p_question ->> 'kind'
        WHEN 'single_choice', 'true_false' THEN
            IF jsonb_typeof(p_answer) = jsonb_typeof(v_correct) AND p_answer = v_correct THEN
                v_fraction := 1;
            END IF;
        WHEN 'multiple_choice' THEN
            -- Right choices minus wrong choices, over the number of right
            -- options, floored at 0: ticking everything earns nothing more
            -- than it should.
            IF jsonb_typeof(p_answer) = 'array' AND jsonb_typeof(v_correct) = 'array' THEN
                SELECT
                    count(*) FILTER (WHERE v_correct @> jsonb_build_array(s.value)),
                    count(*) FILTER (WHERE NOT v_correct @> jsonb_build_array(s.value))
                INTO v_right, v_wrong
                FROM (
                    SELECT DISTINCT x.value FROM jsonb_array_elements(p_answer) AS x (value)
                ) AS s;
                SELECT count(DISTINCT c.value) INTO v_expected
                FROM jsonb_array_elements(v_correct) AS c (value);
                IF v_expected > 0 THEN
                    v_fraction := greatest(0, v_right - v_wrong)::numeric / v_expected;
                END IF;
            END IF;
        WHEN 'numeric' THEN
            IF jsonb_typeof(p_answer) = 'number' AND jsonb_typeof(v_correct) = 'number'
                AND abs((p_answer #>> '{}')::numeric - (v_correct #>> '{}')::numeric)
                <= coalesce((p_question ->> 'tolerance')::numeric, 0) THEN
                v_fraction := 1;
            END IF;
        WHEN 'short_text' THEN
            IF jsonb_typeof(p_answer) = 'string' AND EXISTS (
                SELECT FROM jsonb_array_elements_text(
                    CASE
                        WHEN jsonb_typeof(v_correct) = 'array' THEN v_correct
                        ELSE jsonb_build_array(v_correct)
                    END
                ) AS a (accepted)
                WHERE internal.normalise_answer_text(a.accepted)
                    = internal.normalise_answer_text(p_answer #>> '{}')
            ) THEN
                v_fraction := 1;
            END IF;
        ELSE
            v_fraction := 0;
    END CASE;
    -- Never more than the question's points, whatever the rounding.
    RETURN trim_scale(least(v_points, round(v_points * v_fraction, 2)));
END
$$;

ALTER FUNCTION internal.grade_answer(p_question jsonb, p_answer jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.grade_answer(p_question jsonb, p_answer jsonb) IS 'Points earned by an answer against a snapshot question (docs/exams.md: exact match, partial credit for multiple_choice, tolerance for numeric, normalised short_text), rounded to 2 decimals.';

CREATE FUNCTION internal.grading_method_of(p_name text) RETURNS app.grading_method
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF p_name IS NULL OR p_name <> ALL (enum_range(NULL::app.grading_method)::text[]) THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format(
                'grading_method must be one of %s',
                array_to_string(enum_range(NULL::app.grading_method), ', ')
            );
    END IF;
    RETURN p_name::app.grading_method;
END
$$;

ALTER FUNCTION internal.grading_method_of(p_name text) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.grading_method_of(p_name text) IS 'The app.grading_method named by a client, or 22023 naming the accepted values.';

CREATE FUNCTION internal.issue_service_token(p_user_id uuid, p_label text, p_lifetime_days integer DEFAULT 90) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_actor constant uuid := internal.current_user_id();
    v_user record;
    v_jti uuid;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'only an admin issues service tokens' USING ERRCODE = '42501';
    END IF;
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'user_id is required' USING ERRCODE = '22023';
    END IF;
    IF p_label IS NULL OR btrim(p_label) = '' OR length(p_label) > 200 THEN
        RAISE EXCEPTION 'label must have 1 to 200 characters (what the token is for)'
            USING ERRCODE = '22023';
    END IF;
    IF p_lifetime_days IS NULL OR p_lifetime_days NOT BETWEEN 1 AND 365 THEN
        RAISE EXCEPTION 'lifetime_days must be between 1 and 365' USING ERRCODE = '22023';
    END IF;

    SELECT u.id, u.email, u.role, u.is_active INTO v_user
    FROM auth.users AS u
    WHERE u.id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such user' USING ERRCODE = 'VT404';
    END IF;
    IF v_user.role <> 'integration' THEN
        RAISE EXCEPTION 'service tokens are for integration accounts, and this user is a %',
            v_user.role
            USING ERRCODE = '22023';
    END IF;
    IF NOT v_user.is_active THEN
        RAISE EXCEPTION 'the account is disabled' USING ERRCODE = 'VT409';
    END IF;

    INSERT INTO auth.service_tokens (user_id, label, issued_by, expires_at)
    VALUES (p_user_id, p_label, v_actor, now() + make_interval(days => p_lifetime_days))
    RETURNING jti INTO v_jti;
    RETURN internal.service_token_document(v_jti);
END;
$$;

ALTER FUNCTION internal.issue_service_token(p_user_id uuid, p_label text, p_lifetime_days integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.issue_service_token(p_user_id uuid, p_label text, p_lifetime_days integer) IS 'Admin: records a service token for an active integration account (lifetime 1 to 365 days, default 90) and returns its jti, issued_at and expires_at for the glue to sign.';

CREATE FUNCTION internal.jwt_claims() RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_raw text := current_setting('request.jwt.claims', true);
    v_claims jsonb;
BEGIN
    IF v_raw IS NULL OR v_raw = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v_claims := v_raw::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN NULL;
    END;
    IF jsonb_typeof(v_claims) <> 'object' THEN
        RETURN NULL;
    END IF;
    RETURN v_claims;
END;
$$;

ALTER FUNCTION internal.jwt_claims() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.jwt_claims() IS 'The request''s JWT claims (request.jwt.claims) as a jsonb object; NULL when absent or invalid.';

CREATE FUNCTION internal.last_seal(p_chain text, OUT high_water bigint, OUT pending bigint) RETURNS record
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(max(s.high_water), 0), coalesce(max(cardinality(s.pending_ids)), 0)
    FROM (
        SELECT se.high_water, se.pending_ids
        FROM audit.seals AS se
        WHERE se.chain = p_chain
        ORDER BY se.seal_no DESC
        LIMIT 1
    ) AS s;
$$;

ALTER FUNCTION internal.last_seal(p_chain text, OUT high_water bigint, OUT pending bigint) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.last_seal(p_chain text, OUT high_water bigint, OUT pending bigint) IS 'The newest seal of an audit chain: its high_water and how many ids it left pending (0, 0 before the first seal).';

CREATE FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid DEFAULT NULL::uuid, p_attempt_id uuid DEFAULT NULL::uuid) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF current_setting('transaction_read_only') = 'on' THEN
        RETURN 0;
    END IF;
    RETURN internal.expire_overdue_attempts(
        p_student_id => p_student_id, p_exam_id => p_exam_id, p_attempt_id => p_attempt_id
    );
END
$$;

ALTER FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) IS 'Expire the overdue attempts a read is about, unless the transaction is read-only.';

CREATE FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid DEFAULT NULL::uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) IS 'Records that the calling teacher or admin was shown a record of a student (record_kind: profile, monitoring_events or analysis; record_id: the student, the attempt or the analysis); 42501 for a record that is not the student''s or that the caller may not read. Nothing for other callers. Call it from VOLATILE functions only.';

CREATE FUNCTION internal.log_disclosures(p_student_ids uuid[], p_record_kind text, p_record_ids uuid[] DEFAULT NULL::uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION internal.log_disclosures(p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.log_disclosures(p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) IS 'internal.log_disclosure for many students at once (one row per distinct student and record). Call it from VOLATILE functions only.';

CREATE FUNCTION internal.log_security_event(p_kind text, p_user_id uuid, p_email text DEFAULT NULL::text, p_client_addr inet DEFAULT NULL::inet, p_details jsonb DEFAULT '{}'::jsonb) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO audit.security_events (kind, user_id, email, client_addr, details)
    VALUES (p_kind, p_user_id, left(p_email, 320), p_client_addr, coalesce(p_details, '{}'));
$$;

ALTER FUNCTION internal.log_security_event(p_kind text, p_user_id uuid, p_email text, p_client_addr inet, p_details jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.log_security_event(p_kind text, p_user_id uuid, p_email text, p_client_addr inet, p_details jsonb) IS 'Appends a security event (login_success, login_failure, refresh, logout, reuse_detected, lockout, role_change); owner only.';

CREATE FUNCTION internal.login_lookup(p_email text, p_client_addr inet) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_locked_until timestamptz;
    v_user jsonb;
BEGIN
    SELECT t.locked_until INTO v_locked_until
    FROM internal.login_throttle(p_email, p_client_addr) AS t;
    IF v_locked_until IS NOT NULL THEN
        RETURN jsonb_build_object(
            'retry_after', greatest(1, ceil(extract(EPOCH FROM v_locked_until - now())))::integer,
            'user', NULL
        );
    END IF;
    SELECT jsonb_build_object(
        'id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role,
        'password_hash', u.password_hash, 'is_active', u.is_active
    )
    INTO v_user
    FROM auth.users AS u
    WHERE lower(u.email) = lower(p_email);
    RETURN jsonb_build_object('retry_after', 0, 'user', v_user);
END;
$$;

ALTER FUNCTION internal.login_lookup(p_email text, p_client_addr inet) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.login_lookup(p_email text, p_client_addr inet) IS 'Login step 1 (anon): {retry_after (seconds, 0 when not locked), user: null | {id, email, full_name, role, password_hash, is_active}}; no user while locked.';

CREATE FUNCTION internal.login_record(p_email text, p_client_addr inet, p_user_id uuid, p_succeeded boolean, p_refresh_hash bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_email constant text := left(p_email, 320);
    v_family_id uuid;
    v_throttle record;
BEGIN
    IF p_succeeded IS NULL OR p_email IS NULL THEN
        RAISE EXCEPTION 'a login attempt needs an email and an outcome'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;

    INSERT INTO auth.login_attempts (email, client_addr, succeeded)
    VALUES (v_email, p_client_addr, p_succeeded);

    IF p_succeeded THEN
        IF p_user_id IS NULL OR p_refresh_hash IS NULL THEN
            RAISE EXCEPTION 'a successful login needs the user and a refresh token hash'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        PERFORM FROM auth.users AS u
        WHERE u.id = p_user_id AND lower(u.email) = lower(p_email) AND u.is_active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no active user has this id and email'
                USING ERRCODE = 'VT401';
        END IF;
        INSERT INTO auth.refresh_token_families (user_id)
        VALUES (p_user_id)
        RETURNING id INTO v_family_id;
        INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, expires_at)
        VALUES (v_family_id, p_user_id, p_refresh_hash, internal.refresh_token_expiry());
        PERFORM internal.log_security_event(
            'login_success', p_user_id, v_email, p_client_addr,
            jsonb_build_object('family_id', v_family_id)
        );
    ELSE
        PERFORM internal.log_security_event(
            'login_failure', p_user_id, v_email, p_client_addr, '{}'
        );
        SELECT * INTO v_throttle FROM internal.login_throttle(p_email, p_client_addr);
        IF v_throttle.email_failures = 5 THEN
            PERFORM internal.log_security_event(
                'lockout', p_user_id, v_email, p_client_addr,
                jsonb_build_object(
                    'scope', 'email', 'failures', 5, 'locked_until', v_throttle.locked_until
                )
            );
        END IF;
        IF v_throttle.addr_failures = 50 THEN
            PERFORM internal.log_security_event(
                'lockout', NULL, v_email, p_client_addr,
                jsonb_build_object(
                    'scope', 'client_addr', 'failures', 50, 'locked_until', v_throttle.locked_until
                )
            );
        END IF;
    END IF;
END;
$$;

ALTER FUNCTION internal.login_record(p_email text, p_client_addr inet, p_user_id uuid, p_succeeded boolean, p_refresh_hash bytea) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.login_record(p_email text, p_client_addr inet, p_user_id uuid, p_succeeded boolean, p_refresh_hash bytea) IS 'Login step 2 (anon): records the attempt and its security event; on success opens a refresh-token family with its first token (its hash from the glue, its expiry fixed here: internal.refresh_token_expiry()).';

CREATE FUNCTION internal.login_throttle(p_email text, p_client_addr inet, OUT email_failures integer, OUT addr_failures integer, OUT locked_until timestamp with time zone) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_window constant interval := interval '15 minutes';
    c_email_limit constant integer := 5;
    c_addr_limit constant integer := 50;
    v_since constant timestamptz := now() - c_window;
    v_email_since timestamptz;
    v_times timestamptz[];
BEGIN
    -- Failures of this email since its last success inside the window.
    SELECT greatest(v_since, max(la.attempted_at))
    INTO v_email_since
    FROM auth.login_attempts AS la
    WHERE lower(la.email) = lower(p_email) AND la.attempted_at > v_since AND la.succeeded;

    SELECT array_agg(f.attempted_at ORDER BY f.attempted_at DESC)
    INTO v_times
    FROM (
        SELECT la.attempted_at
        FROM auth.login_attempts AS la
        WHERE lower(la.email) = lower(p_email) AND la.attempted_at > v_email_since AND NOT la.succeeded
        ORDER BY la.attempted_at DESC
        LIMIT c_email_limit + 1
    ) AS f;
    email_failures := coalesce(cardinality(v_times), 0);
    IF email_failures >= c_email_limit THEN
        locked_until := v_times[c_email_limit] + c_window;
    END IF;

    -- Failures from this client address inside the window.
    addr_failures := 0;
    IF p_client_addr IS NOT NULL THEN
        SELECT array_agg(f.attempted_at ORDER BY f.attempted_at DESC)
        INTO v_times
        FROM (
            SELECT la.attempted_at
            FROM auth.login_attempts AS la
            WHERE la.client_addr = p_client_addr AND la.attempted_at > v_since AND NOT la.succeeded
            ORDER BY la.attempted_at DESC
            LIMIT c_addr_limit + 1
        ) AS f;
        addr_failures := coalesce(cardinality(v_times), 0);
        IF addr_failures >= c_addr_limit THEN
            locked_until := greatest(locked_until, v_times[c_addr_limit] + c_window);
        END IF;
    END IF;

    IF locked_until <= now() THEN
        locked_until := NULL;
    END IF;
END;
$$;

ALTER FUNCTION internal.login_throttle(p_email text, p_client_addr inet, OUT email_failures integer, OUT addr_failures integer, OUT locked_until timestamp with time zone) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.login_throttle(p_email text, p_client_addr inet, OUT email_failures integer, OUT addr_failures integer, OUT locked_until timestamp with time zone) IS 'Recent failed logins of an email (since its last success) and of a client address, and until when they are locked (NULL: not locked). Owner only.';

CREATE FUNCTION internal.logout(p_refresh_hash bytea DEFAULT NULL::bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_claims constant jsonb := internal.jwt_claims();
    v_user_id constant uuid := internal.current_user_id();
    v_jti constant text := v_claims ->> 'jti';
    v_exp constant text := v_claims ->> 'exp';
    v_family_id uuid;
BEGIN
    IF v_user_id IS NULL
        OR v_jti IS NULL
        OR v_jti !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        OR v_exp IS NULL
        OR v_exp !~ '^[0-9]{1,11}(\.[0-9]+)?$'
    THEN
        RAISE EXCEPTION 'the session has ended'
            USING ERRCODE = 'VT401', HINT = 'Log in again.';
    END IF;

    INSERT INTO auth.revoked_tokens (jti, user_id, expires_at)
    VALUES (v_jti::uuid, v_user_id, to_timestamp(v_exp::numeric))
    ON CONFLICT (jti) DO NOTHING;

    IF p_refresh_hash IS NOT NULL THEN
        UPDATE auth.refresh_token_families AS f
        SET revoked_at = now(), revoked_reason = 'logout'
        FROM auth.refresh_tokens AS t
        WHERE
            t.token_hash = p_refresh_hash
            AND t.user_id = v_user_id
            AND f.id = t.family_id
            AND f.revoked_at IS NULL
        RETURNING f.id INTO v_family_id;
    END IF;

    PERFORM internal.log_security_event(
        'logout', v_user_id, NULL, NULL,
        jsonb_build_object('jti', v_jti, 'family_id', v_family_id)
    );
END;
$_$;

ALTER FUNCTION internal.logout(p_refresh_hash bytea) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.logout(p_refresh_hash bytea) IS 'Logout: revokes the caller''s access token (jti) and, when given and the caller''s own, the refresh token''s family.';

CREATE FUNCTION internal.normalise_answer_text(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $_$
                SELECT lower(
                    regexp_replace(
                        regexp_replace(normalize(p_text, nfc), '^\s+|\s+$', '', 'g'),
                        '\s+', ' ', 'g'
                    ) COLLATE pg_catalog."und-x-icu"
                );
            $_$;

ALTER FUNCTION internal.normalise_answer_text(p_text text) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.normalise_answer_text(p_text text) IS 'short_text matching form of a text: NFC, trimmed, inner whitespace collapsed to one space, lower case (by a Unicode-aware collation when the server has one: ICU root, pg_c_utf8 or C.UTF-8).';

CREATE FUNCTION internal.operational_metrics() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'jobs', (
            SELECT jsonb_object_agg(s.status, (
                SELECT count(*) FROM app.analysis_jobs AS j WHERE j.status = s.status
            ))
            FROM unnest(ARRAY['queued', 'running', 'failed', 'parked']::app.job_status[]) AS s (status)
        ),
        'oldest_queued_seconds', coalesce((
            SELECT extract(EPOCH FROM now() - min(j.run_after))
            FROM app.analysis_jobs AS j
            WHERE j.status IN ('queued', 'failed') AND j.run_after <= now()
        ), 0),
        'analytics_staleness_seconds', extract(EPOCH FROM now() - internal.analytics_refreshed_at(
            ARRAY['exam_stats', 'flagged_attempts', 'exam_event_counts']
        )),
        'events_inserted', internal.events_inserted(),
        'unsealed', (
            SELECT jsonb_object_agg(c.chain, c.unsealed)
            FROM (
                SELECT
                    'log' AS chain,
                    (SELECT count(*) FROM audit.log AS r WHERE r.id > last.high_water)
                    + last.pending AS unsealed
                FROM internal.last_seal('log') AS last
                UNION ALL
                SELECT
                    'security_events',
                    (SELECT count(*) FROM audit.security_events AS r WHERE r.id > last.high_water)
                    + last.pending
                FROM internal.last_seal('security_events') AS last
                UNION ALL
                SELECT
                    'disclosures',
                    (SELECT count(*) FROM audit.disclosures AS r WHERE r.id > last.high_water)
                    + last.pending
                FROM internal.last_seal('disclosures') AS last
            ) AS c
        )
    );
$$;

ALTER FUNCTION internal.operational_metrics() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.operational_metrics() IS 'Figures for GET /metrics: live analysis jobs by status, the oldest queued job''s age, the analytics'' staleness, monitoring events inserted, audit rows not yet sealed per chain.';

CREATE FUNCTION internal.parse_events(p_events jsonb) RETURNS TABLE(ord bigint, attempt_id uuid, event_type app.event_type, occurred_at timestamp with time zone, payload jsonb, client_event_id text)
    LANGUAGE sql STABLE
    AS $$
    SELECT
        x.ord,
        (x.e ->> 'attempt_id')::uuid,
        (x.e ->> 'event_type')::app.event_type,
        (x.e ->> 'occurred_at')::timestamptz,
        coalesce(nullif(x.e -> 'payload', 'null'::jsonb), '{}'::jsonb),
        x.e ->> 'client_event_id'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x (e, ord);
$$;

ALTER FUNCTION internal.parse_events(p_events jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.parse_events(p_events jsonb) IS 'The events of a batch (a JSON list) as typed rows; raises 22P02/22007 on a bad value.';

CREATE FUNCTION internal.process_analysis_jobs(p_worker text, p_limit integer DEFAULT 20) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_max_tries constant integer := 5;
    c_base_delay constant double precision := 5;
    c_max_delay constant double precision := 3600;
    v_worker constant text := left(coalesce(nullif(btrim(p_worker), ''), 'worker'), 200);
    v_ids uuid[];
    v_id uuid;
    v_job record;
    v_exam_ids uuid[] := '{}'::uuid[];
    v_count integer := 0;
    v_state text;
    v_message text;
BEGIN
    WITH claimed AS (
        SELECT j.id
        FROM app.analysis_jobs AS j
        WHERE j.status IN ('queued', 'failed') AND j.run_after <= now()
        ORDER BY j.run_after, j.created_at, j.id
        LIMIT least(greatest(coalesce(p_limit, 20), 0), 1000)
        FOR UPDATE SKIP LOCKED
    ),

    running AS (
        UPDATE app.analysis_jobs AS j SET
            status = 'running',
            locked_by = v_worker,
            locked_at = now()
        FROM claimed AS c
        WHERE j.id = c.id
        RETURNING j.id, j.attempt_id
    )

    SELECT array_agg(r.id ORDER BY a.student_id, r.attempt_id, r.id)
    INTO v_ids
    FROM running AS r
    LEFT JOIN app.exam_attempts AS a ON a.id = r.attempt_id;

    FOREACH v_id IN ARRAY coalesce(v_ids, '{}') LOOP
        SELECT j.kind, j.attempt_id, a.student_id, a.exam_id
        INTO v_job
        FROM app.analysis_jobs AS j
        LEFT JOIN app.exam_attempts AS a ON a.id = j.attempt_id
        WHERE j.id = v_id;

        BEGIN
            IF v_job.kind = 'analyse_attempt' THEN
                PERFORM internal.analyse_attempt(v_job.attempt_id);
                PERFORM internal.refresh_student_metrics(ARRAY[v_job.student_id]);
            ELSE
                RAISE EXCEPTION USING
                    ERRCODE = '22023',
                    MESSAGE = format('unknown job kind %L', v_job.kind);
            END IF;
            UPDATE app.analysis_jobs AS j SET
                status = 'done',
                attempts = j.attempts + 1,
                last_error = NULL
            WHERE j.id = v_id;
            v_exam_ids := v_exam_ids || v_job.exam_id;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS
                v_state = RETURNED_SQLSTATE,
                v_message = MESSAGE_TEXT;
            UPDATE app.analysis_jobs AS j SET
                attempts = j.attempts + 1,
                last_error = left(format('%s: %s', v_state, v_message), 2000),
                status = CASE
                    WHEN j.attempts + 1 >= c_max_tries THEN 'parked'
                    ELSE 'failed'
                END::app.job_status,
                run_after = CASE
                    WHEN j.attempts + 1 >= c_max_tries THEN j.run_after
                    ELSE now() + make_interval(
                        secs => least(c_base_delay * 2 ^ (j.attempts + 1), c_max_delay)
                    )
                END
            WHERE j.id = v_id;
        END;
        v_count := v_count + 1;
    END LOOP;

    -- Once per exam, in exam order. A failure here leaves the jobs done and
    -- the exam's figures as they were (the next job of that exam, or
    -- internal.refresh_exam_metrics, brings them up to date).
    IF cardinality(v_exam_ids) > 0 THEN
        BEGIN
            PERFORM internal.refresh_exam_metrics(v_exam_ids);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT;
            RAISE WARNING 'exam metrics not refreshed: %', v_message;
        END;
    END IF;
    RETURN v_count;
END
$$;

ALTER FUNCTION internal.process_analysis_jobs(p_worker text, p_limit integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.process_analysis_jobs(p_worker text, p_limit integer) IS 'Claim up to p_limit due analysis jobs (FOR UPDATE SKIP LOCKED: several workers at once, no job run twice) and run each in its own subtransaction in the caller''s transaction: analyse_attempt runs the built-in analyser and refreshes the student''s metrics and profile, then the exams'' metrics. A failure is retried after 5 s * 2^attempts (at most 1 h); the fifth failure parks the job. Returns how many jobs ran.';

CREATE FUNCTION internal.purge_auth_records() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_revoked integer;
    v_tokens integer;
    v_families integer;
    v_attempts integer;
BEGIN
    DELETE FROM auth.revoked_tokens AS r WHERE r.expires_at < now();
    GET DIAGNOSTICS v_revoked = ROW_COUNT;
    DELETE FROM auth.refresh_tokens AS t WHERE t.expires_at < now() - interval '1 day';
    GET DIAGNOSTICS v_tokens = ROW_COUNT;
    DELETE FROM auth.refresh_token_families AS f
    WHERE
        f.created_at < now() - interval '1 day'
        AND NOT EXISTS (SELECT FROM auth.refresh_tokens AS t WHERE t.family_id = f.id);
    GET DIAGNOSTICS v_families = ROW_COUNT;
    DELETE FROM auth.login_attempts AS la WHERE la.attempted_at < now() - interval '30 days';
    GET DIAGNOSTICS v_attempts = ROW_COUNT;
    RETURN jsonb_build_object(
        'revoked_tokens', v_revoked, 'refresh_tokens', v_tokens,
        'refresh_token_families', v_families, 'login_attempts', v_attempts
    );
END;
$$;

ALTER FUNCTION internal.purge_auth_records() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.purge_auth_records() IS 'Worker: deletes expired revocations and refresh tokens, empty families, login attempts older than 30 days; the counts.';

CREATE FUNCTION internal.purge_finished_jobs() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_count integer;
BEGIN
    DELETE FROM app.analysis_jobs AS j
    WHERE j.status = 'done' AND j.updated_at < now() - interval '7 days';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

ALTER FUNCTION internal.purge_finished_jobs() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.purge_finished_jobs() IS 'Worker: deletes analysis jobs done more than 7 days ago (their results stay); failed and parked jobs stay. How many it deleted.';

CREATE FUNCTION internal.question_document(p_question_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'id', q.id,
        'exam_id', q.exam_id,
        'position', q.position,
        'kind', q.kind,
        'prompt', q.prompt,
        'options', q.options,
        'correct', q.correct,
        'tolerance', q.tolerance,
        'points', q.points,
        'version', q.version,
        'updated_at', q.updated_at
    )
    FROM app.questions AS q
    WHERE q.id = p_question_id;
$$;

ALTER FUNCTION internal.question_document(p_question_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.question_document(p_question_id uuid) IS 'A teacher''s view of one question with its answer key, under RLS (NULL when not visible).';

CREATE FUNCTION internal.question_problem(p_question jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_kind text;
    v_options jsonb;
    v_correct jsonb;
    v_tolerance jsonb;
    v_points jsonb;
    v_bad text;
BEGIN
    IF p_question IS NULL OR jsonb_typeof(p_question) <> 'object' THEN
        RETURN 'must be a JSON object';
    END IF;

    SELECT string_agg(k.key, ', ' ORDER BY k.key)
    INTO v_bad
    FROM jsonb_object_keys(p_question) AS k (key)
    WHERE k.key NOT IN ('kind', 'prompt', 'options', 'correct', 'tolerance', 'points');
    IF v_bad IS NOT NULL THEN
        RETURN format(
            'unknown field %s (expected kind, prompt, options, correct, tolerance, points)', v_bad
        );
    END IF;

    v_kind := p_question ->> 'kind';
    IF jsonb_typeof(p_question -> 'kind') IS DISTINCT FROM 'string'
        OR v_kind <> ALL (enum_range(NULL::app.question_kind)::text[]) THEN
        RETURN format(
            'kind must be one of %s',
            array_to_string(enum_range(NULL::app.question_kind), ', ')
        );
    END IF;

    IF jsonb_typeof(p_question -> 'prompt') IS DISTINCT FROM 'string'
        OR btrim(p_question ->> 'prompt') = '' THEN
        RETURN 'prompt must be a non-empty string';
    END IF;
    IF length(p_question ->> 'prompt') > 20000 THEN
        RETURN 'prompt is longer than 20000 characters';
    END IF;

    v_options := coalesce(nullif(p_question -> 'options', 'null'::jsonb), '[]'::jsonb);
    IF jsonb_typeof(v_options) <> 'array' THEN
        RETURN 'options must be a list of strings';
    END IF;
    IF v_kind IN ('single_choice', 'multiple_choice') THEN
        IF jsonb_array_length(v_options) < 2 THEN
            RETURN format('a %s question needs at least two options', v_kind);
        END IF;
        IF jsonb_array_length(v_options) > 100 THEN
            RETURN 'a question has at most 100 options';
        END IF;
        IF EXISTS (
            SELECT FROM jsonb_array_elements(v_options) AS o (value)
            WHERE jsonb_typeof(o.value) <> 'string' OR btrim(o.value #>> '{}') = ''
        ) THEN
            RETURN 'every option must be a non-empty string';
        END IF;
        IF (SELECT count(DISTINCT o.value) FROM jsonb_array_elements(v_options) AS o (value))
            <> jsonb_array_length(v_options) THEN
            RETURN 'options must be distinct';
        END IF;
    ELSIF v_options <> '[]'::jsonb THEN
        RETURN format('a %s question has no options (give [] or leave it out)', v_kind);
    END IF;

    v_correct := nullif(p_question -> 'correct', 'null'::jsonb);
    IF v_correct IS NULL THEN
        RETURN 'correct is required';
    END IF;
    CASE v_kind
        WHEN 'single_choice' THEN
            IF jsonb_typeof(v_correct) <> 'string' THEN
                RETURN 'correct must be one of the option strings';
            END IF;
            IF NOT v_options @> jsonb_build_array(v_correct) THEN
                RETURN format('the correct answer %s is not one of the options', v_correct);
            END IF;
        WHEN 'multiple_choice' THEN
            IF jsonb_typeof(v_correct) <> 'array' OR jsonb_array_length(v_correct) = 0 THEN
                RETURN 'correct must be a non-empty list of option strings';
            END IF;
            SELECT string_agg(c.value::text, ', ')
            INTO v_bad
            FROM jsonb_array_elements(v_correct) AS c (value)
            WHERE NOT v_options @> jsonb_build_array(c.value);
            IF v_bad IS NOT NULL THEN
                RETURN format('correct answers not among the options: %s', v_bad);
            END IF;
            IF (SELECT count(DISTINCT c.value) FROM jsonb_array_elements(v_correct) AS c (value))
                <> jsonb_array_length(v_correct) THEN
                RETURN 'correct answers must be distinct';
            END IF;
        WHEN 'true_false' THEN
            IF jsonb_typeof(v_correct) <> 'boolean' THEN
                RETURN 'correct must be true or false';
            END IF;
        WHEN 'numeric' THEN
            IF jsonb_typeof(v_correct) <> 'number' THEN
                RETURN 'correct must be a number';
            END IF;
        WHEN 'short_text' THEN
            IF jsonb_typeof(v_correct) = 'string' THEN
                v_correct := jsonb_build_array(v_correct);
            END IF;
            IF jsonb_typeof(v_correct) <> 'array' OR jsonb_array_length(v_correct) = 0
                OR EXISTS (
                    SELECT FROM jsonb_array_elements(v_correct) AS c (value)
                    WHERE jsonb_typeof(c.value) <> 'string' OR btrim(c.value #>> '{}') = ''
                ) THEN
                RETURN 'correct must be a non-empty string or a list of non-empty strings';
            END IF;
    END CASE;

    v_tolerance := nullif(p_question -> 'tolerance', 'null'::jsonb);
    IF v_tolerance IS NOT NULL THEN
        IF v_kind <> 'numeric' THEN
            RETURN 'tolerance is for numeric questions only';
        END IF;
        IF jsonb_typeof(v_tolerance) <> 'number' OR (v_tolerance #>> '{}')::numeric < 0 THEN
            RETURN 'tolerance must be a number of 0 or more';
        END IF;
    END IF;

    v_points := nullif(p_question -> 'points', 'null'::jsonb);
    IF v_points IS NOT NULL THEN
        IF jsonb_typeof(v_points) <> 'number' OR (v_points #>> '{}')::numeric <= 0 THEN
            RETURN 'points must be a number greater than 0';
        END IF;
        IF (v_points #>> '{}')::numeric > 10000 THEN
            RETURN 'points must be at most 10000';
        END IF;
    END IF;

    RETURN NULL;
END
$$;

ALTER FUNCTION internal.question_problem(p_question jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.question_problem(p_question jsonb) IS 'What is wrong with an authored question (JSON object with kind, prompt, options, correct, tolerance, points), or NULL when it is valid.';

CREATE FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_deadline timestamptz;
BEGIN
    IF NOT coalesce(
        CASE internal.current_app_role()
            WHEN 'admin' THEN TRUE
            WHEN 'teacher' THEN internal.teacher_can_access_exam(p_exam_id)
        END,
        FALSE
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    PERFORM internal.expire_overdue_attempts(p_student_id => p_student_id, p_exam_id => p_exam_id);
    UPDATE app.exam_attempts AS a SET
        deadline = greatest(
            least(
                a.started_at + make_interval(
                    mins => e.duration_minutes + coalesce(acc.extra_minutes, 0)
                ),
                e.closes_at
            ),
            least(a.deadline, now())
        )
    FROM app.exams AS e
    LEFT JOIN app.accommodations AS acc
        ON acc.exam_id = e.id AND acc.student_id = p_student_id
    WHERE
        e.id = p_exam_id
        AND a.exam_id = e.id
        AND a.student_id = p_student_id
        AND a.status = 'in_progress'
    RETURNING a.deadline INTO v_deadline;
    RETURN v_deadline;
END
$$;

ALTER FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid) IS 'Recompute the deadline of a student''s attempt in progress from the current accommodation (capped by closes_at, never before now); NULL without one. Teacher with permission on the exam, or admin.';

CREATE FUNCTION internal.recompute_exam_event_counts(p_exam_ids uuid[], p_live_from timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rows integer;
BEGIN
    WITH uncounted AS MATERIALIZED (
        SELECT a.id, a.exam_id, a.started_at
        FROM app.exam_attempts AS a
        WHERE
            a.exam_id = ANY (p_exam_ids)
            AND (a.status = 'in_progress' OR a.updated_at >= p_live_from)
            AND NOT EXISTS (SELECT FROM app.counted_attempts AS c WHERE c.attempt_id = a.id)
    ),

    live AS (
        SELECT u.exam_id, m.event_type, count(*) AS events
        FROM uncounted AS u
        INNER JOIN app.monitoring_events AS m
            ON m.attempt_id = u.id AND m.attempt_started_at = u.started_at
        GROUP BY u.exam_id, m.event_type
    ),

    keys AS (
        SELECT x.exam_id, x.event_type
        FROM app.exam_event_counts AS x
        WHERE x.exam_id = ANY (p_exam_ids)
        UNION
        SELECT l.exam_id, l.event_type FROM live AS l
    )

    INSERT INTO app.exam_event_counts AS x (exam_id, event_type, settled_events, events)
    SELECT k.exam_id, k.event_type, 0, coalesce(l.events, 0)
    FROM keys AS k
    LEFT JOIN live AS l ON k.exam_id = l.exam_id AND k.event_type = l.event_type
    ON CONFLICT (exam_id, event_type) DO UPDATE SET
        events = x.settled_events + excluded.events
    WHERE x.events IS DISTINCT FROM x.settled_events + excluded.events;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

ALTER FUNCTION internal.recompute_exam_event_counts(p_exam_ids uuid[], p_live_from timestamp with time zone) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.recompute_exam_event_counts(p_exam_ids uuid[], p_live_from timestamp with time zone) IS 'Set app.exam_event_counts.events of the given exams to settled_events plus the events of their attempts not counted yet (in progress, or closed since p_live_from). Returns the rows changed.';

CREATE FUNCTION internal.recompute_exam_stats(p_exam_ids uuid[], p_at timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rows integer;
BEGIN
    WITH attempts AS MATERIALIZED (
        SELECT
            a.exam_id,
            a.student_id,
            CASE
                WHEN
                    a.status = 'in_progress'
                    AND now() > a.deadline + make_interval(secs => e.grace_seconds)
                    THEN 'expired'::app.attempt_status
                ELSE a.status
            END AS status,
            a.score,
            a.score / nullif(a.max_score, 0) * 100 AS percentage,
            l.attempt_id IS NOT NULL AS analysed,
            l.integrity_score,
            l.lmi_score,
            l.is_flagged
        FROM app.exam_attempts AS a
        INNER JOIN app.exams AS e ON a.exam_id = e.id
        LEFT JOIN LATERAL (
            SELECT b.attempt_id, b.integrity_score, b.lmi_score, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l ON TRUE
        WHERE a.exam_id = ANY (p_exam_ids)
    ),

    -- MATERIALIZED: computed once per attempt, not once per aggregate that
    -- reads it (the twenty histogram counts).
    graded AS MATERIALIZED (
        SELECT
            t.*,
            t.status IN ('submitted', 'expired') AND t.score IS NOT NULL AS is_graded,
            least(floor(t.percentage / 10), 9)::integer AS bucket,
            -- least() ignores NULLs: an attempt without analysis has no bucket
            CASE
                WHEN t.analysed THEN least(floor(t.integrity_score / 10), 9)::integer
            END AS integrity_bucket
        FROM attempts AS t
    )

    INSERT INTO app.exam_stats AS s (
        exam_id, attempts, students, in_progress, submitted, expired, abandoned, graded,
        average_score, median_score, average_percentage, median_percentage, histogram,
        analysed, flagged, average_integrity, average_lmi, integrity_histogram, computed_at
    )
    SELECT
        g.exam_id,
        count(*),
        count(DISTINCT g.student_id),
        count(*) FILTER (WHERE g.status = 'in_progress'),
        count(*) FILTER (WHERE g.status = 'submitted'),
        count(*) FILTER (WHERE g.status = 'expired'),
        count(*) FILTER (WHERE g.status = 'abandoned'),
        count(*) FILTER (WHERE g.is_graded),
        round(avg(g.score) FILTER (WHERE g.is_graded), 2),
        round(
            (
                percentile_cont(0.5) WITHIN GROUP (ORDER BY g.score::float8)
                FILTER (WHERE g.is_graded)
            )::numeric,
            2
        ),
        round(avg(g.percentage) FILTER (WHERE g.is_graded), 2),
        round(
            (
                percentile_cont(0.5) WITHIN GROUP (ORDER BY g.percentage::float8)
                FILTER (WHERE g.is_graded AND g.percentage IS NOT NULL)
            )::numeric,
            2
        ),
        ARRAY[
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 0),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 1),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 2),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 3),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 4),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 5),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 6),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 7),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 8),
            count(*) FILTER (WHERE g.is_graded AND g.bucket = 9)
        ]::integer[],
        count(*) FILTER (WHERE g.analysed),
        count(*) FILTER (WHERE g.is_flagged),
        round(avg(g.integrity_score), 2),
        round(avg(g.lmi_score), 4),
        ARRAY[
            count(*) FILTER (WHERE g.integrity_bucket = 0),
            count(*) FILTER (WHERE g.integrity_bucket = 1),
            count(*) FILTER (WHERE g.integrity_bucket = 2),
            count(*) FILTER (WHERE g.integrity_bucket = 3),
            count(*) FILTER (WHERE g.integrity_bucket = 4),
            count(*) FILTER (WHERE g.integrity_bucket = 5),
            count(*) FILTER (WHERE g.integrity_bucket = 6),
            count(*) FILTER (WHERE g.integrity_bucket = 7),
            count(*) FILTER (WHERE g.integrity_bucket = 8),
            count(*) FILTER (WHERE g.integrity_bucket = 9)
        ]::integer[],
        p_at
    FROM graded AS g
    GROUP BY g.exam_id
    ON CONFLICT (exam_id) DO UPDATE SET
        attempts = excluded.attempts,
        students = excluded.students,
        in_progress = excluded.in_progress,
        submitted = excluded.submitted,
        expired = excluded.expired,
        abandoned = excluded.abandoned,
        graded = excluded.graded,
        average_score = excluded.average_score,
        median_score = excluded.median_score,
        average_percentage = excluded.average_percentage,
        median_percentage = excluded.median_percentage,
        histogram = excluded.histogram,
        analysed = excluded.analysed,
        flagged = excluded.flagged,
        average_integrity = excluded.average_integrity,
        average_lmi = excluded.average_lmi,
        integrity_histogram = excluded.integrity_histogram,
        computed_at = excluded.computed_at,
        computations = s.computations + 1;
    GET DIAGNOSTICS v_rows = ROW_COUNT;

    DELETE FROM app.exam_stats AS s
    WHERE
        s.exam_id = ANY (p_exam_ids)
        AND NOT EXISTS (SELECT FROM app.exam_attempts AS a WHERE a.exam_id = s.exam_id);
    RETURN v_rows;
END
$$;

ALTER FUNCTION internal.recompute_exam_stats(p_exam_ids uuid[], p_at timestamp with time zone) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.recompute_exam_stats(p_exam_ids uuid[], p_at timestamp with time zone) IS 'Recompute app.exam_stats of the given exams from their attempts and latest analyses (computed_at p_at); an exam without attempts loses its row. Returns the rows written.';

CREATE FUNCTION internal.recompute_flagged_attempts(p_attempt_ids uuid[]) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rows integer;
BEGIN
    IF p_attempt_ids IS NULL THEN
        DELETE FROM app.flagged_attempts;
        INSERT INTO app.flagged_attempts (
            attempt_id, exam_id, student_id, analysis_id, analysed_at, integrity_score,
            lmi_score, flags_count
        )
        SELECT
            l.attempt_id, a.exam_id, a.student_id, l.id, l.created_at, l.integrity_score,
            l.lmi_score, jsonb_array_length(l.flags)
        FROM (
            SELECT DISTINCT ON (b.attempt_id)
                b.attempt_id, b.id, b.created_at, b.integrity_score, b.lmi_score, b.flags,
                b.is_flagged
            FROM app.behavior_analyses AS b
            ORDER BY b.attempt_id ASC, b.created_at DESC, b.id DESC
        ) AS l
        INNER JOIN app.exam_attempts AS a ON l.attempt_id = a.id
        WHERE l.is_flagged;
    ELSE
        DELETE FROM app.flagged_attempts AS f WHERE f.attempt_id = ANY (p_attempt_ids);
        INSERT INTO app.flagged_attempts (
            attempt_id, exam_id, student_id, analysis_id, analysed_at, integrity_score,
            lmi_score, flags_count
        )
        SELECT
            a.id, a.exam_id, a.student_id, l.id, l.created_at, l.integrity_score,
            l.lmi_score, jsonb_array_length(l.flags)
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT b.id, b.created_at, b.integrity_score, b.lmi_score, b.flags, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l
        WHERE a.id = ANY (p_attempt_ids) AND l.is_flagged;
    END IF;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

ALTER FUNCTION internal.recompute_flagged_attempts(p_attempt_ids uuid[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.recompute_flagged_attempts(p_attempt_ids uuid[]) IS 'Recompute app.flagged_attempts for the given attempts (NULL: all): present while the latest analysis is flagged. Returns how many are flagged.';

CREATE FUNCTION internal.record_event(p_event jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    -- the valid event types, read once per call (about 4 us)
    v_types constant text[] := enum_range(NULL::app.event_type)::text[];
    v_problem constant text := internal.event_problem(p_event, v_types);
    v_attempt_id uuid;
    v_event_type app.event_type;
    v_occurred_at timestamptz;
    v_client_event_id text;
    v_attempt record;
    v_severity smallint;
    v_is_anomaly boolean;
    v_id uuid;
BEGIN
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('event 1: %s', v_problem);
    END IF;
    v_attempt_id := (p_event ->> 'attempt_id')::uuid;
    v_event_type := (p_event ->> 'event_type')::app.event_type;
    v_occurred_at := (p_event ->> 'occurred_at')::timestamptz;
    v_client_event_id := p_event ->> 'client_event_id';

    SELECT * INTO v_attempt FROM internal.admit_events(v_attempt_id, 1);
    SELECT t.severity, t.is_anomaly INTO v_severity, v_is_anomaly
    FROM app.event_types AS t
    WHERE t.event_type = v_event_type;

    -- INSERT ... VALUES: on Citus one statement to one shard (an INSERT ...
    -- SELECT from a coordinator table would go through the coordinator).
    INSERT INTO app.monitoring_events (
        attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
        severity, is_anomaly, payload, client_event_id
    )
    VALUES (
        v_attempt_id, v_attempt.attempt_started_at, v_attempt.exam_id, v_attempt.student_id,
        v_event_type, v_occurred_at, v_severity, v_is_anomaly,
        coalesce(nullif(p_event -> 'payload', 'null'::jsonb), '{}'::jsonb), v_client_event_id
    )
    ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        RETURN jsonb_build_object('id', v_id, 'duplicate', FALSE);
    END IF;

    -- A retry: the first one's id (its partition named, so only it is read).
    SELECT e.id INTO v_id
    FROM app.monitoring_events AS e
    WHERE
        e.attempt_id = v_attempt_id
        AND e.client_event_id = v_client_event_id
        AND e.attempt_started_at = v_attempt.attempt_started_at;
    RETURN jsonb_build_object('id', v_id, 'duplicate', TRUE);
END;
$$;

ALTER FUNCTION internal.record_event(p_event jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.record_event(p_event jsonb) IS 'Records one monitoring event for the caller (the owner inserts what internal.admit_events admitted); returns {id, duplicate}.';

CREATE FUNCTION internal.record_events(p_events jsonb) RETURNS TABLE(accepted integer, duplicates integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_count integer;
    -- the valid event types, read once per call (about 4 us), not per row
    v_types constant text[] := enum_range(NULL::app.event_type)::text[];
    v_problem record;
    v_attempts uuid[];
    v_events integer[];
    v_inserted integer;
    v_statement text;
BEGIN
    IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'events must be a list of events';
    END IF;
    v_count := jsonb_array_length(p_events);
    IF v_count = 0 OR v_count > 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('a batch holds 1 to 500 events, not %s', v_count);
    END IF;

    -- Shape first, naming the first bad event and its field; the casts
    -- below then raise 22P02/22007 (400) naming a bad value.
    SELECT x.ord, internal.event_problem(x.e, v_types) AS problem
    INTO v_problem
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x (e, ord)
    WHERE internal.event_problem(x.e, v_types) IS NOT NULL
    ORDER BY x.ord
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('event %s: %s', v_problem.ord, v_problem.problem);
    END IF;

    SELECT array_agg(g.attempt_id ORDER BY g.attempt_id), array_agg(g.events ORDER BY g.attempt_id)
    INTO v_attempts, v_events
    FROM (
        SELECT i.attempt_id, count(*)::integer AS events
        FROM internal.parse_events(p_events) AS i
        GROUP BY i.attempt_id
    ) AS g;
    PERFORM internal.admit_event_batch(v_attempts, v_events);

    IF internal.citus_distributed('app.monitoring_events'::regclass) THEN
        -- On Citus an INSERT ... SELECT from the coordinator's tables is
        -- pulled to the coordinator, then pushed to every shard it touches
        -- as an intermediate result; the same rows as one INSERT ... VALUES
        -- go to each shard as one statement (docs/scaling.md#4-citus).
        SELECT
            'INSERT INTO app.monitoring_events (attempt_id, attempt_started_at, exam_id, '
            || 'student_id, event_type, occurred_at, severity, is_anomaly, payload, '
            || 'client_event_id) VALUES '
            || string_agg(
                format(
                    '(%L, %L, %L, %L, %L, %L, %s, %L, %L, %L)',
                    i.attempt_id, a.started_at, a.exam_id, a.student_id, i.event_type,
                    i.occurred_at, t.severity, t.is_anomaly, i.payload, i.client_event_id
                ),
                ', ' ORDER BY i.ord
            )
            || ' ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING'
        INTO v_statement
        FROM internal.parse_events(p_events) AS i
        INNER JOIN app.exam_attempts AS a ON i.attempt_id = a.id
        INNER JOIN app.event_types AS t ON i.event_type = t.event_type;
        EXECUTE v_statement;
        GET DIAGNOSTICS v_inserted = ROW_COUNT;
    ELSE
        WITH stored AS (
            INSERT INTO app.monitoring_events (
                attempt_id, attempt_started_at, exam_id, student_id, event_type, occurred_at,
                severity, is_anomaly, payload, client_event_id
            )
            SELECT
                i.attempt_id, a.started_at, a.exam_id, a.student_id, i.event_type,
                i.occurred_at, t.severity, t.is_anomaly, i.payload, i.client_event_id
            FROM internal.parse_events(p_events) AS i
            INNER JOIN app.exam_attempts AS a ON i.attempt_id = a.id
            INNER JOIN app.event_types AS t ON i.event_type = t.event_type
            ORDER BY i.ord
            ON CONFLICT (attempt_id, client_event_id, attempt_started_at) DO NOTHING
            RETURNING 1
        )
        SELECT count(*)::integer INTO v_inserted FROM stored;
    END IF;

    accepted := v_inserted;
    duplicates := v_count - v_inserted;
    RETURN NEXT;
END;
$$;

ALTER FUNCTION internal.record_events(p_events jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.record_events(p_events jsonb) IS 'Records a list of monitoring events for the caller (the owner inserts what internal.admit_event_batch admitted); returns how many were stored and how many were duplicates.';

CREATE FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.student_id, a.exam_id INTO v_attempt
    FROM app.exam_attempts AS a
    WHERE a.id = p_attempt_id;
    IF FOUND THEN
        PERFORM internal.refresh_student_metrics(ARRAY[v_attempt.student_id]);
        PERFORM internal.refresh_exam_metrics(ARRAY[v_attempt.exam_id]);
    END IF;
END
$$;

ALTER FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) IS 'Recompute the figures an analysis of this attempt feeds: the student''s performance_metrics and profile statistics, the exam''s exam_metrics.';

CREATE FUNCTION internal.refresh_analytics(p_force boolean DEFAULT false) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_tables constant text[] := ARRAY['exam_stats', 'flagged_attempts', 'exam_event_counts'];
    c_margin constant interval := interval '1 minute';
    v_started timestamptz;
    v_last timestamptz;
    v_full boolean;
    v_since timestamptz;
    v_exam_ids uuid[];
    v_attempt_ids uuid[];
    v_counted uuid[];
    v_clock timestamptz;
    v_rows integer[] := '{}'::integer[];
    v_durations interval[] := '{}'::interval[];
BEGIN
    IF p_force THEN
        PERFORM pg_advisory_xact_lock(hashtext('veritas.refresh_analytics'));
    ELSIF NOT pg_try_advisory_xact_lock(hashtext('veritas.refresh_analytics')) THEN
        RETURN internal.analytics_refreshed_at(c_tables);
    END IF;
    v_started := clock_timestamp();
    v_last := (
        SELECT min(r.refreshed_at) FROM app.analytics_refreshes AS r
        WHERE r.view_name = ANY (c_tables)
        HAVING count(*) = cardinality(c_tables)
    );
    v_full := p_force OR v_last IS NULL;
    v_since := v_last - c_margin;

    -- exam_stats
    v_clock := clock_timestamp();
    IF v_full THEN
        v_exam_ids := ARRAY(
            SELECT e.id FROM app.exams AS e
            UNION
            SELECT s.exam_id FROM app.exam_stats AS s
        );
    ELSE
        v_exam_ids := ARRAY(
            SELECT a.exam_id FROM app.exam_attempts AS a WHERE a.updated_at >= v_since
            UNION
            SELECT a.exam_id
            FROM app.behavior_analyses AS b
            INNER JOIN app.exam_attempts AS a ON b.attempt_id = a.id
            WHERE b.created_at >= v_since
            UNION
            SELECT a.exam_id FROM app.exam_attempts AS a
            WHERE a.status = 'in_progress' AND a.deadline < now()
        );
    END IF;
    v_rows := v_rows || internal.recompute_exam_stats(v_exam_ids, v_started);
    v_durations := v_durations || (clock_timestamp() - v_clock);

    -- flagged_attempts
    v_clock := clock_timestamp();
    IF v_full THEN
        v_rows := v_rows || internal.recompute_flagged_attempts(NULL);
    ELSE
        v_attempt_ids := ARRAY(
            SELECT DISTINCT b.attempt_id FROM app.behavior_analyses AS b
            WHERE b.created_at >= v_since
        );
        v_rows := v_rows || CASE
            WHEN cardinality(v_attempt_ids) > 0
                THEN greatest(internal.recompute_flagged_attempts(v_attempt_ids), 1)
            ELSE 0
        END;
    END IF;
    v_durations := v_durations || (clock_timestamp() - v_clock);

    -- exam_event_counts
    v_clock := clock_timestamp();
    IF v_full THEN
        v_counted := internal.count_closed_attempts(NULL, v_started - c_margin, v_started);
        v_exam_ids := ARRAY(SELECT e.id FROM app.exams AS e);
    ELSE
        v_counted := internal.count_closed_attempts(
            v_last - 2 * c_margin, v_started - c_margin, v_started
        );
        v_exam_ids := ARRAY(
            SELECT a.exam_id FROM app.exam_attempts AS a WHERE a.status = 'in_progress'
            UNION
            SELECT a.exam_id FROM app.exam_attempts AS a WHERE a.updated_at >= v_since
            UNION
            SELECT unnest(v_counted)
        );
    END IF;
    v_rows := v_rows || (
        internal.recompute_exam_event_counts(v_exam_ids, v_started - 2 * c_margin)
        + cardinality(v_counted)
    );
    v_durations := v_durations || (clock_timestamp() - v_clock);

    INSERT INTO app.analytics_refreshes AS r (
        view_name, refreshed_at, up_to_date_at, duration
    )
    SELECT t.view_name, v_started, v_started, t.duration
    FROM unnest(c_tables, v_durations, v_rows) AS t (view_name, duration, written)
    ON CONFLICT (view_name) DO UPDATE SET
        refreshed_at = excluded.refreshed_at,
        up_to_date_at = excluded.up_to_date_at,
        duration = excluded.duration,
        refreshes = r.refreshes + CASE
            WHEN (v_rows[array_position(c_tables, r.view_name)]) > 0 THEN 1 ELSE 0
        END;

    RETURN internal.analytics_refreshed_at(c_tables);
END
$$;

ALTER FUNCTION internal.refresh_analytics(p_force boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_analytics(p_force boolean) IS 'Worker task (every 5 s): bring the analytics summary tables up to date, recomputing only the exams and attempts whose attempts, analyses or events changed since the last pass (everything on the first pass or with p_force); records each table''s pass in app.analytics_refreshes. One at a time (advisory lock; others return at once, p_force waits). Returns the time up to which the analytics are complete.';

CREATE FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    INSERT INTO app.exam_metrics AS m (exam_id, attempts, submitted, average_score, flagged)
    SELECT
        e.id,
        count(a.id)::integer,
        (count(a.id) FILTER (WHERE a.status IN ('submitted', 'expired')))::integer,
        trim_scale(round(
            avg(a.score) FILTER (WHERE a.status IN ('submitted', 'expired')), 2
        )),
        (count(a.id) FILTER (WHERE l.is_flagged))::integer
    FROM app.exams AS e
    LEFT JOIN app.exam_attempts AS a ON a.exam_id = e.id
    LEFT JOIN LATERAL (
        SELECT b.is_flagged
        FROM app.behavior_analyses AS b
        WHERE b.attempt_id = a.id
        ORDER BY b.created_at DESC, b.id DESC
        LIMIT 1
    ) AS l ON TRUE
    WHERE e.id = ANY (p_exam_ids)
    GROUP BY e.id
    ORDER BY e.id
    ON CONFLICT (exam_id) DO UPDATE SET
        attempts = excluded.attempts,
        submitted = excluded.submitted,
        average_score = excluded.average_score,
        flagged = excluded.flagged;
END
$$;

ALTER FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) IS 'Recompute exam_metrics of the given exams from their attempts: attempts (all), submitted (submitted or expired), average_score (graded attempts, points), flagged (latest analysis flagged). Idempotent.';

CREATE FUNCTION internal.refresh_rotate(p_old_hash bytea, p_new_hash bytea, p_reuse_seconds integer DEFAULT 0) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_max_reuse_seconds constant integer := 60;
    v_reuse constant interval := make_interval(
        secs => least(greatest(coalesce(p_reuse_seconds, 0), 0), c_max_reuse_seconds)
    );
    v_token record;
    v_user jsonb;
    v_new_id uuid;
    v_steps integer;
BEGIN
    SELECT t.id, t.family_id, t.user_id, t.expires_at, t.used_at, t.replaced_by
    INTO v_token
    FROM auth.refresh_tokens AS t
    WHERE t.token_hash = p_old_hash
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;

    IF v_token.used_at IS NOT NULL THEN
        IF v_reuse > interval '0' AND v_token.used_at > now() - v_reuse THEN
            v_steps := internal.refresh_twin_steps(v_token.replaced_by, p_new_hash);
            v_user := internal.refresh_session_user(v_token.family_id, v_token.user_id);
            IF v_steps IS NOT NULL AND v_user IS NOT NULL THEN
                PERFORM internal.log_security_event(
                    'refresh', v_token.user_id, NULL, NULL,
                    jsonb_build_object(
                        'family_id', v_token.family_id, 'reuse_interval', TRUE, 'steps', v_steps
                    )
                );
                RETURN jsonb_build_object('status', 'ok', 'user', v_user, 'steps', v_steps);
            END IF;
        END IF;
        UPDATE auth.refresh_token_families AS f
        SET revoked_at = now(), revoked_reason = 'reuse_detected'
        WHERE f.id = v_token.family_id AND f.revoked_at IS NULL;
        PERFORM internal.log_security_event(
            'reuse_detected', v_token.user_id, NULL, NULL,
            jsonb_build_object('family_id', v_token.family_id, 'token_id', v_token.id)
        );
        RETURN jsonb_build_object('status', 'reuse');
    END IF;

    IF v_token.expires_at <= now() THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;
    v_user := internal.refresh_session_user(v_token.family_id, v_token.user_id);
    IF v_user IS NULL THEN
        RETURN jsonb_build_object('status', 'invalid');
    END IF;

    INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, expires_at)
    VALUES (v_token.family_id, v_token.user_id, p_new_hash, internal.refresh_token_expiry())
    RETURNING id INTO v_new_id;
    UPDATE auth.refresh_tokens AS t
    SET used_at = now(), replaced_by = v_new_id
    WHERE t.id = v_token.id;
    PERFORM internal.log_security_event(
        'refresh', v_token.user_id, NULL, NULL,
        jsonb_build_object('family_id', v_token.family_id)
    );
    RETURN jsonb_build_object('status', 'ok', 'user', v_user, 'steps', 1);
END;
$$;

ALTER FUNCTION internal.refresh_rotate(p_old_hash bytea, p_new_hash bytea, p_reuse_seconds integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_rotate(p_old_hash bytea, p_new_hash bytea, p_reuse_seconds integer) IS 'Refresh (anon): {status: ok, user, steps} after rotating the token (steps 1), or for a concurrent twin inside the reuse interval (p_reuse_seconds, at most 60) that presents the successor''s hash (steps: how far the family''s live token is from the presented one); {status: invalid} if unknown, expired, revoked or the user is inactive; {status: reuse} if already used otherwise (the family is revoked).';

CREATE FUNCTION internal.refresh_session_user(p_family_id uuid, p_user_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role)
    FROM auth.users AS u
    WHERE
        u.id = p_user_id
        AND u.is_active
        AND EXISTS (
            SELECT FROM auth.refresh_token_families AS f
            WHERE f.id = p_family_id AND f.revoked_at IS NULL
        );
$$;

ALTER FUNCTION internal.refresh_session_user(p_family_id uuid, p_user_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_session_user(p_family_id uuid, p_user_id uuid) IS 'The user {id, email, full_name, role} of a refresh family that is not revoked, the user active; NULL otherwise. Owner only (refresh_rotate).';

CREATE FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    INSERT INTO app.performance_metrics AS m (
        student_id, exams_taken, attempts_count, average_score, best_score, average_integrity,
        flags_count, trend, updated_at
    )
    SELECT
        s.student_id,
        coalesce(g.exams_taken, 0),
        coalesce(c.attempts_count, 0),
        g.average_score,
        g.best_score,
        i.average_integrity,
        coalesce(i.flags_count, 0),
        t.trend,
        now()
    FROM (
        SELECT DISTINCT x.id AS student_id
        FROM unnest(p_student_ids) AS x (id)
        WHERE x.id IS NOT NULL
    ) AS s
    LEFT JOIN LATERAL (
        SELECT
            count(*)::integer AS exams_taken,
            trim_scale(round(avg(eg.percentage), 2)) AS average_score,
            max(eg.percentage) AS best_score
        FROM internal.student_exam_grades(s.student_id) AS eg
    ) AS g ON TRUE
    LEFT JOIN LATERAL (
        SELECT count(*)::integer AS attempts_count
        FROM app.exam_attempts AS a
        WHERE
            a.student_id = s.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
    ) AS c ON TRUE
    LEFT JOIN LATERAL (
        -- Slope of the last 10 graded attempts, oldest first: percentage
        -- points per attempt; NULL with fewer than two.
        SELECT round(regr_slope(r.percentage, r.n)::numeric, 4) AS trend
        FROM (
            SELECT
                l.percentage,
                row_number() OVER (ORDER BY l.finished_at, l.id) AS n
            FROM (
                SELECT
                    a.id,
                    a.finished_at,
                    a.score / a.max_score * 100 AS percentage
                FROM app.exam_attempts AS a
                WHERE
                    a.student_id = s.student_id
                    AND a.status IN ('submitted', 'expired')
                    AND a.score IS NOT NULL
                    AND a.max_score > 0
                ORDER BY a.finished_at DESC, a.id DESC
                LIMIT 10
            ) AS l
        ) AS r
    ) AS t ON TRUE
    LEFT JOIN LATERAL (
        -- Each graded attempt's latest analysis.
        SELECT
            trim_scale(round(avg(l.integrity_score), 2)) AS average_integrity,
            (count(*) FILTER (WHERE l.is_flagged))::integer AS flags_count
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT b.integrity_score, b.is_flagged
            FROM app.behavior_analyses AS b
            WHERE b.attempt_id = a.id
            ORDER BY b.created_at DESC, b.id DESC
            LIMIT 1
        ) AS l
        WHERE
            a.student_id = s.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
    ) AS i ON TRUE
    ON CONFLICT (student_id) DO UPDATE SET
        exams_taken = excluded.exams_taken,
        attempts_count = excluded.attempts_count,
        average_score = excluded.average_score,
        best_score = excluded.best_score,
        average_integrity = excluded.average_integrity,
        flags_count = excluded.flags_count,
        trend = excluded.trend,
        updated_at = excluded.updated_at;

    -- The profile shows the same figures, and the integrity of the latest
    -- analysed attempt.
    UPDATE app.student_profiles AS p SET
        exams_taken = m.exams_taken,
        average_score = m.average_score,
        best_score = m.best_score,
        flags_count = m.flags_count,
        integrity_score = l.integrity_score,
        lmi_score = l.lmi_score
    FROM app.performance_metrics AS m
    LEFT JOIN LATERAL (
        SELECT b.integrity_score, b.lmi_score
        FROM app.exam_attempts AS a
        CROSS JOIN LATERAL (
            SELECT x.integrity_score, x.lmi_score
            FROM app.behavior_analyses AS x
            WHERE x.attempt_id = a.id
            ORDER BY x.created_at DESC, x.id DESC
            LIMIT 1
        ) AS b
        WHERE
            a.student_id = m.student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
        ORDER BY a.finished_at DESC, a.id DESC
        LIMIT 1
    ) AS l ON TRUE
    WHERE m.student_id = ANY (p_student_ids) AND p.user_id = m.student_id;
END
$$;

ALTER FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) IS 'Recompute performance_metrics (exams_taken, attempts_count, average_score, best_score, average_integrity, flags_count, trend) and student_profiles (exams_taken, average_score, best_score, flags_count, integrity_score, lmi_score) of the given students from their graded attempts and their latest analyses; percentages of max_score, per-exam grades by grading method. Idempotent.';

CREATE FUNCTION internal.refresh_token_expiry() RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT now() + interval '7 days';
$$;

ALTER FUNCTION internal.refresh_token_expiry() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_token_expiry() IS 'The expiry of a refresh token issued now (7 days).';

CREATE FUNCTION internal.refresh_twin_steps(p_successor_id uuid, p_successor_hash bytea) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_max_steps constant integer := 16;
    v_id uuid := p_successor_id;
    v_next record;
BEGIN
    FOR v_steps IN 1..c_max_steps LOOP
        SELECT t.token_hash, t.used_at, t.expires_at, t.replaced_by
        INTO v_next
        FROM auth.refresh_tokens AS t
        WHERE t.id = v_id
        FOR UPDATE;
        IF NOT FOUND OR (v_steps = 1 AND v_next.token_hash IS DISTINCT FROM p_successor_hash) THEN
            RETURN NULL;
        END IF;
        IF v_next.used_at IS NULL THEN
            RETURN CASE WHEN v_next.expires_at > now() THEN v_steps END;
        END IF;
        v_id := v_next.replaced_by;
    END LOOP;
    RETURN NULL;
END;
$$;

ALTER FUNCTION internal.refresh_twin_steps(p_successor_id uuid, p_successor_hash bytea) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.refresh_twin_steps(p_successor_id uuid, p_successor_hash bytea) IS 'For refresh_rotate''s reuse interval: steps from a used token''s successor (whose hash must be p_successor_hash) to the family''s live token, counting the successor as 1; NULL if there is none within 16 or the hash differs. Owner only.';

CREATE FUNCTION internal.register_student(p_email text, p_password_hash text, p_full_name text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_id uuid;
BEGIN
    BEGIN
        INSERT INTO auth.users (email, password_hash, full_name, role)
        VALUES (p_email, p_password_hash, p_full_name, 'student')
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'an account with this email already exists'
            USING ERRCODE = 'unique_violation', HINT = 'Log in, or register with another email.';
    END;
    INSERT INTO app.student_profiles (user_id) VALUES (v_id);
    INSERT INTO app.performance_metrics (student_id) VALUES (v_id);
    RETURN jsonb_build_object(
        'id', v_id, 'email', p_email, 'full_name', p_full_name, 'role', 'student'
    );
END;
$$;

ALTER FUNCTION internal.register_student(p_email text, p_password_hash text, p_full_name text) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.register_student(p_email text, p_password_hash text, p_full_name text) IS 'Creates a student (user, profile, metrics) from an email, a bcrypt hash and a name; the user as JSON. 23505 if the email exists (case-insensitively).';

CREATE FUNCTION internal.revoke_service_token(p_jti uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_token record;
BEGIN
    IF internal.current_app_role() IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'only an admin revokes service tokens' USING ERRCODE = '42501';
    END IF;
    UPDATE auth.service_tokens AS s
    SET revoked_at = now(), revoked_by = internal.current_user_id()
    WHERE s.jti = p_jti AND s.revoked_at IS NULL;
    SELECT s.jti, s.user_id, s.expires_at INTO v_token
    FROM auth.service_tokens AS s
    WHERE s.jti = p_jti;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such service token' USING ERRCODE = 'VT404';
    END IF;
    INSERT INTO auth.revoked_tokens (jti, user_id, expires_at)
    VALUES (v_token.jti, v_token.user_id, v_token.expires_at)
    ON CONFLICT (jti) DO NOTHING;
    RETURN internal.service_token_document(p_jti);
END;
$$;

ALTER FUNCTION internal.revoke_service_token(p_jti uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.revoke_service_token(p_jti uuid) IS 'Admin: revokes a service token at once (its jti joins auth.revoked_tokens); the token as JSON.';

CREATE FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_attempt record;
BEGIN
    -- FOR SHARE: saves run side by side; a submit (FOR UPDATE) waits for
    -- them, and they for it.
    SELECT a.id, a.status, a.deadline, a.scored_against, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR SHARE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    RETURN internal.store_answers(v_attempt.id, v_attempt.scored_against, p_answers, FALSE);
END
$$;

ALTER FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb) IS 'Autosave answers {question_id: answer} to the caller''s own attempt while it is in progress and its deadline plus grace has not passed (VT409 otherwise). Returns saved_at.';

CREATE FUNCTION internal.score_histogram(p_counts integer[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_agg(
        jsonb_build_object(
            'from', b.i * 10,
            'to', b.i * 10 + 10,
            'count', coalesce(p_counts[b.i + 1], 0)
        )
        ORDER BY b.i
    )
    FROM generate_series(0, 9) AS b (i);
$$;

ALTER FUNCTION internal.score_histogram(p_counts integer[]) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.score_histogram(p_counts integer[]) IS 'A histogram of a 0-100 scale as JSON: [{from, to, count}] for the ten buckets 0-10 ... 90-100 (percentage of max_score, or integrity score).';

CREATE FUNCTION internal.seal_audit_chain(p_chain text, p_limit integer DEFAULT 10000) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_last audit.seals;
    v_position bigint;
    v_hash bytea;
    v_max bigint;
    v_xmin xid8;
    v_xmax xid8;
    v_row record;
    v_ids bigint[] := '{}'::bigint[];
    v_hashes bytea[] := '{}'::bytea[];
    v_pending bigint[];
    v_pending_xmax xid8[];
    v_whole boolean;
    v_new_max bigint;
BEGIN
    IF p_chain NOT IN ('log', 'security_events', 'disclosures') THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('audit.%I is not a chained table', p_chain);
    END IF;
    SELECT s.* INTO v_last
    FROM audit.seals AS s
    WHERE s.chain = p_chain
    ORDER BY s.seal_no DESC
    LIMIT 1;
    v_position := coalesce(v_last.first_position + cardinality(v_last.row_ids), 1);
    v_hash := coalesce(v_last.last_hash, decode(repeat('00', 32), 'hex'));
    v_max := coalesce(v_last.high_water, 0);

    -- Taken before the rows are read: a transaction older than this has
    -- ended before they are read.
    v_xmin := pg_snapshot_xmin(pg_current_snapshot());
    FOR v_row IN EXECUTE format(
        'SELECT r.id, internal.audit_content(r) AS content FROM audit.%I AS r '
        'WHERE r.id > $1 OR r.id = ANY ($2) ORDER BY r.id LIMIT $3',
        p_chain
    ) USING v_max, coalesce(v_last.pending_ids, '{}'), p_limit LOOP
        v_hash := sha256(v_hash || convert_to(v_position::text || '|' || v_row.content, 'UTF8'));
        v_ids := array_append(v_ids, v_row.id);
        v_hashes := array_append(v_hashes, v_hash);
        v_position := v_position + 1;
    END LOOP;
    -- Taken after: a transaction that drew an id now missing has an id below this.
    v_xmax := pg_snapshot_xmax(pg_current_snapshot());
    v_whole := cardinality(v_ids) < p_limit;
    v_new_max := greatest(v_max, (SELECT max(x.id) FROM unnest(v_ids) AS x (id)));
    -- Rolled-back inserts leave a few ids unused; millions at once is no
    -- application's doing (an id forced by hand far ahead): refuse, loudly.
    IF v_new_max - v_max > 10000000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'audit.%I: ids jump from %s to %s; refusing to seal across the gap', p_chain,
                v_max, v_new_max
            ),
            HINT = 'Look for a row inserted by hand with an id of its own (veritas audit verify).';
    END IF;

    -- Still pending: the old pending ids not sealed now (their bound taken
    -- now if it was not yet, a run after they were found missing; forgotten
    -- once passed), and the new ids up to the highest sealed that were not
    -- visible (no bound yet).
    SELECT
        coalesce(array_agg(p.id ORDER BY p.id), '{}'),
        coalesce(array_agg(p.xmax ORDER BY p.id), '{}')
    INTO v_pending, v_pending_xmax
    FROM (
        SELECT o.id, coalesce(o.xmax, v_xmax) AS xmax
        FROM unnest(coalesce(v_last.pending_ids, '{}'), coalesce(v_last.pending_xmax, '{}'))
            AS o (id, xmax)
        WHERE
            NOT EXISTS (SELECT FROM unnest(v_ids) AS x (id) WHERE x.id = o.id)
            AND NOT (v_whole AND o.xmax IS NOT NULL AND v_xmin > o.xmax)
        UNION ALL
        SELECT g.id, NULL::xid8
        FROM (
            SELECT generate_series(v_max + 1, v_new_max) AS id
            EXCEPT ALL
            SELECT unnest(v_ids)
        ) AS g
    ) AS p;

    IF cardinality(v_ids) = 0
        AND v_pending = coalesce(v_last.pending_ids, '{}')
        AND v_pending_xmax IS NOT DISTINCT FROM coalesce(v_last.pending_xmax, '{}')
    THEN
        RETURN 0;
    END IF;
    INSERT INTO audit.seals (
        chain, seal_no, first_position, row_ids, row_hashes, prev_hash, last_hash, high_water,
        pending_ids, pending_xmax
    ) VALUES (
        p_chain, coalesce(v_last.seal_no, 0) + 1,
        coalesce(v_last.first_position + cardinality(v_last.row_ids), 1),
        v_ids, v_hashes, coalesce(v_last.last_hash, decode(repeat('00', 32), 'hex')), v_hash,
        v_new_max, v_pending, v_pending_xmax
    );
    RETURN cardinality(v_ids);
END;
$_$;

ALTER FUNCTION internal.seal_audit_chain(p_chain text, p_limit integer) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.seal_audit_chain(p_chain text, p_limit integer) IS 'Seals up to p_limit newly committed rows of audit.<p_chain> (log, security_events, disclosures) as one audit.seals row continuing its chain; the count. Owner only, under the sealing lock (internal.seal_audit_log).';

CREATE FUNCTION internal.seal_audit_log() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    c_lock constant bigint := 5646710001;  -- 'VT' audit seal
    c_batch constant integer := 10000;
    c_most constant integer := 200000;
    v_chain text;
    v_batch integer;
    v_total integer := 0;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION USING
            ERRCODE = '25000', MESSAGE = 'the audit log is sealed under READ COMMITTED only';
    END IF;
    IF NOT pg_try_advisory_xact_lock(c_lock) THEN
        RETURN 0;
    END IF;
    FOREACH v_chain IN ARRAY ARRAY['log', 'security_events', 'disclosures'] LOOP
        LOOP
            v_batch := internal.seal_audit_chain(v_chain, c_batch);
            v_total := v_total + v_batch;
            EXIT WHEN v_batch < c_batch OR v_total >= c_most;
        END LOOP;
    END LOOP;
    RETURN v_total;
END;
$$;

ALTER FUNCTION internal.seal_audit_log() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.seal_audit_log() IS 'Worker: seals the newly committed rows of audit.log, audit.security_events and audit.disclosures into their hash chains (audit.seals; batches of 10000, up to 200000 a call); how many. One sealer at a time; others return 0.';

CREATE FUNCTION internal.search_pattern(p_q text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_text constant text := lower(btrim(p_q));
BEGIN
    IF v_text IS NULL OR v_text = '' THEN
        RETURN NULL;
    END IF;
    IF length(v_text) > 200 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'q must be at most 200 characters';
    END IF;
    RETURN '%' || replace(replace(replace(v_text, '\', '\\'), '%', '\%'), '_', '\_') || '%';
END;
$$;

ALTER FUNCTION internal.search_pattern(p_q text) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.search_pattern(p_q text) IS 'The LIKE pattern of a case-insensitive substring search for q (wildcards escaped); NULL for no filter; 22023 beyond 200 characters.';

CREATE FUNCTION internal.service_token_document(p_jti uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'jti', s.jti,
        'user_id', s.user_id,
        'email', u.email,
        'label', s.label,
        'issued_by', s.issued_by,
        'issued_at', s.issued_at,
        'expires_at', s.expires_at,
        'revoked_at', s.revoked_at,
        'revoked_by', s.revoked_by,
        'iat', floor(extract(EPOCH FROM s.issued_at))::bigint,
        'exp', floor(extract(EPOCH FROM s.expires_at))::bigint
    )
    FROM auth.service_tokens AS s
    LEFT JOIN auth.users AS u ON s.user_id = u.id
    WHERE s.jti = p_jti;
$$;

ALTER FUNCTION internal.service_token_document(p_jti uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.service_token_document(p_jti uuid) IS 'A service token as JSON, with its account''s email and iat and exp in epoch seconds; NULL when not visible.';

CREATE FUNCTION internal.set_user_active(p_user_id uuid, p_active boolean) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_actor constant uuid := internal.current_user_id();
    v_user jsonb;
    v_families integer := 0;
BEGIN
    IF p_user_id IS NULL OR p_active IS NULL THEN
        RAISE EXCEPTION 'user_id and active are required'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_user_id = v_actor AND NOT p_active THEN
        RAISE EXCEPTION 'you cannot disable your own account'
            USING ERRCODE = 'VT409', HINT = 'Ask another admin.';
    END IF;

    UPDATE auth.users AS u
    SET
        is_active = p_active,
        sessions_revoked_at = CASE WHEN p_active THEN u.sessions_revoked_at ELSE now() END
    WHERE u.id = p_user_id
    RETURNING jsonb_build_object(
        'id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role,
        'is_active', u.is_active
    ) INTO v_user;
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'no such user'
            USING ERRCODE = 'VT404';
    END IF;

    IF NOT p_active THEN
        UPDATE auth.refresh_token_families AS f
        SET revoked_at = now(), revoked_reason = 'disabled'
        WHERE f.user_id = p_user_id AND f.revoked_at IS NULL;
        GET DIAGNOSTICS v_families = ROW_COUNT;
    END IF;

    PERFORM internal.log_security_event(
        'role_change', p_user_id, v_user ->> 'email', NULL,
        jsonb_build_object(
            'action', CASE WHEN p_active THEN 'enable' ELSE 'disable' END,
            'by', v_actor, 'families_revoked', v_families
        )
    );
    RETURN v_user;
END;
$$;

ALTER FUNCTION internal.set_user_active(p_user_id uuid, p_active boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.set_user_active(p_user_id uuid, p_active boolean) IS 'Admin: enables or disables a user; disabling ends all their sessions (sessions_revoked_at, refresh families).';

CREATE FUNCTION internal.staff_exam_ids() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE
        WHEN internal.current_app_role() = 'teacher' THEN internal.teacher_exam_ids()
        ELSE '{}'::uuid[]
    END;
$$;

ALTER FUNCTION internal.staff_exam_ids() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.staff_exam_ids() IS 'Ids of the exams the calling teacher created or was granted; empty for any other caller (admins see every row through their own branch of the filter).';

CREATE FUNCTION internal.start_attempt(p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_student_id uuid := internal.current_user_id();
    v_exam app.exams;
    v_used integer;
    v_last integer;
    v_extra integer;
    v_questions jsonb;
    v_order jsonb;
BEGIN
    IF v_student_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'sign in to take an exam';
    END IF;
    PERFORM internal.expire_overdue_attempts(p_student_id => v_student_id, p_exam_id => p_exam_id);

    -- Resume: the attempt in progress, if any, within its deadline + grace
    -- (one still in progress past it is being closed by someone else: the
    -- insert below then conflicts, and the caller is asked to try again).
    SELECT a.id INTO o_attempt_id
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE
        a.exam_id = p_exam_id
        AND a.student_id = v_student_id
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => e.grace_seconds);
    IF FOUND THEN
        o_resumed := TRUE;
        RETURN;
    END IF;

    SELECT e.* INTO v_exam FROM app.exams AS e WHERE e.id = p_exam_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'exam not found';
    END IF;
    IF NOT v_exam.published THEN
        RAISE EXCEPTION USING ERRCODE = 'VT409', MESSAGE = 'the exam is not published';
    END IF;
    IF now() < v_exam.opens_at THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the exam is not open yet: it opens at %s', v_exam.opens_at);
    END IF;
    IF now() >= v_exam.closes_at THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format('the exam is closed: it closed at %s', v_exam.closes_at);
    END IF;
    SELECT count(*), coalesce(max(a.attempt_number), 0) INTO v_used, v_last
    FROM app.exam_attempts AS a
    WHERE a.exam_id = p_exam_id AND a.student_id = v_student_id;
    IF v_used >= v_exam.max_attempts THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = format(
                'all attempts are used: %s of %s', v_used, v_exam.max_attempts
            );
    END IF;

    SELECT acc.extra_minutes INTO v_extra
    FROM app.accommodations AS acc
    WHERE acc.exam_id = p_exam_id AND acc.student_id = v_student_id;

    SELECT
        jsonb_agg(
            jsonb_build_object(
                'id', q.id,
                'position', q.position,
                'kind', q.kind,
                'prompt', q.prompt,
                'options', CASE
                    WHEN v_exam.shuffle_options AND jsonb_array_length(q.options) > 1 THEN (
                        SELECT jsonb_agg(o.value ORDER BY random())
                        FROM jsonb_array_elements(q.options) AS o (value)
                    )
                    ELSE q.options
                END,
                'correct', q.correct,
                'tolerance', q.tolerance,
                'points', q.points,
                'version', q.version
            )
            ORDER BY q.position
        ),
        jsonb_agg(
            to_jsonb(q.id)
            ORDER BY CASE WHEN v_exam.shuffle_questions THEN random() ELSE q.position END
        )
    INTO v_questions, v_order
    FROM app.questions AS q
    WHERE q.exam_id = p_exam_id;
    IF v_questions IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'VT409', MESSAGE = 'the exam has no questions';
    END IF;

    INSERT INTO app.exam_attempts (
        exam_id, student_id, attempt_number, status, started_at, deadline,
        question_order, scored_against
    ) VALUES (
        p_exam_id, v_student_id, v_last + 1, 'in_progress', now(),
        least(
            now() + make_interval(mins => v_exam.duration_minutes + coalesce(v_extra, 0)),
            v_exam.closes_at
        ),
        v_order, v_questions
    )
    ON CONFLICT DO NOTHING
    RETURNING id INTO o_attempt_id;
    IF o_attempt_id IS NOT NULL THEN
        o_resumed := FALSE;
        RETURN;
    END IF;

    -- A concurrent start won the race: its attempt is ours to resume.
    SELECT a.id INTO o_attempt_id
    FROM app.exam_attempts AS a
    WHERE
        a.exam_id = p_exam_id
        AND a.student_id = v_student_id
        AND a.status = 'in_progress'
        AND now() <= a.deadline + make_interval(secs => v_exam.grace_seconds);
    IF FOUND THEN
        o_resumed := TRUE;
        RETURN;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'VT409', MESSAGE = 'another attempt was started at the same moment; try again';
END
$$;

ALTER FUNCTION internal.start_attempt(p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.start_attempt(p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean) IS 'Open the caller''s attempt at an exam (published, inside its window, attempts left) with its snapshot and order, or return the one in progress (o_resumed). VT404 unknown exam; VT409 not published, not open yet, closed, attempts used up.';

CREATE FUNCTION internal.store_answers(p_attempt_id uuid, p_scored_against jsonb, p_answers jsonb, p_graded boolean) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    v_bad record;
BEGIN
    IF p_answers IS NULL OR jsonb_typeof(p_answers) <> 'object' THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'answers must be an object {question_id: answer}';
    END IF;

    SELECT k.key INTO v_bad
    FROM jsonb_object_keys(p_answers) AS k (key)
    WHERE k.key !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('%s is not a question id', v_bad.key);
    END IF;

    SELECT
        k.key,
        q.value IS NULL AS missing,
        CASE
            WHEN q.value IS NOT NULL AND k.value <> 'null'::jsonb
                THEN internal.answer_problem(q.value, k.value)
        END AS problem
    INTO v_bad
    FROM jsonb_each(p_answers) AS k (key, value)
    LEFT JOIN jsonb_array_elements(p_scored_against) AS q (value)
        ON (q.value ->> 'id')::uuid = k.key::uuid
    WHERE
        q.value IS NULL
        OR (k.value <> 'null'::jsonb AND internal.answer_problem(q.value, k.value) IS NOT NULL)
    ORDER BY q.value IS NULL DESC, k.key
    LIMIT 1;
    IF FOUND AND v_bad.missing THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT404',
            MESSAGE = format('question %s is not part of this attempt', v_bad.key);
    ELSIF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = format('question %s: %s', v_bad.key, v_bad.problem);
    END IF;

    -- Only when an answer is cleared: a statement that matches no row still
    -- runs its policies and its audit trigger.
    IF EXISTS (SELECT FROM jsonb_each(p_answers) AS k (key, value) WHERE k.value = 'null'::jsonb)
    THEN
        DELETE FROM app.attempt_answers AS aa
        USING jsonb_each(p_answers) AS k (key, value)
        WHERE
            aa.attempt_id = p_attempt_id
            AND aa.question_id = k.key::uuid
            AND k.value = 'null'::jsonb;
    END IF;

    INSERT INTO app.attempt_answers AS aa (attempt_id, question_id, answer, saved_at, points_awarded)
    SELECT
        p_attempt_id,
        k.key::uuid,
        k.value,
        now(),
        CASE WHEN p_graded THEN internal.grade_answer(q.value, k.value) END
    FROM jsonb_each(p_answers) AS k (key, value)
    INNER JOIN jsonb_array_elements(p_scored_against) AS q (value)
        ON (q.value ->> 'id')::uuid = k.key::uuid
    WHERE k.value <> 'null'::jsonb
    ON CONFLICT ON CONSTRAINT attempt_answers_pkey DO UPDATE SET
        answer = excluded.answer,
        saved_at = excluded.saved_at,
        points_awarded = excluded.points_awarded;
    RETURN now();
END
$_$;

ALTER FUNCTION internal.store_answers(p_attempt_id uuid, p_scored_against jsonb, p_answers jsonb, p_graded boolean) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.store_answers(p_attempt_id uuid, p_scored_against jsonb, p_answers jsonb, p_graded boolean) IS 'Validate and upsert answers {question_id: answer} of a locked, open attempt (VT404 question not in the attempt, 22023 answer of the wrong form; null clears), graded at once when p_graded (a submit). Internal: no role may call it directly.';

CREATE FUNCTION internal.student_attempts(p_student_id uuid) RETURNS TABLE(attempt_id uuid, exam_id uuid, exam_title text, attempt_number integer, status app.attempt_status, started_at timestamp with time zone, deadline timestamp with time zone, finished_at timestamp with time zone, score numeric, max_score numeric, percentage numeric)
    LANGUAGE sql STABLE
    AS $$
    SELECT
        a.id,
        a.exam_id,
        e.title,
        a.attempt_number,
        CASE
            WHEN a.status = 'in_progress' AND o.overdue THEN 'expired'::app.attempt_status
            ELSE a.status
        END,
        a.started_at,
        a.deadline,
        coalesce(a.finished_at, CASE WHEN o.overdue THEN a.deadline END),
        a.score,
        a.max_score,
        trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2))
    FROM app.exam_attempts AS a
    LEFT JOIN app.exams AS e ON e.id = a.exam_id
    CROSS JOIN LATERAL (
        SELECT now() > a.deadline + make_interval(secs => coalesce(e.grace_seconds, 0)) AS overdue
    ) AS o
    WHERE a.student_id = p_student_id;
$$;

ALTER FUNCTION internal.student_attempts(p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.student_attempts(p_student_id uuid) IS 'A student''s attempts as shown to readers (overdue in_progress shows as expired at its deadline), with percentage = score / max_score * 100; under the caller''s RLS.';

CREATE FUNCTION internal.student_exam_grades(p_student_id uuid) RETURNS TABLE(exam_id uuid, grading_method app.grading_method, graded_attempts bigint, percentage numeric, attempt_id uuid)
    LANGUAGE sql STABLE
    AS $$
    WITH graded AS (
        SELECT
            a.id,
            a.exam_id,
            a.attempt_number,
            trim_scale(round(a.score / nullif(a.max_score, 0) * 100, 2)) AS percentage
        FROM app.exam_attempts AS a
        WHERE
            a.student_id = p_student_id
            AND a.status IN ('submitted', 'expired')
            AND a.score IS NOT NULL
            AND a.max_score > 0
    )
    SELECT
        g.exam_id,
        e.grading_method,
        count(*),
        CASE e.grading_method
            WHEN 'highest' THEN max(g.percentage)
            WHEN 'average' THEN trim_scale(round(avg(g.percentage), 2))
            WHEN 'first' THEN (array_agg(g.percentage ORDER BY g.attempt_number))[1]
            WHEN 'last' THEN (array_agg(g.percentage ORDER BY g.attempt_number DESC))[1]
        END,
        CASE e.grading_method
            WHEN 'highest'
                THEN (array_agg(g.id ORDER BY g.percentage DESC, g.attempt_number))[1]
            WHEN 'first' THEN (array_agg(g.id ORDER BY g.attempt_number))[1]
            WHEN 'last' THEN (array_agg(g.id ORDER BY g.attempt_number DESC))[1]
        END
    FROM graded AS g
    INNER JOIN app.exams AS e ON e.id = g.exam_id
    GROUP BY g.exam_id, e.grading_method;
$$;

ALTER FUNCTION internal.student_exam_grades(p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.student_exam_grades(p_student_id uuid) IS 'A student''s grade per exam (percent, by the exam''s grading method: highest, average, first, last) over submitted and expired attempts; attempt_id is the attempt that gives it (NULL for average). Under the caller''s RLS.';

CREATE FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb DEFAULT NULL::jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_attempt record;
BEGIN
    SELECT a.id, a.status, a.deadline, a.scored_against, e.grace_seconds
    INTO v_attempt
    FROM app.exam_attempts AS a
    INNER JOIN app.exams AS e ON e.id = a.exam_id
    WHERE a.id = p_attempt_id AND a.student_id = internal.current_user_id()
    FOR UPDATE OF a;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'VT404', MESSAGE = 'attempt not found';
    END IF;
    IF v_attempt.status = 'submitted' THEN
        RETURN;
    END IF;
    IF v_attempt.status = 'expired' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'the deadline has passed: '
            || 'the attempt is expired and graded on its saved answers';
    END IF;
    PERFORM internal.assert_attempt_open(
        v_attempt.status, v_attempt.deadline, v_attempt.grace_seconds
    );
    IF p_answers IS NOT NULL AND p_answers <> 'null'::jsonb THEN
        PERFORM internal.store_answers(v_attempt.id, v_attempt.scored_against, p_answers, TRUE);
    END IF;
    PERFORM internal.close_attempts(ARRAY[v_attempt.id], 'submitted');
END
$$;

ALTER FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb) IS 'Submit the caller''s own attempt (final answers {question_id: answer} saved first) and grade it; a second submit changes nothing. VT409 if expired, abandoned, or past deadline + grace.';

CREATE FUNCTION internal.teacher_can_access_exam(p_exam_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT
        EXISTS (
            SELECT FROM app.exams AS e
            WHERE e.id = p_exam_id AND e.created_by = internal.current_user_id()
        )
        OR EXISTS (
            SELECT FROM app.teacher_exam_permissions AS p
            WHERE p.exam_id = p_exam_id AND p.teacher_id = internal.current_user_id()
        );
$$;

ALTER FUNCTION internal.teacher_can_access_exam(p_exam_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.teacher_can_access_exam(p_exam_id uuid) IS 'True when the calling teacher created the exam or was granted it.';

CREATE FUNCTION internal.teacher_can_see_student(p_student_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.student_id = p_student_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    );
$$;

ALTER FUNCTION internal.teacher_can_see_student(p_student_id uuid) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.teacher_can_see_student(p_student_id uuid) IS 'True when the student has an attempt on an exam the calling teacher may access (an accommodation alone is not enough).';

CREATE FUNCTION internal.teacher_exam_ids() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(array_agg(x.exam_id), '{}')
    FROM (
        SELECT e.id AS exam_id
        FROM app.exams AS e
        WHERE e.created_by = internal.current_user_id()
        UNION
        SELECT p.exam_id
        FROM app.teacher_exam_permissions AS p
        WHERE p.teacher_id = internal.current_user_id()
    ) AS x;
$$;

ALTER FUNCTION internal.teacher_exam_ids() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.teacher_exam_ids() IS 'Ids of the exams the calling teacher created or was granted (for teacher policies).';

CREATE FUNCTION internal.tg__audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_pk constant text[] := TG_ARGV[0]::text[];
    v_secrets constant text[] := TG_ARGV[1]::text[];
    v_method constant text := nullif(current_setting('request.method', TRUE), '');
    v_path constant text := nullif(current_setting('request.path', TRUE), '');
    v_actor record;
BEGIN
    -- A statement that changed no row (an upsert fires both INSERT and
    -- UPDATE triggers, one of them empty) costs one probe, nothing more.
    IF TG_OP = 'DELETE' THEN
        PERFORM FROM old_rows LIMIT 1;
    ELSIF TG_OP <> 'TRUNCATE' THEN
        PERFORM FROM new_rows LIMIT 1;
    END IF;
    IF TG_OP <> 'TRUNCATE' AND NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_actor := internal.audit_actor();
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit.log (
            table_schema, table_name, operation, row_pk, new_values,
            actor_id, actor_role, request_method, request_path
        )
        SELECT
            TG_TABLE_SCHEMA, TG_TABLE_NAME, 'INSERT', internal.audit_pk(r.j, v_pk), r.j - v_secrets,
            v_actor.actor_id, v_actor.actor_role, v_method, v_path
        FROM (SELECT to_jsonb(n) AS j FROM new_rows AS n OFFSET 0) AS r;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit.log (
            table_schema, table_name, operation, row_pk, old_values,
            actor_id, actor_role, request_method, request_path
        )
        SELECT
            TG_TABLE_SCHEMA, TG_TABLE_NAME, 'DELETE', internal.audit_pk(r.j, v_pk), r.j - v_secrets,
            v_actor.actor_id, v_actor.actor_role, v_method, v_path
        FROM (SELECT to_jsonb(o) AS j FROM old_rows AS o OFFSET 0) AS r;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Old and new rows paired by primary key; a full join, so that a
        -- row whose key changed is still recorded (as two unpaired halves).
        -- Each row is made jsonb once (OFFSET 0 and MATERIALIZED keep the
        -- planner from pulling to_jsonb() up into every use of it).
        WITH n AS MATERIALIZED (
            SELECT internal.audit_pk(x.j, v_pk) AS pk, x.j
            FROM (SELECT to_jsonb(r) AS j FROM new_rows AS r OFFSET 0) AS x
        ),
        o AS MATERIALIZED (
            SELECT internal.audit_pk(x.j, v_pk) AS pk, x.j
            FROM (SELECT to_jsonb(r) AS j FROM old_rows AS r OFFSET 0) AS x
        )
        INSERT INTO audit.log (
            table_schema, table_name, operation, row_pk, old_values, new_values, changed_columns,
            actor_id, actor_role, request_method, request_path
        )
        SELECT
            TG_TABLE_SCHEMA, TG_TABLE_NAME, 'UPDATE', coalesce(n.pk, o.pk),
            d.old_values, d.new_values, d.changed,
            v_actor.actor_id, v_actor.actor_role, v_method, v_path
        FROM n
        FULL JOIN o ON n.pk = o.pk
        CROSS JOIN LATERAL (
            SELECT
                array_agg(k.key ORDER BY k.key) AS changed,
                coalesce(
                    jsonb_object_agg(k.key, o.j -> k.key) FILTER (WHERE k.key <> ALL (v_secrets)),
                    '{}'
                ) AS old_values,
                coalesce(
                    jsonb_object_agg(k.key, n.j -> k.key) FILTER (WHERE k.key <> ALL (v_secrets)),
                    '{}'
                ) AS new_values
            FROM jsonb_object_keys(coalesce(n.j, o.j)) AS k (key)
            WHERE n.j -> k.key IS DISTINCT FROM o.j -> k.key
        ) AS d
        WHERE d.changed IS NOT NULL;
    ELSE
        INSERT INTO audit.log (
            table_schema, table_name, operation, actor_id, actor_role, request_method, request_path
        ) VALUES (
            TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, v_actor.actor_id, v_actor.actor_role,
            v_method, v_path
        );
    END IF;
    RETURN NULL;
END;
$$;

ALTER FUNCTION internal.tg__audit() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.tg__audit() IS 'AFTER STATEMENT triggers _500_audit_insert, _500_audit_update, _500_audit_delete (with transition tables) and _500_audit_truncate: one audit.log entry per row changed (table, operation, primary key, changed columns with old and new values, actor, request, txid), one per TRUNCATE. Arguments: primary key columns, secret columns (never copied).';

CREATE FUNCTION internal.tg__audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = '42501',
        MESSAGE = format('%I.%I is append-only: %s is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP),
        HINT = 'The audit trail is never changed or removed; archive it with pg_dump instead.';
END;
$$;

ALTER FUNCTION internal.tg__audit_append_only() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.tg__audit_append_only() IS 'BEFORE UPDATE/DELETE/TRUNCATE guard of the audit tables (_010_append_only_*): raises 42501, whoever asks.';

CREATE FUNCTION internal.tg__timestamps() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_has_created_at constant boolean := TG_NARGS = 0 OR TG_ARGV[0] <> 'updated_at_only';
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF v_has_created_at THEN
            NEW.created_at := coalesce(NEW.created_at, now());
        END IF;
        NEW.updated_at := coalesce(NEW.updated_at, now());
    ELSIF TG_OP = 'UPDATE' THEN
        IF v_has_created_at THEN
            NEW.created_at := OLD.created_at;
        END IF;
        NEW.updated_at := CASE
            WHEN OLD.updated_at >= now() THEN OLD.updated_at + interval '1 microsecond'
            ELSE now()
        END;
    END IF;
    RETURN NEW;
END;
$$;

ALTER FUNCTION internal.tg__timestamps() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.tg__timestamps() IS 'BEFORE INSERT OR UPDATE trigger: keeps created_at, sets updated_at = now() on update. Argument ''updated_at_only'' for tables without created_at.';

CREATE FUNCTION internal.tg_exam_attempts__guard_status() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NEW.exam_id <> OLD.exam_id
        OR NEW.student_id <> OLD.student_id
        OR NEW.attempt_number <> OLD.attempt_number
        OR NEW.started_at <> OLD.started_at
        OR NEW.question_order <> OLD.question_order
        OR NEW.scored_against <> OLD.scored_against THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VT409',
            MESSAGE = 'an attempt''s exam, student, number, start time and questions '
            || 'are fixed at its start';
    END IF;

    IF OLD.status <> 'in_progress' THEN
        -- Nothing leaves a final state, and a finished attempt is frozen.
        IF NEW.status <> OLD.status
            OR NEW.finished_at IS DISTINCT FROM OLD.finished_at
            OR NEW.deadline <> OLD.deadline
            OR NEW.score IS DISTINCT FROM OLD.score
            OR NEW.max_score IS DISTINCT FROM OLD.max_score THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = format('the attempt is %s: a finished attempt cannot change', OLD.status),
                DETAIL = format('refused transition %s -> %s', OLD.status, NEW.status);
        END IF;
        RETURN NEW;
    END IF;

    -- From in_progress: to submitted, expired or abandoned (finished_at set,
    -- as the table's check demands), or staying in progress, where only the
    -- deadline may move, and never to before now.
    IF NEW.status = 'in_progress' THEN
        IF NEW.score IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409', MESSAGE = 'an attempt in progress has no score yet';
        END IF;
        IF NEW.deadline < OLD.deadline AND NEW.deadline < now() THEN
            RAISE EXCEPTION USING
                ERRCODE = 'VT409',
                MESSAGE = 'a running attempt''s deadline cannot be moved before now';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

ALTER FUNCTION internal.tg_exam_attempts__guard_status() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.tg_exam_attempts__guard_status() IS 'Refuses illegal attempt transitions (VT409): only in_progress -> submitted | expired | abandoned; a finished attempt is frozen; the start, the questions and the owner never change; a running deadline is never moved before now.';

CREATE FUNCTION internal.tg_monitoring_events__audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_rows bigint;
    v_attempts jsonb;
    v_changed text[];
    v_actor record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO v_rows FROM old_rows;
        SELECT jsonb_agg(a.attempt_id) INTO v_attempts
        FROM (SELECT DISTINCT o.attempt_id FROM old_rows AS o ORDER BY 1 LIMIT 100) AS a;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO v_rows FROM new_rows;
        SELECT jsonb_agg(a.attempt_id) INTO v_attempts
        FROM (SELECT DISTINCT n.attempt_id FROM new_rows AS n ORDER BY 1 LIMIT 100) AS a;
        SELECT array_agg(DISTINCT e.key ORDER BY e.key) INTO v_changed
        FROM old_rows AS o
        INNER JOIN new_rows AS n ON o.attempt_id = n.attempt_id AND o.id = n.id
        CROSS JOIN LATERAL jsonb_each(to_jsonb(n)) AS e
        WHERE e.value IS DISTINCT FROM to_jsonb(o) -> e.key;
    END IF;
    IF v_rows = 0 THEN
        RETURN NULL;
    END IF;

    v_actor := internal.audit_actor();
    INSERT INTO audit.log (
        table_schema, table_name, operation, old_values, new_values, changed_columns,
        actor_id, actor_role, request_method, request_path
    ) VALUES (
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP,
        CASE WHEN TG_OP <> 'UPDATE' THEN
            jsonb_build_object('rows', v_rows, 'attempt_ids', v_attempts, 'statement_level', TRUE)
        END,
        CASE WHEN TG_OP = 'UPDATE' THEN
            jsonb_build_object('rows', v_rows, 'attempt_ids', v_attempts, 'statement_level', TRUE)
        END,
        v_changed,
        v_actor.actor_id, v_actor.actor_role,
        nullif(current_setting('request.method', TRUE), ''),
        nullif(current_setting('request.path', TRUE), '')
    );
    RETURN NULL;
END;
$$;

ALTER FUNCTION internal.tg_monitoring_events__audit() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.tg_monitoring_events__audit() IS 'AFTER STATEMENT triggers _500_audit_update, _500_audit_delete, _500_audit_truncate on app.monitoring_events and its partitions: one audit.log entry per statement (rows, attempt ids, changed columns).';

CREATE FUNCTION internal.tg_users__log_role_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_actor record;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.role = 'student' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.role IS NOT DISTINCT FROM OLD.role THEN
        RETURN NULL;
    END IF;
    v_actor := internal.audit_actor();
    PERFORM internal.log_security_event(
        'role_change', NEW.id, NEW.email, NULL,
        jsonb_build_object(
            'action', CASE TG_OP WHEN 'INSERT' THEN 'grant' ELSE 'change' END,
            'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.role END,
            'to', NEW.role,
            'by', v_actor.actor_id,
            'by_role', v_actor.actor_role
        )
    );
    RETURN NULL;
END;
$$;

ALTER FUNCTION internal.tg_users__log_role_change() OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.tg_users__log_role_change() IS 'AFTER INSERT OR UPDATE OF role on auth.users: a role_change security event when a non-student account is created or a role changes.';

CREATE FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (
        SELECT FROM auth.users AS u
        WHERE u.id = p_user_id AND u.role = p_role AND u.is_active
    );
$$;

ALTER FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role) OWNER TO veritas_owner;

COMMENT ON FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role) IS 'True when the user exists, is active and has the role (checks in teacher and admin policies).';

CREATE TABLE app.analyst_settings (
    singleton boolean DEFAULT true NOT NULL,
    min_group integer DEFAULT 5 NOT NULL,
    pseudonym_secret uuid DEFAULT gen_random_uuid() NOT NULL,
    CONSTRAINT analyst_settings_min_group_check CHECK ((min_group >= 1)),
    CONSTRAINT analyst_settings_singleton_check CHECK (singleton)
);

ALTER TABLE ONLY app.analyst_settings FORCE ROW LEVEL SECURITY;

ALTER TABLE app.analyst_settings OWNER TO veritas_owner;

COMMENT ON TABLE app.analyst_settings IS 'One row: the analysts'' privacy settings. Without it the analytics views show no student figure at all.';

COMMENT ON COLUMN app.analyst_settings.min_group IS 'k: an exam with fewer distinct students than this shows no per-student row and no figure in the analytics views (1: no suppression).';

COMMENT ON COLUMN app.analyst_settings.pseudonym_secret IS 'Key of the per-exam pseudonyms of analytics.student_exam_results (keyed SHA-256 of it, the student''s pseudonym and the exam). Replacing it re-pseudonymises every exam row.';

CREATE TABLE app.analytics_refreshes (
    view_name text NOT NULL,
    refreshed_at timestamp with time zone NOT NULL,
    up_to_date_at timestamp with time zone NOT NULL,
    duration interval NOT NULL,
    refreshes bigint DEFAULT 1 NOT NULL,
    CONSTRAINT analytics_refreshes_duration_check CHECK ((duration >= '00:00:00'::interval)),
    CONSTRAINT analytics_refreshes_refreshes_check CHECK ((refreshes >= 1)),
    CONSTRAINT analytics_refreshes_view_name_check CHECK ((view_name ~ '^[a-z][a-z0-9_]{0,62}$'::text))
);

ALTER TABLE ONLY app.analytics_refreshes FORCE ROW LEVEL SECURITY;

ALTER TABLE app.analytics_refreshes OWNER TO veritas_owner;

COMMENT ON TABLE app.analytics_refreshes IS 'When each analytics summary table (app.exam_stats, app.flagged_attempts, app.exam_event_counts) was last brought up to date, and up to when it is known complete; read by the teacher analytics (refreshed_at) and by the refresh itself (what changed since its last pass).';

COMMENT ON COLUMN app.analytics_refreshes.view_name IS 'The summary table (app.<view_name>).';

COMMENT ON COLUMN app.analytics_refreshes.refreshed_at IS 'Clock time just before the last pass began: the table holds everything committed before it.';

COMMENT ON COLUMN app.analytics_refreshes.up_to_date_at IS 'The latest time the table was known to hold everything committed before it (the last pass''s start).';

COMMENT ON COLUMN app.analytics_refreshes.duration IS 'How long the last pass took over this table (its changed exams or attempts only).';

COMMENT ON COLUMN app.analytics_refreshes.refreshes IS 'Passes that recomputed at least one row of this table (a pass that found nothing new is not counted).';

CREATE TABLE app.exam_stats (
    exam_id uuid NOT NULL,
    attempts bigint NOT NULL,
    students bigint NOT NULL,
    in_progress bigint NOT NULL,
    submitted bigint NOT NULL,
    expired bigint NOT NULL,
    abandoned bigint NOT NULL,
    graded bigint NOT NULL,
    average_score numeric,
    median_score numeric,
    average_percentage numeric,
    median_percentage numeric,
    histogram integer[] NOT NULL,
    analysed bigint NOT NULL,
    flagged bigint NOT NULL,
    average_integrity numeric,
    average_lmi numeric,
    integrity_histogram integer[] NOT NULL,
    computed_at timestamp with time zone NOT NULL,
    computations bigint DEFAULT 1 NOT NULL,
    CONSTRAINT exam_stats_analysed_check CHECK (((analysed >= 0) AND (analysed <= attempts))),
    CONSTRAINT exam_stats_attempts_check CHECK ((attempts >= 1)),
    CONSTRAINT exam_stats_computations_check CHECK ((computations >= 1)),
    CONSTRAINT exam_stats_flagged_check CHECK (((flagged >= 0) AND (flagged <= analysed))),
    CONSTRAINT exam_stats_graded_check CHECK (((graded >= 0) AND (graded <= attempts))),
    CONSTRAINT exam_stats_histogram_check CHECK ((cardinality(histogram) = 10)),
    CONSTRAINT exam_stats_integrity_histogram_check CHECK ((cardinality(integrity_histogram) = 10)),
    CONSTRAINT exam_stats_students_check CHECK (((students >= 1) AND (students <= attempts)))
);

ALTER TABLE ONLY app.exam_stats FORCE ROW LEVEL SECURITY;

ALTER TABLE app.exam_stats OWNER TO veritas_owner;

COMMENT ON TABLE app.exam_stats IS 'Per exam with attempts: attempts, students, in_progress, submitted, expired (an overdue attempt counts as expired), abandoned, graded; average and median score (points) and percentage of graded attempts; histogram: graded attempts per tenth of percentage; analysed, flagged (latest analysis), average integrity and lmi; integrity_histogram: analysed attempts per tenth of integrity. Recomputed per exam by internal.refresh_analytics() when the exam''s attempts or analyses changed.';

COMMENT ON COLUMN app.exam_stats.histogram IS 'Graded attempts per tenth of percentage of max_score: 10 counts, [0, 10) ... [90, 100] (100 % in the last).';

COMMENT ON COLUMN app.exam_stats.integrity_histogram IS 'Analysed attempts (each by its latest analysis) per tenth of integrity score: 10 counts, [0, 10) ... [90, 100] (100 in the last).';

COMMENT ON COLUMN app.exam_stats.computed_at IS 'Start of the refresh pass that last recomputed this row: an exam nobody touched keeps its old computed_at.';

COMMENT ON COLUMN app.exam_stats.computations IS 'How many passes recomputed this row.';

CREATE TABLE app.exams (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    title text NOT NULL,
    description text,
    created_by uuid NOT NULL,
    duration_minutes integer NOT NULL,
    opens_at timestamp with time zone NOT NULL,
    closes_at timestamp with time zone NOT NULL,
    max_attempts integer DEFAULT 1 NOT NULL,
    grading_method app.grading_method DEFAULT 'highest'::app.grading_method NOT NULL,
    grace_seconds integer DEFAULT 60 NOT NULL,
    shuffle_questions boolean DEFAULT false NOT NULL,
    shuffle_options boolean DEFAULT false NOT NULL,
    published boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT exams_description_check CHECK ((length(description) <= 10000)),
    CONSTRAINT exams_duration_minutes_check CHECK (((duration_minutes > 0) AND (duration_minutes <= 1440))),
    CONSTRAINT exams_grace_seconds_check CHECK (((grace_seconds >= 0) AND (grace_seconds <= 600))),
    CONSTRAINT exams_max_attempts_check CHECK ((max_attempts >= 1)),
    CONSTRAINT exams_title_check CHECK (((length(title) <= 200) AND (btrim(title) <> ''::text))),
    CONSTRAINT exams_window_check CHECK ((closes_at > opens_at))
);

ALTER TABLE ONLY app.exams FORCE ROW LEVEL SECURITY;

ALTER TABLE app.exams OWNER TO veritas_owner;

COMMENT ON TABLE app.exams IS 'An exam: its window (opens_at to closes_at), duration, attempt limit, grading method and grace period.';

COMMENT ON COLUMN app.exams.grace_seconds IS 'Seconds after an attempt''s deadline during which answers and events are still accepted (network delay).';

COMMENT ON COLUMN app.exams.published IS 'Students can start a published exam inside its window; an unpublished one is visible to its teachers only.';

CREATE VIEW analytics.exam_analytics WITH (security_barrier='true') AS
 SELECT s.exam_id,
    e.title,
    s.attempts,
    s.students,
    s.in_progress,
    s.submitted,
    s.expired,
    s.abandoned,
    s.graded,
    s.average_score,
    s.median_score,
    s.average_percentage,
    s.median_percentage,
    s.histogram AS score_histogram,
    s.analysed,
    s.flagged,
    s.average_integrity,
    s.average_lmi,
    s.integrity_histogram,
    r.up_to_date_at AS refreshed_at
   FROM ((app.exam_stats s
     JOIN app.exams e ON ((s.exam_id = e.id)))
     LEFT JOIN app.analytics_refreshes r ON ((r.view_name = 'exam_stats'::text)))
  WHERE (s.students >= ( SELECT k.min_group
           FROM app.analyst_settings k));

ALTER TABLE analytics.exam_analytics OWNER TO veritas_owner;

COMMENT ON VIEW analytics.exam_analytics IS 'Per exam with k distinct students or more (app.analyst_settings.min_group), as teachers see it (from app.exam_stats, complete up to refreshed_at): attempts, students, in progress, submitted, expired, abandoned, graded; average and median score (points) and percentage; score_histogram (graded attempts per tenth of percentage, 0-10 ... 90-100); analysed, flagged, average integrity and lmi; integrity_histogram (analysed attempts per tenth of integrity, 0-10 ... 90-100). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

CREATE TABLE app.event_types (
    event_type app.event_type NOT NULL,
    severity smallint NOT NULL,
    is_anomaly boolean NOT NULL,
    description text NOT NULL,
    CONSTRAINT event_types_severity_check CHECK (((severity >= 0) AND (severity <= 3)))
);

ALTER TABLE ONLY app.event_types FORCE ROW LEVEL SECURITY;

ALTER TABLE app.event_types OWNER TO veritas_owner;

COMMENT ON TABLE app.event_types IS 'Reference data: the severity (0 none to 3 grave) and anomaly flag of each event type, copied into each event at recording.';

CREATE TABLE app.exam_event_counts (
    exam_id uuid NOT NULL,
    event_type app.event_type NOT NULL,
    settled_events bigint DEFAULT 0 NOT NULL,
    events bigint NOT NULL,
    CONSTRAINT exam_event_counts_events_check CHECK ((events >= settled_events)),
    CONSTRAINT exam_event_counts_settled_events_check CHECK ((settled_events >= 0))
);

ALTER TABLE ONLY app.exam_event_counts FORCE ROW LEVEL SECURITY;

ALTER TABLE app.exam_event_counts OWNER TO veritas_owner;

COMMENT ON TABLE app.exam_event_counts IS 'Monitoring events per exam and event type: settled_events (of the attempts in app.counted_attempts, added once each) plus, in events, those of the attempts not yet counted (in progress, or closed within the last minute) as of the last pass that recomputed the exam.';

COMMENT ON COLUMN app.exam_event_counts.settled_events IS 'Events of the exam''s counted attempts (app.counted_attempts): final, each attempt added once, when it is counted.';

COMMENT ON COLUMN app.exam_event_counts.events IS 'settled_events plus the events of the exam''s attempts not counted yet, as of the pass that last recomputed the exam.';

CREATE VIEW analytics.exam_events_by_type WITH (security_barrier='true') AS
 SELECT c.exam_id,
    c.event_type,
    t.severity,
    t.is_anomaly,
    c.events,
    r.up_to_date_at AS refreshed_at
   FROM (((app.exam_event_counts c
     JOIN app.event_types t ON ((c.event_type = t.event_type)))
     JOIN app.exam_stats s ON ((c.exam_id = s.exam_id)))
     LEFT JOIN app.analytics_refreshes r ON ((r.view_name = 'exam_event_counts'::text)))
  WHERE ((c.events > 0) AND (s.students >= ( SELECT k.min_group
           FROM app.analyst_settings k)));

ALTER TABLE analytics.exam_events_by_type OWNER TO veritas_owner;

COMMENT ON VIEW analytics.exam_events_by_type IS 'Monitoring events per exam and event type, for the exams with k distinct students or more (app.analyst_settings.min_group, as counted by app.exam_stats), with the type''s current severity and anomaly flag (from app.exam_event_counts, complete up to refreshed_at). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

CREATE TABLE app.exam_attempts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    attempt_number integer NOT NULL,
    status app.attempt_status DEFAULT 'in_progress'::app.attempt_status NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    deadline timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    score numeric,
    max_score numeric,
    question_order jsonb NOT NULL,
    scored_against jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT exam_attempts_attempt_number_check CHECK ((attempt_number >= 1)),
    CONSTRAINT exam_attempts_deadline_check CHECK ((deadline > started_at)),
    CONSTRAINT exam_attempts_finished_after_start_check CHECK ((finished_at >= started_at)),
    CONSTRAINT exam_attempts_finished_at_check CHECK (((status = 'in_progress'::app.attempt_status) = (finished_at IS NULL))),
    CONSTRAINT exam_attempts_max_score_check CHECK ((max_score >= (0)::numeric)),
    CONSTRAINT exam_attempts_question_order_check CHECK ((jsonb_typeof(question_order) = 'array'::text)),
    CONSTRAINT exam_attempts_score_check CHECK (((score IS NULL) OR ((max_score IS NOT NULL) AND (score >= (0)::numeric) AND (score <= max_score)))),
    CONSTRAINT exam_attempts_scored_against_check CHECK ((jsonb_typeof(scored_against) = 'array'::text))
)
WITH (fillfactor='90');

ALTER TABLE ONLY app.exam_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE app.exam_attempts OWNER TO veritas_owner;

COMMENT ON TABLE app.exam_attempts IS 'One attempt of a student at an exam. The deadline is fixed at start (started_at + duration + extra time, capped by closes_at).';

COMMENT ON COLUMN app.exam_attempts.attempt_number IS '1 for the student''s first attempt at this exam, and so on; at most exams.max_attempts.';

COMMENT ON COLUMN app.exam_attempts.finished_at IS 'When the attempt left in_progress (submitted, expired or abandoned); NULL exactly while in progress.';

COMMENT ON COLUMN app.exam_attempts.score IS 'Points obtained, 0 to max_score; NULL until graded.';

COMMENT ON COLUMN app.exam_attempts.max_score IS 'Sum of the points of all questions in scored_against.';

COMMENT ON COLUMN app.exam_attempts.question_order IS 'JSON array of question ids in the order this attempt shows them (shuffled when the exam says so).';

COMMENT ON COLUMN app.exam_attempts.scored_against IS 'Snapshot taken at start: JSON array of the questions with their answer key (id, position, kind, prompt, options, correct, tolerance, points, version). Grading reads this, never app.questions, so editing an exam never changes an attempt''s score.';

CREATE VIEW analytics.exam_overview WITH (security_barrier='true') AS
 WITH groups AS (
         SELECT a.exam_id,
            count(*) AS attempts,
            count(DISTINCT a.student_id) AS students,
            count(*) FILTER (WHERE (a.status = 'submitted'::app.attempt_status)) AS submitted,
            count(*) FILTER (WHERE (a.status = 'expired'::app.attempt_status)) AS expired,
            count(*) FILTER (WHERE (a.status = 'abandoned'::app.attempt_status)) AS abandoned,
            count(*) FILTER (WHERE (a.status = 'in_progress'::app.attempt_status)) AS in_progress,
            round(avg(a.score) FILTER (WHERE (a.status = ANY (ARRAY['submitted'::app.attempt_status, 'expired'::app.attempt_status]))), 2) AS average_score,
            round(avg(((a.score / NULLIF(a.max_score, (0)::numeric)) * (100)::numeric)) FILTER (WHERE (a.status = ANY (ARRAY['submitted'::app.attempt_status, 'expired'::app.attempt_status]))), 2) AS average_percentage
           FROM app.exam_attempts a
          GROUP BY a.exam_id
         HAVING (count(DISTINCT a.student_id) >= ( SELECT s.min_group
                   FROM app.analyst_settings s))
        )
 SELECT e.id AS exam_id,
    e.title,
    e.published,
    e.opens_at,
    e.closes_at,
    e.duration_minutes,
    e.max_attempts,
    g.attempts,
    g.students,
    g.submitted,
    g.expired,
    g.abandoned,
    g.in_progress,
    g.average_score,
    g.average_percentage
   FROM (app.exams e
     LEFT JOIN groups g ON ((e.id = g.exam_id)));

ALTER TABLE analytics.exam_overview OWNER TO veritas_owner;

COMMENT ON VIEW analytics.exam_overview IS 'Per exam: attempts, distinct students, submitted, expired, abandoned, in progress, average score (points) and percentage of graded attempts; all NULL for an exam with fewer than k distinct students (app.analyst_settings.min_group). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege, and no student is named.';

CREATE TABLE app.flag_reviews (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_id uuid NOT NULL,
    analysis_id uuid,
    reviewer_id uuid NOT NULL,
    decision app.review_status NOT NULL,
    note text,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT flag_reviews_confirmed_note_check CHECK (((decision <> 'confirmed'::app.review_status) OR ((note IS NOT NULL) AND (length(TRIM(BOTH FROM note)) > 0)))),
    CONSTRAINT flag_reviews_note_check CHECK ((length(note) <= 10000))
);

ALTER TABLE ONLY app.flag_reviews FORCE ROW LEVEL SECURITY;

ALTER TABLE app.flag_reviews OWNER TO veritas_owner;

COMMENT ON TABLE app.flag_reviews IS 'Teachers'' decisions on flagged attempts (cleared or confirmed, a confirmation needs a note); the latest is the attempt''s review status.';

CREATE TABLE app.student_profiles (
    user_id uuid NOT NULL,
    student_number text,
    pseudonym uuid DEFAULT gen_random_uuid() NOT NULL,
    integrity_score numeric,
    lmi_score numeric,
    exams_taken integer DEFAULT 0 NOT NULL,
    average_score numeric,
    best_score numeric,
    flags_count integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT student_profiles_average_score_check CHECK (((average_score >= (0)::numeric) AND (average_score <= (100)::numeric))),
    CONSTRAINT student_profiles_best_score_check CHECK (((best_score >= (0)::numeric) AND (best_score <= (100)::numeric))),
    CONSTRAINT student_profiles_exams_taken_check CHECK ((exams_taken >= 0)),
    CONSTRAINT student_profiles_flags_count_check CHECK ((flags_count >= 0)),
    CONSTRAINT student_profiles_integrity_score_check CHECK (((integrity_score >= (0)::numeric) AND (integrity_score <= (100)::numeric))),
    CONSTRAINT student_profiles_lmi_score_check CHECK (((lmi_score >= (0)::numeric) AND (lmi_score <= (1)::numeric))),
    CONSTRAINT student_profiles_student_number_check CHECK (((length(student_number) >= 1) AND (length(student_number) <= 64)))
);

ALTER TABLE ONLY app.student_profiles FORCE ROW LEVEL SECURITY;

ALTER TABLE app.student_profiles OWNER TO veritas_owner;

COMMENT ON TABLE app.student_profiles IS 'One row per student: identity extras and denormalised statistics shown on the student dashboard.';

COMMENT ON COLUMN app.student_profiles.student_number IS 'Optional external id (the institution''s student number).';

COMMENT ON COLUMN app.student_profiles.pseudonym IS 'Stable pseudonymous id shown to analysts instead of user_id (analytics.student_overview); the analysts'' per-exam rows carry a keyed hash of it instead.';

COMMENT ON COLUMN app.student_profiles.integrity_score IS 'Latest integrity score, 0 (certain malpractice) to 100 (clean); NULL before any analysis.';

COMMENT ON COLUMN app.student_profiles.lmi_score IS 'Latest likelihood-of-malpractice index, 0 to 1; NULL before any analysis.';

COMMENT ON COLUMN app.student_profiles.average_score IS 'Average of the graded attempts, in percent of max_score (0-100).';

COMMENT ON COLUMN app.student_profiles.best_score IS 'Best graded attempt, in percent of max_score (0-100).';

CREATE VIEW analytics.student_exam_results WITH (security_barrier='true') AS
 WITH latest_analyses AS (
         SELECT DISTINCT ON (b.attempt_id) b.attempt_id,
            b.integrity_score,
            b.lmi_score,
            b.is_flagged
           FROM app.behavior_analyses b
          ORDER BY b.attempt_id, b.created_at DESC, b.id DESC
        ), latest_reviews AS (
         SELECT DISTINCT ON (r_1.attempt_id) r_1.attempt_id,
            r_1.decision
           FROM app.flag_reviews r_1
          ORDER BY r_1.attempt_id, r_1.created_at DESC, r_1.id DESC
        ), attempts AS (
         SELECT a.student_id,
            a.exam_id,
            a.status,
            a.finished_at,
            ((a.status = ANY (ARRAY['submitted'::app.attempt_status, 'expired'::app.attempt_status])) AND (a.score IS NOT NULL)) AS is_graded,
            round(((a.score / NULLIF(a.max_score, (0)::numeric)) * (100)::numeric), 2) AS percentage,
            l.integrity_score,
            l.lmi_score,
            l.is_flagged,
            rv.decision
           FROM ((app.exam_attempts a
             LEFT JOIN latest_analyses l ON ((a.id = l.attempt_id)))
             LEFT JOIN latest_reviews rv ON ((a.id = rv.attempt_id)))
        ), groups AS (
         SELECT t.exam_id
           FROM attempts t
          GROUP BY t.exam_id
         HAVING (count(DISTINCT t.student_id) >= ( SELECT s_1.min_group
                   FROM app.analyst_settings s_1))
        ), results AS (
         SELECT p.pseudonym,
            t.exam_id,
            count(*) AS attempts,
            count(*) FILTER (WHERE t.is_graded) AS graded_attempts,
            max(t.percentage) FILTER (WHERE t.is_graded) AS best_percentage,
            round(avg(t.percentage) FILTER (WHERE t.is_graded), 2) AS average_percentage,
            max(t.finished_at) AS last_finished_at,
            round(avg(t.integrity_score), 2) AS average_integrity,
            min(t.integrity_score) AS lowest_integrity,
            round(max(t.lmi_score), 4) AS highest_lmi,
            count(*) FILTER (WHERE t.is_flagged) AS flagged_attempts,
            count(*) FILTER (WHERE (t.decision = 'confirmed'::app.review_status)) AS confirmed_attempts,
            count(*) FILTER (WHERE (t.decision = 'cleared'::app.review_status)) AS cleared_attempts
           FROM ((attempts t
             JOIN groups g ON ((t.exam_id = g.exam_id)))
             JOIN app.student_profiles p ON ((t.student_id = p.user_id)))
          GROUP BY p.pseudonym, t.exam_id
        )
 SELECT ("left"(encode(sha256(convert_to(concat_ws('/'::text, s.pseudonym_secret, r.pseudonym, r.exam_id), 'UTF8'::name)), 'hex'::text), 32))::uuid AS pseudonym,
    r.exam_id,
    r.attempts,
    r.graded_attempts,
    r.best_percentage,
    r.average_percentage,
    ((r.last_finished_at AT TIME ZONE 'UTC'::text))::date AS last_finished_on,
    r.average_integrity,
    r.lowest_integrity,
    r.highest_lmi,
    r.flagged_attempts,
    r.confirmed_attempts,
    r.cleared_attempts
   FROM (results r
     CROSS JOIN app.analyst_settings s);

ALTER TABLE analytics.student_exam_results OWNER TO veritas_owner;

COMMENT ON VIEW analytics.student_exam_results IS 'Per student and exam, live, for the exams with k distinct students or more (app.analyst_settings.min_group): attempts, graded attempts, best and average percentage of max_score, the day (UTC) of the last finish, average and lowest integrity, highest lmi, attempts whose latest analysis is flagged, attempts whose latest review confirmed or cleared the flags. The pseudonym is of this exam only (keyed hash): it links to no other exam''s row nor to student_overview; never user id, email or name. security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege.';

CREATE TABLE app.performance_metrics (
    student_id uuid NOT NULL,
    exams_taken integer DEFAULT 0 NOT NULL,
    attempts_count integer DEFAULT 0 NOT NULL,
    average_score numeric,
    best_score numeric,
    average_integrity numeric,
    flags_count integer DEFAULT 0 NOT NULL,
    trend numeric,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT performance_metrics_attempts_count_check CHECK ((attempts_count >= 0)),
    CONSTRAINT performance_metrics_average_integrity_check CHECK (((average_integrity >= (0)::numeric) AND (average_integrity <= (100)::numeric))),
    CONSTRAINT performance_metrics_average_score_check CHECK (((average_score >= (0)::numeric) AND (average_score <= (100)::numeric))),
    CONSTRAINT performance_metrics_best_score_check CHECK (((best_score >= (0)::numeric) AND (best_score <= (100)::numeric))),
    CONSTRAINT performance_metrics_exams_taken_check CHECK ((exams_taken >= 0)),
    CONSTRAINT performance_metrics_flags_count_check CHECK ((flags_count >= 0))
);

ALTER TABLE ONLY app.performance_metrics FORCE ROW LEVEL SECURITY;

ALTER TABLE app.performance_metrics OWNER TO veritas_owner;

COMMENT ON TABLE app.performance_metrics IS 'Denormalised per-student metrics, one row per student, brought up to date by the analysis worker; the student dashboard reads one row.';

COMMENT ON COLUMN app.performance_metrics.average_score IS 'Average of graded attempts, in percent of max_score (0-100).';

COMMENT ON COLUMN app.performance_metrics.best_score IS 'Best graded attempt, in percent of max_score (0-100).';

COMMENT ON COLUMN app.performance_metrics.trend IS 'Direction of recent scores: slope in percentage points per attempt (negative when falling); NULL with fewer than two.';

CREATE VIEW analytics.student_overview WITH (security_barrier='true') AS
 SELECT p.pseudonym,
    p.exams_taken,
    m.attempts_count,
    p.average_score,
    p.best_score,
    m.trend,
    p.integrity_score,
    p.lmi_score,
    m.average_integrity,
    p.flags_count,
    ((m.updated_at AT TIME ZONE 'UTC'::text))::date AS metrics_updated_on
   FROM (app.student_profiles p
     LEFT JOIN app.performance_metrics m ON ((p.user_id = m.student_id)))
  WHERE (( SELECT count(*) AS count
           FROM app.student_profiles) >= ( SELECT s.min_group
           FROM app.analyst_settings s));

ALTER TABLE analytics.student_overview OWNER TO veritas_owner;

COMMENT ON VIEW analytics.student_overview IS 'Per student, keyed by the stable pseudonym (never user id, email or name; not the per-exam pseudonym of student_exam_results): exams taken, attempts, average and best score (percent), trend, latest integrity and lmi, average integrity, flags, the day (UTC) the metrics were last updated. Empty while there are fewer than k students (app.analyst_settings.min_group). security_barrier, owner''s rights (not security_invoker): the analyst holds no table privilege.';

CREATE TABLE app.accommodations (
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    extra_minutes integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT accommodations_extra_minutes_check CHECK (((extra_minutes >= 0) AND (extra_minutes <= 1440)))
);

ALTER TABLE ONLY app.accommodations FORCE ROW LEVEL SECURITY;

ALTER TABLE app.accommodations OWNER TO veritas_owner;

COMMENT ON TABLE app.accommodations IS 'Extra time granted to a student on an exam; added to the deadline at the start of an attempt (still capped by closes_at).';

CREATE TABLE app.analysis_jobs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_id uuid NOT NULL,
    kind text DEFAULT 'analyse_attempt'::text NOT NULL,
    status app.job_status DEFAULT 'queued'::app.job_status NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    run_after timestamp with time zone DEFAULT now() NOT NULL,
    locked_by text,
    locked_at timestamp with time zone,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT analysis_jobs_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT analysis_jobs_kind_check CHECK ((kind ~ '^[a-z][a-z_]{1,62}$'::text)),
    CONSTRAINT analysis_jobs_locked_by_check CHECK ((length(locked_by) <= 200))
)
WITH (fillfactor='80', autovacuum_vacuum_scale_factor='0.02', autovacuum_analyze_scale_factor='0.02');

ALTER TABLE ONLY app.analysis_jobs FORCE ROW LEVEL SECURITY;

ALTER TABLE app.analysis_jobs OWNER TO veritas_owner;

COMMENT ON TABLE app.analysis_jobs IS 'Queue of analysis work, filled on submit or expiry and claimed by workers (FOR UPDATE SKIP LOCKED).';

COMMENT ON COLUMN app.analysis_jobs.attempts IS 'How many times a worker has tried this job; past a limit it is parked.';

COMMENT ON COLUMN app.analysis_jobs.locked_by IS 'The worker (host and process) that claimed the job.';

CREATE TABLE app.attempt_answers (
    attempt_id uuid NOT NULL,
    question_id uuid NOT NULL,
    answer jsonb NOT NULL,
    saved_at timestamp with time zone DEFAULT now() NOT NULL,
    points_awarded numeric,
    CONSTRAINT attempt_answers_points_awarded_check CHECK ((points_awarded >= (0)::numeric))
)
WITH (fillfactor='80');

ALTER TABLE ONLY app.attempt_answers FORCE ROW LEVEL SECURITY;

ALTER TABLE app.attempt_answers OWNER TO veritas_owner;

COMMENT ON TABLE app.attempt_answers IS 'A student''s saved answer to one question of an attempt (autosave: last write wins), and the points it earned once graded.';

COMMENT ON COLUMN app.attempt_answers.points_awarded IS 'Points given at grading, from the attempt''s snapshot; NULL until graded.';

CREATE TABLE app.counted_attempts (
    attempt_id uuid NOT NULL,
    exam_id uuid NOT NULL,
    events integer NOT NULL,
    counted_at timestamp with time zone NOT NULL,
    CONSTRAINT counted_attempts_events_check CHECK ((events >= 0))
);

ALTER TABLE ONLY app.counted_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE app.counted_attempts OWNER TO veritas_owner;

COMMENT ON TABLE app.counted_attempts IS 'Closed attempts whose events were added to app.exam_event_counts.settled_events, once each: an attempt is counted a minute after it left in_progress (its events are final: none is accepted after that), by internal.refresh_analytics().';

COMMENT ON COLUMN app.counted_attempts.events IS 'How many events the attempt had when it was counted.';

CREATE UNLOGGED TABLE app.event_rate_windows (
    attempt_id uuid NOT NULL,
    window_start timestamp with time zone NOT NULL,
    events integer NOT NULL,
    CONSTRAINT event_rate_windows_events_check CHECK ((events >= 0))
)
WITH (fillfactor='50');

ALTER TABLE ONLY app.event_rate_windows FORCE ROW LEVEL SECURITY;

ALTER TABLE app.event_rate_windows OWNER TO veritas_owner;

COMMENT ON TABLE app.event_rate_windows IS 'Events recorded per attempt in the current minute (the flood bound of internal.admit_events and admit_event_batch); unlogged.';

CREATE TABLE app.exam_metrics (
    exam_id uuid NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    submitted integer DEFAULT 0 NOT NULL,
    average_score numeric,
    flagged integer DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT exam_metrics_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT exam_metrics_average_score_check CHECK ((average_score >= (0)::numeric)),
    CONSTRAINT exam_metrics_flagged_check CHECK ((flagged >= 0)),
    CONSTRAINT exam_metrics_submitted_check CHECK (((submitted >= 0) AND (submitted <= attempts)))
);

ALTER TABLE ONLY app.exam_metrics FORCE ROW LEVEL SECURITY;

ALTER TABLE app.exam_metrics OWNER TO veritas_owner;

COMMENT ON TABLE app.exam_metrics IS 'Denormalised per-exam counters, one row per exam, brought up to date by the analysis worker.';

COMMENT ON COLUMN app.exam_metrics.average_score IS 'Average score of graded attempts, in points (the scale of exam_attempts.score).';

CREATE TABLE app.flagged_attempts (
    attempt_id uuid NOT NULL,
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    analysed_at timestamp with time zone NOT NULL,
    integrity_score numeric NOT NULL,
    lmi_score numeric NOT NULL,
    flags_count integer NOT NULL
);

ALTER TABLE ONLY app.flagged_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE app.flagged_attempts OWNER TO veritas_owner;

COMMENT ON TABLE app.flagged_attempts IS 'Attempts whose latest behaviour analysis is flagged, with that analysis'' id, time, integrity, lmi and number of flags: the teacher dashboard''s alerts. Recomputed per attempt by internal.refresh_analytics() when the attempt gets a new analysis.';

CREATE TABLE app.monitoring_events (
    attempt_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_started_at timestamp with time zone NOT NULL,
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    event_type app.event_type NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    severity smallint NOT NULL,
    is_anomaly boolean NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    client_event_id text,
    CONSTRAINT monitoring_events_client_event_id_check CHECK (((length(client_event_id) >= 1) AND (length(client_event_id) <= 128))),
    CONSTRAINT monitoring_events_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text)),
    CONSTRAINT monitoring_events_severity_check CHECK (((severity >= 0) AND (severity <= 3)))
)
PARTITION BY RANGE (attempt_started_at);

ALTER TABLE ONLY app.monitoring_events FORCE ROW LEVEL SECURITY;

ALTER TABLE app.monitoring_events OWNER TO veritas_owner;

COMMENT ON TABLE app.monitoring_events IS 'Append-only monitoring events of attempts, partitioned monthly by RANGE (attempt_started_at), plus a default partition.';

COMMENT ON COLUMN app.monitoring_events.attempt_started_at IS 'exam_attempts.started_at of the event''s attempt: the partition key, the same for every event of an attempt.';

COMMENT ON COLUMN app.monitoring_events.occurred_at IS 'When the event happened, by the client''s clock.';

COMMENT ON COLUMN app.monitoring_events.received_at IS 'When the server stored the event, by the server''s clock.';

COMMENT ON COLUMN app.monitoring_events.severity IS 'Copied from app.event_types at recording: 0 none to 3 grave.';

COMMENT ON COLUMN app.monitoring_events.is_anomaly IS 'Copied from app.event_types at recording.';

COMMENT ON COLUMN app.monitoring_events.client_event_id IS 'Id chosen by the client (1 to 128 characters) so that a retry is stored once.';

CREATE TABLE app.monitoring_events_default (
    attempt_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_started_at timestamp with time zone NOT NULL,
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    event_type app.event_type NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    severity smallint NOT NULL,
    is_anomaly boolean NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    client_event_id text,
    CONSTRAINT monitoring_events_client_event_id_check CHECK (((length(client_event_id) >= 1) AND (length(client_event_id) <= 128))),
    CONSTRAINT monitoring_events_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text)),
    CONSTRAINT monitoring_events_severity_check CHECK (((severity >= 0) AND (severity <= 3)))
)
WITH (autovacuum_vacuum_insert_scale_factor='0.02', autovacuum_analyze_scale_factor='0.02');

ALTER TABLE ONLY app.monitoring_events_default FORCE ROW LEVEL SECURITY;

ALTER TABLE app.monitoring_events_default OWNER TO veritas_owner;

COMMENT ON TABLE app.monitoring_events_default IS 'Default partition of app.monitoring_events: events of attempts started outside every monthly partition.';

CREATE TABLE app.questions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    exam_id uuid NOT NULL,
    "position" integer NOT NULL,
    kind app.question_kind NOT NULL,
    prompt text NOT NULL,
    options jsonb DEFAULT '[]'::jsonb NOT NULL,
    correct jsonb NOT NULL,
    tolerance numeric,
    points numeric DEFAULT 1 NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT questions_kind_check CHECK (
CASE kind
    WHEN 'single_choice'::app.question_kind THEN ((jsonb_array_length(options) >= 2) AND (jsonb_typeof(correct) = 'string'::text) AND (options @> jsonb_build_array(correct)))
    WHEN 'multiple_choice'::app.question_kind THEN ((jsonb_array_length(options) >= 2) AND (jsonb_typeof(correct) = 'array'::text) AND (options @> correct))
    WHEN 'true_false'::app.question_kind THEN ((options = '[]'::jsonb) AND (jsonb_typeof(correct) = 'boolean'::text))
    WHEN 'numeric'::app.question_kind THEN ((options = '[]'::jsonb) AND (jsonb_typeof(correct) = 'number'::text))
    WHEN 'short_text'::app.question_kind THEN ((options = '[]'::jsonb) AND (jsonb_typeof(correct) = ANY (ARRAY['string'::text, 'array'::text])))
    ELSE NULL::boolean
END),
    CONSTRAINT questions_options_check CHECK ((jsonb_typeof(options) = 'array'::text)),
    CONSTRAINT questions_points_check CHECK ((points > (0)::numeric)),
    CONSTRAINT questions_position_check CHECK (("position" >= 1)),
    CONSTRAINT questions_prompt_check CHECK (((length(prompt) <= 20000) AND (btrim(prompt) <> ''::text))),
    CONSTRAINT questions_tolerance_check CHECK (((tolerance IS NULL) OR ((tolerance >= (0)::numeric) AND (kind = 'numeric'::app.question_kind)))),
    CONSTRAINT questions_version_check CHECK ((version >= 1))
);

ALTER TABLE ONLY app.questions FORCE ROW LEVEL SECURITY;

ALTER TABLE app.questions OWNER TO veritas_owner;

COMMENT ON TABLE app.questions IS 'Questions of an exam, with the answer key (correct, tolerance). An attempt is scored against the snapshot taken at its start (exam_attempts.scored_against), so editing a question never rescores an attempt.';

COMMENT ON COLUMN app.questions.options IS 'Choices shown to the student: a JSON array of strings for single_choice and multiple_choice, [] otherwise.';

COMMENT ON COLUMN app.questions.correct IS 'Answer key, teacher-only: an option string, a list of option strings, true/false, a number, or a string or list of accepted strings.';

COMMENT ON COLUMN app.questions.tolerance IS 'numeric questions only: an answer within plus or minus tolerance of correct is right.';

COMMENT ON COLUMN app.questions.version IS 'Incremented at each edit of the question, so that a snapshot tells which version it holds.';

CREATE TABLE app.teacher_exam_permissions (
    exam_id uuid NOT NULL,
    teacher_id uuid NOT NULL,
    granted_by uuid,
    granted_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.teacher_exam_permissions FORCE ROW LEVEL SECURITY;

ALTER TABLE app.teacher_exam_permissions OWNER TO veritas_owner;

COMMENT ON TABLE app.teacher_exam_permissions IS 'Teachers allowed to see and manage an exam, its attempts and analytics; the creator gets a row at creation.';

CREATE TABLE app.teacher_profiles (
    user_id uuid NOT NULL,
    department text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT teacher_profiles_department_check CHECK ((length(department) <= 200))
);

ALTER TABLE ONLY app.teacher_profiles FORCE ROW LEVEL SECURITY;

ALTER TABLE app.teacher_profiles OWNER TO veritas_owner;

COMMENT ON TABLE app.teacher_profiles IS 'One row per teacher: department and other teacher-only attributes.';

CREATE VIEW app.visible_exam_event_counts WITH (security_barrier='true') AS
 SELECT c.exam_id,
    c.event_type,
    c.events
   FROM app.exam_event_counts c
  WHERE ((( SELECT internal.current_app_role() AS current_app_role) = 'admin'::text) OR (c.exam_id = ANY (( SELECT internal.staff_exam_ids() AS staff_exam_ids)::uuid[])));

ALTER TABLE app.visible_exam_event_counts OWNER TO veritas_owner;

COMMENT ON VIEW app.visible_exam_event_counts IS 'The rows of app.exam_event_counts (exam_id, event_type, events) for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: the callers hold no privilege on the summary table.';

CREATE VIEW app.visible_exam_stats WITH (security_barrier='true') AS
 SELECT s.exam_id,
    s.attempts,
    s.students,
    s.in_progress,
    s.submitted,
    s.expired,
    s.abandoned,
    s.graded,
    s.average_score,
    s.median_score,
    s.average_percentage,
    s.median_percentage,
    s.histogram,
    s.analysed,
    s.flagged,
    s.average_integrity,
    s.average_lmi,
    s.integrity_histogram,
    s.computed_at,
    s.computations
   FROM app.exam_stats s
  WHERE ((( SELECT internal.current_app_role() AS current_app_role) = 'admin'::text) OR (s.exam_id = ANY (( SELECT internal.staff_exam_ids() AS staff_exam_ids)::uuid[])));

ALTER TABLE app.visible_exam_stats OWNER TO veritas_owner;

COMMENT ON VIEW app.visible_exam_stats IS 'The rows of app.exam_stats for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: the callers hold no privilege on the summary table.';

CREATE VIEW app.visible_flagged_attempts WITH (security_barrier='true') AS
 SELECT f.attempt_id,
    f.exam_id,
    f.student_id,
    f.analysis_id,
    f.analysed_at,
    f.integrity_score,
    f.lmi_score,
    f.flags_count
   FROM app.flagged_attempts f
  WHERE ((( SELECT internal.current_app_role() AS current_app_role) = 'admin'::text) OR (f.exam_id = ANY (( SELECT internal.staff_exam_ids() AS staff_exam_ids)::uuid[])));

ALTER TABLE app.visible_flagged_attempts OWNER TO veritas_owner;

COMMENT ON VIEW app.visible_flagged_attempts IS 'The rows of app.flagged_attempts for the exams the caller may access (admin: all; teacher: created or granted). security_barrier, owner''s rights: the callers hold no privilege on the summary table.';

ALTER TABLE audit.disclosures ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.disclosures_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE audit.log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE audit.seals (
    id bigint NOT NULL,
    sealed_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    chain text NOT NULL,
    seal_no bigint NOT NULL,
    first_position bigint NOT NULL,
    row_ids bigint[] NOT NULL,
    row_hashes bytea[] NOT NULL,
    prev_hash bytea NOT NULL,
    last_hash bytea NOT NULL,
    high_water bigint NOT NULL,
    pending_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    pending_xmax xid8[] DEFAULT '{}'::xid8[] NOT NULL,
    CONSTRAINT seals_chain_check CHECK ((chain = ANY (ARRAY['log'::text, 'security_events'::text, 'disclosures'::text]))),
    CONSTRAINT seals_rows_check CHECK (((cardinality(row_ids) = cardinality(row_hashes)) AND (cardinality(pending_ids) = cardinality(pending_xmax)))),
    CONSTRAINT seals_seal_no_check CHECK (((seal_no >= 1) AND (first_position >= 1)))
);

ALTER TABLE ONLY audit.seals FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.seals OWNER TO veritas_owner;

COMMENT ON TABLE audit.seals IS 'The hash chains of audit.log, audit.security_events and audit.disclosures: one row per sealed batch (row ids in chain order and their hashes), appended by internal.seal_audit_log(), verified by veritas audit verify.';

COMMENT ON COLUMN audit.seals.first_position IS 'Chain position of row_ids[1]; the positions of a chain run 1, 2, ... without a gap across its seals.';

COMMENT ON COLUMN audit.seals.prev_hash IS 'The chain''s hash before this batch: the last_hash of the previous seal, 32 zero bytes for the first.';

COMMENT ON COLUMN audit.seals.high_water IS 'Every id of the chained table up to this one is sealed by now, or listed in pending_ids.';

COMMENT ON COLUMN audit.seals.pending_xmax IS 'Per pending id, a transaction id bound: once every transaction below it has ended, a pending id that never appeared is forgotten (NULL: bound not taken yet).';

ALTER TABLE audit.seals ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.seals_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE audit.security_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.security_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE auth.login_attempts (
    id bigint NOT NULL,
    email text NOT NULL,
    client_addr inet,
    succeeded boolean NOT NULL,
    attempted_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT login_attempts_email_check CHECK ((length(email) <= 320))
);

ALTER TABLE ONLY auth.login_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.login_attempts OWNER TO veritas_owner;

COMMENT ON TABLE auth.login_attempts IS 'Every login attempt, for throttling (429 after repeated failures per email and per client address).';

ALTER TABLE auth.login_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME auth.login_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE auth.refresh_token_families (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    revoked_reason text,
    CONSTRAINT refresh_token_families_revoked_check CHECK (((revoked_reason IS NULL) OR (revoked_at IS NOT NULL))),
    CONSTRAINT refresh_token_families_revoked_reason_check CHECK ((length(revoked_reason) <= 200))
);

ALTER TABLE ONLY auth.refresh_token_families FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_token_families OWNER TO veritas_owner;

COMMENT ON TABLE auth.refresh_token_families IS 'One login session: the chain of refresh tokens rotated from one login. Revoking the family ends the session.';

COMMENT ON COLUMN auth.refresh_token_families.revoked_reason IS 'Why the family was revoked, for example logout or reuse_detected (an already-used token was presented).';

CREATE TABLE auth.refresh_tokens (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    family_id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    issued_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    replaced_by uuid,
    CONSTRAINT refresh_tokens_expires_at_check CHECK ((expires_at > issued_at)),
    CONSTRAINT refresh_tokens_replaced_by_check CHECK (((replaced_by IS NULL) OR (used_at IS NOT NULL))),
    CONSTRAINT refresh_tokens_token_hash_check CHECK (((octet_length(token_hash) >= 16) AND (octet_length(token_hash) <= 64)))
);

ALTER TABLE ONLY auth.refresh_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_tokens OWNER TO veritas_owner;

COMMENT ON TABLE auth.refresh_tokens IS 'Refresh tokens (single use, rotated at every refresh). Only a hash is stored; a second use of a used token revokes its family.';

COMMENT ON COLUMN auth.refresh_tokens.token_hash IS 'sha256() of the opaque token handed to the client (sha256 is core SQL, no extension).';

CREATE TABLE auth.revoked_tokens (
    jti uuid NOT NULL,
    user_id uuid NOT NULL,
    revoked_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL
);

ALTER TABLE ONLY auth.revoked_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.revoked_tokens OWNER TO veritas_owner;

COMMENT ON TABLE auth.revoked_tokens IS 'Access tokens (by jti) revoked before their expiry, at logout; rows past expires_at can be purged.';

COMMENT ON COLUMN auth.revoked_tokens.expires_at IS 'The exp claim of the revoked token: after it the token is refused anyway and the row may go.';

CREATE TABLE auth.role_permissions (
    role auth.user_role NOT NULL,
    permission text NOT NULL,
    CONSTRAINT role_permissions_permission_check CHECK ((permission ~ '^[a-z][a-z_]{1,62}$'::text))
);

ALTER TABLE ONLY auth.role_permissions FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.role_permissions OWNER TO veritas_owner;

COMMENT ON TABLE auth.role_permissions IS 'The role x permission matrix read by api.has_permission().';

CREATE TABLE auth.service_tokens (
    jti uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    label text NOT NULL,
    issued_by uuid,
    issued_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    revoked_by uuid,
    CONSTRAINT service_tokens_expires_at_check CHECK ((expires_at > issued_at)),
    CONSTRAINT service_tokens_label_check CHECK (((length(label) <= 200) AND (btrim(label) <> ''::text))),
    CONSTRAINT service_tokens_revoked_check CHECK (((revoked_by IS NULL) OR (revoked_at IS NOT NULL)))
);

ALTER TABLE ONLY auth.service_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.service_tokens OWNER TO veritas_owner;

COMMENT ON TABLE auth.service_tokens IS 'Long-lived access tokens an admin issued to integration accounts (POST /admin/service-tokens), by jti; the token itself is never stored. Revoking one also lists its jti in auth.revoked_tokens.';

COMMENT ON COLUMN auth.service_tokens.label IS 'What the token is for (the system that holds it), chosen by the admin.';

CREATE TABLE auth.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    role auth.user_role DEFAULT 'student'::auth.user_role NOT NULL,
    full_name text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    sessions_revoked_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_email_check CHECK ((((length(email) >= 3) AND (length(email) <= 254)) AND (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'::text))),
    CONSTRAINT users_full_name_check CHECK (((length(full_name) <= 200) AND (btrim(full_name) <> ''::text))),
    CONSTRAINT users_password_hash_check CHECK ((password_hash <> ''::text))
);

ALTER TABLE ONLY auth.users FORCE ROW LEVEL SECURITY;

ALTER TABLE auth.users OWNER TO veritas_owner;

COMMENT ON TABLE auth.users IS 'Everyone who logs in through the API: students, teachers, admins and integration (service) accounts.';

COMMENT ON COLUMN auth.users.email IS 'Login name; unique case-insensitively (users_email_lower_key), stored as typed.';

COMMENT ON COLUMN auth.users.password_hash IS 'bcrypt hash (cost 12) of the password; never returned by the API.';

COMMENT ON COLUMN auth.users.is_active IS 'False locks the account out without deleting its history (users with attempts cannot be deleted).';

COMMENT ON COLUMN auth.users.sessions_revoked_at IS 'Access tokens issued (iat) before this instant are refused (internal.assert_session_active); set when the account is disabled. NULL: none revoked.';

ALTER TABLE ONLY app.monitoring_events ATTACH PARTITION app.monitoring_events_default DEFAULT;

ALTER TABLE ONLY app.accommodations
    ADD CONSTRAINT accommodations_pkey PRIMARY KEY (exam_id, student_id);

ALTER TABLE ONLY app.analysis_jobs
    ADD CONSTRAINT analysis_jobs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.analyst_settings
    ADD CONSTRAINT analyst_settings_pkey PRIMARY KEY (singleton);

ALTER TABLE ONLY app.analytics_refreshes
    ADD CONSTRAINT analytics_refreshes_pkey PRIMARY KEY (view_name);

ALTER TABLE ONLY app.attempt_answers
    ADD CONSTRAINT attempt_answers_pkey PRIMARY KEY (attempt_id, question_id);

ALTER TABLE ONLY app.behavior_analyses
    ADD CONSTRAINT behavior_analyses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.counted_attempts
    ADD CONSTRAINT counted_attempts_pkey PRIMARY KEY (attempt_id);

ALTER TABLE ONLY app.event_rate_windows
    ADD CONSTRAINT event_rate_windows_pkey PRIMARY KEY (attempt_id);

ALTER TABLE ONLY app.event_types
    ADD CONSTRAINT event_types_pkey PRIMARY KEY (event_type);

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_exam_id_student_id_attempt_number_key UNIQUE (exam_id, student_id, attempt_number);

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.exam_event_counts
    ADD CONSTRAINT exam_event_counts_pkey PRIMARY KEY (exam_id, event_type);

ALTER TABLE ONLY app.exam_metrics
    ADD CONSTRAINT exam_metrics_pkey PRIMARY KEY (exam_id);

ALTER TABLE ONLY app.exam_stats
    ADD CONSTRAINT exam_stats_pkey PRIMARY KEY (exam_id);

ALTER TABLE ONLY app.exams
    ADD CONSTRAINT exams_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.flagged_attempts
    ADD CONSTRAINT flagged_attempts_pkey PRIMARY KEY (attempt_id);

ALTER TABLE ONLY app.monitoring_events
    ADD CONSTRAINT monitoring_events_client_event_id_key UNIQUE (attempt_id, client_event_id, attempt_started_at);

ALTER TABLE ONLY app.monitoring_events_default
    ADD CONSTRAINT monitoring_events_default_attempt_id_client_event_id_attemp_key UNIQUE (attempt_id, client_event_id, attempt_started_at);

ALTER TABLE ONLY app.monitoring_events
    ADD CONSTRAINT monitoring_events_pkey PRIMARY KEY (attempt_id, id, attempt_started_at);

ALTER TABLE ONLY app.monitoring_events_default
    ADD CONSTRAINT monitoring_events_default_pkey PRIMARY KEY (attempt_id, id, attempt_started_at);

ALTER TABLE ONLY app.performance_metrics
    ADD CONSTRAINT performance_metrics_pkey PRIMARY KEY (student_id);

ALTER TABLE ONLY app.questions
    ADD CONSTRAINT questions_exam_id_position_key UNIQUE (exam_id, "position") DEFERRABLE;

ALTER TABLE ONLY app.questions
    ADD CONSTRAINT questions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.student_profiles
    ADD CONSTRAINT student_profiles_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY app.student_profiles
    ADD CONSTRAINT student_profiles_pseudonym_key UNIQUE (pseudonym);

ALTER TABLE ONLY app.student_profiles
    ADD CONSTRAINT student_profiles_student_number_key UNIQUE (student_number);

ALTER TABLE ONLY app.teacher_exam_permissions
    ADD CONSTRAINT teacher_exam_permissions_pkey PRIMARY KEY (exam_id, teacher_id);

ALTER TABLE ONLY app.teacher_profiles
    ADD CONSTRAINT teacher_profiles_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY audit.disclosures
    ADD CONSTRAINT disclosures_pkey PRIMARY KEY (id);

ALTER TABLE ONLY audit.log
    ADD CONSTRAINT log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY audit.seals
    ADD CONSTRAINT seals_chain_seal_no_key UNIQUE (chain, seal_no);

ALTER TABLE ONLY audit.seals
    ADD CONSTRAINT seals_pkey PRIMARY KEY (id);

ALTER TABLE ONLY audit.security_events
    ADD CONSTRAINT security_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY auth.login_attempts
    ADD CONSTRAINT login_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY auth.refresh_token_families
    ADD CONSTRAINT refresh_token_families_pkey PRIMARY KEY (id);

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash);

ALTER TABLE ONLY auth.revoked_tokens
    ADD CONSTRAINT revoked_tokens_pkey PRIMARY KEY (jti);

ALTER TABLE ONLY auth.role_permissions
    ADD CONSTRAINT role_permissions_pkey PRIMARY KEY (role, permission);

ALTER TABLE ONLY auth.service_tokens
    ADD CONSTRAINT service_tokens_pkey PRIMARY KEY (jti);

ALTER TABLE ONLY auth.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE INDEX accommodations_student_id_idx ON app.accommodations USING btree (student_id);

CREATE INDEX analysis_jobs_attempt_id_idx ON app.analysis_jobs USING btree (attempt_id);

CREATE UNIQUE INDEX analysis_jobs_attempt_id_kind_key ON app.analysis_jobs USING btree (attempt_id, kind) WHERE (status = ANY (ARRAY['queued'::app.job_status, 'running'::app.job_status, 'failed'::app.job_status]));

CREATE INDEX analysis_jobs_locked_at_idx ON app.analysis_jobs USING btree (locked_at) WHERE (status = 'running'::app.job_status);

CREATE INDEX analysis_jobs_run_after_idx ON app.analysis_jobs USING btree (run_after) WHERE (status = ANY (ARRAY['queued'::app.job_status, 'failed'::app.job_status]));

CREATE INDEX attempt_answers_question_id_idx ON app.attempt_answers USING btree (question_id);

CREATE INDEX behavior_analyses_attempt_id_created_at_idx ON app.behavior_analyses USING btree (attempt_id, created_at DESC);

CREATE INDEX behavior_analyses_created_at_idx ON app.behavior_analyses USING btree (created_at);

CREATE INDEX behavior_analyses_created_by_idx ON app.behavior_analyses USING btree (created_by);

CREATE INDEX behavior_analyses_flags_idx ON app.behavior_analyses USING gin (flags jsonb_path_ops);

CREATE INDEX exam_attempts_deadline_idx ON app.exam_attempts USING btree (deadline) WHERE (status = 'in_progress'::app.attempt_status);

CREATE INDEX exam_attempts_exam_id_status_idx ON app.exam_attempts USING btree (exam_id, status);

CREATE UNIQUE INDEX exam_attempts_one_in_progress_key ON app.exam_attempts USING btree (exam_id, student_id) WHERE (status = 'in_progress'::app.attempt_status);

CREATE INDEX exam_attempts_student_id_started_at_idx ON app.exam_attempts USING btree (student_id, started_at DESC);

CREATE INDEX exam_attempts_updated_at_idx ON app.exam_attempts USING btree (updated_at);

CREATE INDEX exams_closes_at_idx ON app.exams USING btree (closes_at) WHERE published;

CREATE INDEX exams_created_by_idx ON app.exams USING btree (created_by);

CREATE INDEX flag_reviews_analysis_id_idx ON app.flag_reviews USING btree (analysis_id);

CREATE INDEX flag_reviews_attempt_id_created_at_idx ON app.flag_reviews USING btree (attempt_id, created_at DESC);

CREATE INDEX flag_reviews_reviewer_id_idx ON app.flag_reviews USING btree (reviewer_id);

CREATE INDEX flagged_attempts_exam_id_analysed_at_idx ON app.flagged_attempts USING btree (exam_id, analysed_at DESC);

CREATE INDEX monitoring_events_attempt_id_occurred_at_idx ON ONLY app.monitoring_events USING btree (attempt_id, occurred_at, id);

CREATE INDEX monitoring_events_default_attempt_id_occurred_at_id_idx ON app.monitoring_events_default USING btree (attempt_id, occurred_at, id);

CREATE INDEX monitoring_events_exam_id_occurred_at_idx ON ONLY app.monitoring_events USING btree (exam_id, occurred_at) WHERE is_anomaly;

CREATE INDEX monitoring_events_default_exam_id_occurred_at_idx ON app.monitoring_events_default USING btree (exam_id, occurred_at) WHERE is_anomaly;

CREATE INDEX monitoring_events_received_at_brin ON ONLY app.monitoring_events USING brin (received_at);

CREATE INDEX monitoring_events_default_received_at_idx ON app.monitoring_events_default USING brin (received_at);

CREATE INDEX teacher_exam_permissions_granted_by_idx ON app.teacher_exam_permissions USING btree (granted_by);

CREATE INDEX teacher_exam_permissions_teacher_id_idx ON app.teacher_exam_permissions USING btree (teacher_id);

CREATE INDEX disclosures_student_id_id_idx ON audit.disclosures USING btree (student_id, id DESC);

CREATE INDEX disclosures_viewer_id_id_idx ON audit.disclosures USING btree (viewer_id, id DESC);

CREATE INDEX log_actor_id_id_idx ON audit.log USING btree (actor_id, id DESC);

CREATE INDEX log_occurred_at_brin ON audit.log USING brin (occurred_at);

CREATE INDEX log_table_name_id_idx ON audit.log USING btree (table_name, id DESC);

CREATE INDEX security_events_kind_id_idx ON audit.security_events USING btree (kind, id DESC);

CREATE INDEX security_events_occurred_at_brin ON audit.security_events USING brin (occurred_at);

CREATE INDEX security_events_user_id_id_idx ON audit.security_events USING btree (user_id, id DESC);

CREATE INDEX login_attempts_attempted_at_brin ON auth.login_attempts USING brin (attempted_at);

CREATE INDEX login_attempts_client_addr_idx ON auth.login_attempts USING btree (client_addr, attempted_at DESC) INCLUDE (succeeded) WHERE (client_addr IS NOT NULL);

CREATE INDEX login_attempts_email_idx ON auth.login_attempts USING btree (lower(email), attempted_at DESC) INCLUDE (succeeded);

CREATE INDEX refresh_token_families_user_id_idx ON auth.refresh_token_families USING btree (user_id);

CREATE INDEX refresh_tokens_expires_at_idx ON auth.refresh_tokens USING btree (expires_at);

CREATE INDEX refresh_tokens_family_id_idx ON auth.refresh_tokens USING btree (family_id);

CREATE INDEX refresh_tokens_replaced_by_idx ON auth.refresh_tokens USING btree (replaced_by) WHERE (replaced_by IS NOT NULL);

CREATE INDEX refresh_tokens_user_id_idx ON auth.refresh_tokens USING btree (user_id);

CREATE INDEX revoked_tokens_expires_at_idx ON auth.revoked_tokens USING btree (expires_at);

CREATE INDEX revoked_tokens_user_id_idx ON auth.revoked_tokens USING btree (user_id);

CREATE INDEX service_tokens_issued_by_idx ON auth.service_tokens USING btree (issued_by);

CREATE INDEX service_tokens_revoked_by_idx ON auth.service_tokens USING btree (revoked_by);

CREATE INDEX service_tokens_user_id_idx ON auth.service_tokens USING btree (user_id);

CREATE UNIQUE INDEX users_email_lower_key ON auth.users USING btree (lower(email));

CREATE INDEX users_role_idx ON auth.users USING btree (role);

ALTER INDEX app.monitoring_events_client_event_id_key ATTACH PARTITION app.monitoring_events_default_attempt_id_client_event_id_attemp_key;

ALTER INDEX app.monitoring_events_attempt_id_occurred_at_idx ATTACH PARTITION app.monitoring_events_default_attempt_id_occurred_at_id_idx;

ALTER INDEX app.monitoring_events_exam_id_occurred_at_idx ATTACH PARTITION app.monitoring_events_default_exam_id_occurred_at_idx;

ALTER INDEX app.monitoring_events_pkey ATTACH PARTITION app.monitoring_events_default_pkey;

ALTER INDEX app.monitoring_events_received_at_brin ATTACH PARTITION app.monitoring_events_default_received_at_idx;

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.accommodations FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.analysis_jobs FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.exam_attempts FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.exam_metrics FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps('updated_at_only');

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.exams FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.performance_metrics FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps('updated_at_only');

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.questions FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.student_profiles FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app.teacher_profiles FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _200_guard_status BEFORE UPDATE ON app.exam_attempts FOR EACH ROW EXECUTE FUNCTION internal.tg_exam_attempts__guard_status();

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.accommodations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,student_id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.analyst_settings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{singleton}', '{pseudonym_secret}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.attempt_answers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{attempt_id,question_id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.behavior_analyses REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.event_types REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{event_type}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.exam_attempts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.exams REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.flag_reviews REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.monitoring_events REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit();

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.monitoring_events_default REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit();

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.questions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.student_profiles REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.teacher_exam_permissions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,teacher_id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON app.teacher_profiles REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.accommodations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,student_id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.analyst_settings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{singleton}', '{pseudonym_secret}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.attempt_answers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{attempt_id,question_id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.behavior_analyses REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.event_types REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{event_type}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.exam_attempts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.exams REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.flag_reviews REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.questions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.student_profiles REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.teacher_exam_permissions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,teacher_id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON app.teacher_profiles REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.accommodations FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,student_id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.analyst_settings FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{singleton}', '{pseudonym_secret}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.attempt_answers FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{attempt_id,question_id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.behavior_analyses FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.event_types FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{event_type}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.exam_attempts FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.exams FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.flag_reviews FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.monitoring_events FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit();

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.monitoring_events_default FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit();

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.questions FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.student_profiles FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.teacher_exam_permissions FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,teacher_id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON app.teacher_profiles FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.accommodations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,student_id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.analyst_settings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{singleton}', '{pseudonym_secret}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.attempt_answers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{attempt_id,question_id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.behavior_analyses REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.event_types REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{event_type}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.exam_attempts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.exams REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.flag_reviews REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.monitoring_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit();

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.monitoring_events_default REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg_monitoring_events__audit();

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.questions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.student_profiles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.teacher_exam_permissions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{exam_id,teacher_id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON app.teacher_profiles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{user_id}', '{}');

CREATE TRIGGER _010_append_only_delete BEFORE DELETE ON audit.disclosures FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.disclosures ENABLE ALWAYS TRIGGER _010_append_only_delete;

CREATE TRIGGER _010_append_only_delete BEFORE DELETE ON audit.log FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.log ENABLE ALWAYS TRIGGER _010_append_only_delete;

CREATE TRIGGER _010_append_only_delete BEFORE DELETE ON audit.seals FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.seals ENABLE ALWAYS TRIGGER _010_append_only_delete;

CREATE TRIGGER _010_append_only_delete BEFORE DELETE ON audit.security_events FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.security_events ENABLE ALWAYS TRIGGER _010_append_only_delete;

CREATE TRIGGER _010_append_only_truncate BEFORE TRUNCATE ON audit.disclosures FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.disclosures ENABLE ALWAYS TRIGGER _010_append_only_truncate;

CREATE TRIGGER _010_append_only_truncate BEFORE TRUNCATE ON audit.log FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.log ENABLE ALWAYS TRIGGER _010_append_only_truncate;

CREATE TRIGGER _010_append_only_truncate BEFORE TRUNCATE ON audit.seals FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.seals ENABLE ALWAYS TRIGGER _010_append_only_truncate;

CREATE TRIGGER _010_append_only_truncate BEFORE TRUNCATE ON audit.security_events FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.security_events ENABLE ALWAYS TRIGGER _010_append_only_truncate;

CREATE TRIGGER _010_append_only_update BEFORE UPDATE ON audit.disclosures FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.disclosures ENABLE ALWAYS TRIGGER _010_append_only_update;

CREATE TRIGGER _010_append_only_update BEFORE UPDATE ON audit.log FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.log ENABLE ALWAYS TRIGGER _010_append_only_update;

CREATE TRIGGER _010_append_only_update BEFORE UPDATE ON audit.seals FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.seals ENABLE ALWAYS TRIGGER _010_append_only_update;

CREATE TRIGGER _010_append_only_update BEFORE UPDATE ON audit.security_events FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit_append_only();

ALTER TABLE audit.security_events ENABLE ALWAYS TRIGGER _010_append_only_update;

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON auth.users FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();

CREATE TRIGGER _500_audit_delete AFTER DELETE ON auth.refresh_token_families REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON auth.refresh_tokens REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{token_hash}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON auth.revoked_tokens REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON auth.role_permissions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{role,permission}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON auth.service_tokens REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_delete AFTER DELETE ON auth.users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{password_hash}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON auth.refresh_token_families REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON auth.refresh_tokens REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{token_hash}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON auth.revoked_tokens REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON auth.role_permissions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{role,permission}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON auth.service_tokens REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_insert AFTER INSERT ON auth.users REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{password_hash}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON auth.refresh_token_families FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON auth.refresh_tokens FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{token_hash}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON auth.revoked_tokens FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON auth.role_permissions FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{role,permission}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON auth.service_tokens FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_truncate AFTER TRUNCATE ON auth.users FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{password_hash}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON auth.refresh_token_families REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON auth.refresh_tokens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{token_hash}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON auth.revoked_tokens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON auth.role_permissions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{role,permission}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON auth.service_tokens REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{jti}', '{}');

CREATE TRIGGER _500_audit_update AFTER UPDATE ON auth.users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION internal.tg__audit('{id}', '{password_hash}');

CREATE TRIGGER _510_log_role_change AFTER INSERT OR UPDATE OF role ON auth.users FOR EACH ROW EXECUTE FUNCTION internal.tg_users__log_role_change();

ALTER TABLE ONLY app.accommodations
    ADD CONSTRAINT accommodations_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.accommodations
    ADD CONSTRAINT accommodations_student_id_fkey FOREIGN KEY (student_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.analysis_jobs
    ADD CONSTRAINT analysis_jobs_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.attempt_answers
    ADD CONSTRAINT attempt_answers_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.attempt_answers
    ADD CONSTRAINT attempt_answers_question_id_fkey FOREIGN KEY (question_id) REFERENCES app.questions(id);

ALTER TABLE ONLY app.behavior_analyses
    ADD CONSTRAINT behavior_analyses_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.behavior_analyses
    ADD CONSTRAINT behavior_analyses_created_by_fkey FOREIGN KEY (created_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY app.counted_attempts
    ADD CONSTRAINT counted_attempts_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.event_rate_windows
    ADD CONSTRAINT event_rate_windows_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id);

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_student_id_fkey FOREIGN KEY (student_id) REFERENCES auth.users(id);

ALTER TABLE ONLY app.exam_event_counts
    ADD CONSTRAINT exam_event_counts_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.exam_metrics
    ADD CONSTRAINT exam_metrics_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.exam_stats
    ADD CONSTRAINT exam_stats_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.exams
    ADD CONSTRAINT exams_created_by_fkey FOREIGN KEY (created_by) REFERENCES auth.users(id);

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_analysis_id_fkey FOREIGN KEY (analysis_id) REFERENCES app.behavior_analyses(id) ON DELETE SET NULL;

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_reviewer_id_fkey FOREIGN KEY (reviewer_id) REFERENCES auth.users(id);

ALTER TABLE ONLY app.flagged_attempts
    ADD CONSTRAINT flagged_attempts_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE app.monitoring_events
    ADD CONSTRAINT monitoring_events_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.performance_metrics
    ADD CONSTRAINT performance_metrics_student_id_fkey FOREIGN KEY (student_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.questions
    ADD CONSTRAINT questions_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.student_profiles
    ADD CONSTRAINT student_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.teacher_exam_permissions
    ADD CONSTRAINT teacher_exam_permissions_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.teacher_exam_permissions
    ADD CONSTRAINT teacher_exam_permissions_granted_by_fkey FOREIGN KEY (granted_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY app.teacher_exam_permissions
    ADD CONSTRAINT teacher_exam_permissions_teacher_id_fkey FOREIGN KEY (teacher_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.teacher_profiles
    ADD CONSTRAINT teacher_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY auth.refresh_token_families
    ADD CONSTRAINT refresh_token_families_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_family_id_fkey FOREIGN KEY (family_id) REFERENCES auth.refresh_token_families(id) ON DELETE CASCADE;

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_replaced_by_fkey FOREIGN KEY (replaced_by) REFERENCES auth.refresh_tokens(id) ON DELETE SET NULL;

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY auth.revoked_tokens
    ADD CONSTRAINT revoked_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY auth.service_tokens
    ADD CONSTRAINT service_tokens_issued_by_fkey FOREIGN KEY (issued_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY auth.service_tokens
    ADD CONSTRAINT service_tokens_revoked_by_fkey FOREIGN KEY (revoked_by) REFERENCES auth.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY auth.service_tokens
    ADD CONSTRAINT service_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE app.accommodations ENABLE ROW LEVEL SECURITY;

CREATE POLICY admins_add_questions ON app.questions FOR INSERT TO admin WITH CHECK (true);

CREATE POLICY admins_change_extra_time ON app.accommodations FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_create_metrics ON app.performance_metrics FOR INSERT TO admin WITH CHECK (true);

CREATE POLICY admins_create_own_exams ON app.exams FOR INSERT TO admin WITH CHECK ((created_by = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY admins_create_student_profiles ON app.student_profiles FOR INSERT TO admin WITH CHECK (true);

CREATE POLICY admins_create_teacher_profiles ON app.teacher_profiles FOR INSERT TO admin WITH CHECK (true);

CREATE POLICY admins_delete_accommodations ON app.accommodations FOR DELETE TO admin USING (true);

CREATE POLICY admins_delete_exams ON app.exams FOR DELETE TO admin USING (true);

CREATE POLICY admins_delete_jobs ON app.analysis_jobs FOR DELETE TO admin USING (true);

CREATE POLICY admins_delete_questions ON app.questions FOR DELETE TO admin USING (true);

CREATE POLICY admins_edit_questions ON app.questions FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_grant_extra_time ON app.accommodations FOR INSERT TO admin WITH CHECK (internal.user_has_role(student_id, 'student'::auth.user_role));

CREATE POLICY admins_grant_permissions ON app.teacher_exam_permissions FOR INSERT TO admin WITH CHECK (((granted_by = ( SELECT internal.current_user_id() AS current_user_id)) AND (internal.user_has_role(teacher_id, 'teacher'::auth.user_role) OR internal.user_has_role(teacher_id, 'admin'::auth.user_role))));

CREATE POLICY admins_read_accommodations ON app.accommodations FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_analyses ON app.behavior_analyses FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_answers ON app.attempt_answers FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_attempts ON app.exam_attempts FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_exam_metrics ON app.exam_metrics FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_exams ON app.exams FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_jobs ON app.analysis_jobs FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_metrics ON app.performance_metrics FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_permissions ON app.teacher_exam_permissions FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_questions ON app.questions FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_reviews ON app.flag_reviews FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_student_profiles ON app.student_profiles FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_teacher_profiles ON app.teacher_profiles FOR SELECT TO admin USING (true);

CREATE POLICY admins_requeue_jobs ON app.analysis_jobs FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_review_flags ON app.flag_reviews FOR INSERT TO admin WITH CHECK (((reviewer_id = ( SELECT internal.current_user_id() AS current_user_id)) AND ((analysis_id IS NULL) OR (EXISTS ( SELECT
   FROM app.behavior_analyses b
  WHERE ((b.id = flag_reviews.analysis_id) AND (b.attempt_id = flag_reviews.attempt_id)))))));

CREATE POLICY admins_revoke_permissions ON app.teacher_exam_permissions FOR DELETE TO admin USING (true);

CREATE POLICY admins_tune_event_types ON app.event_types FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_update_exams ON app.exams FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_update_student_profiles ON app.student_profiles FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_update_teacher_profiles ON app.teacher_profiles FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY admins_write_external_analyses ON app.behavior_analyses FOR INSERT TO admin WITH CHECK (((source = 'external'::app.analysis_source) AND (created_by = ( SELECT internal.current_user_id() AS current_user_id))));

ALTER TABLE app.analysis_jobs ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.analyst_settings ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.analytics_refreshes ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.attempt_answers ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.behavior_analyses ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.counted_attempts ENABLE ROW LEVEL SECURITY;

CREATE POLICY definer_helpers_add_counted_attempts ON app.counted_attempts FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_add_exam_event_counts ON app.exam_event_counts FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_add_exam_stats ON app.exam_stats FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_add_flagged_attempts ON app.flagged_attempts FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_clear_answers ON app.attempt_answers FOR DELETE TO veritas_owner USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = attempt_answers.attempt_id) AND (a.status = 'in_progress'::app.attempt_status)))));

CREATE POLICY definer_helpers_count_events ON app.event_rate_windows TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_create_exam_metrics ON app.exam_metrics FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_create_metrics ON app.performance_metrics FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_create_student_profiles ON app.student_profiles FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_move_parked_events ON app.monitoring_events_default TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_purge_done_jobs ON app.analysis_jobs FOR DELETE TO veritas_owner USING ((status = 'done'::app.job_status));

CREATE POLICY definer_helpers_queue_jobs ON app.analysis_jobs FOR INSERT TO veritas_owner WITH CHECK ((status = 'queued'::app.job_status));

CREATE POLICY definer_helpers_read_accommodations ON app.accommodations FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_analyses ON app.behavior_analyses FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_analyst_settings ON app.analyst_settings FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_answers ON app.attempt_answers FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_attempts ON app.exam_attempts FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_counted_attempts ON app.counted_attempts FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_event_types ON app.event_types FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_events ON app.monitoring_events FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_exam_event_counts ON app.exam_event_counts FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_exam_metrics ON app.exam_metrics FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_exam_stats ON app.exam_stats FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_exams ON app.exams FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_flagged_attempts ON app.flagged_attempts FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_jobs ON app.analysis_jobs FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_metrics ON app.performance_metrics FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_permissions ON app.teacher_exam_permissions FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_questions ON app.questions FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_refresh_times ON app.analytics_refreshes FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_reviews ON app.flag_reviews FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_student_profiles ON app.student_profiles FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_record_events ON app.monitoring_events FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_record_refreshes ON app.analytics_refreshes FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_remove_counted_attempts ON app.counted_attempts FOR DELETE TO veritas_owner USING (true);

CREATE POLICY definer_helpers_remove_exam_event_counts ON app.exam_event_counts FOR DELETE TO veritas_owner USING (true);

CREATE POLICY definer_helpers_remove_exam_stats ON app.exam_stats FOR DELETE TO veritas_owner USING (true);

CREATE POLICY definer_helpers_remove_flagged_attempts ON app.flagged_attempts FOR DELETE TO veritas_owner USING (true);

CREATE POLICY definer_helpers_run_jobs ON app.analysis_jobs FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_save_answers ON app.attempt_answers FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_start_attempts ON app.exam_attempts FOR INSERT TO veritas_owner WITH CHECK (((status = 'in_progress'::app.attempt_status) AND (finished_at IS NULL) AND (score IS NULL)));

CREATE POLICY definer_helpers_update_answers ON app.attempt_answers FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_attempts ON app.exam_attempts FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_counted_attempts ON app.counted_attempts FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_exam_event_counts ON app.exam_event_counts FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_exam_metrics ON app.exam_metrics FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_exam_stats ON app.exam_stats FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_flagged_attempts ON app.flagged_attempts FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_metrics ON app.performance_metrics FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_refresh_times ON app.analytics_refreshes FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_student_profiles ON app.student_profiles FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_write_builtin_analyses ON app.behavior_analyses FOR INSERT TO veritas_owner WITH CHECK (((source = 'builtin'::app.analysis_source) AND (created_by IS NULL)));

ALTER TABLE app.event_rate_windows ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.event_types ENABLE ROW LEVEL SECURITY;

CREATE POLICY everyone_reads_event_types ON app.event_types FOR SELECT TO admin, integration, student, teacher USING (true);

ALTER TABLE app.exam_attempts ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.exam_event_counts ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.exam_metrics ENABLE ROW LEVEL SECURITY;

CREATE POLICY exam_owners_grant_permissions ON app.teacher_exam_permissions FOR INSERT TO teacher WITH CHECK (((granted_by = ( SELECT internal.current_user_id() AS current_user_id)) AND (EXISTS ( SELECT
   FROM app.exams e
  WHERE ((e.id = teacher_exam_permissions.exam_id) AND (e.created_by = ( SELECT internal.current_user_id() AS current_user_id))))) AND (internal.user_has_role(teacher_id, 'teacher'::auth.user_role) OR internal.user_has_role(teacher_id, 'admin'::auth.user_role))));

ALTER TABLE app.exam_stats ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.exams ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.flag_reviews ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.flagged_attempts ENABLE ROW LEVEL SECURITY;

CREATE POLICY integration_reads_analyses ON app.behavior_analyses FOR SELECT TO integration USING (true);

CREATE POLICY integration_reads_attempts ON app.exam_attempts FOR SELECT TO integration USING (true);

CREATE POLICY integration_reads_exam_grace ON app.exams FOR SELECT TO integration USING (true);

CREATE POLICY integration_reads_exam_metrics ON app.exam_metrics FOR SELECT TO integration USING (true);

CREATE POLICY integration_reads_metrics ON app.performance_metrics FOR SELECT TO integration USING (true);

CREATE POLICY integration_reads_profile_statistics ON app.student_profiles FOR SELECT TO integration USING (true);

CREATE POLICY integration_writes_external_analyses ON app.behavior_analyses FOR INSERT TO integration WITH CHECK (((source = 'external'::app.analysis_source) AND (created_by = ( SELECT internal.current_user_id() AS current_user_id))));

ALTER TABLE app.monitoring_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monitoring_events_default ENABLE ROW LEVEL SECURITY;

CREATE POLICY owner_changes_analyst_settings ON app.analyst_settings FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY owner_sets_analyst_settings ON app.analyst_settings FOR INSERT TO veritas_owner WITH CHECK (true);

ALTER TABLE app.performance_metrics ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.questions ENABLE ROW LEVEL SECURITY;

CREATE POLICY staff_read_refresh_times ON app.analytics_refreshes FOR SELECT TO admin, teacher USING (true);

ALTER TABLE app.student_profiles ENABLE ROW LEVEL SECURITY;

CREATE POLICY students_read_analyses_of_own_attempts ON app.behavior_analyses FOR SELECT TO student USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = behavior_analyses.attempt_id) AND (a.student_id = ( SELECT internal.current_user_id() AS current_user_id))))));

CREATE POLICY students_read_own_accommodations ON app.accommodations FOR SELECT TO student USING ((student_id = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY students_read_own_answers ON app.attempt_answers FOR SELECT TO student USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = attempt_answers.attempt_id) AND (a.student_id = ( SELECT internal.current_user_id() AS current_user_id))))));

CREATE POLICY students_read_own_attempts ON app.exam_attempts FOR SELECT TO student USING ((student_id = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY students_read_own_metrics ON app.performance_metrics FOR SELECT TO student USING ((student_id = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY students_read_own_profile ON app.student_profiles FOR SELECT TO student USING ((user_id = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY students_read_published_exams ON app.exams FOR SELECT TO student USING (published);

CREATE POLICY students_read_questions_of_open_exams ON app.questions FOR SELECT TO student USING ((EXISTS ( SELECT
   FROM app.exams e
  WHERE ((e.id = questions.exam_id) AND e.published AND (e.opens_at <= now())))));

ALTER TABLE app.teacher_exam_permissions ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.teacher_profiles ENABLE ROW LEVEL SECURITY;

CREATE POLICY teachers_add_questions_to_their_exams ON app.questions FOR INSERT TO teacher WITH CHECK ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_change_extra_time_on_their_exams ON app.accommodations FOR UPDATE TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))) WITH CHECK ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_create_own_exams ON app.exams FOR INSERT TO teacher WITH CHECK ((created_by = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY teachers_delete_questions_of_their_exams ON app.questions FOR DELETE TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_edit_questions_of_their_exams ON app.questions FOR UPDATE TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))) WITH CHECK ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_grant_extra_time_on_their_exams ON app.accommodations FOR INSERT TO teacher WITH CHECK (((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])) AND internal.user_has_role(student_id, 'student'::auth.user_role)));

CREATE POLICY teachers_read_accommodations_of_their_exams ON app.accommodations FOR SELECT TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_read_analyses_on_their_exams ON app.behavior_analyses FOR SELECT TO teacher USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = behavior_analyses.attempt_id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))));

CREATE POLICY teachers_read_answers_on_their_exams ON app.attempt_answers FOR SELECT TO teacher USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = attempt_answers.attempt_id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))));

CREATE POLICY teachers_read_attempts_on_their_exams ON app.exam_attempts FOR SELECT TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_read_metrics_of_their_exams ON app.exam_metrics FOR SELECT TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_read_own_profile ON app.teacher_profiles FOR SELECT TO teacher USING ((user_id = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY teachers_read_permissions_of_their_exams ON app.teacher_exam_permissions FOR SELECT TO teacher USING (((teacher_id = ( SELECT internal.current_user_id() AS current_user_id)) OR (exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))));

CREATE POLICY teachers_read_questions_of_their_exams ON app.questions FOR SELECT TO teacher USING ((exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])));

CREATE POLICY teachers_read_reviews_on_their_exams ON app.flag_reviews FOR SELECT TO teacher USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = flag_reviews.attempt_id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))));

CREATE POLICY teachers_read_their_exams ON app.exams FOR SELECT TO teacher USING (((created_by = ( SELECT internal.current_user_id() AS current_user_id)) OR (id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))));

CREATE POLICY teachers_read_their_students_metrics ON app.performance_metrics FOR SELECT TO teacher USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.student_id = performance_metrics.student_id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))));

CREATE POLICY teachers_read_their_students_profiles ON app.student_profiles FOR SELECT TO teacher USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.student_id = student_profiles.user_id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))));

CREATE POLICY teachers_review_flags_on_their_exams ON app.flag_reviews FOR INSERT TO teacher WITH CHECK (((reviewer_id = ( SELECT internal.current_user_id() AS current_user_id)) AND (EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.id = flag_reviews.attempt_id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))) AND ((analysis_id IS NULL) OR (EXISTS ( SELECT
   FROM app.behavior_analyses b
  WHERE ((b.id = flag_reviews.analysis_id) AND (b.attempt_id = flag_reviews.attempt_id)))))));

CREATE POLICY teachers_update_their_exams ON app.exams FOR UPDATE TO teacher USING (((created_by = ( SELECT internal.current_user_id() AS current_user_id)) OR (id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[])))) WITH CHECK (((created_by = ( SELECT internal.current_user_id() AS current_user_id)) OR (id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))));

CREATE POLICY admins_read_disclosures ON audit.disclosures FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_seals ON audit.seals FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_security_events ON audit.security_events FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_the_audit_log ON audit.log FOR SELECT TO admin USING (true);

CREATE POLICY definer_helpers_append_seals ON audit.seals FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_append_to_the_audit_log ON audit.log FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_log_disclosures ON audit.disclosures FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_log_security_events ON audit.security_events FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_read_disclosures ON audit.disclosures FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_seals ON audit.seals FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_security_events ON audit.security_events FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_the_audit_log ON audit.log FOR SELECT TO veritas_owner USING (true);

ALTER TABLE audit.disclosures ENABLE ROW LEVEL SECURITY;

ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;

ALTER TABLE audit.seals ENABLE ROW LEVEL SECURITY;

ALTER TABLE audit.security_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY students_read_own_disclosures ON audit.disclosures FOR SELECT TO student USING ((student_id = ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY admins_create_users ON auth.users FOR INSERT TO admin WITH CHECK (true);

CREATE POLICY admins_delete_other_users ON auth.users FOR DELETE TO admin USING ((id <> ( SELECT internal.current_user_id() AS current_user_id)));

CREATE POLICY admins_read_login_attempts ON auth.login_attempts FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_permissions ON auth.role_permissions FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_refresh_tokens ON auth.refresh_tokens FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_revoked_tokens ON auth.revoked_tokens FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_service_tokens ON auth.service_tokens FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_sessions ON auth.refresh_token_families FOR SELECT TO admin USING (true);

CREATE POLICY admins_read_users ON auth.users FOR SELECT TO admin USING (true);

CREATE POLICY admins_update_users ON auth.users FOR UPDATE TO admin USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_issue_refresh_tokens ON auth.refresh_tokens FOR INSERT TO veritas_owner WITH CHECK (((used_at IS NULL) AND (replaced_by IS NULL)));

CREATE POLICY definer_helpers_issue_service_tokens ON auth.service_tokens FOR INSERT TO veritas_owner WITH CHECK ((revoked_at IS NULL));

CREATE POLICY definer_helpers_open_sessions ON auth.refresh_token_families FOR INSERT TO veritas_owner WITH CHECK ((revoked_at IS NULL));

CREATE POLICY definer_helpers_purge_empty_sessions ON auth.refresh_token_families FOR DELETE TO veritas_owner USING (((created_at < (now() - '1 day'::interval)) AND (NOT (EXISTS ( SELECT
   FROM auth.refresh_tokens t
  WHERE (t.family_id = refresh_token_families.id))))));

CREATE POLICY definer_helpers_purge_expired_refresh_tokens ON auth.refresh_tokens FOR DELETE TO veritas_owner USING ((expires_at < (now() - '1 day'::interval)));

CREATE POLICY definer_helpers_purge_expired_revocations ON auth.revoked_tokens FOR DELETE TO veritas_owner USING ((expires_at < now()));

CREATE POLICY definer_helpers_purge_old_login_attempts ON auth.login_attempts FOR DELETE TO veritas_owner USING ((attempted_at < (now() - '30 days'::interval)));

CREATE POLICY definer_helpers_read_login_attempts ON auth.login_attempts FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_refresh_tokens ON auth.refresh_tokens FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_revoked_tokens ON auth.revoked_tokens FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_service_tokens ON auth.service_tokens FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_sessions ON auth.refresh_token_families FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_read_users ON auth.users FOR SELECT TO veritas_owner USING (true);

CREATE POLICY definer_helpers_record_login_attempts ON auth.login_attempts FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_register_students ON auth.users FOR INSERT TO veritas_owner WITH CHECK ((role = 'student'::auth.user_role));

CREATE POLICY definer_helpers_revoke_service_tokens ON auth.service_tokens FOR UPDATE TO veritas_owner USING ((revoked_at IS NULL)) WITH CHECK ((revoked_at IS NOT NULL));

CREATE POLICY definer_helpers_revoke_sessions ON auth.refresh_token_families FOR UPDATE TO veritas_owner USING (true) WITH CHECK ((revoked_at IS NOT NULL));

CREATE POLICY definer_helpers_revoke_tokens ON auth.revoked_tokens FOR INSERT TO veritas_owner WITH CHECK (true);

CREATE POLICY definer_helpers_rotate_refresh_tokens ON auth.refresh_tokens FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

CREATE POLICY definer_helpers_update_users ON auth.users FOR UPDATE TO veritas_owner USING (true) WITH CHECK (true);

ALTER TABLE auth.login_attempts ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_token_families ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.revoked_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.role_permissions ENABLE ROW LEVEL SECURITY;

CREATE POLICY roles_read_own_permissions ON auth.role_permissions FOR SELECT TO integration, student, teacher USING (((role)::text = CURRENT_USER));

ALTER TABLE auth.service_tokens ENABLE ROW LEVEL SECURITY;

CREATE POLICY teachers_read_their_students ON auth.users FOR SELECT TO teacher USING ((EXISTS ( SELECT
   FROM app.exam_attempts a
  WHERE ((a.student_id = users.id) AND (a.exam_id = ANY (( SELECT internal.teacher_exam_ids() AS teacher_exam_ids)::uuid[]))))));

ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;

CREATE POLICY users_read_own_row ON auth.users FOR SELECT TO integration, student, teacher USING ((id = ( SELECT internal.current_user_id() AS current_user_id)));

GRANT USAGE ON SCHEMA analytics TO analyst;
GRANT USAGE ON SCHEMA analytics TO admin;

GRANT USAGE ON SCHEMA api TO anon;
GRANT USAGE ON SCHEMA api TO student;
GRANT USAGE ON SCHEMA api TO teacher;
GRANT USAGE ON SCHEMA api TO admin;
GRANT USAGE ON SCHEMA api TO integration;

GRANT USAGE ON SCHEMA app TO student;
GRANT USAGE ON SCHEMA app TO teacher;
GRANT USAGE ON SCHEMA app TO admin;
GRANT USAGE ON SCHEMA app TO integration;

GRANT USAGE ON SCHEMA audit TO admin;
GRANT USAGE ON SCHEMA audit TO student;

GRANT USAGE ON SCHEMA auth TO student;
GRANT USAGE ON SCHEMA auth TO teacher;
GRANT USAGE ON SCHEMA auth TO admin;
GRANT USAGE ON SCHEMA auth TO integration;

GRANT USAGE ON SCHEMA internal TO anon;
GRANT USAGE ON SCHEMA internal TO student;
GRANT USAGE ON SCHEMA internal TO teacher;
GRANT USAGE ON SCHEMA internal TO admin;
GRANT USAGE ON SCHEMA internal TO integration;
GRANT USAGE ON SCHEMA internal TO worker;

REVOKE ALL ON FUNCTION api.abandon_exam_attempt(attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.abandon_exam_attempt(attempt_id uuid) TO student;
GRANT ALL ON FUNCTION api.abandon_exam_attempt(attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.add_question(exam_id uuid, kind text, prompt text, correct jsonb, options jsonb, tolerance numeric, points numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION api.add_question(exam_id uuid, kind text, prompt text, correct jsonb, options jsonb, tolerance numeric, points numeric) TO teacher;
GRANT ALL ON FUNCTION api.add_question(exam_id uuid, kind text, prompt text, correct jsonb, options jsonb, tolerance numeric, points numeric) TO admin;

REVOKE ALL ON FUNCTION api.can_access_exam(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.can_access_exam(exam_id uuid) TO student;
GRANT ALL ON FUNCTION api.can_access_exam(exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.can_access_exam(exam_id uuid) TO admin;
GRANT ALL ON FUNCTION api.can_access_exam(exam_id uuid) TO integration;

REVOKE ALL ON FUNCTION api.can_access_student_data(student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.can_access_student_data(student_id uuid) TO student;
GRANT ALL ON FUNCTION api.can_access_student_data(student_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.can_access_student_data(student_id uuid) TO admin;
GRANT ALL ON FUNCTION api.can_access_student_data(student_id uuid) TO integration;

REVOKE ALL ON FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb) TO student;
GRANT ALL ON FUNCTION api.complete_exam_attempt(attempt_id uuid, answers jsonb) TO admin;

REVOKE ALL ON FUNCTION api.create_exam(title text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, questions jsonb, description text, published boolean, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_exam(title text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, questions jsonb, description text, published boolean, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean) TO teacher;
GRANT ALL ON FUNCTION api.create_exam(title text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, questions jsonb, description text, published boolean, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean) TO admin;

REVOKE ALL ON FUNCTION api.create_exam_attempt(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_exam_attempt(exam_id uuid) TO student;
GRANT ALL ON FUNCTION api.create_exam_attempt(exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.find_students(q text, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.find_students(q text, "limit" integer) TO teacher;
GRANT ALL ON FUNCTION api.find_students(q text, "limit" integer) TO admin;

REVOKE ALL ON FUNCTION api.find_teachers(q text, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.find_teachers(q text, "limit" integer) TO teacher;
GRANT ALL ON FUNCTION api.find_teachers(q text, "limit" integer) TO admin;

REVOKE ALL ON FUNCTION api.get_attempt_monitoring_events(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_attempt_monitoring_events(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) TO student;
GRANT ALL ON FUNCTION api.get_attempt_monitoring_events(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) TO integration;

REVOKE ALL ON FUNCTION api.get_audit_log("table" text, actor uuid, since timestamp with time zone, "limit" integer, before bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_audit_log("table" text, actor uuid, since timestamp with time zone, "limit" integer, before bigint) TO admin;

REVOKE ALL ON FUNCTION api.get_available_exams_for_student() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_available_exams_for_student() TO student;
GRANT ALL ON FUNCTION api.get_available_exams_for_student() TO admin;

REVOKE ALL ON FUNCTION api.get_behavior_analysis(attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_behavior_analysis(attempt_id uuid) TO student;
GRANT ALL ON FUNCTION api.get_behavior_analysis(attempt_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.get_behavior_analysis(attempt_id uuid) TO admin;
GRANT ALL ON FUNCTION api.get_behavior_analysis(attempt_id uuid) TO integration;

REVOKE ALL ON FUNCTION api.get_disclosure_log(student_id uuid, viewer uuid, since timestamp with time zone, "limit" integer, before bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_disclosure_log(student_id uuid, viewer uuid, since timestamp with time zone, "limit" integer, before bigint) TO admin;

REVOKE ALL ON FUNCTION api.get_exam(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_exam(exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.get_exam(exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.get_flagged_students_for_exam(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_flagged_students_for_exam(exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.get_flagged_students_for_exam(exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.get_monitoring_events_for_attempt(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_monitoring_events_for_attempt(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) TO teacher;
GRANT ALL ON FUNCTION api.get_monitoring_events_for_attempt(attempt_id uuid, after_occurred_at timestamp with time zone, after_id uuid, "limit" integer) TO admin;

REVOKE ALL ON FUNCTION api.get_my_disclosures("limit" integer, before bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_my_disclosures("limit" integer, before bigint) TO student;

REVOKE ALL ON FUNCTION api.get_security_events(kind text, user_id uuid, since timestamp with time zone, "limit" integer, before bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_security_events(kind text, user_id uuid, since timestamp with time zone, "limit" integer, before bigint) TO admin;

REVOKE ALL ON FUNCTION api.get_service_tokens() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_service_tokens() TO admin;

REVOKE ALL ON FUNCTION api.get_student_dashboard_data() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_student_dashboard_data() TO student;
GRANT ALL ON FUNCTION api.get_student_dashboard_data() TO admin;

REVOKE ALL ON FUNCTION api.get_student_detail_for_teacher(student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_student_detail_for_teacher(student_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.get_student_detail_for_teacher(student_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.get_student_exam_detail(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_student_exam_detail(exam_id uuid) TO student;
GRANT ALL ON FUNCTION api.get_student_exam_detail(exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.get_teacher_dashboard_data() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_teacher_dashboard_data() TO teacher;
GRANT ALL ON FUNCTION api.get_teacher_dashboard_data() TO admin;

REVOKE ALL ON FUNCTION api.get_teacher_exam_analytics(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_teacher_exam_analytics(exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.get_teacher_exam_analytics(exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.get_users(role text, active boolean, q text, after_email text, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_users(role text, active boolean, q text, after_email text, "limit" integer) TO admin;

REVOKE ALL ON FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.grant_exam_permission(exam_id uuid, teacher_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.has_permission(permission text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.has_permission(permission text) TO student;
GRANT ALL ON FUNCTION api.has_permission(permission text) TO teacher;
GRANT ALL ON FUNCTION api.has_permission(permission text) TO admin;
GRANT ALL ON FUNCTION api.has_permission(permission text) TO integration;

REVOKE ALL ON FUNCTION api.me() FROM PUBLIC;
GRANT ALL ON FUNCTION api.me() TO student;
GRANT ALL ON FUNCTION api.me() TO teacher;
GRANT ALL ON FUNCTION api.me() TO admin;
GRANT ALL ON FUNCTION api.me() TO integration;

REVOKE ALL ON FUNCTION api.publish_exam(exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.publish_exam(exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.publish_exam(exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.record_monitoring_event(attempt_id uuid, event_type text, occurred_at timestamp with time zone, payload jsonb, client_event_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_monitoring_event(attempt_id uuid, event_type text, occurred_at timestamp with time zone, payload jsonb, client_event_id text) TO student;
GRANT ALL ON FUNCTION api.record_monitoring_event(attempt_id uuid, event_type text, occurred_at timestamp with time zone, payload jsonb, client_event_id text) TO integration;

REVOKE ALL ON FUNCTION api.record_monitoring_events(body jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_monitoring_events(body jsonb) TO student;
GRANT ALL ON FUNCTION api.record_monitoring_events(body jsonb) TO integration;

REVOKE ALL ON FUNCTION api.remove_question(question_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.remove_question(question_id uuid) TO teacher;
GRANT ALL ON FUNCTION api.remove_question(question_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.review_attempt(attempt_id uuid, decision text, note text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.review_attempt(attempt_id uuid, decision text, note text) TO teacher;
GRANT ALL ON FUNCTION api.review_attempt(attempt_id uuid, decision text, note text) TO admin;

REVOKE ALL ON FUNCTION api.revoke_service_token(jti uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.revoke_service_token(jti uuid) TO admin;

REVOKE ALL ON FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb) TO student;
GRANT ALL ON FUNCTION api.save_answer(attempt_id uuid, question_id uuid, answer jsonb) TO admin;

REVOKE ALL ON FUNCTION api.save_behavior_analysis(attempt_id uuid, integrity_score numeric, lmi_score numeric, flags jsonb, summary text, model text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.save_behavior_analysis(attempt_id uuid, integrity_score numeric, lmi_score numeric, flags jsonb, summary text, model text) TO integration;
GRANT ALL ON FUNCTION api.save_behavior_analysis(attempt_id uuid, integrity_score numeric, lmi_score numeric, flags jsonb, summary text, model text) TO admin;

REVOKE ALL ON FUNCTION api.set_accommodation(exam_id uuid, student_id uuid, extra_minutes integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_accommodation(exam_id uuid, student_id uuid, extra_minutes integer) TO teacher;
GRANT ALL ON FUNCTION api.set_accommodation(exam_id uuid, student_id uuid, extra_minutes integer) TO admin;

REVOKE ALL ON FUNCTION api.set_user_active(user_id uuid, active boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_user_active(user_id uuid, active boolean) TO admin;

REVOKE ALL ON FUNCTION api.update_exam(exam_id uuid, title text, description text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean, published boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_exam(exam_id uuid, title text, description text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean, published boolean) TO teacher;
GRANT ALL ON FUNCTION api.update_exam(exam_id uuid, title text, description text, duration_minutes integer, opens_at timestamp with time zone, closes_at timestamp with time zone, max_attempts integer, grading_method text, grace_seconds integer, shuffle_questions boolean, shuffle_options boolean, published boolean) TO admin;

REVOKE ALL ON FUNCTION api.update_performance_metrics(student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_performance_metrics(student_id uuid) TO integration;
GRANT ALL ON FUNCTION api.update_performance_metrics(student_id uuid) TO admin;

REVOKE ALL ON FUNCTION api.update_question(question_id uuid, kind text, prompt text, options jsonb, correct jsonb, tolerance numeric, points numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_question(question_id uuid, kind text, prompt text, options jsonb, correct jsonb, tolerance numeric, points numeric) TO teacher;
GRANT ALL ON FUNCTION api.update_question(question_id uuid, kind text, prompt text, options jsonb, correct jsonb, tolerance numeric, points numeric) TO admin;

REVOKE ALL ON FUNCTION api.update_student_profile_stats(student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_student_profile_stats(student_id uuid) TO integration;
GRANT ALL ON FUNCTION api.update_student_profile_stats(student_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.abandon_attempt(p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.abandon_attempt(p_attempt_id uuid) TO student;
GRANT ALL ON FUNCTION internal.abandon_attempt(p_attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[]) TO student;
GRANT ALL ON FUNCTION internal.admit_event_batch(p_attempts uuid[], p_events integer[]) TO integration;

REVOKE ALL ON FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer) TO student;
GRANT ALL ON FUNCTION internal.admit_events(p_attempt_id uuid, p_events integer) TO integration;

REVOKE ALL ON FUNCTION internal.analyse_attempt(p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.analyse_attempt(p_attempt_id uuid) TO worker;

GRANT SELECT ON TABLE app.behavior_analyses TO student;
GRANT SELECT ON TABLE app.behavior_analyses TO teacher;
GRANT SELECT ON TABLE app.behavior_analyses TO admin;
GRANT SELECT ON TABLE app.behavior_analyses TO integration;

GRANT INSERT(attempt_id) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(attempt_id) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(source) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(source) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(model) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(model) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(integrity_score) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(integrity_score) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(lmi_score) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(lmi_score) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(flags) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(flags) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(summary) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(summary) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(is_flagged) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(is_flagged) ON TABLE app.behavior_analyses TO admin;

GRANT INSERT(created_by) ON TABLE app.behavior_analyses TO integration;
GRANT INSERT(created_by) ON TABLE app.behavior_analyses TO admin;

REVOKE ALL ON FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) TO student;
GRANT ALL ON FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) TO teacher;
GRANT ALL ON FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) TO admin;
GRANT ALL ON FUNCTION internal.analysis_document(p_analysis app.behavior_analyses) TO integration;

REVOKE ALL ON FUNCTION internal.analytics_refreshed_at(p_views text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.analytics_refreshed_at(p_views text[]) TO teacher;
GRANT ALL ON FUNCTION internal.analytics_refreshed_at(p_views text[]) TO admin;

REVOKE ALL ON FUNCTION internal.answer_problem(p_question jsonb, p_answer jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.archive_event_partitions(p_older_than interval) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.assert_attempt_open(p_status app.attempt_status, p_deadline timestamp with time zone, p_grace_seconds integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.assert_author() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_author() TO teacher;
GRANT ALL ON FUNCTION internal.assert_author() TO admin;

REVOKE ALL ON FUNCTION internal.assert_disclosed_records(p_role text, p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.assert_exam_settings(p_title text, p_description text, p_duration_minutes integer, p_opens_at timestamp with time zone, p_closes_at timestamp with time zone, p_max_attempts integer, p_grace_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_exam_settings(p_title text, p_description text, p_duration_minutes integer, p_opens_at timestamp with time zone, p_closes_at timestamp with time zone, p_max_attempts integer, p_grace_seconds integer) TO teacher;
GRANT ALL ON FUNCTION internal.assert_exam_settings(p_title text, p_description text, p_duration_minutes integer, p_opens_at timestamp with time zone, p_closes_at timestamp with time zone, p_max_attempts integer, p_grace_seconds integer) TO admin;

REVOKE ALL ON FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid) TO student;
GRANT ALL ON FUNCTION internal.assert_own_attempt_visible(p_attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.assert_session_active() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_session_active() TO student;
GRANT ALL ON FUNCTION internal.assert_session_active() TO teacher;
GRANT ALL ON FUNCTION internal.assert_session_active() TO admin;
GRANT ALL ON FUNCTION internal.assert_session_active() TO integration;

REVOKE ALL ON FUNCTION internal.assert_staff_caller() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_staff_caller() TO teacher;
GRANT ALL ON FUNCTION internal.assert_staff_caller() TO admin;

REVOKE ALL ON FUNCTION internal.assert_student_caller() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_student_caller() TO student;
GRANT ALL ON FUNCTION internal.assert_student_caller() TO admin;

REVOKE ALL ON FUNCTION internal.assert_student_visible(p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.assert_student_visible(p_student_id uuid) TO integration;
GRANT ALL ON FUNCTION internal.assert_student_visible(p_student_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.attempt_behaviour_evidence(p_attempt_id uuid, p_start timestamp with time zone, p_end timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.attempt_paper(p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.attempt_paper(p_attempt_id uuid) TO student;
GRANT ALL ON FUNCTION internal.attempt_paper(p_attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) TO student;
GRANT ALL ON FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) TO teacher;
GRANT ALL ON FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) TO admin;
GRANT ALL ON FUNCTION internal.attempt_timeline(p_attempt_id uuid, p_after_occurred_at timestamp with time zone, p_after_id uuid, p_limit integer) TO integration;

REVOKE ALL ON FUNCTION internal.audit_actor(OUT actor_id uuid, OUT actor_role text) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.audit_attach(p_table regclass) FROM PUBLIC;

REVOKE ALL ON TABLE audit.disclosures FROM veritas_owner;
GRANT SELECT,INSERT,REFERENCES,TRIGGER ON TABLE audit.disclosures TO veritas_owner;
GRANT SELECT ON TABLE audit.disclosures TO admin;

GRANT SELECT(id) ON TABLE audit.disclosures TO student;

GRANT SELECT(occurred_at) ON TABLE audit.disclosures TO student;

GRANT SELECT(viewer_id) ON TABLE audit.disclosures TO student;

GRANT SELECT(viewer_role) ON TABLE audit.disclosures TO student;

GRANT SELECT(student_id) ON TABLE audit.disclosures TO student;

GRANT SELECT(record_kind) ON TABLE audit.disclosures TO student;

GRANT SELECT(record_id) ON TABLE audit.disclosures TO student;

REVOKE ALL ON FUNCTION internal.audit_content(p_row audit.disclosures) FROM PUBLIC;

REVOKE ALL ON TABLE audit.log FROM veritas_owner;
GRANT SELECT,INSERT,REFERENCES,TRIGGER ON TABLE audit.log TO veritas_owner;
GRANT SELECT ON TABLE audit.log TO admin;

REVOKE ALL ON FUNCTION internal.audit_content(p_row audit.log) FROM PUBLIC;

REVOKE ALL ON TABLE audit.security_events FROM veritas_owner;
GRANT SELECT,INSERT,REFERENCES,TRIGGER ON TABLE audit.security_events TO veritas_owner;
GRANT SELECT ON TABLE audit.security_events TO admin;

REVOKE ALL ON FUNCTION internal.audit_content(p_row audit.security_events) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.audit_event_partition(p_table regclass) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.audit_exclusions() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.audit_operation(p_operation text, p_table regclass, p_details jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.audit_page_size(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.audit_page_size(p_limit integer) TO student;
GRANT ALL ON FUNCTION internal.audit_page_size(p_limit integer) TO admin;

REVOKE ALL ON FUNCTION internal.audit_pk(p_row jsonb, p_columns text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.audit_time(p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.audit_time(p_at timestamp with time zone) TO student;
GRANT ALL ON FUNCTION internal.audit_time(p_at timestamp with time zone) TO admin;

REVOKE ALL ON FUNCTION internal.available_exams(p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.available_exams(p_student_id uuid) TO student;
GRANT ALL ON FUNCTION internal.available_exams(p_student_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.builtin_analysis_rules() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.can_access_exam(p_exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.can_access_exam(p_exam_id uuid) TO student;
GRANT ALL ON FUNCTION internal.can_access_exam(p_exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.can_access_exam(p_exam_id uuid) TO admin;
GRANT ALL ON FUNCTION internal.can_access_exam(p_exam_id uuid) TO integration;

REVOKE ALL ON FUNCTION internal.can_access_student_data(p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.can_access_student_data(p_student_id uuid) TO student;
GRANT ALL ON FUNCTION internal.can_access_student_data(p_student_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.can_access_student_data(p_student_id uuid) TO admin;
GRANT ALL ON FUNCTION internal.can_access_student_data(p_student_id uuid) TO integration;

REVOKE ALL ON FUNCTION internal.citus_distribute() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.citus_distributed(p_table regclass) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.citus_force_event_policies(p_force boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.close_attempts(p_attempt_ids uuid[], p_status app.attempt_status) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.count_closed_attempts(p_from timestamp with time zone, p_to timestamp with time zone, p_at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.create_event_partitions(p_months_ahead integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.create_event_partitions(p_months_ahead integer) TO worker;

REVOKE ALL ON FUNCTION internal.create_user(p_email text, p_password_hash text, p_full_name text, p_role auth.user_role, p_department text) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.create_user(p_email text, p_password_hash text, p_full_name text, p_role auth.user_role, p_department text) TO admin;

REVOKE ALL ON FUNCTION internal.current_app_role() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.current_app_role() TO student;
GRANT ALL ON FUNCTION internal.current_app_role() TO teacher;
GRANT ALL ON FUNCTION internal.current_app_role() TO admin;
GRANT ALL ON FUNCTION internal.current_app_role() TO integration;

REVOKE ALL ON FUNCTION internal.current_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.current_user_id() TO student;
GRANT ALL ON FUNCTION internal.current_user_id() TO teacher;
GRANT ALL ON FUNCTION internal.current_user_id() TO admin;
GRANT ALL ON FUNCTION internal.current_user_id() TO integration;

REVOKE ALL ON FUNCTION internal.disclosure_viewer_name(p_viewer_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.disclosure_viewer_name(p_viewer_id uuid) TO student;

REVOKE ALL ON FUNCTION internal.drop_policies(VARIADIC p_tables regclass[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.event_partition_name(p_month date) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.event_problem(p_event jsonb, p_types text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.event_problem(p_event jsonb, p_types text[]) TO student;
GRANT ALL ON FUNCTION internal.event_problem(p_event jsonb, p_types text[]) TO integration;

REVOKE ALL ON FUNCTION internal.events_inserted() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.exam_document(p_exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.exam_document(p_exam_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.exam_document(p_exam_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO worker;
GRANT ALL ON FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO student;
GRANT ALL ON FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.expire_overdue_attempts(p_limit integer, p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer) TO teacher;
GRANT ALL ON FUNCTION internal.find_active_teachers(p_pattern text, p_limit integer) TO admin;

REVOKE ALL ON FUNCTION internal.grade_answer(p_question jsonb, p_answer jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.grading_method_of(p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.grading_method_of(p_name text) TO teacher;
GRANT ALL ON FUNCTION internal.grading_method_of(p_name text) TO admin;

REVOKE ALL ON FUNCTION internal.issue_service_token(p_user_id uuid, p_label text, p_lifetime_days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.issue_service_token(p_user_id uuid, p_label text, p_lifetime_days integer) TO admin;

REVOKE ALL ON FUNCTION internal.jwt_claims() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.jwt_claims() TO student;
GRANT ALL ON FUNCTION internal.jwt_claims() TO teacher;
GRANT ALL ON FUNCTION internal.jwt_claims() TO admin;
GRANT ALL ON FUNCTION internal.jwt_claims() TO integration;

REVOKE ALL ON FUNCTION internal.last_seal(p_chain text, OUT high_water bigint, OUT pending bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO student;
GRANT ALL ON FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.lazy_expire(p_student_id uuid, p_exam_id uuid, p_attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) TO student;
GRANT ALL ON FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) TO admin;
GRANT ALL ON FUNCTION internal.log_disclosure(p_student_id uuid, p_record_kind text, p_record_id uuid) TO integration;

REVOKE ALL ON FUNCTION internal.log_disclosures(p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.log_disclosures(p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) TO teacher;
GRANT ALL ON FUNCTION internal.log_disclosures(p_student_ids uuid[], p_record_kind text, p_record_ids uuid[]) TO admin;

REVOKE ALL ON FUNCTION internal.log_security_event(p_kind text, p_user_id uuid, p_email text, p_client_addr inet, p_details jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.login_lookup(p_email text, p_client_addr inet) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.login_lookup(p_email text, p_client_addr inet) TO anon;

REVOKE ALL ON FUNCTION internal.login_record(p_email text, p_client_addr inet, p_user_id uuid, p_succeeded boolean, p_refresh_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.login_record(p_email text, p_client_addr inet, p_user_id uuid, p_succeeded boolean, p_refresh_hash bytea) TO anon;

REVOKE ALL ON FUNCTION internal.login_throttle(p_email text, p_client_addr inet, OUT email_failures integer, OUT addr_failures integer, OUT locked_until timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.logout(p_refresh_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.logout(p_refresh_hash bytea) TO student;
GRANT ALL ON FUNCTION internal.logout(p_refresh_hash bytea) TO teacher;
GRANT ALL ON FUNCTION internal.logout(p_refresh_hash bytea) TO admin;
GRANT ALL ON FUNCTION internal.logout(p_refresh_hash bytea) TO integration;

REVOKE ALL ON FUNCTION internal.normalise_answer_text(p_text text) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.operational_metrics() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.operational_metrics() TO worker;

REVOKE ALL ON FUNCTION internal.parse_events(p_events jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.parse_events(p_events jsonb) TO student;
GRANT ALL ON FUNCTION internal.parse_events(p_events jsonb) TO integration;

REVOKE ALL ON FUNCTION internal.process_analysis_jobs(p_worker text, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.process_analysis_jobs(p_worker text, p_limit integer) TO worker;

REVOKE ALL ON FUNCTION internal.purge_auth_records() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.purge_auth_records() TO worker;

REVOKE ALL ON FUNCTION internal.purge_finished_jobs() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.purge_finished_jobs() TO worker;

REVOKE ALL ON FUNCTION internal.question_document(p_question_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.question_document(p_question_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.question_document(p_question_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.question_problem(p_question jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.question_problem(p_question jsonb) TO teacher;
GRANT ALL ON FUNCTION internal.question_problem(p_question jsonb) TO admin;

REVOKE ALL ON FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.recompute_attempt_deadline(p_exam_id uuid, p_student_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.recompute_exam_event_counts(p_exam_ids uuid[], p_live_from timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.recompute_exam_stats(p_exam_ids uuid[], p_at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.recompute_flagged_attempts(p_attempt_ids uuid[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.record_event(p_event jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.record_event(p_event jsonb) TO student;
GRANT ALL ON FUNCTION internal.record_event(p_event jsonb) TO integration;

REVOKE ALL ON FUNCTION internal.record_events(p_events jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.record_events(p_events jsonb) TO student;
GRANT ALL ON FUNCTION internal.record_events(p_events jsonb) TO integration;

REVOKE ALL ON FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) TO worker;
GRANT ALL ON FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) TO integration;
GRANT ALL ON FUNCTION internal.refresh_analysis_figures(p_attempt_id uuid) TO admin;

REVOKE ALL ON FUNCTION internal.refresh_analytics(p_force boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.refresh_analytics(p_force boolean) TO worker;

REVOKE ALL ON FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) TO worker;
GRANT ALL ON FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) TO integration;
GRANT ALL ON FUNCTION internal.refresh_exam_metrics(p_exam_ids uuid[]) TO admin;

REVOKE ALL ON FUNCTION internal.refresh_rotate(p_old_hash bytea, p_new_hash bytea, p_reuse_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.refresh_rotate(p_old_hash bytea, p_new_hash bytea, p_reuse_seconds integer) TO anon;

REVOKE ALL ON FUNCTION internal.refresh_session_user(p_family_id uuid, p_user_id uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) TO worker;
GRANT ALL ON FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) TO integration;
GRANT ALL ON FUNCTION internal.refresh_student_metrics(p_student_ids uuid[]) TO admin;

REVOKE ALL ON FUNCTION internal.refresh_token_expiry() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.refresh_twin_steps(p_successor_id uuid, p_successor_hash bytea) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.register_student(p_email text, p_password_hash text, p_full_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.register_student(p_email text, p_password_hash text, p_full_name text) TO anon;

REVOKE ALL ON FUNCTION internal.revoke_service_token(p_jti uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.revoke_service_token(p_jti uuid) TO admin;

REVOKE ALL ON FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb) TO student;
GRANT ALL ON FUNCTION internal.save_attempt_answers(p_attempt_id uuid, p_answers jsonb) TO admin;

REVOKE ALL ON FUNCTION internal.score_histogram(p_counts integer[]) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.score_histogram(p_counts integer[]) TO teacher;
GRANT ALL ON FUNCTION internal.score_histogram(p_counts integer[]) TO admin;

REVOKE ALL ON FUNCTION internal.seal_audit_chain(p_chain text, p_limit integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.seal_audit_log() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.seal_audit_log() TO worker;

REVOKE ALL ON FUNCTION internal.search_pattern(p_q text) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.search_pattern(p_q text) TO teacher;
GRANT ALL ON FUNCTION internal.search_pattern(p_q text) TO admin;

REVOKE ALL ON FUNCTION internal.service_token_document(p_jti uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.service_token_document(p_jti uuid) TO admin;

REVOKE ALL ON FUNCTION internal.set_user_active(p_user_id uuid, p_active boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.set_user_active(p_user_id uuid, p_active boolean) TO admin;

REVOKE ALL ON FUNCTION internal.staff_exam_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.staff_exam_ids() TO teacher;
GRANT ALL ON FUNCTION internal.staff_exam_ids() TO admin;

REVOKE ALL ON FUNCTION internal.start_attempt(p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.start_attempt(p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean) TO student;
GRANT ALL ON FUNCTION internal.start_attempt(p_exam_id uuid, OUT o_attempt_id uuid, OUT o_resumed boolean) TO admin;

REVOKE ALL ON FUNCTION internal.store_answers(p_attempt_id uuid, p_scored_against jsonb, p_answers jsonb, p_graded boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.student_attempts(p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.student_attempts(p_student_id uuid) TO student;
GRANT ALL ON FUNCTION internal.student_attempts(p_student_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.student_attempts(p_student_id uuid) TO admin;
GRANT ALL ON FUNCTION internal.student_attempts(p_student_id uuid) TO integration;
GRANT ALL ON FUNCTION internal.student_attempts(p_student_id uuid) TO worker;

REVOKE ALL ON FUNCTION internal.student_exam_grades(p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.student_exam_grades(p_student_id uuid) TO student;
GRANT ALL ON FUNCTION internal.student_exam_grades(p_student_id uuid) TO teacher;
GRANT ALL ON FUNCTION internal.student_exam_grades(p_student_id uuid) TO admin;
GRANT ALL ON FUNCTION internal.student_exam_grades(p_student_id uuid) TO integration;
GRANT ALL ON FUNCTION internal.student_exam_grades(p_student_id uuid) TO worker;

REVOKE ALL ON FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb) TO student;
GRANT ALL ON FUNCTION internal.submit_attempt(p_attempt_id uuid, p_answers jsonb) TO admin;

REVOKE ALL ON FUNCTION internal.teacher_can_access_exam(p_exam_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.teacher_can_access_exam(p_exam_id uuid) TO teacher;

REVOKE ALL ON FUNCTION internal.teacher_can_see_student(p_student_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.teacher_can_see_student(p_student_id uuid) TO teacher;

REVOKE ALL ON FUNCTION internal.teacher_exam_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION internal.teacher_exam_ids() TO teacher;

REVOKE ALL ON FUNCTION internal.tg__audit() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.tg__audit_append_only() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.tg__timestamps() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.tg_exam_attempts__guard_status() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.tg_monitoring_events__audit() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.tg_users__log_role_change() FROM PUBLIC;

REVOKE ALL ON FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role) FROM PUBLIC;
GRANT ALL ON FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role) TO teacher;
GRANT ALL ON FUNCTION internal.user_has_role(p_user_id uuid, p_role auth.user_role) TO admin;

GRANT SELECT ON TABLE app.analytics_refreshes TO teacher;
GRANT SELECT ON TABLE app.analytics_refreshes TO admin;

GRANT SELECT ON TABLE app.exams TO student;
GRANT SELECT ON TABLE app.exams TO teacher;
GRANT SELECT,DELETE ON TABLE app.exams TO admin;

GRANT SELECT(id) ON TABLE app.exams TO integration;
GRANT INSERT(id) ON TABLE app.exams TO teacher;
GRANT INSERT(id) ON TABLE app.exams TO admin;

GRANT INSERT(title),UPDATE(title) ON TABLE app.exams TO teacher;
GRANT INSERT(title),UPDATE(title) ON TABLE app.exams TO admin;

GRANT INSERT(description),UPDATE(description) ON TABLE app.exams TO teacher;
GRANT INSERT(description),UPDATE(description) ON TABLE app.exams TO admin;

GRANT INSERT(created_by) ON TABLE app.exams TO teacher;
GRANT INSERT(created_by) ON TABLE app.exams TO admin;

GRANT INSERT(duration_minutes),UPDATE(duration_minutes) ON TABLE app.exams TO teacher;
GRANT INSERT(duration_minutes),UPDATE(duration_minutes) ON TABLE app.exams TO admin;

GRANT INSERT(opens_at),UPDATE(opens_at) ON TABLE app.exams TO teacher;
GRANT INSERT(opens_at),UPDATE(opens_at) ON TABLE app.exams TO admin;

GRANT INSERT(closes_at),UPDATE(closes_at) ON TABLE app.exams TO teacher;
GRANT INSERT(closes_at),UPDATE(closes_at) ON TABLE app.exams TO admin;

GRANT INSERT(max_attempts),UPDATE(max_attempts) ON TABLE app.exams TO teacher;
GRANT INSERT(max_attempts),UPDATE(max_attempts) ON TABLE app.exams TO admin;

GRANT INSERT(grading_method),UPDATE(grading_method) ON TABLE app.exams TO teacher;
GRANT INSERT(grading_method),UPDATE(grading_method) ON TABLE app.exams TO admin;

GRANT SELECT(grace_seconds) ON TABLE app.exams TO integration;
GRANT INSERT(grace_seconds),UPDATE(grace_seconds) ON TABLE app.exams TO teacher;
GRANT INSERT(grace_seconds),UPDATE(grace_seconds) ON TABLE app.exams TO admin;

GRANT INSERT(shuffle_questions),UPDATE(shuffle_questions) ON TABLE app.exams TO teacher;
GRANT INSERT(shuffle_questions),UPDATE(shuffle_questions) ON TABLE app.exams TO admin;

GRANT INSERT(shuffle_options),UPDATE(shuffle_options) ON TABLE app.exams TO teacher;
GRANT INSERT(shuffle_options),UPDATE(shuffle_options) ON TABLE app.exams TO admin;

GRANT INSERT(published),UPDATE(published) ON TABLE app.exams TO teacher;
GRANT INSERT(published),UPDATE(published) ON TABLE app.exams TO admin;

GRANT SELECT ON TABLE analytics.exam_analytics TO analyst;
GRANT SELECT ON TABLE analytics.exam_analytics TO admin;

GRANT SELECT ON TABLE app.event_types TO student;
GRANT SELECT ON TABLE app.event_types TO teacher;
GRANT SELECT ON TABLE app.event_types TO admin;
GRANT SELECT ON TABLE app.event_types TO integration;

GRANT UPDATE(severity) ON TABLE app.event_types TO admin;

GRANT UPDATE(is_anomaly) ON TABLE app.event_types TO admin;

GRANT UPDATE(description) ON TABLE app.event_types TO admin;

GRANT SELECT ON TABLE analytics.exam_events_by_type TO analyst;
GRANT SELECT ON TABLE analytics.exam_events_by_type TO admin;

GRANT SELECT ON TABLE app.exam_attempts TO teacher;
GRANT SELECT ON TABLE app.exam_attempts TO admin;

GRANT SELECT(id) ON TABLE app.exam_attempts TO student;
GRANT SELECT(id) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(exam_id) ON TABLE app.exam_attempts TO student;
GRANT SELECT(exam_id) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(student_id) ON TABLE app.exam_attempts TO student;
GRANT SELECT(student_id) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(attempt_number) ON TABLE app.exam_attempts TO student;
GRANT SELECT(attempt_number) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(status) ON TABLE app.exam_attempts TO student;
GRANT SELECT(status) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(started_at) ON TABLE app.exam_attempts TO student;
GRANT SELECT(started_at) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(deadline) ON TABLE app.exam_attempts TO student;
GRANT SELECT(deadline) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(finished_at) ON TABLE app.exam_attempts TO student;
GRANT SELECT(finished_at) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(score) ON TABLE app.exam_attempts TO student;
GRANT SELECT(score) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(max_score) ON TABLE app.exam_attempts TO student;
GRANT SELECT(max_score) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(question_order) ON TABLE app.exam_attempts TO student;

GRANT SELECT(created_at) ON TABLE app.exam_attempts TO student;
GRANT SELECT(created_at) ON TABLE app.exam_attempts TO integration;

GRANT SELECT(updated_at) ON TABLE app.exam_attempts TO student;
GRANT SELECT(updated_at) ON TABLE app.exam_attempts TO integration;

GRANT SELECT ON TABLE analytics.exam_overview TO analyst;
GRANT SELECT ON TABLE analytics.exam_overview TO admin;

GRANT SELECT ON TABLE app.flag_reviews TO teacher;
GRANT SELECT ON TABLE app.flag_reviews TO admin;

GRANT INSERT(attempt_id) ON TABLE app.flag_reviews TO teacher;
GRANT INSERT(attempt_id) ON TABLE app.flag_reviews TO admin;

GRANT INSERT(analysis_id) ON TABLE app.flag_reviews TO teacher;
GRANT INSERT(analysis_id) ON TABLE app.flag_reviews TO admin;

GRANT INSERT(reviewer_id) ON TABLE app.flag_reviews TO teacher;
GRANT INSERT(reviewer_id) ON TABLE app.flag_reviews TO admin;

GRANT INSERT(decision) ON TABLE app.flag_reviews TO teacher;
GRANT INSERT(decision) ON TABLE app.flag_reviews TO admin;

GRANT INSERT(note) ON TABLE app.flag_reviews TO teacher;
GRANT INSERT(note) ON TABLE app.flag_reviews TO admin;

GRANT SELECT ON TABLE app.student_profiles TO student;
GRANT SELECT ON TABLE app.student_profiles TO teacher;
GRANT SELECT ON TABLE app.student_profiles TO admin;

GRANT SELECT(user_id) ON TABLE app.student_profiles TO integration;
GRANT INSERT(user_id) ON TABLE app.student_profiles TO admin;

GRANT INSERT(student_number),UPDATE(student_number) ON TABLE app.student_profiles TO admin;

GRANT SELECT(integrity_score) ON TABLE app.student_profiles TO integration;

GRANT SELECT(lmi_score) ON TABLE app.student_profiles TO integration;

GRANT SELECT(exams_taken) ON TABLE app.student_profiles TO integration;

GRANT SELECT(average_score) ON TABLE app.student_profiles TO integration;

GRANT SELECT(best_score) ON TABLE app.student_profiles TO integration;

GRANT SELECT(flags_count) ON TABLE app.student_profiles TO integration;

GRANT SELECT(updated_at) ON TABLE app.student_profiles TO integration;

GRANT SELECT ON TABLE analytics.student_exam_results TO analyst;
GRANT SELECT ON TABLE analytics.student_exam_results TO admin;

GRANT SELECT ON TABLE app.performance_metrics TO student;
GRANT SELECT ON TABLE app.performance_metrics TO teacher;
GRANT SELECT ON TABLE app.performance_metrics TO admin;
GRANT SELECT ON TABLE app.performance_metrics TO integration;

GRANT INSERT(student_id) ON TABLE app.performance_metrics TO admin;

GRANT SELECT ON TABLE analytics.student_overview TO analyst;
GRANT SELECT ON TABLE analytics.student_overview TO admin;

GRANT SELECT ON TABLE app.accommodations TO student;
GRANT SELECT ON TABLE app.accommodations TO teacher;
GRANT SELECT,DELETE ON TABLE app.accommodations TO admin;

GRANT INSERT(exam_id) ON TABLE app.accommodations TO teacher;
GRANT INSERT(exam_id) ON TABLE app.accommodations TO admin;

GRANT INSERT(student_id) ON TABLE app.accommodations TO teacher;
GRANT INSERT(student_id) ON TABLE app.accommodations TO admin;

GRANT INSERT(extra_minutes),UPDATE(extra_minutes) ON TABLE app.accommodations TO teacher;
GRANT INSERT(extra_minutes),UPDATE(extra_minutes) ON TABLE app.accommodations TO admin;

GRANT UPDATE(updated_at) ON TABLE app.accommodations TO teacher;
GRANT UPDATE(updated_at) ON TABLE app.accommodations TO admin;

GRANT SELECT,DELETE ON TABLE app.analysis_jobs TO admin;

GRANT UPDATE(status) ON TABLE app.analysis_jobs TO admin;

GRANT UPDATE(attempts) ON TABLE app.analysis_jobs TO admin;

GRANT UPDATE(run_after) ON TABLE app.analysis_jobs TO admin;

GRANT UPDATE(locked_by) ON TABLE app.analysis_jobs TO admin;

GRANT UPDATE(locked_at) ON TABLE app.analysis_jobs TO admin;

GRANT UPDATE(last_error) ON TABLE app.analysis_jobs TO admin;

GRANT SELECT ON TABLE app.attempt_answers TO teacher;
GRANT SELECT ON TABLE app.attempt_answers TO admin;

GRANT SELECT(attempt_id) ON TABLE app.attempt_answers TO student;

GRANT SELECT(question_id) ON TABLE app.attempt_answers TO student;

GRANT SELECT(answer) ON TABLE app.attempt_answers TO student;

GRANT SELECT(saved_at) ON TABLE app.attempt_answers TO student;

GRANT SELECT ON TABLE app.exam_metrics TO teacher;
GRANT SELECT ON TABLE app.exam_metrics TO admin;
GRANT SELECT ON TABLE app.exam_metrics TO integration;

GRANT SELECT,DELETE ON TABLE app.questions TO teacher;
GRANT SELECT,DELETE ON TABLE app.questions TO admin;

GRANT SELECT(id) ON TABLE app.questions TO student;
GRANT INSERT(id) ON TABLE app.questions TO teacher;
GRANT INSERT(id) ON TABLE app.questions TO admin;

GRANT SELECT(exam_id) ON TABLE app.questions TO student;
GRANT INSERT(exam_id) ON TABLE app.questions TO teacher;
GRANT INSERT(exam_id) ON TABLE app.questions TO admin;

GRANT SELECT("position") ON TABLE app.questions TO student;
GRANT INSERT("position"),UPDATE("position") ON TABLE app.questions TO teacher;
GRANT INSERT("position"),UPDATE("position") ON TABLE app.questions TO admin;

GRANT SELECT(kind) ON TABLE app.questions TO student;
GRANT INSERT(kind),UPDATE(kind) ON TABLE app.questions TO teacher;
GRANT INSERT(kind),UPDATE(kind) ON TABLE app.questions TO admin;

GRANT SELECT(prompt) ON TABLE app.questions TO student;
GRANT INSERT(prompt),UPDATE(prompt) ON TABLE app.questions TO teacher;
GRANT INSERT(prompt),UPDATE(prompt) ON TABLE app.questions TO admin;

GRANT SELECT(options) ON TABLE app.questions TO student;
GRANT INSERT(options),UPDATE(options) ON TABLE app.questions TO teacher;
GRANT INSERT(options),UPDATE(options) ON TABLE app.questions TO admin;

GRANT INSERT(correct),UPDATE(correct) ON TABLE app.questions TO teacher;
GRANT INSERT(correct),UPDATE(correct) ON TABLE app.questions TO admin;

GRANT INSERT(tolerance),UPDATE(tolerance) ON TABLE app.questions TO teacher;
GRANT INSERT(tolerance),UPDATE(tolerance) ON TABLE app.questions TO admin;

GRANT SELECT(points) ON TABLE app.questions TO student;
GRANT INSERT(points),UPDATE(points) ON TABLE app.questions TO teacher;
GRANT INSERT(points),UPDATE(points) ON TABLE app.questions TO admin;

GRANT SELECT(version) ON TABLE app.questions TO student;
GRANT UPDATE(version) ON TABLE app.questions TO teacher;
GRANT UPDATE(version) ON TABLE app.questions TO admin;

GRANT SELECT(created_at) ON TABLE app.questions TO student;

GRANT SELECT(updated_at) ON TABLE app.questions TO student;

GRANT SELECT ON TABLE app.teacher_exam_permissions TO teacher;
GRANT SELECT,DELETE ON TABLE app.teacher_exam_permissions TO admin;

GRANT INSERT(exam_id) ON TABLE app.teacher_exam_permissions TO teacher;
GRANT INSERT(exam_id) ON TABLE app.teacher_exam_permissions TO admin;

GRANT INSERT(teacher_id) ON TABLE app.teacher_exam_permissions TO teacher;
GRANT INSERT(teacher_id) ON TABLE app.teacher_exam_permissions TO admin;

GRANT INSERT(granted_by) ON TABLE app.teacher_exam_permissions TO teacher;
GRANT INSERT(granted_by) ON TABLE app.teacher_exam_permissions TO admin;

GRANT SELECT ON TABLE app.teacher_profiles TO teacher;
GRANT SELECT ON TABLE app.teacher_profiles TO admin;

GRANT INSERT(user_id) ON TABLE app.teacher_profiles TO admin;

GRANT INSERT(department),UPDATE(department) ON TABLE app.teacher_profiles TO admin;

GRANT SELECT ON TABLE app.visible_exam_event_counts TO teacher;
GRANT SELECT ON TABLE app.visible_exam_event_counts TO admin;

GRANT SELECT ON TABLE app.visible_exam_stats TO teacher;
GRANT SELECT ON TABLE app.visible_exam_stats TO admin;

GRANT SELECT ON TABLE app.visible_flagged_attempts TO teacher;
GRANT SELECT ON TABLE app.visible_flagged_attempts TO admin;

REVOKE ALL ON TABLE audit.seals FROM veritas_owner;
GRANT SELECT,INSERT,REFERENCES,TRIGGER ON TABLE audit.seals TO veritas_owner;
GRANT SELECT ON TABLE audit.seals TO admin;

GRANT SELECT ON TABLE auth.login_attempts TO admin;

GRANT SELECT ON TABLE auth.refresh_token_families TO admin;

GRANT SELECT(id) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT(family_id) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT(user_id) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT(issued_at) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT(expires_at) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT(used_at) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT(replaced_by) ON TABLE auth.refresh_tokens TO admin;

GRANT SELECT ON TABLE auth.revoked_tokens TO admin;

GRANT SELECT ON TABLE auth.role_permissions TO student;
GRANT SELECT ON TABLE auth.role_permissions TO teacher;
GRANT SELECT ON TABLE auth.role_permissions TO admin;
GRANT SELECT ON TABLE auth.role_permissions TO integration;

GRANT SELECT ON TABLE auth.service_tokens TO admin;

GRANT DELETE ON TABLE auth.users TO admin;

GRANT SELECT(id) ON TABLE auth.users TO student;
GRANT SELECT(id) ON TABLE auth.users TO teacher;
GRANT SELECT(id) ON TABLE auth.users TO integration;
GRANT SELECT(id) ON TABLE auth.users TO admin;

GRANT SELECT(email) ON TABLE auth.users TO student;
GRANT SELECT(email) ON TABLE auth.users TO teacher;
GRANT SELECT(email) ON TABLE auth.users TO integration;
GRANT SELECT(email),INSERT(email),UPDATE(email) ON TABLE auth.users TO admin;

GRANT INSERT(password_hash) ON TABLE auth.users TO admin;

GRANT SELECT(role) ON TABLE auth.users TO student;
GRANT SELECT(role) ON TABLE auth.users TO teacher;
GRANT SELECT(role) ON TABLE auth.users TO integration;
GRANT SELECT(role),INSERT(role) ON TABLE auth.users TO admin;

GRANT SELECT(full_name) ON TABLE auth.users TO student;
GRANT SELECT(full_name) ON TABLE auth.users TO teacher;
GRANT SELECT(full_name) ON TABLE auth.users TO integration;
GRANT SELECT(full_name),INSERT(full_name),UPDATE(full_name) ON TABLE auth.users TO admin;

GRANT SELECT(is_active) ON TABLE auth.users TO student;
GRANT SELECT(is_active) ON TABLE auth.users TO teacher;
GRANT SELECT(is_active) ON TABLE auth.users TO integration;
GRANT SELECT(is_active) ON TABLE auth.users TO admin;

GRANT SELECT(sessions_revoked_at) ON TABLE auth.users TO admin;

GRANT SELECT(created_at) ON TABLE auth.users TO student;
GRANT SELECT(created_at) ON TABLE auth.users TO teacher;
GRANT SELECT(created_at) ON TABLE auth.users TO integration;
GRANT SELECT(created_at) ON TABLE auth.users TO admin;

GRANT SELECT(updated_at) ON TABLE auth.users TO student;
GRANT SELECT(updated_at) ON TABLE auth.users TO teacher;
GRANT SELECT(updated_at) ON TABLE auth.users TO integration;
GRANT SELECT(updated_at) ON TABLE auth.users TO admin;
