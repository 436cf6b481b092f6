-- 0001.initial-schema: sql/schema/01_schemas.sql to 60_audit.sql, concatenated in order,
-- as they were when 0002 landed. Run by yoyo as veritas_owner after sql/schema/00_roles.sql.
-- It was edited in place four times after its first commit, all before 0002 existed (git log
-- shows them); since then every change to the tables is a new migration, and this file's
-- statements are not edited. Its comments name files as they were then.

-- ============================================================================
-- sql/schema/01_schemas.sql
-- ============================================================================

-- Schemas of Veritas, and the defaults that keep PUBLIC out of them.
--
-- Run as veritas_owner (SET ROLE veritas_owner), after 00_roles.sql.
-- No privilege is granted to a runtime role here: grants live beside the
-- policies in sql/policies/. The public schema is not ours and is left alone.

-- Exposed API: only functions (and views) that clients may call.
CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
'Exposed API: only functions and views that clients may call; re-created at every deploy.';

-- Private business tables: profiles, exams, attempts, events, analyses, jobs.
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS
'Business tables (profiles, exams, questions, attempts, answers, events, analyses, metrics, jobs), read through RLS.';

-- Users, tokens, login attempts and the role x permission matrix.
CREATE SCHEMA auth;
COMMENT ON SCHEMA auth IS
'Users, refresh-token families and tokens, revoked access tokens, login attempts, role permissions.';

-- The audit trail: append-only.
CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS
'Append-only audit trail: row changes, security events, disclosures of student data.';

-- Private helpers: claim readers, trigger functions, SECURITY DEFINER helpers.
CREATE SCHEMA internal;
COMMENT ON SCHEMA internal IS
'Private helpers: claim readers, trigger functions, SECURITY DEFINER helpers, partition procedures.';

-- Pseudonymous views for analysts.
CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS
'Secured, pseudonymous views for the analyst login.';

-- Detached, archived monitoring-event partitions.
CREATE SCHEMA archive;
COMMENT ON SCHEMA archive IS
'Detached, archived monitoring-event partitions; DBA only.';

-- Deny by default: PUBLIC has no privilege on any of our schemas.
REVOKE ALL ON SCHEMA api, app, auth, audit, internal, analytics, archive FROM PUBLIC;

-- ... nor on anything veritas_owner creates from now on (functions would
-- otherwise be executable by PUBLIC).
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE veritas_owner REVOKE ALL ON SEQUENCES FROM PUBLIC;

-- ============================================================================
-- sql/schema/10_auth.sql
-- ============================================================================

-- auth: users, refresh tokens, revoked access tokens, login attempts, the
-- role x permission matrix; and the users' profiles (app.student_profiles,
-- app.teacher_profiles), which belong to the same domain.
--
-- Run as veritas_owner after 01_schemas.sql. Row-level security is enabled
-- and forced on every table, with no policy: deny by default until
-- sql/policies/auth.sql says otherwise.

CREATE TYPE auth.user_role AS ENUM ('student', 'teacher', 'admin', 'integration');
COMMENT ON TYPE auth.user_role IS
'Application role of a user; each value is also the name of the database role a request switches to.';

-- users ----------------------------------------------------------------------

CREATE TABLE auth.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    password_hash text NOT NULL,
    role auth.user_role NOT NULL DEFAULT 'student',
    full_name text NOT NULL,
    is_active boolean NOT NULL DEFAULT TRUE,
    sessions_revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_check CHECK (
        length(email) BETWEEN 3 AND 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'
    ),
    CONSTRAINT users_password_hash_check CHECK (password_hash <> ''),
    CONSTRAINT users_full_name_check CHECK (
        length(full_name) <= 200 AND btrim(full_name) <> ''
    )
);
COMMENT ON TABLE auth.users IS
'Everyone who logs in through the API: students, teachers, admins and integration (service) accounts.';
COMMENT ON COLUMN auth.users.email IS
'Login name; unique case-insensitively (users_email_lower_key), stored as typed.';
COMMENT ON COLUMN auth.users.password_hash IS
'bcrypt hash (cost 12) of the password; never returned by the API.';
COMMENT ON COLUMN auth.users.is_active IS
'False locks the account out without deleting its history (users with attempts cannot be deleted).';
COMMENT ON COLUMN auth.users.sessions_revoked_at IS
'Access tokens issued (iat) before this instant are refused (internal.assert_session_active); set when the account is disabled. NULL: none revoked.';

CREATE UNIQUE INDEX users_email_lower_key ON auth.users (lower(email));
CREATE INDEX users_role_idx ON auth.users (role);

-- refresh_token_families -------------------------------------------------------

CREATE TABLE auth.refresh_token_families (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A user's sessions die with the user.
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_reason text,
    CONSTRAINT refresh_token_families_revoked_check CHECK (
        revoked_reason IS NULL OR revoked_at IS NOT NULL
    ),
    CONSTRAINT refresh_token_families_revoked_reason_check CHECK (length(revoked_reason) <= 200)
);
COMMENT ON TABLE auth.refresh_token_families IS
'One login session: the chain of refresh tokens rotated from one login. Revoking the family ends the session.';
COMMENT ON COLUMN auth.refresh_token_families.revoked_reason IS
'Why the family was revoked, for example logout or reuse_detected (an already-used token was presented).';

CREATE INDEX refresh_token_families_user_id_idx ON auth.refresh_token_families (user_id);

-- refresh_tokens ---------------------------------------------------------------

CREATE TABLE auth.refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id uuid NOT NULL REFERENCES auth.refresh_token_families (id) ON DELETE CASCADE,
    -- Denormalised from the family so that policies need no join.
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    -- The token that replaced this one at rotation; purging old tokens
    -- simply forgets the link.
    replaced_by uuid REFERENCES auth.refresh_tokens (id) ON DELETE SET NULL,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_token_hash_check CHECK (octet_length(token_hash) BETWEEN 16 AND 64),
    CONSTRAINT refresh_tokens_expires_at_check CHECK (expires_at > issued_at),
    CONSTRAINT refresh_tokens_replaced_by_check CHECK (replaced_by IS NULL OR used_at IS NOT NULL)
);
COMMENT ON TABLE auth.refresh_tokens IS
'Refresh tokens (single use, rotated at every refresh). Only a hash is stored; a second use of a used token revokes its family.';
COMMENT ON COLUMN auth.refresh_tokens.token_hash IS
'sha256() of the opaque token handed to the client (sha256 is core SQL, no extension).';

CREATE INDEX refresh_tokens_family_id_idx ON auth.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON auth.refresh_tokens (user_id);
CREATE INDEX refresh_tokens_replaced_by_idx ON auth.refresh_tokens (replaced_by)
WHERE replaced_by IS NOT NULL;
CREATE INDEX refresh_tokens_expires_at_idx ON auth.refresh_tokens (expires_at);

