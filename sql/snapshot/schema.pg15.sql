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

COMMENT ON TYPE app.question_kind IS 'Kind of question; fixes the form of options, correct and a student''s answer (see api-contract.md).';

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
);

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
);

ALTER TABLE ONLY app.attempt_answers FORCE ROW LEVEL SECURITY;

ALTER TABLE app.attempt_answers OWNER TO veritas_owner;

COMMENT ON TABLE app.attempt_answers IS 'A student''s saved answer to one question of an attempt (autosave: last write wins), and the points it earned once graded.';

COMMENT ON COLUMN app.attempt_answers.points_awarded IS 'Points given at grading, from the attempt''s snapshot; NULL until graded.';

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
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT behavior_analyses_flags_check CHECK ((jsonb_typeof(flags) = 'array'::text)),
    CONSTRAINT behavior_analyses_integrity_score_check CHECK (((integrity_score >= (0)::numeric) AND (integrity_score <= (100)::numeric))),
    CONSTRAINT behavior_analyses_lmi_score_check CHECK (((lmi_score >= (0)::numeric) AND (lmi_score <= (1)::numeric))),
    CONSTRAINT behavior_analyses_model_check CHECK (((length(model) >= 1) AND (length(model) <= 200))),
    CONSTRAINT behavior_analyses_summary_check CHECK ((length(summary) <= 20000))
);

ALTER TABLE ONLY app.behavior_analyses FORCE ROW LEVEL SECURITY;

ALTER TABLE app.behavior_analyses OWNER TO veritas_owner;

COMMENT ON TABLE app.behavior_analyses IS 'Behaviour analyses of an attempt, built-in or external; all are kept, the latest (created_at) wins.';

COMMENT ON COLUMN app.behavior_analyses.model IS 'The analyser and its version, for example builtin-v1 or the external engine''s model name.';

COMMENT ON COLUMN app.behavior_analyses.integrity_score IS '0 (certain malpractice) to 100 (clean).';

COMMENT ON COLUMN app.behavior_analyses.lmi_score IS 'Likelihood-of-malpractice index, 0 to 1.';

COMMENT ON COLUMN app.behavior_analyses.flags IS 'JSON array of flags, each an object with the evidence that raised it (for example {"code": "tab_hidden_long", "events": [...]}).';

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
);

ALTER TABLE ONLY app.exam_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE app.exam_attempts OWNER TO veritas_owner;

COMMENT ON TABLE app.exam_attempts IS 'One attempt of a student at an exam. The deadline is fixed at start (started_at + duration + extra time, capped by closes_at).';

COMMENT ON COLUMN app.exam_attempts.attempt_number IS '1 for the student''s first attempt at this exam, and so on; at most exams.max_attempts.';

COMMENT ON COLUMN app.exam_attempts.finished_at IS 'When the attempt left in_progress (submitted, expired or abandoned); NULL exactly while in progress.';

COMMENT ON COLUMN app.exam_attempts.score IS 'Points obtained, 0 to max_score; NULL until graded.';

COMMENT ON COLUMN app.exam_attempts.max_score IS 'Sum of the points of all questions in scored_against.';

COMMENT ON COLUMN app.exam_attempts.question_order IS 'JSON array of question ids in the order this attempt shows them (shuffled when the exam says so).';

COMMENT ON COLUMN app.exam_attempts.scored_against IS 'Snapshot taken at start: JSON array of the questions with their answer key (id, position, kind, prompt, options, correct, tolerance, points, version). Grading reads this, never app.questions, so editing an exam never changes an attempt''s score.';

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

CREATE TABLE app.flag_reviews (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_id uuid NOT NULL,
    analysis_id uuid,
    reviewer_id uuid NOT NULL,
    decision app.review_status NOT NULL,
    note text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT flag_reviews_confirmed_note_check CHECK (((decision <> 'confirmed'::app.review_status) OR ((note IS NOT NULL) AND (length(TRIM(BOTH FROM note)) > 0)))),
    CONSTRAINT flag_reviews_note_check CHECK ((length(note) <= 10000))
);

ALTER TABLE ONLY app.flag_reviews FORCE ROW LEVEL SECURITY;

ALTER TABLE app.flag_reviews OWNER TO veritas_owner;

COMMENT ON TABLE app.flag_reviews IS 'Teachers'' decisions on flagged attempts (cleared or confirmed, a confirmation needs a note); the latest is the attempt''s review status.';

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
);

ALTER TABLE ONLY app.monitoring_events_default FORCE ROW LEVEL SECURITY;

ALTER TABLE app.monitoring_events_default OWNER TO veritas_owner;

COMMENT ON TABLE app.monitoring_events_default IS 'Default partition of app.monitoring_events: events of attempts started outside every monthly partition.';

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

COMMENT ON COLUMN app.student_profiles.pseudonym IS 'Stable pseudonymous id shown to analysts instead of user_id.';

COMMENT ON COLUMN app.student_profiles.integrity_score IS 'Latest integrity score, 0 (certain malpractice) to 100 (clean); NULL before any analysis.';

