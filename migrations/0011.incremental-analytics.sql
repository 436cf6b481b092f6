-- 0011.incremental-analytics: the analytics materialized views
-- (exam_stats_mv, flagged_attempts_mv, exam_event_counts_mv, created by the
-- repeatable sql/views/exam_analytics.sql) give way to summary tables that
-- internal.refresh_analytics() keeps per exam (docs/teacher-views.md), as in
-- sql/schema/50_analysis.sql. The views that read the materialized views
-- are repeatable and re-created after this step; the tables start empty and
-- the worker's first pass fills them (no refresh row yet: a full pass).
-- Run by yoyo as veritas_owner.

DROP MATERIALIZED VIEW IF EXISTS app.exam_stats_mv CASCADE;
DROP MATERIALIZED VIEW IF EXISTS app.flagged_attempts_mv CASCADE;
DROP MATERIALIZED VIEW IF EXISTS app.exam_event_counts_mv CASCADE;
DELETE FROM app.analytics_refreshes;
-- The deploy helper that installed them (repeatable, and no longer shipped).
DROP FUNCTION IF EXISTS internal.install_matview(text, text);

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

ALTER TABLE app.exam_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exam_stats FORCE ROW LEVEL SECURITY;
ALTER TABLE app.flagged_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.flagged_attempts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.exam_event_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.exam_event_counts FORCE ROW LEVEL SECURITY;
ALTER TABLE app.counted_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.counted_attempts FORCE ROW LEVEL SECURITY;