-- revoked_tokens ---------------------------------------------------------------

CREATE TABLE auth.revoked_tokens (
    jti uuid PRIMARY KEY,
    -- A revocation is moot once the user is gone.
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
COMMENT ON TABLE auth.revoked_tokens IS
'Access tokens (by jti) revoked before their expiry, at logout; rows past expires_at can be purged.';
COMMENT ON COLUMN auth.revoked_tokens.expires_at IS
'The exp claim of the revoked token: after it the token is refused anyway and the row may go.';

CREATE INDEX revoked_tokens_user_id_idx ON auth.revoked_tokens (user_id);
CREATE INDEX revoked_tokens_expires_at_idx ON auth.revoked_tokens (expires_at);

-- login_attempts ---------------------------------------------------------------

-- No foreign key to users: unknown emails are recorded too, and the row
-- must not reveal whether the email exists.
CREATE TABLE auth.login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    client_addr inet,
    succeeded boolean NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_attempts_email_check CHECK (length(email) <= 320)
);
COMMENT ON TABLE auth.login_attempts IS
'Every login attempt, for throttling (429 after repeated failures per email and per client address).';

-- Throttling counts recent failures per email and per client address; the
-- INCLUDE lets it count from the index alone.
CREATE INDEX login_attempts_email_idx
ON auth.login_attempts (lower(email), attempted_at DESC) INCLUDE (succeeded);
CREATE INDEX login_attempts_client_addr_idx
ON auth.login_attempts (client_addr, attempted_at DESC) INCLUDE (succeeded)
WHERE client_addr IS NOT NULL;
CREATE INDEX login_attempts_attempted_at_brin ON auth.login_attempts USING brin (attempted_at);

-- role_permissions -------------------------------------------------------------

CREATE TABLE auth.role_permissions (
    role auth.user_role NOT NULL,
    permission text NOT NULL,
    CONSTRAINT role_permissions_pkey PRIMARY KEY (role, permission),
    CONSTRAINT role_permissions_permission_check CHECK (permission ~ '^[a-z][a-z_]{1,62}$')
);
COMMENT ON TABLE auth.role_permissions IS
'The role x permission matrix read by api.has_permission().';

INSERT INTO auth.role_permissions (role, permission) VALUES
('student', 'take_exam'),
('student', 'view_own_results'),
('teacher', 'create_exam'),
('teacher', 'view_exam_results'),
('teacher', 'review_flags'),
('teacher', 'grant_exam_access'),
('teacher', 'manage_accommodations'),
('integration', 'record_events'),
('integration', 'write_analysis'),
('integration', 'write_metrics'),
('admin', 'take_exam'),
('admin', 'view_own_results'),
('admin', 'create_exam'),
('admin', 'view_exam_results'),
('admin', 'review_flags'),
('admin', 'grant_exam_access'),
('admin', 'manage_accommodations'),
('admin', 'record_events'),
('admin', 'write_analysis'),
('admin', 'write_metrics'),
('admin', 'manage_users'),
('admin', 'view_audit');

-- student_profiles -------------------------------------------------------------

CREATE TABLE app.student_profiles (
    -- The profile is part of the user: it goes with it.
    user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    student_number text,
    pseudonym uuid NOT NULL DEFAULT gen_random_uuid(),
    integrity_score numeric,
    lmi_score numeric,
    exams_taken integer NOT NULL DEFAULT 0,
    average_score numeric,
    best_score numeric,
    flags_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT student_profiles_student_number_key UNIQUE (student_number),
    CONSTRAINT student_profiles_pseudonym_key UNIQUE (pseudonym),
    CONSTRAINT student_profiles_student_number_check CHECK (
        length(student_number) BETWEEN 1 AND 64
    ),
    CONSTRAINT student_profiles_integrity_score_check CHECK (integrity_score BETWEEN 0 AND 100),
    CONSTRAINT student_profiles_lmi_score_check CHECK (lmi_score BETWEEN 0 AND 1),
    CONSTRAINT student_profiles_exams_taken_check CHECK (exams_taken >= 0),
    CONSTRAINT student_profiles_average_score_check CHECK (average_score BETWEEN 0 AND 100),
    CONSTRAINT student_profiles_best_score_check CHECK (best_score BETWEEN 0 AND 100),
    CONSTRAINT student_profiles_flags_count_check CHECK (flags_count >= 0)
);
COMMENT ON TABLE app.student_profiles IS
'One row per student: identity extras and denormalised statistics shown on the student dashboard.';
COMMENT ON COLUMN app.student_profiles.student_number IS
'Optional external id (the institution''s student number).';
COMMENT ON COLUMN app.student_profiles.pseudonym IS
'Stable pseudonymous id shown to analysts instead of user_id.';
COMMENT ON COLUMN app.student_profiles.integrity_score IS
'Latest integrity score, 0 (certain malpractice) to 100 (clean); NULL before any analysis.';
COMMENT ON COLUMN app.student_profiles.lmi_score IS
'Latest likelihood-of-malpractice index, 0 to 1; NULL before any analysis.';
COMMENT ON COLUMN app.student_profiles.average_score IS
'Average of the graded attempts, in percent of max_score (0-100).';
COMMENT ON COLUMN app.student_profiles.best_score IS
'Best graded attempt, in percent of max_score (0-100).';

-- teacher_profiles -------------------------------------------------------------

CREATE TABLE app.teacher_profiles (
    -- The profile is part of the user: it goes with it.
    user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    department text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT teacher_profiles_department_check CHECK (length(department) <= 200)
);
COMMENT ON TABLE app.teacher_profiles IS
'One row per teacher: department and other teacher-only attributes.';

-- Row-level security: deny by default (rows are seeded above, before FORCE,
-- because FORCE subjects the owner to the policies too).
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.users FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_token_families ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_token_families FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.revoked_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.revoked_tokens FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.login_attempts FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.role_permissions FORCE ROW LEVEL SECURITY;
ALTER TABLE app.student_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.student_profiles FORCE ROW LEVEL SECURITY;
ALTER TABLE app.teacher_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.teacher_profiles FORCE ROW LEVEL SECURITY;

-- ============================================================================
-- sql/schema/20_exams.sql
-- ============================================================================

-- exams: exams, their questions, which teachers may access them, and the
-- extra time granted to students.
--
-- Run as veritas_owner after 10_auth.sql. RLS enabled and forced, no policy.
--
-- A foreign key that must refuse a delete is ON DELETE NO ACTION, not
-- RESTRICT: the same refusal (checked at the end of the statement), and the
-- same SQLSTATE, 23503, on every version (RESTRICT raises 23001 on 18, 23503
-- on 15).

