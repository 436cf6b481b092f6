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

-- Storage parameters: a partitioned table takes none, each partition its own.
-- Events are only ever inserted: vacuum (which keeps the visibility map
-- current for index-only scans, and freezes rows a little at a time) and
-- analyse after 2 % more rows rather than 20 %. These are the default
-- partition's; internal.create_event_partitions gives every monthly
-- partition the default partition's parameters (docs/operations.md).
CREATE TABLE app.monitoring_events_default PARTITION OF app.monitoring_events DEFAULT
WITH (
    autovacuum_vacuum_insert_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);
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
)
-- Its row is rewritten by every request that records events: half of each
-- page left free, so that each rewrite is a HOT update in the same page.
WITH (fillfactor = 50);
COMMENT ON TABLE app.event_rate_windows IS
'Events recorded per attempt in the current minute (the flood bound of internal.admit_events and admit_event_batch); unlogged.';

ALTER TABLE app.event_rate_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.event_rate_windows FORCE ROW LEVEL SECURITY;
