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
'Kind of question; fixes the form of options, correct and a student''s answer (see docs/exams.md).';

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
    -- The form of options and correct per kind (docs/exams.md): choices
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