CREATE TYPE app.grading_method AS ENUM ('highest', 'average', 'first', 'last');
COMMENT ON TYPE app.grading_method IS
'How a student''s grade on an exam is drawn from their graded attempts.';

CREATE TYPE app.question_kind AS ENUM (
    'single_choice', 'multiple_choice', 'true_false', 'numeric', 'short_text'
);
COMMENT ON TYPE app.question_kind IS
'Kind of question; fixes the form of options, correct and a student''s answer (see api-contract.md).';

-- exams ------------------------------------------------------------------------

CREATE TABLE app.exams (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title text NOT NULL,
    description text,
    -- The exam's history points at its creator: a user who created exams
    -- cannot be deleted (deactivate it instead).
    created_by uuid NOT NULL REFERENCES auth.users (id) ON DELETE NO ACTION,
    duration_minutes integer NOT NULL,
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    max_attempts integer NOT NULL DEFAULT 1,
    grading_method app.grading_method NOT NULL DEFAULT 'highest',
    grace_seconds integer NOT NULL DEFAULT 60,
    shuffle_questions boolean NOT NULL DEFAULT FALSE,
    shuffle_options boolean NOT NULL DEFAULT FALSE,
    published boolean NOT NULL DEFAULT TRUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exams_title_check CHECK (length(title) <= 200 AND btrim(title) <> ''),
    CONSTRAINT exams_description_check CHECK (length(description) <= 10000),
    CONSTRAINT exams_duration_minutes_check CHECK (
        duration_minutes > 0 AND duration_minutes <= 1440
    ),
    CONSTRAINT exams_window_check CHECK (closes_at > opens_at),
    CONSTRAINT exams_max_attempts_check CHECK (max_attempts >= 1),
    CONSTRAINT exams_grace_seconds_check CHECK (grace_seconds BETWEEN 0 AND 600)
);
COMMENT ON TABLE app.exams IS
'An exam: its window (opens_at to closes_at), duration, attempt limit, grading method and grace period.';
COMMENT ON COLUMN app.exams.grace_seconds IS
'Seconds after an attempt''s deadline during which answers and events are still accepted (network delay).';
COMMENT ON COLUMN app.exams.published IS
'Students can start a published exam inside its window; an unpublished one is visible to its teachers only.';

CREATE INDEX exams_created_by_idx ON app.exams (created_by);
CREATE INDEX exams_closes_at_idx ON app.exams (closes_at) WHERE published;

-- questions --------------------------------------------------------------------

CREATE TABLE app.questions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Questions are part of their exam.
    exam_id uuid NOT NULL REFERENCES app.exams (id) ON DELETE CASCADE,
    position integer NOT NULL,
    kind app.question_kind NOT NULL,
    prompt text NOT NULL,
    options jsonb NOT NULL DEFAULT '[]',
    correct jsonb NOT NULL,
    tolerance numeric,
    points numeric NOT NULL DEFAULT 1,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Deferrable so that a reorder (position = position + 1) is checked at
    -- the end of the statement, not row by row.
    CONSTRAINT questions_exam_id_position_key UNIQUE (
        exam_id, position
    ) DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT questions_position_check CHECK (position >= 1),
    CONSTRAINT questions_prompt_check CHECK (length(prompt) <= 20000 AND btrim(prompt) <> ''),
    CONSTRAINT questions_options_check CHECK (jsonb_typeof(options) = 'array'),
    CONSTRAINT questions_tolerance_check CHECK (
        tolerance IS NULL OR (tolerance >= 0 AND kind = 'numeric')
    ),
    CONSTRAINT questions_points_check CHECK (points > 0),
    CONSTRAINT questions_version_check CHECK (version >= 1),
    -- The form of options and correct per kind (api-contract.md): choices
    -- need options and a correct value among them; the others have none.
    CONSTRAINT questions_kind_check CHECK (
        CASE kind
            WHEN 'single_choice'
                THEN
                    jsonb_array_length(options) >= 2
                    AND jsonb_typeof(correct) = 'string'
                    AND options @> jsonb_build_array(correct)
            WHEN 'multiple_choice'
                THEN
                    jsonb_array_length(options) >= 2
                    AND jsonb_typeof(correct) = 'array'
                    AND options @> correct
            WHEN 'true_false'
                THEN options = '[]' AND jsonb_typeof(correct) = 'boolean'
            WHEN 'numeric'
                THEN options = '[]' AND jsonb_typeof(correct) = 'number'
            WHEN 'short_text'
                THEN options = '[]' AND jsonb_typeof(correct) IN ('string', 'array')
        END
    )
);
COMMENT ON TABLE app.questions IS
'Questions of an exam, with the answer key (correct, tolerance). An attempt is scored against the snapshot taken at its start (exam_attempts.scored_against), so editing a question never rescores an attempt.';
COMMENT ON COLUMN app.questions.options IS
'Choices shown to the student: a JSON array of strings for single_choice and multiple_choice, [] otherwise.';
COMMENT ON COLUMN app.questions.correct IS
'Answer key, teacher-only: an option string, a list of option strings, true/false, a number, or a string or list of accepted strings.';
COMMENT ON COLUMN app.questions.tolerance IS
'numeric questions only: an answer within plus or minus tolerance of correct is right.';
COMMENT ON COLUMN app.questions.version IS
'Incremented at each edit of the question, so that a snapshot tells which version it holds.';

-- teacher_exam_permissions -----------------------------------------------------

CREATE TABLE app.teacher_exam_permissions (
    -- A permission is about its exam and its teacher: it goes with either.
    exam_id uuid NOT NULL REFERENCES app.exams (id) ON DELETE CASCADE,
    teacher_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    -- Who granted it is history, not a dependency.
    granted_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT teacher_exam_permissions_pkey PRIMARY KEY (exam_id, teacher_id)
);
COMMENT ON TABLE app.teacher_exam_permissions IS
'Teachers allowed to see and manage an exam, its attempts and analytics; the creator gets a row at creation.';

CREATE INDEX teacher_exam_permissions_teacher_id_idx ON app.teacher_exam_permissions (teacher_id);
CREATE INDEX teacher_exam_permissions_granted_by_idx ON app.teacher_exam_permissions (granted_by);

-- accommodations ---------------------------------------------------------------

CREATE TABLE app.accommodations (
    -- Extra time is about one exam and one student: it goes with either.
    exam_id uuid NOT NULL REFERENCES app.exams (id) ON DELETE CASCADE,
    student_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    extra_minutes integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accommodations_pkey PRIMARY KEY (exam_id, student_id),
    CONSTRAINT accommodations_extra_minutes_check CHECK (extra_minutes BETWEEN 0 AND 1440)
);
COMMENT ON TABLE app.accommodations IS
'Extra time granted to a student on an exam; added to the deadline at the start of an attempt (still capped by closes_at).';