COMMENT ON COLUMN app.student_profiles.lmi_score IS 'Latest likelihood-of-malpractice index, 0 to 1; NULL before any analysis.';

COMMENT ON COLUMN app.student_profiles.average_score IS 'Average of the graded attempts, in percent of max_score (0-100).';

COMMENT ON COLUMN app.student_profiles.best_score IS 'Best graded attempt, in percent of max_score (0-100).';

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

CREATE TABLE audit.disclosures (
    id bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    viewer_id uuid,
    viewer_role text,
    student_id uuid NOT NULL,
    record_kind text NOT NULL,
    record_id uuid,
    CONSTRAINT disclosures_record_kind_check CHECK ((record_kind ~ '^[a-z][a-z_]{1,62}$'::text))
);

ALTER TABLE ONLY audit.disclosures FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.disclosures OWNER TO veritas_owner;

COMMENT ON TABLE audit.disclosures IS 'Who was shown which record of a student, and when (teachers and admins reading student data), so that a student''s data access can be accounted for.';

COMMENT ON COLUMN audit.disclosures.record_kind IS 'What was shown, for example attempt, events, analysis, profile.';

ALTER TABLE audit.disclosures ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.disclosures_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

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
    db_user text DEFAULT CURRENT_USER NOT NULL,
    request_method text,
    request_path text,
    txid bigint DEFAULT txid_current() NOT NULL,
    prev_hash bytea,
    row_hash bytea,
    CONSTRAINT log_new_values_check CHECK ((jsonb_typeof(new_values) = 'object'::text)),
    CONSTRAINT log_old_values_check CHECK ((jsonb_typeof(old_values) = 'object'::text)),
    CONSTRAINT log_operation_check CHECK ((operation = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'DELETE'::text, 'TRUNCATE'::text, 'SELECT'::text, 'LOGIN'::text, 'LOGOUT'::text, 'EXPORT'::text]))),
    CONSTRAINT log_row_pk_check CHECK ((jsonb_typeof(row_pk) = 'object'::text)),
    CONSTRAINT log_table_check CHECK (((table_schema IS NULL) = (table_name IS NULL)))
);

ALTER TABLE ONLY audit.log FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.log OWNER TO veritas_owner;

COMMENT ON TABLE audit.log IS 'Append-only audit trail: one row per audited row change (or other operation), with who, from which request, and a hash chain (prev_hash, row_hash) that shows tampering.';

COMMENT ON COLUMN audit.log.table_schema IS 'Schema of the audited table; NULL (with table_name) for operations not about a table, such as LOGIN.';

COMMENT ON COLUMN audit.log.row_pk IS 'Primary key of the audited row as a JSON object, for example {"id": "..."}.';

COMMENT ON COLUMN audit.log.changed_columns IS 'UPDATE only: the columns whose value changed.';

COMMENT ON COLUMN audit.log.actor_id IS 'The user of the request (sub claim); NULL for work of the database itself (expiry sweep, workers).';

COMMENT ON COLUMN audit.log.actor_role IS 'The role claim of the request, or the database role when there was no request.';

COMMENT ON COLUMN audit.log.db_user IS 'The database role that made the change (the request role, not the definer of the trigger, when the trigger sets it).';

COMMENT ON COLUMN audit.log.prev_hash IS 'row_hash of the previous row of the chain.';

COMMENT ON COLUMN audit.log.row_hash IS 'sha256 of prev_hash and this row''s content.';

ALTER TABLE audit.log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

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
);

ALTER TABLE ONLY audit.security_events FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.security_events OWNER TO veritas_owner;

COMMENT ON TABLE audit.security_events IS 'Authentication and authorisation events: logins, refreshes, logouts, refresh-token reuse, lockouts, role changes.';

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

CREATE TABLE auth.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    role auth.user_role DEFAULT 'student'::auth.user_role NOT NULL,
    full_name text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
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

ALTER TABLE ONLY app.monitoring_events ATTACH PARTITION app.monitoring_events_default DEFAULT;

ALTER TABLE ONLY app.accommodations
    ADD CONSTRAINT accommodations_pkey PRIMARY KEY (exam_id, student_id);

ALTER TABLE ONLY app.analysis_jobs
    ADD CONSTRAINT analysis_jobs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.attempt_answers
    ADD CONSTRAINT attempt_answers_pkey PRIMARY KEY (attempt_id, question_id);

ALTER TABLE ONLY app.behavior_analyses
    ADD CONSTRAINT behavior_analyses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.event_types
    ADD CONSTRAINT event_types_pkey PRIMARY KEY (event_type);

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_exam_id_student_id_attempt_number_key UNIQUE (exam_id, student_id, attempt_number);

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.exam_metrics
    ADD CONSTRAINT exam_metrics_pkey PRIMARY KEY (exam_id);

ALTER TABLE ONLY app.exams
    ADD CONSTRAINT exams_pkey PRIMARY KEY (id);

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_pkey PRIMARY KEY (id);

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

