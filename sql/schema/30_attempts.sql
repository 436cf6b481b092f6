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
)
-- Updated a few times in its life (submit, grading, expiry). Its status and
-- updated_at are indexed, so an update is never HOT, but the room left in
-- each page keeps the new version beside the old one (docs/operations.md).
WITH (fillfactor = 90);
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
)
-- Autosave rewrites an answer many times; no indexed column changes, so
-- with room left in the page each rewrite is a HOT update (no index entry).
WITH (fillfactor = 80);
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