CREATE INDEX accommodations_student_id_idx ON app.accommodations (student_id);

-- Row-level security: deny by default.
ALTER TABLE app.exams ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exams FORCE ROW LEVEL SECURITY;
ALTER TABLE app.questions ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.questions FORCE ROW LEVEL SECURITY;
ALTER TABLE app.teacher_exam_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.teacher_exam_permissions FORCE ROW LEVEL SECURITY;
ALTER TABLE app.accommodations ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.accommodations FORCE ROW LEVEL SECURITY;

-- ============================================================================
-- sql/schema/30_attempts.sql
-- ============================================================================

-- attempts: a student's attempts at an exam and their saved answers.
--
-- Run as veritas_owner after 20_exams.sql. RLS enabled and forced, no policy.
--
-- A foreign key that must refuse a delete is ON DELETE NO ACTION, not
-- RESTRICT: the same refusal (checked at the end of the statement), and the
-- same SQLSTATE, 23503, on every version (RESTRICT raises 23001 on 18, 23503
-- on 15).

CREATE TYPE app.attempt_status AS ENUM ('in_progress', 'submitted', 'expired', 'abandoned');
COMMENT ON TYPE app.attempt_status IS
'in_progress, then submitted (by the student), expired (deadline passed; graded on saved answers) or abandoned.';

-- exam_attempts ----------------------------------------------------------------

CREATE TABLE app.exam_attempts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Attempts are the record of what happened: an exam or a student that
    -- has attempts cannot be deleted (unpublish the exam, deactivate the user).
    exam_id uuid NOT NULL REFERENCES app.exams (id) ON DELETE NO ACTION,
    student_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE NO ACTION,
    attempt_number integer NOT NULL,
    status app.attempt_status NOT NULL DEFAULT 'in_progress',
    started_at timestamptz NOT NULL DEFAULT now(),
    deadline timestamptz NOT NULL,
    finished_at timestamptz,
    score numeric,
    max_score numeric,
    question_order jsonb NOT NULL,
    scored_against jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exam_attempts_exam_id_student_id_attempt_number_key UNIQUE (
        exam_id, student_id, attempt_number
    ),
    CONSTRAINT exam_attempts_attempt_number_check CHECK (attempt_number >= 1),
    CONSTRAINT exam_attempts_finished_at_check CHECK (
        (status = 'in_progress') = (finished_at IS NULL)
    ),
    CONSTRAINT exam_attempts_finished_after_start_check CHECK (finished_at >= started_at),
    CONSTRAINT exam_attempts_deadline_check CHECK (deadline > started_at),
    CONSTRAINT exam_attempts_max_score_check CHECK (max_score >= 0),
    CONSTRAINT exam_attempts_score_check CHECK (
        score IS NULL OR (max_score IS NOT NULL AND score >= 0 AND score <= max_score)
    ),
    CONSTRAINT exam_attempts_question_order_check CHECK (jsonb_typeof(question_order) = 'array'),
    CONSTRAINT exam_attempts_scored_against_check CHECK (jsonb_typeof(scored_against) = 'array')
);
COMMENT ON TABLE app.exam_attempts IS
'One attempt of a student at an exam. The deadline is fixed at start (started_at + duration + extra time, capped by closes_at).';
COMMENT ON COLUMN app.exam_attempts.attempt_number IS
'1 for the student''s first attempt at this exam, and so on; at most exams.max_attempts.';
COMMENT ON COLUMN app.exam_attempts.finished_at IS
'When the attempt left in_progress (submitted, expired or abandoned); NULL exactly while in progress.';
COMMENT ON COLUMN app.exam_attempts.score IS
'Points obtained, 0 to max_score; NULL until graded.';
COMMENT ON COLUMN app.exam_attempts.max_score IS
'Sum of the points of all questions in scored_against.';
COMMENT ON COLUMN app.exam_attempts.question_order IS
'JSON array of question ids in the order this attempt shows them (shuffled when the exam says so).';
COMMENT ON COLUMN app.exam_attempts.scored_against IS
'Snapshot taken at start: JSON array of the questions with their answer key (id, position, kind, prompt, options, correct, tolerance, points, version). Grading reads this, never app.questions, so editing an exam never changes an attempt''s score.';

-- One attempt in progress per student and exam, however many requests race.
CREATE UNIQUE INDEX exam_attempts_one_in_progress_key ON app.exam_attempts (exam_id, student_id)
WHERE status = 'in_progress';
CREATE INDEX exam_attempts_student_id_started_at_idx
ON app.exam_attempts (student_id, started_at DESC);
CREATE INDEX exam_attempts_exam_id_status_idx ON app.exam_attempts (exam_id, status);
-- The expiry sweep: attempts in progress whose deadline has passed.
CREATE INDEX exam_attempts_deadline_idx ON app.exam_attempts (deadline)
WHERE status = 'in_progress';
-- The analytics refresh: has any attempt been written lately?
CREATE INDEX exam_attempts_updated_at_idx ON app.exam_attempts (updated_at);

-- attempt_answers --------------------------------------------------------------

CREATE TABLE app.attempt_answers (
    -- Answers are part of their attempt.
    attempt_id uuid NOT NULL REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    -- An answered question cannot be deleted: edit it (a new version) or
    -- add another; the attempt keeps its snapshot either way.
    question_id uuid NOT NULL REFERENCES app.questions (id) ON DELETE NO ACTION,
    answer jsonb NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now(),
    points_awarded numeric,
    CONSTRAINT attempt_answers_pkey PRIMARY KEY (attempt_id, question_id),
    CONSTRAINT attempt_answers_points_awarded_check CHECK (points_awarded >= 0)
);
COMMENT ON TABLE app.attempt_answers IS
'A student''s saved answer to one question of an attempt (autosave: last write wins), and the points it earned once graded.';
COMMENT ON COLUMN app.attempt_answers.points_awarded IS
'Points given at grading, from the attempt''s snapshot; NULL until graded.';

CREATE INDEX attempt_answers_question_id_idx ON app.attempt_answers (question_id);

-- Row-level security: deny by default.
ALTER TABLE app.exam_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exam_attempts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.attempt_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.attempt_answers FORCE ROW LEVEL SECURITY;

-- ============================================================================
-- sql/schema/40_monitoring.sql
-- ============================================================================

