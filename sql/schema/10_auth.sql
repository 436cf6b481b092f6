-- auth: users, refresh tokens, revoked access tokens, service tokens, login
-- attempts, the role x permission matrix; and the users' profiles
-- (app.student_profiles, app.teacher_profiles), which belong to the same
-- domain.
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

-- service_tokens -----------------------------------------------------------------

CREATE TABLE auth.service_tokens (
    jti uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A token dies with its account.
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    label text NOT NULL,
    issued_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    CONSTRAINT service_tokens_label_check CHECK (
        length(label) <= 200 AND btrim(label) <> ''
    ),
    CONSTRAINT service_tokens_expires_at_check CHECK (expires_at > issued_at),
    CONSTRAINT service_tokens_revoked_check CHECK (revoked_by IS NULL OR revoked_at IS NOT NULL)
);
COMMENT ON TABLE auth.service_tokens IS
'Long-lived access tokens an admin issued to integration accounts (POST /admin/service-tokens), by jti; the token itself is never stored. Revoking one also lists its jti in auth.revoked_tokens.';
COMMENT ON COLUMN auth.service_tokens.label IS
'What the token is for (the system that holds it), chosen by the admin.';

CREATE INDEX service_tokens_user_id_idx ON auth.service_tokens (user_id);
CREATE INDEX service_tokens_issued_by_idx ON auth.service_tokens (issued_by);
CREATE INDEX service_tokens_revoked_by_idx ON auth.service_tokens (revoked_by);

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
'Stable pseudonymous id shown to analysts instead of user_id (analytics.student_overview); the analysts'' per-exam rows carry a keyed hash of it instead.';
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
ALTER TABLE auth.service_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.service_tokens FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.login_attempts FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.role_permissions FORCE ROW LEVEL SECURITY;
ALTER TABLE app.student_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.student_profiles FORCE ROW LEVEL SECURITY;
ALTER TABLE app.teacher_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.teacher_profiles FORCE ROW LEVEL SECURITY;
