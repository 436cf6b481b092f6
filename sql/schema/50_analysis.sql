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
)
-- A queue: each row is updated two or three times (claimed, done or failed)
-- soon after it is written, and the claiming query's plan depends on
-- fresh statistics. Room in each page for the new versions, and vacuum and
-- analyse after 2 % of the rows changed rather than 20 % (docs/operations.md).
WITH (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
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

-- One row per analytics summary table below (exam_stats, flagged_attempts,
-- exam_event_counts), written by internal.refresh_analytics() (the worker)
-- only.
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
'When each analytics summary table (app.exam_stats, app.flagged_attempts, app.exam_event_counts) was last brought up to date, and up to when it is known complete; read by the teacher analytics (refreshed_at) and by the refresh itself (what changed since its last pass).';
COMMENT ON COLUMN app.analytics_refreshes.view_name IS
'The summary table (app.<view_name>).';
COMMENT ON COLUMN app.analytics_refreshes.refreshed_at IS
'Clock time just before the last pass began: the table holds everything committed before it.';
COMMENT ON COLUMN app.analytics_refreshes.up_to_date_at IS
'The latest time the table was known to hold everything committed before it (the last pass''s start).';
COMMENT ON COLUMN app.analytics_refreshes.duration IS
'How long the last pass took over this table (its changed exams or attempts only).';
COMMENT ON COLUMN app.analytics_refreshes.refreshes IS
'Passes that recomputed at least one row of this table (a pass that found nothing new is not counted).';

-- The analytics summary tables --------------------------------------------------

-- Derived data, kept by internal.refresh_analytics() (the worker, every few
-- seconds): each pass recomputes only the exams (or attempts) whose
-- attempts, analyses or events changed since the last pass. No request role
-- has any privilege on them: teachers read them through the app.visible_...
-- views of sql/views/exam_analytics.sql, analysts through the analytics
-- schema. Rules and cost: docs/teacher-views.md.

-- One row per exam with attempts.
CREATE TABLE app.exam_stats (
    -- Derived data: it goes with the exam.
    exam_id uuid PRIMARY KEY REFERENCES app.exams (id) ON DELETE CASCADE,
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
    computed_at timestamptz NOT NULL,
    computations bigint NOT NULL DEFAULT 1,
    CONSTRAINT exam_stats_attempts_check CHECK (attempts >= 1),
    CONSTRAINT exam_stats_students_check CHECK (students BETWEEN 1 AND attempts),
    CONSTRAINT exam_stats_graded_check CHECK (graded BETWEEN 0 AND attempts),
    CONSTRAINT exam_stats_analysed_check CHECK (analysed BETWEEN 0 AND attempts),
    CONSTRAINT exam_stats_flagged_check CHECK (flagged BETWEEN 0 AND analysed),
    CONSTRAINT exam_stats_histogram_check CHECK (cardinality(histogram) = 10),
    CONSTRAINT exam_stats_integrity_histogram_check CHECK (cardinality(integrity_histogram) = 10),
    CONSTRAINT exam_stats_computations_check CHECK (computations >= 1)
);
COMMENT ON TABLE app.exam_stats IS
'Per exam with attempts: attempts, students, in_progress, submitted, expired (an overdue attempt counts as expired), abandoned, graded; average and median score (points) and percentage of graded attempts; histogram: graded attempts per tenth of percentage; analysed, flagged (latest analysis), average integrity and lmi; integrity_histogram: analysed attempts per tenth of integrity. Recomputed per exam by internal.refresh_analytics() when the exam''s attempts or analyses changed.';
COMMENT ON COLUMN app.exam_stats.histogram IS
'Graded attempts per tenth of percentage of max_score: 10 counts, [0, 10) ... [90, 100] (100 % in the last).';
COMMENT ON COLUMN app.exam_stats.integrity_histogram IS
'Analysed attempts (each by its latest analysis) per tenth of integrity score: 10 counts, [0, 10) ... [90, 100] (100 in the last).';
COMMENT ON COLUMN app.exam_stats.computed_at IS
'Start of the refresh pass that last recomputed this row: an exam nobody touched keeps its old computed_at.';
COMMENT ON COLUMN app.exam_stats.computations IS
'How many passes recomputed this row.';

-- One row per attempt whose latest analysis is flagged.
CREATE TABLE app.flagged_attempts (
    -- Derived data: it goes with the attempt.
    attempt_id uuid PRIMARY KEY REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    exam_id uuid NOT NULL,
    student_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    analysed_at timestamptz NOT NULL,
    integrity_score numeric NOT NULL,
    lmi_score numeric NOT NULL,
    flags_count integer NOT NULL
);
COMMENT ON TABLE app.flagged_attempts IS
'Attempts whose latest behaviour analysis is flagged, with that analysis'' id, time, integrity, lmi and number of flags: the teacher dashboard''s alerts. Recomputed per attempt by internal.refresh_analytics() when the attempt gets a new analysis.';

-- The dashboard: the newest flags of the caller's exams.
CREATE INDEX flagged_attempts_exam_id_analysed_at_idx
ON app.flagged_attempts (exam_id, analysed_at DESC);

-- Events per exam and type.
CREATE TABLE app.exam_event_counts (
    -- Derived data: it goes with the exam.
    exam_id uuid NOT NULL REFERENCES app.exams (id) ON DELETE CASCADE,
    event_type app.event_type NOT NULL,
    settled_events bigint NOT NULL DEFAULT 0,
    events bigint NOT NULL,
    CONSTRAINT exam_event_counts_pkey PRIMARY KEY (exam_id, event_type),
    CONSTRAINT exam_event_counts_settled_events_check CHECK (settled_events >= 0),
    CONSTRAINT exam_event_counts_events_check CHECK (events >= settled_events)
);
COMMENT ON TABLE app.exam_event_counts IS
'Monitoring events per exam and event type: settled_events (of the attempts in app.counted_attempts, added once each) plus, in events, those of the attempts not yet counted (in progress, or closed within the last minute) as of the last pass that recomputed the exam.';
COMMENT ON COLUMN app.exam_event_counts.settled_events IS
'Events of the exam''s counted attempts (app.counted_attempts): final, each attempt added once, when it is counted.';
COMMENT ON COLUMN app.exam_event_counts.events IS
'settled_events plus the events of the exam''s attempts not counted yet, as of the pass that last recomputed the exam.';

-- The attempts whose events are counted in exam_event_counts.settled_events.
CREATE TABLE app.counted_attempts (
    -- Derived data: it goes with the attempt.
    attempt_id uuid PRIMARY KEY REFERENCES app.exam_attempts (id) ON DELETE CASCADE,
    exam_id uuid NOT NULL,
    events integer NOT NULL,
    counted_at timestamptz NOT NULL,
    CONSTRAINT counted_attempts_events_check CHECK (events >= 0)
);
COMMENT ON TABLE app.counted_attempts IS
'Closed attempts whose events were added to app.exam_event_counts.settled_events, once each: an attempt is counted a minute after it left in_progress (its events are final: none is accepted after that), by internal.refresh_analytics().';
COMMENT ON COLUMN app.counted_attempts.events IS
'How many events the attempt had when it was counted.';

-- analyst_settings --------------------------------------------------------------

-- One row: how the analysts' views (sql/views/) protect students. The DBA
-- changes it with an UPDATE (docs/security.md); no runtime role may read it,
-- the views read it with their owner's rights.
CREATE TABLE app.analyst_settings (
    singleton boolean PRIMARY KEY DEFAULT TRUE,
    min_group integer NOT NULL DEFAULT 5,
    pseudonym_secret uuid NOT NULL DEFAULT gen_random_uuid(),
    CONSTRAINT analyst_settings_singleton_check CHECK (singleton),
    CONSTRAINT analyst_settings_min_group_check CHECK (min_group >= 1)
);
INSERT INTO app.analyst_settings (singleton) VALUES (TRUE);
COMMENT ON TABLE app.analyst_settings IS
'One row: the analysts'' privacy settings. Without it the analytics views show no student figure at all.';
COMMENT ON COLUMN app.analyst_settings.min_group IS
'k: an exam with fewer distinct students than this shows no per-student row and no figure in the analytics views (1: no suppression).';
COMMENT ON COLUMN app.analyst_settings.pseudonym_secret IS
'Key of the per-exam pseudonyms of analytics.student_exam_results (keyed SHA-256 of it, the student''s pseudonym and the exam). Replacing it re-pseudonymises every exam row.';

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
ALTER TABLE app.exam_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exam_stats FORCE ROW LEVEL SECURITY;
ALTER TABLE app.flagged_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.flagged_attempts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.exam_event_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exam_event_counts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.counted_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.counted_attempts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.analyst_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.analyst_settings FORCE ROW LEVEL SECURITY;