-- monitoring: the event types and the high-volume, partitioned table of
-- monitoring events reported by the browser module during an attempt.
--
-- Run as veritas_owner after 30_attempts.sql. RLS enabled and forced, no
-- policy. Monthly partitions are created by a repeatable procedure in
-- sql/functions/, not here; the default partition catches everything else,
-- so that no acknowledged event is ever refused for want of a partition.

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
COMMENT ON TYPE app.event_type IS
'Kinds of monitoring event. tab_visible, window_focus, fullscreen_enter and network_online close the matching hidden/blur/exit/offline event, so that durations can be computed.';

-- event_types ------------------------------------------------------------------

CREATE TABLE app.event_types (
    event_type app.event_type PRIMARY KEY,
    severity smallint NOT NULL,
    is_anomaly boolean NOT NULL,
    description text NOT NULL,
    CONSTRAINT event_types_severity_check CHECK (severity BETWEEN 0 AND 3)
);
COMMENT ON TABLE app.event_types IS
'Reference data: the severity (0 none to 3 grave) and anomaly flag of each event type, copied into each event at recording.';

INSERT INTO app.event_types (event_type, severity, is_anomaly, description) VALUES
('heartbeat', 0, FALSE, 'Periodic sign of life from the monitoring module.'),
('tab_visible', 0, FALSE, 'The exam tab became visible again.'),
('window_focus', 0, FALSE, 'The exam window regained focus.'),
('fullscreen_enter', 0, FALSE, 'The exam entered full screen.'),
('network_online', 0, FALSE, 'The network came back.'),
('window_blur', 1, TRUE, 'The exam window lost focus.'),
('network_offline', 1, TRUE, 'The network was lost.'),
('unusual_pause', 1, TRUE, 'No interaction for an unusually long time.'),
('gaze_away', 2, TRUE, 'The student''s eyes left the screen.'),
('tab_hidden', 2, TRUE, 'The exam tab was hidden (another tab or application in front).'),
('fullscreen_exit', 2, TRUE, 'The exam left full screen.'),
('copy', 2, TRUE, 'Text was copied from the exam.'),
('face_missing', 3, TRUE, 'No face in front of the camera.'),
('multiple_faces', 3, TRUE, 'More than one face in front of the camera.'),
('paste', 3, TRUE, 'Text was pasted into the exam.'),
('devtools_open', 3, TRUE, 'The browser''s developer tools were opened.');

-- monitoring_events ------------------------------------------------------------

-- Partitioned by the start time of the attempt, copied into every row: all
-- events of one attempt share one partition, so the keys below, which all
-- lead with attempt_id, are unique across the whole table (and the table can
-- be distributed by attempt_id with Citus).
CREATE TABLE app.monitoring_events (
    attempt_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    attempt_started_at timestamptz NOT NULL,
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    event_type app.event_type NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    severity smallint NOT NULL,
    is_anomaly boolean NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    client_event_id text,
    CONSTRAINT monitoring_events_pkey PRIMARY KEY (attempt_id, id, attempt_started_at),
    -- Idempotency: a retried event (same client_event_id, same attempt) is
    -- stored once. NULL client_event_id: no deduplication.
    CONSTRAINT monitoring_events_client_event_id_key UNIQUE (
        attempt_id, client_event_id, attempt_started_at
    ),
    -- Events are part of their attempt. exam_id and student_id are copied
    -- from the attempt by the recording function (no foreign key: they add a
    -- lookup per event and the attempt already pins them).
    CONSTRAINT monitoring_events_attempt_id_fkey FOREIGN KEY (attempt_id)
    REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    CONSTRAINT monitoring_events_severity_check CHECK (severity BETWEEN 0 AND 3),
    CONSTRAINT monitoring_events_payload_check CHECK (jsonb_typeof(payload) = 'object'),
    CONSTRAINT monitoring_events_client_event_id_check CHECK (
        length(client_event_id) BETWEEN 1 AND 128
    )
) PARTITION BY RANGE (attempt_started_at);
COMMENT ON TABLE app.monitoring_events IS
'Append-only monitoring events of attempts, partitioned monthly by RANGE (attempt_started_at), plus a default partition.';
COMMENT ON COLUMN app.monitoring_events.attempt_started_at IS
'exam_attempts.started_at of the event''s attempt: the partition key, the same for every event of an attempt.';
COMMENT ON COLUMN app.monitoring_events.occurred_at IS
'When the event happened, by the client''s clock.';
COMMENT ON COLUMN app.monitoring_events.received_at IS
'When the server stored the event, by the server''s clock.';
COMMENT ON COLUMN app.monitoring_events.severity IS
'Copied from app.event_types at recording: 0 none to 3 grave.';
COMMENT ON COLUMN app.monitoring_events.is_anomaly IS
'Copied from app.event_types at recording.';
COMMENT ON COLUMN app.monitoring_events.client_event_id IS
'Id chosen by the client (1 to 128 characters) so that a retry is stored once.';

-- This attempt's timeline, oldest first.
CREATE INDEX monitoring_events_attempt_id_occurred_at_idx
ON app.monitoring_events (attempt_id, occurred_at, id);
-- Anomalies of this exam.
CREATE INDEX monitoring_events_exam_id_occurred_at_idx
ON app.monitoring_events (exam_id, occurred_at)
WHERE is_anomaly;
-- Time-range scans for retention and archival; tiny, rows arrive in order.
CREATE INDEX monitoring_events_received_at_brin ON app.monitoring_events USING brin (received_at);

CREATE TABLE app.monitoring_events_default PARTITION OF app.monitoring_events DEFAULT;
COMMENT ON TABLE app.monitoring_events_default IS
'Default partition of app.monitoring_events: events of attempts started outside every monthly partition.';

-- Row-level security: deny by default (event_types seeded above, before
-- FORCE). Both the partitioned table and each partition carry it: the
-- partition's own flags apply when it is queried directly.
ALTER TABLE app.event_types ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.event_types FORCE ROW LEVEL SECURITY;
ALTER TABLE app.monitoring_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.monitoring_events FORCE ROW LEVEL SECURITY;
ALTER TABLE app.monitoring_events_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.monitoring_events_default FORCE ROW LEVEL SECURITY;

-- event_rate_windows -------------------------------------------------------------

-- The per-attempt rate bound of event recording: events accepted for the
-- attempt in the current minute. UNLOGGED: a crash forgets the counts, which
-- only resets a one-minute window, and no WAL is written on the hot path.
CREATE UNLOGGED TABLE app.event_rate_windows (
    attempt_id uuid PRIMARY KEY REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    events integer NOT NULL,
    CONSTRAINT event_rate_windows_events_check CHECK (events >= 0)
);
COMMENT ON TABLE app.event_rate_windows IS
'Events recorded per attempt in the current minute (the flood bound of internal.take_event_budget); unlogged.';

ALTER TABLE app.event_rate_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.event_rate_windows FORCE ROW LEVEL SECURITY;