ALTER TABLE ONLY auth.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE INDEX accommodations_student_id_idx ON app.accommodations USING btree (student_id);

CREATE INDEX analysis_jobs_attempt_id_idx ON app.analysis_jobs USING btree (attempt_id);

CREATE UNIQUE INDEX analysis_jobs_attempt_id_kind_key ON app.analysis_jobs USING btree (attempt_id, kind) WHERE (status = ANY (ARRAY['queued'::app.job_status, 'running'::app.job_status]));

CREATE INDEX analysis_jobs_locked_at_idx ON app.analysis_jobs USING btree (locked_at) WHERE (status = 'running'::app.job_status);

CREATE INDEX analysis_jobs_run_after_idx ON app.analysis_jobs USING btree (run_after) WHERE (status = 'queued'::app.job_status);

CREATE INDEX attempt_answers_question_id_idx ON app.attempt_answers USING btree (question_id);

CREATE INDEX behavior_analyses_attempt_id_created_at_idx ON app.behavior_analyses USING btree (attempt_id, created_at DESC);

CREATE INDEX behavior_analyses_created_by_idx ON app.behavior_analyses USING btree (created_by);

CREATE INDEX behavior_analyses_flags_idx ON app.behavior_analyses USING gin (flags jsonb_path_ops);

CREATE INDEX exam_attempts_deadline_idx ON app.exam_attempts USING btree (deadline) WHERE (status = 'in_progress'::app.attempt_status);

CREATE INDEX exam_attempts_exam_id_status_idx ON app.exam_attempts USING btree (exam_id, status);

CREATE UNIQUE INDEX exam_attempts_one_in_progress_key ON app.exam_attempts USING btree (exam_id, student_id) WHERE (status = 'in_progress'::app.attempt_status);

CREATE INDEX exam_attempts_student_id_started_at_idx ON app.exam_attempts USING btree (student_id, started_at DESC);

CREATE INDEX exams_closes_at_idx ON app.exams USING btree (closes_at) WHERE published;

CREATE INDEX exams_created_by_idx ON app.exams USING btree (created_by);

CREATE INDEX flag_reviews_analysis_id_idx ON app.flag_reviews USING btree (analysis_id);

CREATE INDEX flag_reviews_attempt_id_created_at_idx ON app.flag_reviews USING btree (attempt_id, created_at DESC);

CREATE INDEX flag_reviews_reviewer_id_idx ON app.flag_reviews USING btree (reviewer_id);

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

CREATE UNIQUE INDEX users_email_lower_key ON auth.users USING btree (lower(email));

CREATE INDEX users_role_idx ON auth.users USING btree (role);

ALTER INDEX app.monitoring_events_client_event_id_key ATTACH PARTITION app.monitoring_events_default_attempt_id_client_event_id_attemp_key;

ALTER INDEX app.monitoring_events_attempt_id_occurred_at_idx ATTACH PARTITION app.monitoring_events_default_attempt_id_occurred_at_id_idx;

ALTER INDEX app.monitoring_events_exam_id_occurred_at_idx ATTACH PARTITION app.monitoring_events_default_exam_id_occurred_at_idx;

ALTER INDEX app.monitoring_events_pkey ATTACH PARTITION app.monitoring_events_default_pkey;

ALTER INDEX app.monitoring_events_received_at_brin ATTACH PARTITION app.monitoring_events_default_received_at_idx;

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

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id);

ALTER TABLE ONLY app.exam_attempts
    ADD CONSTRAINT exam_attempts_student_id_fkey FOREIGN KEY (student_id) REFERENCES auth.users(id);

ALTER TABLE ONLY app.exam_metrics
    ADD CONSTRAINT exam_metrics_exam_id_fkey FOREIGN KEY (exam_id) REFERENCES app.exams(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.exams
    ADD CONSTRAINT exams_created_by_fkey FOREIGN KEY (created_by) REFERENCES auth.users(id);

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_analysis_id_fkey FOREIGN KEY (analysis_id) REFERENCES app.behavior_analyses(id) ON DELETE SET NULL;

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES app.exam_attempts(id) ON DELETE CASCADE;

ALTER TABLE ONLY app.flag_reviews
    ADD CONSTRAINT flag_reviews_reviewer_id_fkey FOREIGN KEY (reviewer_id) REFERENCES auth.users(id);

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

ALTER TABLE app.accommodations ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.analysis_jobs ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.attempt_answers ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.behavior_analyses ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.event_types ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.exam_attempts ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.exam_metrics ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.exams ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.flag_reviews ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monitoring_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.monitoring_events_default ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.performance_metrics ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.questions ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.student_profiles ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.teacher_exam_permissions ENABLE ROW LEVEL SECURITY;

ALTER TABLE app.teacher_profiles ENABLE ROW LEVEL SECURITY;

ALTER TABLE audit.disclosures ENABLE ROW LEVEL SECURITY;

ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;

ALTER TABLE audit.security_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.login_attempts ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_token_families ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.revoked_tokens ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.role_permissions ENABLE ROW LEVEL SECURITY;

ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