-- ============================================================================
-- sql/schema/50_analysis.sql
-- ============================================================================

-- analysis: behaviour analyses of attempts, teachers' reviews of their
-- flags, denormalised performance metrics, and the analysis job queue.
--
-- Run as veritas_owner after 40_monitoring.sql. RLS enabled and forced, no
-- policy.
--
-- A foreign key that must refuse a delete is ON DELETE NO ACTION, not
-- RESTRICT: the same refusal (checked at the end of the statement), and the
-- same SQLSTATE, 23503, on every version (RESTRICT raises 23001 on 18, 23503
-- on 15).

CREATE TYPE app.analysis_source AS ENUM ('builtin', 'external');
COMMENT ON TYPE app.analysis_source IS
'Who wrote an analysis: the built-in deterministic analyser, or an external engine through the API.';

CREATE TYPE app.review_status AS ENUM ('cleared', 'confirmed');
COMMENT ON TYPE app.review_status IS
'A teacher''s decision on a flagged attempt; an attempt without a review is pending.';

CREATE TYPE app.job_status AS ENUM ('queued', 'running', 'done', 'failed', 'parked');
COMMENT ON TYPE app.job_status IS
'queued (waiting for run_after), running (claimed by a worker), done, failed (will be retried), parked (gave up; needs a human).';

-- behavior_analyses ------------------------------------------------------------

CREATE TABLE app.behavior_analyses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Analyses are part of their attempt.
    attempt_id uuid NOT NULL REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    source app.analysis_source NOT NULL,
    model text NOT NULL,
    integrity_score numeric NOT NULL,
    lmi_score numeric NOT NULL,
    flags jsonb NOT NULL DEFAULT '[]',
    summary text,
    is_flagged boolean NOT NULL DEFAULT FALSE,
    -- The writer is history, not a dependency (NULL for the built-in analyser).
    created_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    -- The clock, not the transaction's start: "the latest wins" must hold
    -- between two analyses written in one transaction too.
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT behavior_analyses_model_check CHECK (length(model) BETWEEN 1 AND 200),
    CONSTRAINT behavior_analyses_integrity_score_check CHECK (integrity_score BETWEEN 0 AND 100),
    CONSTRAINT behavior_analyses_lmi_score_check CHECK (lmi_score BETWEEN 0 AND 1),
    CONSTRAINT behavior_analyses_flags_check CHECK (jsonb_typeof(flags) = 'array'),
    CONSTRAINT behavior_analyses_summary_check CHECK (length(summary) <= 20000)
);
COMMENT ON TABLE app.behavior_analyses IS
'Behaviour analyses of an attempt, built-in or external; all are kept, the latest (created_at) wins.';
COMMENT ON COLUMN app.behavior_analyses.model IS
'The analyser and its version, for example veritas-builtin-v1 or the external engine''s model name.';
COMMENT ON COLUMN app.behavior_analyses.integrity_score IS
'0 (certain malpractice) to 100 (clean).';
COMMENT ON COLUMN app.behavior_analyses.lmi_score IS
'Likelihood-of-malpractice index, 0 to 1.';
COMMENT ON COLUMN app.behavior_analyses.flags IS
'JSON array of flags, each an object with the evidence that raised it (for example {"code": "tab_hidden", "count": 7, "seconds": 95, "event_ids": [...]}).';

CREATE INDEX behavior_analyses_attempt_id_created_at_idx
ON app.behavior_analyses (attempt_id, created_at DESC);
CREATE INDEX behavior_analyses_flags_idx ON app.behavior_analyses USING gin (flags jsonb_path_ops);
CREATE INDEX behavior_analyses_created_by_idx ON app.behavior_analyses (created_by);
-- The analytics refresh: has any analysis been written lately?
CREATE INDEX behavior_analyses_created_at_idx ON app.behavior_analyses (created_at);

-- flag_reviews -----------------------------------------------------------------

CREATE TABLE app.flag_reviews (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Reviews are part of their attempt.
    attempt_id uuid NOT NULL REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    -- The analysis under review, when there was one.
    analysis_id uuid REFERENCES app.behavior_analyses (id) ON DELETE SET NULL,
    -- A decision keeps its author: a reviewer cannot be deleted (deactivate).
    reviewer_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE NO ACTION,
    decision app.review_status NOT NULL,
    note text,
    -- The clock, not the transaction's start: "the latest review is the
    -- attempt's status" must hold between two reviews of one transaction too.
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT flag_reviews_note_check CHECK (length(note) <= 10000),
    CONSTRAINT flag_reviews_confirmed_note_check CHECK (
        decision <> 'confirmed' OR (note IS NOT NULL AND length(trim(note)) > 0)
    )
);
COMMENT ON TABLE app.flag_reviews IS
'Teachers'' decisions on flagged attempts (cleared or confirmed, a confirmation needs a note); the latest is the attempt''s review status.';

CREATE INDEX flag_reviews_attempt_id_created_at_idx
ON app.flag_reviews (attempt_id, created_at DESC);
CREATE INDEX flag_reviews_analysis_id_idx ON app.flag_reviews (analysis_id);
CREATE INDEX flag_reviews_reviewer_id_idx ON app.flag_reviews (reviewer_id);

-- performance_metrics ----------------------------------------------------------

CREATE TABLE app.performance_metrics (
    -- Derived data: it goes with the student.
    student_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    exams_taken integer NOT NULL DEFAULT 0,
    attempts_count integer NOT NULL DEFAULT 0,
    average_score numeric,
    best_score numeric,
    average_integrity numeric,
    flags_count integer NOT NULL DEFAULT 0,
    trend numeric,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT performance_metrics_exams_taken_check CHECK (exams_taken >= 0),
    CONSTRAINT performance_metrics_attempts_count_check CHECK (attempts_count >= 0),
    CONSTRAINT performance_metrics_average_score_check CHECK (average_score BETWEEN 0 AND 100),
    CONSTRAINT performance_metrics_best_score_check CHECK (best_score BETWEEN 0 AND 100),
    CONSTRAINT performance_metrics_average_integrity_check CHECK (
        average_integrity BETWEEN 0 AND 100
    ),
    CONSTRAINT performance_metrics_flags_count_check CHECK (flags_count >= 0)
);
COMMENT ON TABLE app.performance_metrics IS
'Denormalised per-student metrics, one row per student, brought up to date by the analysis worker; the student dashboard reads one row.';
COMMENT ON COLUMN app.performance_metrics.average_score IS
'Average of graded attempts, in percent of max_score (0-100).';
COMMENT ON COLUMN app.performance_metrics.best_score IS
'Best graded attempt, in percent of max_score (0-100).';
COMMENT ON COLUMN app.performance_metrics.trend IS
'Direction of recent scores: slope in percentage points per attempt (negative when falling); NULL with fewer than two.';

-- exam_metrics -----------------------------------------------------------------

CREATE TABLE app.exam_metrics (
    -- Derived data: it goes with the exam.
    exam_id uuid PRIMARY KEY REFERENCES app.exams (id) ON DELETE CASCADE,
    attempts integer NOT NULL DEFAULT 0,
    submitted integer NOT NULL DEFAULT 0,
    average_score numeric,
    flagged integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exam_metrics_attempts_check CHECK (attempts >= 0),
    CONSTRAINT exam_metrics_submitted_check CHECK (submitted BETWEEN 0 AND attempts),
    CONSTRAINT exam_metrics_average_score_check CHECK (average_score >= 0),
    CONSTRAINT exam_metrics_flagged_check CHECK (flagged >= 0)
);
COMMENT ON TABLE app.exam_metrics IS
'Denormalised per-exam counters, one row per exam, brought up to date by the analysis worker.';
COMMENT ON COLUMN app.exam_metrics.average_score IS
'Average score of graded attempts, in points (the scale of exam_attempts.score).';

-- analysis_jobs ----------------------------------------------------------------

CREATE TABLE app.analysis_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A job about a deleted attempt has nothing left to do.
    attempt_id uuid NOT NULL REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    kind text NOT NULL DEFAULT 'analyse_attempt',
    status app.job_status NOT NULL DEFAULT 'queued',
    attempts integer NOT NULL DEFAULT 0,
    run_after timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analysis_jobs_kind_check CHECK (kind ~ '^[a-z][a-z_]{1,62}$'),
    CONSTRAINT analysis_jobs_attempts_check CHECK (attempts >= 0),
    CONSTRAINT analysis_jobs_locked_by_check CHECK (length(locked_by) <= 200)
);
COMMENT ON TABLE app.analysis_jobs IS
'Queue of analysis work, filled on submit or expiry and claimed by workers (FOR UPDATE SKIP LOCKED).';
COMMENT ON COLUMN app.analysis_jobs.attempts IS
'How many times a worker has tried this job; past a limit it is parked.';
COMMENT ON COLUMN app.analysis_jobs.locked_by IS
'The worker (host and process) that claimed the job.';

-- Claiming: the oldest runnable job, queued or failed (waiting for a retry).
CREATE INDEX analysis_jobs_run_after_idx ON app.analysis_jobs (run_after)
WHERE status IN ('queued', 'failed');
-- At most one live job of a kind per attempt (a second submit queues nothing).
CREATE UNIQUE INDEX analysis_jobs_attempt_id_kind_key ON app.analysis_jobs (attempt_id, kind)
WHERE status IN ('queued', 'running', 'failed');
CREATE INDEX analysis_jobs_attempt_id_idx ON app.analysis_jobs (attempt_id);
-- Finding jobs whose worker died.
CREATE INDEX analysis_jobs_locked_at_idx ON app.analysis_jobs (locked_at)
WHERE status = 'running';

-- analytics_refreshes ----------------------------------------------------------

-- One row per materialized view of sql/views/exam_analytics.sql, written by
-- internal.refresh_analytics() (the worker) only.
CREATE TABLE app.analytics_refreshes (
    view_name text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    up_to_date_at timestamptz NOT NULL,
    duration interval NOT NULL,
    refreshes bigint NOT NULL DEFAULT 1,
    CONSTRAINT analytics_refreshes_view_name_check CHECK (view_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    CONSTRAINT analytics_refreshes_duration_check CHECK (duration >= interval '0'),
    CONSTRAINT analytics_refreshes_refreshes_check CHECK (refreshes >= 1)
);
COMMENT ON TABLE app.analytics_refreshes IS
'When each analytics materialized view was last refreshed, and up to when it is known complete; read by the teacher analytics (refreshed_at) and by the refresh itself (skip when nothing changed, throttle by duration).';
COMMENT ON COLUMN app.analytics_refreshes.refreshed_at IS
'Clock time just before the last REFRESH began: the view holds everything committed before it.';
COMMENT ON COLUMN app.analytics_refreshes.up_to_date_at IS
'The latest time the view was known to hold everything committed before it: the last refresh, or a later check that found nothing new.';
COMMENT ON COLUMN app.analytics_refreshes.duration IS
'How long the last REFRESH took; the next one waits at least four times as long (at most a fifth of one backend).';

-- Row-level security: deny by default.
ALTER TABLE app.behavior_analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.behavior_analyses FORCE ROW LEVEL SECURITY;
ALTER TABLE app.flag_reviews ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.flag_reviews FORCE ROW LEVEL SECURITY;
ALTER TABLE app.performance_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.performance_metrics FORCE ROW LEVEL SECURITY;
ALTER TABLE app.exam_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exam_metrics FORCE ROW LEVEL SECURITY;
ALTER TABLE app.analysis_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.analysis_jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE app.analytics_refreshes ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.analytics_refreshes FORCE ROW LEVEL SECURITY;

-- ============================================================================
-- sql/schema/60_audit.sql
-- ============================================================================

-- audit: the append-only audit trail of row changes, security events, and
-- disclosures of student data.
--
-- Run as veritas_owner after 50_analysis.sql. RLS enabled and forced, no
-- policy. No foreign keys: the trail must outlive the rows and users it
-- names. Rows are written by SECURITY DEFINER helpers and triggers in
-- sql/functions/audit.sql (not here), which also guard them: nothing in
-- this schema is ever updated or deleted.
--
-- Tamper evidence: each of audit.log, audit.security_events and
-- audit.disclosures is one hash chain, recorded beside it in audit.seals.
-- Writers insert their rows with no lock and no read of the chain; the
-- worker's internal.seal_audit_log() later appends one seal per batch of
-- newly committed rows: their ids in chain order and each row's hash, which
-- covers the row and the hash before it (docs/audit.md). The audited rows
-- themselves are never rewritten.

-- log --------------------------------------------------------------------------

CREATE TABLE audit.log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    table_schema text,
    table_name text,
    operation text NOT NULL,
    row_pk jsonb,
    old_values jsonb,
    new_values jsonb,
    changed_columns text[],
    actor_id uuid,
    actor_role text,
    db_user text NOT NULL DEFAULT session_user,
    request_method text,
    request_path text,
    txid bigint NOT NULL DEFAULT txid_current(),
    CONSTRAINT log_operation_check CHECK (
        operation IN (
            'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'DETACH', 'SELECT', 'LOGIN', 'LOGOUT',
            'EXPORT'
        )
    ),
    -- Few and small checks: PostgreSQL re-reads each one at every audited
    -- statement (the writers, sql/functions/audit.sql, shape the JSON).
    CONSTRAINT log_table_check CHECK ((table_schema IS NULL) = (table_name IS NULL))
);
COMMENT ON TABLE audit.log IS
'Append-only audit trail: one row per audited row change (or other operation), with who and from which request; hash-chained through audit.seals.';
COMMENT ON COLUMN audit.log.table_schema IS
'Schema of the audited table; NULL (with table_name) for operations not about a table, such as LOGIN.';
COMMENT ON COLUMN audit.log.operation IS
'INSERT, UPDATE, DELETE (one row each; for app.monitoring_events one row per statement), TRUNCATE, DETACH (an event partition archived).';
COMMENT ON COLUMN audit.log.row_pk IS
'Primary key of the audited row as a JSON object, for example {"id": "..."}; NULL for a statement-level entry.';
COMMENT ON COLUMN audit.log.old_values IS
'UPDATE: the old values of the changed columns; DELETE: the whole row. Secret columns (password or token hashes) are never copied, only named in changed_columns.';
COMMENT ON COLUMN audit.log.new_values IS
'INSERT: the whole row; UPDATE: the new values of the changed columns. Secret columns are never copied.';
COMMENT ON COLUMN audit.log.changed_columns IS
'UPDATE only: the columns whose value changed (secret columns included, by name only).';
COMMENT ON COLUMN audit.log.actor_id IS
'The user of the request (sub claim); NULL for work of the database itself (expiry sweep, workers).';
COMMENT ON COLUMN audit.log.actor_role IS
'The role claim of the request, or the database role in effect (SET ROLE, else the login) when there was no request.';
COMMENT ON COLUMN audit.log.db_user IS
'The database login of the session (session_user): authenticator for API requests, the DBA''s own login for direct sessions and migrations.';
COMMENT ON COLUMN audit.log.txid IS
'The writing transaction (txid_current()): rows of one request share it.';

CREATE INDEX log_table_name_id_idx ON audit.log (table_name, id DESC);
CREATE INDEX log_actor_id_id_idx ON audit.log (actor_id, id DESC);
CREATE INDEX log_occurred_at_brin ON audit.log USING brin (occurred_at);

-- security_events --------------------------------------------------------------

CREATE TABLE audit.security_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL,
    user_id uuid,
    email text,
    client_addr inet,
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT security_events_kind_check CHECK (
        kind IN (
            'login_success', 'login_failure', 'refresh', 'logout',
            'reuse_detected', 'lockout', 'role_change'
        )
    ),
    CONSTRAINT security_events_details_check CHECK (jsonb_typeof(details) = 'object')
);
COMMENT ON TABLE audit.security_events IS
'Authentication and authorisation events: logins, refreshes, logouts, refresh-token reuse, lockouts, role changes.';

CREATE INDEX security_events_user_id_id_idx ON audit.security_events (user_id, id DESC);
CREATE INDEX security_events_kind_id_idx ON audit.security_events (kind, id DESC);
CREATE INDEX security_events_occurred_at_brin ON audit.security_events USING brin (occurred_at);

-- disclosures ------------------------------------------------------------------

CREATE TABLE audit.disclosures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    viewer_id uuid,
    viewer_role text,
    student_id uuid NOT NULL,
    record_kind text NOT NULL,
    record_id uuid,
    CONSTRAINT disclosures_record_kind_check CHECK (record_kind ~ '^[a-z][a-z_]{1,62}$')
);
COMMENT ON TABLE audit.disclosures IS
'Who was shown which record of a student, and when (teachers and admins reading student data), so that a student''s data access can be accounted for.';
COMMENT ON COLUMN audit.disclosures.record_kind IS
'What was shown, for example attempt, events, analysis, profile.';

CREATE INDEX disclosures_student_id_id_idx ON audit.disclosures (student_id, id DESC);
CREATE INDEX disclosures_viewer_id_id_idx ON audit.disclosures (viewer_id, id DESC);

-- seals ----------------------------------------------------------------------------

-- One row per batch sealed by internal.seal_audit_log(): the next rows of one
-- chain, in chain order, with each row's hash
--     row_hashes[i] = sha256(previous hash || utf8(position || '|' || content))
-- (content: internal.audit_content of the row; the previous hash of the
-- first row of a chain is 32 zero bytes). The ids in pending_ids are those
-- at or below high_water that were not yet visible when the batch was sealed (a
-- transaction still running, or rolled back): the next batches take them if
-- they commit, and forget them once every transaction that could have
-- written them has ended (pending_xmax).
CREATE TABLE audit.seals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sealed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    chain text NOT NULL,
    seal_no bigint NOT NULL,
    first_position bigint NOT NULL,
    row_ids bigint[] NOT NULL,
    row_hashes bytea[] NOT NULL,
    prev_hash bytea NOT NULL,
    last_hash bytea NOT NULL,
    high_water bigint NOT NULL,
    pending_ids bigint[] NOT NULL DEFAULT '{}',
    pending_xmax xid8[] NOT NULL DEFAULT '{}',
    -- One sealer at a time; should two ever race, the second cannot fork the chain.
    CONSTRAINT seals_chain_seal_no_key UNIQUE (chain, seal_no),
    CONSTRAINT seals_chain_check CHECK (chain IN ('log', 'security_events', 'disclosures')),
    CONSTRAINT seals_seal_no_check CHECK (seal_no >= 1 AND first_position >= 1),
    CONSTRAINT seals_rows_check CHECK (
        cardinality(row_ids) = cardinality(row_hashes)
        AND cardinality(pending_ids) = cardinality(pending_xmax)
    )
);
COMMENT ON TABLE audit.seals IS
'The hash chains of audit.log, audit.security_events and audit.disclosures: one row per sealed batch (row ids in chain order and their hashes), appended by internal.seal_audit_log(), verified by veritas audit verify.';
COMMENT ON COLUMN audit.seals.first_position IS
'Chain position of row_ids[1]; the positions of a chain run 1, 2, ... without a gap across its seals.';
COMMENT ON COLUMN audit.seals.prev_hash IS
'The chain''s hash before this batch: the last_hash of the previous seal, 32 zero bytes for the first.';
COMMENT ON COLUMN audit.seals.high_water IS
'Every id of the chained table up to this one is sealed by now, or listed in pending_ids.';
COMMENT ON COLUMN audit.seals.pending_xmax IS
'Per pending id, a transaction id bound: once every transaction below it has ended, a pending id that never appeared is forgotten (NULL: bound not taken yet).';

-- Row-level security: deny by default.
ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.log FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.security_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.disclosures FORCE ROW LEVEL SECURITY;
ALTER TABLE audit.seals ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.seals FORCE ROW LEVEL SECURITY;
