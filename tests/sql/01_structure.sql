-- 01 structure: the tables, types, keys, indexes, partitions, roles and
-- ownership that the rest of Veritas stands on (issue "Foundation").
--
-- Catalogue sweeps are written so that a new object breaking a rule makes
-- the test fail and is named in its output (is_empty prints the rows).

BEGIN;
SET LOCAL search_path = public, pg_catalog;

SELECT plan(214);

-- ===========================================================================
-- Schemas
-- ===========================================================================

SELECT has_schema('api', 'schema api exists');
SELECT has_schema('app', 'schema app exists');
SELECT has_schema('auth', 'schema auth exists');
SELECT has_schema('audit', 'schema audit exists');
SELECT has_schema('internal', 'schema internal exists');
SELECT has_schema('analytics', 'schema analytics exists');
SELECT has_schema('archive', 'schema archive exists');
SELECT has_schema('veritas_meta', 'schema veritas_meta exists');

-- ===========================================================================
-- Tables
-- ===========================================================================

SELECT has_table('auth', 'users', 'table auth.users exists');
SELECT has_table('auth', 'refresh_token_families', 'table auth.refresh_token_families exists');
SELECT has_table('auth', 'refresh_tokens', 'table auth.refresh_tokens exists');
SELECT has_table('auth', 'revoked_tokens', 'table auth.revoked_tokens exists');
SELECT has_table('auth', 'login_attempts', 'table auth.login_attempts exists');
SELECT has_table('auth', 'role_permissions', 'table auth.role_permissions exists');

SELECT has_table('app', 'student_profiles', 'table app.student_profiles exists');
SELECT has_table('app', 'teacher_profiles', 'table app.teacher_profiles exists');
SELECT has_table('app', 'exams', 'table app.exams exists');
SELECT has_table('app', 'questions', 'table app.questions exists');
SELECT has_table('app', 'teacher_exam_permissions', 'table app.teacher_exam_permissions exists');
SELECT has_table('app', 'accommodations', 'table app.accommodations exists');
SELECT has_table('app', 'exam_attempts', 'table app.exam_attempts exists');
SELECT has_table('app', 'attempt_answers', 'table app.attempt_answers exists');
SELECT has_table('app', 'event_types', 'table app.event_types exists');
SELECT has_table('app', 'monitoring_events', 'table app.monitoring_events exists');
SELECT has_table('app', 'monitoring_events_default', 'table app.monitoring_events_default exists');
SELECT has_table('app', 'behavior_analyses', 'table app.behavior_analyses exists');
SELECT has_table('app', 'flag_reviews', 'table app.flag_reviews exists');
SELECT has_table('app', 'performance_metrics', 'table app.performance_metrics exists');
SELECT has_table('app', 'exam_metrics', 'table app.exam_metrics exists');
SELECT has_table('app', 'analysis_jobs', 'table app.analysis_jobs exists');

SELECT has_table('audit', 'log', 'table audit.log exists');
SELECT has_table('audit', 'security_events', 'table audit.security_events exists');
SELECT has_table('audit', 'disclosures', 'table audit.disclosures exists');

-- The api schema holds functions and views only: no table, partitioned
-- table, sequence, materialized view or foreign table, ever.
SELECT is_empty(
    $$
    SELECT c.relname, c.relkind
    FROM pg_catalog.pg_class AS c
    WHERE c.relnamespace = 'api'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'm', 'f')
    $$,
    'schema api holds no table, sequence, materialized view or foreign table'
);

-- ===========================================================================
-- Enums and their values, in order
-- ===========================================================================

SELECT enum_has_labels(
    'auth', 'user_role', ARRAY['student', 'teacher', 'admin', 'integration'],
    'enum auth.user_role has student, teacher, admin, integration'
);
SELECT enum_has_labels(
    'app', 'attempt_status', ARRAY['in_progress', 'submitted', 'expired', 'abandoned'],
    'enum app.attempt_status has in_progress, submitted, expired, abandoned'
);
SELECT enum_has_labels(
    'app', 'question_kind',
    ARRAY['single_choice', 'multiple_choice', 'true_false', 'numeric', 'short_text'],
    'enum app.question_kind has the five question kinds of docs/exams.md'
);
SELECT enum_has_labels(
    'app', 'event_type',
    ARRAY[
        'gaze_away', 'face_missing', 'multiple_faces', 'tab_hidden', 'window_blur', 'copy',
        'paste', 'fullscreen_exit', 'unusual_pause', 'network_offline', 'devtools_open',
        'heartbeat', 'tab_visible', 'window_focus', 'fullscreen_enter', 'network_online'
    ],
    'enum app.event_type has the sixteen monitoring event types'
);
SELECT enum_has_labels(
    'app', 'review_status', ARRAY['cleared', 'confirmed'],
    'enum app.review_status has cleared, confirmed'
);
SELECT enum_has_labels(
    'app', 'job_status', ARRAY['queued', 'running', 'done', 'failed', 'parked'],
    'enum app.job_status has queued, running, done, failed, parked'
);
SELECT enum_has_labels(
    'app', 'grading_method', ARRAY['highest', 'average', 'first', 'last'],
    'enum app.grading_method has highest, average, first, last'
);
SELECT enum_has_labels(
    'app', 'analysis_source', ARRAY['builtin', 'external'],
    'enum app.analysis_source has builtin, external'
);

-- Every event type has exactly one row of reference data.
SELECT set_eq(
    'SELECT event_type::text FROM app.event_types',
    'SELECT unnest(enum_range(NULL::app.event_type))::text',
    'app.event_types has one row per value of app.event_type'
);

-- ===========================================================================
-- Key columns and their types
-- ===========================================================================

-- ids
SELECT col_type_is('auth', 'users', 'id', 'uuid', 'auth.users.id is uuid');
SELECT col_type_is('auth', 'refresh_token_families', 'id', 'uuid', 'auth.refresh_token_families.id is uuid');
SELECT col_type_is('auth', 'refresh_tokens', 'id', 'uuid', 'auth.refresh_tokens.id is uuid');
SELECT col_type_is('auth', 'revoked_tokens', 'jti', 'uuid', 'auth.revoked_tokens.jti is uuid');
SELECT col_type_is('auth', 'login_attempts', 'id', 'bigint', 'auth.login_attempts.id is bigint');
SELECT col_type_is('app', 'student_profiles', 'user_id', 'uuid', 'app.student_profiles.user_id is uuid');
SELECT col_type_is('app', 'teacher_profiles', 'user_id', 'uuid', 'app.teacher_profiles.user_id is uuid');
SELECT col_type_is('app', 'exams', 'id', 'uuid', 'app.exams.id is uuid');
SELECT col_type_is('app', 'questions', 'id', 'uuid', 'app.questions.id is uuid');
SELECT col_type_is('app', 'exam_attempts', 'id', 'uuid', 'app.exam_attempts.id is uuid');
SELECT col_type_is('app', 'monitoring_events', 'id', 'uuid', 'app.monitoring_events.id is uuid');
SELECT col_type_is('app', 'monitoring_events', 'attempt_id', 'uuid', 'app.monitoring_events.attempt_id is uuid');
SELECT col_type_is('app', 'behavior_analyses', 'id', 'uuid', 'app.behavior_analyses.id is uuid');
SELECT col_type_is('app', 'flag_reviews', 'id', 'uuid', 'app.flag_reviews.id is uuid');
SELECT col_type_is('app', 'analysis_jobs', 'id', 'uuid', 'app.analysis_jobs.id is uuid');
SELECT col_type_is('audit', 'log', 'id', 'bigint', 'audit.log.id is bigint');
SELECT col_type_is('audit', 'security_events', 'id', 'bigint', 'audit.security_events.id is bigint');
SELECT col_type_is('audit', 'disclosures', 'id', 'bigint', 'audit.disclosures.id is bigint');

-- Sweep: every column named id or *_id is a uuid, except the identity keys
-- of the append-only logs and the client's own event id (text).
SELECT set_eq(
    $$
    SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname), format_type(a.atttypid, a.atttypmod)
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE
        n.nspname IN ('auth', 'app', 'audit')
        AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND a.attnum > 0 AND NOT a.attisdropped
        AND (a.attname = 'id' OR a.attname LIKE '%\_id')
        AND a.atttypid <> 'uuid'::regtype
    $$,
    $$
    VALUES
        ('auth.login_attempts.id', 'bigint'),
        ('audit.log.id', 'bigint'),
        ('audit.security_events.id', 'bigint'),
        ('audit.disclosures.id', 'bigint'),
        ('audit.seals.id', 'bigint'),
        ('app.monitoring_events.client_event_id', 'text')
    $$,
    'every id and *_id column is uuid, except the bigint log keys and client_event_id'
);

-- the monitoring partition key and other typed columns
SELECT col_type_is(
    'app', 'monitoring_events', 'attempt_started_at', 'timestamp with time zone',
    'app.monitoring_events.attempt_started_at is timestamptz'
);
SELECT col_type_is(
    'app', 'exam_attempts', 'deadline', 'timestamp with time zone',
    'app.exam_attempts.deadline is timestamptz'
);
SELECT col_type_is('auth', 'refresh_tokens', 'token_hash', 'bytea', 'auth.refresh_tokens.token_hash is bytea');
SELECT col_type_is('auth', 'login_attempts', 'client_addr', 'inet', 'auth.login_attempts.client_addr is inet');

-- jsonb columns
SELECT col_type_is('app', 'questions', 'options', 'jsonb', 'app.questions.options is jsonb');
SELECT col_type_is('app', 'questions', 'correct', 'jsonb', 'app.questions.correct is jsonb');
SELECT col_type_is('app', 'exam_attempts', 'question_order', 'jsonb', 'app.exam_attempts.question_order is jsonb');
SELECT col_type_is('app', 'exam_attempts', 'scored_against', 'jsonb', 'app.exam_attempts.scored_against is jsonb');
SELECT col_type_is('app', 'attempt_answers', 'answer', 'jsonb', 'app.attempt_answers.answer is jsonb');
SELECT col_type_is('app', 'monitoring_events', 'payload', 'jsonb', 'app.monitoring_events.payload is jsonb');
SELECT col_type_is('app', 'behavior_analyses', 'flags', 'jsonb', 'app.behavior_analyses.flags is jsonb');
SELECT col_type_is('audit', 'log', 'row_pk', 'jsonb', 'audit.log.row_pk is jsonb');
SELECT col_type_is('audit', 'log', 'old_values', 'jsonb', 'audit.log.old_values is jsonb');
SELECT col_type_is('audit', 'log', 'new_values', 'jsonb', 'audit.log.new_values is jsonb');
SELECT col_type_is('audit', 'security_events', 'details', 'jsonb', 'audit.security_events.details is jsonb');

-- enum columns
SELECT col_type_is('auth', 'users', 'role', 'auth', 'user_role', 'auth.users.role is auth.user_role');
SELECT col_type_is(
    'auth', 'role_permissions', 'role', 'auth', 'user_role', 'auth.role_permissions.role is auth.user_role'
);
SELECT col_type_is(
    'app', 'exams', 'grading_method', 'app', 'grading_method', 'app.exams.grading_method is app.grading_method'
);
SELECT col_type_is('app', 'questions', 'kind', 'app', 'question_kind', 'app.questions.kind is app.question_kind');
SELECT col_type_is(
    'app', 'exam_attempts', 'status', 'app', 'attempt_status', 'app.exam_attempts.status is app.attempt_status'
);
SELECT col_type_is(
    'app', 'event_types', 'event_type', 'app', 'event_type', 'app.event_types.event_type is app.event_type'
);
SELECT col_type_is(
    'app', 'monitoring_events', 'event_type', 'app', 'event_type',
    'app.monitoring_events.event_type is app.event_type'
);
SELECT col_type_is(
    'app', 'behavior_analyses', 'source', 'app', 'analysis_source',
    'app.behavior_analyses.source is app.analysis_source'
);
SELECT col_type_is(
    'app', 'flag_reviews', 'decision', 'app', 'review_status', 'app.flag_reviews.decision is app.review_status'
);
SELECT col_type_is('app', 'analysis_jobs', 'status', 'app', 'job_status', 'app.analysis_jobs.status is app.job_status');

-- NOT NULL where a row would be meaningless without the value
SELECT col_not_null('auth', 'users', 'email', 'auth.users.email is NOT NULL');
SELECT col_not_null('auth', 'users', 'password_hash', 'auth.users.password_hash is NOT NULL');
SELECT col_not_null('app', 'exam_attempts', 'deadline', 'app.exam_attempts.deadline is NOT NULL');
SELECT col_not_null('app', 'exam_attempts', 'scored_against', 'app.exam_attempts.scored_against is NOT NULL');
SELECT col_not_null(
    'app', 'monitoring_events', 'attempt_started_at', 'app.monitoring_events.attempt_started_at is NOT NULL'
);
SELECT col_not_null('app', 'questions', 'correct', 'app.questions.correct is NOT NULL');

-- ===========================================================================
-- Primary keys
-- ===========================================================================

-- Sweep: every table (partitions included) has a primary key.
SELECT is_empty(
    $$
    SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE
        n.nspname IN ('auth', 'app', 'audit') AND c.relkind IN ('r', 'p')
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_constraint AS k WHERE k.conrelid = c.oid AND k.contype = 'p'
        )
    $$,
    'every table in auth, app and audit has a primary key'
);

SELECT col_is_pk('auth', 'users', ARRAY['id'], 'auth.users: primary key (id)');
SELECT col_is_pk('auth', 'refresh_token_families', ARRAY['id'], 'auth.refresh_token_families: primary key (id)');
SELECT col_is_pk('auth', 'refresh_tokens', ARRAY['id'], 'auth.refresh_tokens: primary key (id)');
SELECT col_is_pk('auth', 'revoked_tokens', ARRAY['jti'], 'auth.revoked_tokens: primary key (jti)');
SELECT col_is_pk('auth', 'login_attempts', ARRAY['id'], 'auth.login_attempts: primary key (id)');
SELECT col_is_pk(
    'auth', 'role_permissions', ARRAY['role', 'permission'], 'auth.role_permissions: primary key (role, permission)'
);
SELECT col_is_pk('app', 'student_profiles', ARRAY['user_id'], 'app.student_profiles: primary key (user_id)');
SELECT col_is_pk('app', 'teacher_profiles', ARRAY['user_id'], 'app.teacher_profiles: primary key (user_id)');
SELECT col_is_pk('app', 'exams', ARRAY['id'], 'app.exams: primary key (id)');
SELECT col_is_pk('app', 'questions', ARRAY['id'], 'app.questions: primary key (id)');
SELECT col_is_pk(
    'app', 'teacher_exam_permissions', ARRAY['exam_id', 'teacher_id'],
    'app.teacher_exam_permissions: primary key (exam_id, teacher_id)'
);
SELECT col_is_pk(
    'app', 'accommodations', ARRAY['exam_id', 'student_id'], 'app.accommodations: primary key (exam_id, student_id)'
);
SELECT col_is_pk('app', 'exam_attempts', ARRAY['id'], 'app.exam_attempts: primary key (id)');
SELECT col_is_pk(
    'app', 'attempt_answers', ARRAY['attempt_id', 'question_id'],
    'app.attempt_answers: primary key (attempt_id, question_id)'
);
SELECT col_is_pk('app', 'event_types', ARRAY['event_type'], 'app.event_types: primary key (event_type)');
SELECT col_is_pk(
    'app', 'monitoring_events', ARRAY['attempt_id', 'id', 'attempt_started_at'],
    'app.monitoring_events: primary key (attempt_id, id, attempt_started_at)'
);
SELECT col_is_pk('app', 'behavior_analyses', ARRAY['id'], 'app.behavior_analyses: primary key (id)');
SELECT col_is_pk('app', 'flag_reviews', ARRAY['id'], 'app.flag_reviews: primary key (id)');
SELECT col_is_pk('app', 'performance_metrics', ARRAY['student_id'], 'app.performance_metrics: primary key (student_id)');
SELECT col_is_pk('app', 'exam_metrics', ARRAY['exam_id'], 'app.exam_metrics: primary key (exam_id)');
SELECT col_is_pk('app', 'analysis_jobs', ARRAY['id'], 'app.analysis_jobs: primary key (id)');
SELECT col_is_pk('audit', 'log', ARRAY['id'], 'audit.log: primary key (id)');
SELECT col_is_pk('audit', 'security_events', ARRAY['id'], 'audit.security_events: primary key (id)');
SELECT col_is_pk('audit', 'disclosures', ARRAY['id'], 'audit.disclosures: primary key (id)');

-- Unique keys other than the primary keys
SELECT col_is_unique('auth', 'refresh_tokens', ARRAY['token_hash'], 'auth.refresh_tokens.token_hash is unique');
SELECT col_is_unique(
    'app', 'questions', ARRAY['exam_id', 'position'], 'app.questions: (exam_id, position) is unique'
);
SELECT col_is_unique(
    'app', 'exam_attempts', ARRAY['exam_id', 'student_id', 'attempt_number'],
    'app.exam_attempts: (exam_id, student_id, attempt_number) is unique'
);
SELECT col_is_unique('app', 'student_profiles', ARRAY['pseudonym'], 'app.student_profiles.pseudonym is unique');
SELECT index_is_unique(
    'auth', 'users', 'users_email_lower_key', 'auth.users: lower(email) is unique (users_email_lower_key)'
);
SELECT is(
    (SELECT pg_get_indexdef('auth.users_email_lower_key'::regclass, 1, TRUE)),
    'lower(email)',
    'users_email_lower_key is on lower(email): e-mails are unique case-insensitively'
);
-- Reordering questions (position = position + 1) must not trip the key row by row.
SELECT ok(
    (SELECT condeferrable FROM pg_catalog.pg_constraint
     WHERE conrelid = 'app.questions'::regclass AND conname = 'questions_exam_id_position_key'),
    'questions_exam_id_position_key is DEFERRABLE'
);

-- ===========================================================================
-- Foreign keys and their ON DELETE rules
-- ===========================================================================

SELECT fk_ok('auth', 'refresh_token_families', 'user_id', 'auth', 'users', 'id',
    'auth.refresh_token_families.user_id references auth.users(id)');
SELECT fk_ok('auth', 'refresh_tokens', 'family_id', 'auth', 'refresh_token_families', 'id',
    'auth.refresh_tokens.family_id references auth.refresh_token_families(id)');
SELECT fk_ok('auth', 'refresh_tokens', 'user_id', 'auth', 'users', 'id',
    'auth.refresh_tokens.user_id references auth.users(id)');
SELECT fk_ok('auth', 'refresh_tokens', 'replaced_by', 'auth', 'refresh_tokens', 'id',
    'auth.refresh_tokens.replaced_by references auth.refresh_tokens(id)');
SELECT fk_ok('auth', 'revoked_tokens', 'user_id', 'auth', 'users', 'id',
    'auth.revoked_tokens.user_id references auth.users(id)');
SELECT fk_ok('app', 'student_profiles', 'user_id', 'auth', 'users', 'id',
    'app.student_profiles.user_id references auth.users(id)');
SELECT fk_ok('app', 'teacher_profiles', 'user_id', 'auth', 'users', 'id',
    'app.teacher_profiles.user_id references auth.users(id)');
SELECT fk_ok('app', 'exams', 'created_by', 'auth', 'users', 'id',
    'app.exams.created_by references auth.users(id)');
SELECT fk_ok('app', 'questions', 'exam_id', 'app', 'exams', 'id',
    'app.questions.exam_id references app.exams(id)');
SELECT fk_ok('app', 'teacher_exam_permissions', 'exam_id', 'app', 'exams', 'id',
    'app.teacher_exam_permissions.exam_id references app.exams(id)');
SELECT fk_ok('app', 'teacher_exam_permissions', 'teacher_id', 'auth', 'users', 'id',
    'app.teacher_exam_permissions.teacher_id references auth.users(id)');
SELECT fk_ok('app', 'teacher_exam_permissions', 'granted_by', 'auth', 'users', 'id',
    'app.teacher_exam_permissions.granted_by references auth.users(id)');
SELECT fk_ok('app', 'accommodations', 'exam_id', 'app', 'exams', 'id',
    'app.accommodations.exam_id references app.exams(id)');
SELECT fk_ok('app', 'accommodations', 'student_id', 'auth', 'users', 'id',
    'app.accommodations.student_id references auth.users(id)');
SELECT fk_ok('app', 'exam_attempts', 'exam_id', 'app', 'exams', 'id',
    'app.exam_attempts.exam_id references app.exams(id)');
SELECT fk_ok('app', 'exam_attempts', 'student_id', 'auth', 'users', 'id',
    'app.exam_attempts.student_id references auth.users(id)');
SELECT fk_ok('app', 'attempt_answers', 'attempt_id', 'app', 'exam_attempts', 'id',
    'app.attempt_answers.attempt_id references app.exam_attempts(id)');
SELECT fk_ok('app', 'attempt_answers', 'question_id', 'app', 'questions', 'id',
    'app.attempt_answers.question_id references app.questions(id)');
SELECT fk_ok('app', 'monitoring_events', 'attempt_id', 'app', 'exam_attempts', 'id',
    'app.monitoring_events.attempt_id references app.exam_attempts(id)');
SELECT fk_ok('app', 'behavior_analyses', 'attempt_id', 'app', 'exam_attempts', 'id',
    'app.behavior_analyses.attempt_id references app.exam_attempts(id)');
SELECT fk_ok('app', 'behavior_analyses', 'created_by', 'auth', 'users', 'id',
    'app.behavior_analyses.created_by references auth.users(id)');
SELECT fk_ok('app', 'flag_reviews', 'attempt_id', 'app', 'exam_attempts', 'id',
    'app.flag_reviews.attempt_id references app.exam_attempts(id)');
SELECT fk_ok('app', 'flag_reviews', 'analysis_id', 'app', 'behavior_analyses', 'id',
    'app.flag_reviews.analysis_id references app.behavior_analyses(id)');
SELECT fk_ok('app', 'flag_reviews', 'reviewer_id', 'auth', 'users', 'id',
    'app.flag_reviews.reviewer_id references auth.users(id)');
SELECT fk_ok('app', 'performance_metrics', 'student_id', 'auth', 'users', 'id',
    'app.performance_metrics.student_id references auth.users(id)');
SELECT fk_ok('app', 'exam_metrics', 'exam_id', 'app', 'exams', 'id',
    'app.exam_metrics.exam_id references app.exams(id)');
SELECT fk_ok('app', 'analysis_jobs', 'attempt_id', 'app', 'exam_attempts', 'id',
    'app.analysis_jobs.attempt_id references app.exam_attempts(id)');

-- The whole foreign-key matrix with its ON DELETE rule (a = NO ACTION:
-- the delete is refused; c = CASCADE: the row is part of its parent;
-- n = SET NULL: the link is history). Partitions' inherited copies are left
-- out (conparentid). A new foreign key must be added here on purpose.
SELECT set_eq(
    $$
    SELECT
        k.conrelid::regclass::text,
        (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
         FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, ord)
         JOIN pg_catalog.pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
        k.confrelid::regclass::text,
        k.confdeltype::text
    FROM pg_catalog.pg_constraint AS k
    WHERE
        k.contype = 'f' AND k.conparentid = 0
        AND k.connamespace IN ('auth'::regnamespace, 'app'::regnamespace, 'audit'::regnamespace)
    $$,
    $$
    VALUES
        ('auth.refresh_token_families', 'user_id', 'auth.users', 'c'),
        ('auth.refresh_tokens', 'family_id', 'auth.refresh_token_families', 'c'),
        ('auth.refresh_tokens', 'user_id', 'auth.users', 'c'),
        ('auth.refresh_tokens', 'replaced_by', 'auth.refresh_tokens', 'n'),
        ('auth.revoked_tokens', 'user_id', 'auth.users', 'c'),
        ('auth.service_tokens', 'user_id', 'auth.users', 'c'),
        ('auth.service_tokens', 'issued_by', 'auth.users', 'n'),
        ('auth.service_tokens', 'revoked_by', 'auth.users', 'n'),
        ('app.student_profiles', 'user_id', 'auth.users', 'c'),
        ('app.teacher_profiles', 'user_id', 'auth.users', 'c'),
        ('app.exams', 'created_by', 'auth.users', 'a'),
        ('app.questions', 'exam_id', 'app.exams', 'c'),
        ('app.teacher_exam_permissions', 'exam_id', 'app.exams', 'c'),
        ('app.teacher_exam_permissions', 'teacher_id', 'auth.users', 'c'),
        ('app.teacher_exam_permissions', 'granted_by', 'auth.users', 'n'),
        ('app.accommodations', 'exam_id', 'app.exams', 'c'),
        ('app.accommodations', 'student_id', 'auth.users', 'c'),
        ('app.exam_attempts', 'exam_id', 'app.exams', 'a'),
        ('app.exam_attempts', 'student_id', 'auth.users', 'a'),
        ('app.attempt_answers', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.attempt_answers', 'question_id', 'app.questions', 'a'),
        ('app.monitoring_events', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.event_rate_windows', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.behavior_analyses', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.behavior_analyses', 'created_by', 'auth.users', 'n'),
        ('app.flag_reviews', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.flag_reviews', 'analysis_id', 'app.behavior_analyses', 'n'),
        ('app.flag_reviews', 'reviewer_id', 'auth.users', 'a'),
        ('app.performance_metrics', 'student_id', 'auth.users', 'c'),
        ('app.exam_metrics', 'exam_id', 'app.exams', 'c'),
        ('app.analysis_jobs', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.exam_stats', 'exam_id', 'app.exams', 'c'),
        ('app.exam_event_counts', 'exam_id', 'app.exams', 'c'),
        ('app.flagged_attempts', 'attempt_id', 'app.exam_attempts', 'c'),
        ('app.counted_attempts', 'attempt_id', 'app.exam_attempts', 'c')
    $$,
    'the foreign keys of auth and app, with their ON DELETE rules, are exactly these'
);

-- Refusals are NO ACTION, never RESTRICT: one SQLSTATE (23503) on every version.
SELECT is_empty(
    $$
    SELECT k.conrelid::regclass::text, k.conname
    FROM pg_catalog.pg_constraint AS k
    JOIN pg_catalog.pg_namespace AS n ON n.oid = k.connamespace
    WHERE
        k.contype = 'f' AND 'r' IN (k.confdeltype, k.confupdtype)
        AND n.nspname IN ('api', 'app', 'auth', 'audit', 'internal', 'analytics', 'archive')
    $$,
    'no foreign key is ON DELETE/UPDATE RESTRICT (NO ACTION refuses with 23503 everywhere)'
);

-- The audit trail outlives what it names: no foreign key from or to audit.
SELECT is_empty(
    $$
    SELECT k.conrelid::regclass::text, k.conname
    FROM pg_catalog.pg_constraint AS k
    WHERE
        k.contype = 'f'
        AND 'audit'::regnamespace IN (
            (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = k.conrelid),
            (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = k.confrelid)
        )
    $$,
    'no foreign key leads from or to the audit schema'
);

-- Every foreign key is backed by an index leading with its columns (deletes
-- of the parent and policy joins must not scan the child).
SELECT is_empty(
    $$
    SELECT k.conrelid::regclass::text, k.conname
    FROM pg_catalog.pg_constraint AS k
    WHERE
        k.contype = 'f'
        AND k.connamespace IN ('auth'::regnamespace, 'app'::regnamespace, 'audit'::regnamespace)
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_index AS i
            WHERE
                i.indrelid = k.conrelid
                AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] @> k.conkey
                AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] <@ k.conkey
        )
    $$,
    'every foreign key has an index leading with its columns'
);

-- ===========================================================================
-- Check constraints
-- ===========================================================================

SELECT has_check('auth', 'users', 'auth.users has check constraints');
SELECT has_check('auth', 'refresh_tokens', 'auth.refresh_tokens has check constraints');
SELECT has_check('app', 'exams', 'app.exams has check constraints');
SELECT has_check('app', 'questions', 'app.questions has check constraints');
SELECT has_check('app', 'exam_attempts', 'app.exam_attempts has check constraints');
SELECT has_check('app', 'monitoring_events', 'app.monitoring_events has check constraints');
SELECT has_check('app', 'behavior_analyses', 'app.behavior_analyses has check constraints');
SELECT has_check('app', 'flag_reviews', 'app.flag_reviews has check constraints');
SELECT has_check('app', 'analysis_jobs', 'app.analysis_jobs has check constraints');
SELECT has_check('audit', 'log', 'audit.log has check constraints');

SELECT col_has_check(
    'app', 'questions', ARRAY['kind', 'options', 'correct'],
    'app.questions: kind, options and correct are checked together (questions_kind_check)'
);
SELECT col_has_check('app', 'monitoring_events', 'payload', 'app.monitoring_events.payload is checked');

-- The rules that carry the API's guarantees (docs/), by name.
SELECT set_has(
    $$
    SELECT conname::text FROM pg_catalog.pg_constraint
    WHERE contype = 'c'
        AND connamespace IN ('auth'::regnamespace, 'app'::regnamespace, 'audit'::regnamespace)
    $$,
    $$
    VALUES
        ('users_email_check'),
        ('refresh_tokens_expires_at_check'),
        ('exams_window_check'),
        ('exams_duration_minutes_check'),
        ('exams_max_attempts_check'),
        ('exams_grace_seconds_check'),
        ('questions_kind_check'),
        ('questions_options_check'),
        ('questions_tolerance_check'),
        ('questions_points_check'),
        ('accommodations_extra_minutes_check'),
        ('exam_attempts_finished_at_check'),
        ('exam_attempts_deadline_check'),
        ('exam_attempts_score_check'),
        ('exam_attempts_question_order_check'),
        ('exam_attempts_scored_against_check'),
        ('event_types_severity_check'),
        ('monitoring_events_severity_check'),
        ('monitoring_events_payload_check'),
        ('monitoring_events_client_event_id_check'),
        ('behavior_analyses_integrity_score_check'),
        ('behavior_analyses_lmi_score_check'),
        ('behavior_analyses_flags_check'),
        ('flag_reviews_confirmed_note_check'),
        ('analysis_jobs_attempts_check'),
        ('log_operation_check'),
        ('security_events_kind_check')
    $$,
    'the named check constraints are all present'
);

-- No check constraint is left NOT VALID (it would not hold for old rows).
SELECT is_empty(
    $$
    SELECT conrelid::regclass::text, conname
    FROM pg_catalog.pg_constraint
    WHERE NOT convalidated
        AND connamespace IN ('auth'::regnamespace, 'app'::regnamespace, 'audit'::regnamespace)
    $$,
    'every constraint in auth, app and audit is validated'
);

-- ===========================================================================
-- Attempts: one in progress per (exam, student)
-- ===========================================================================

SELECT has_index(
    'app', 'exam_attempts', 'exam_attempts_one_in_progress_key', ARRAY['exam_id', 'student_id'],
    'app.exam_attempts has exam_attempts_one_in_progress_key on (exam_id, student_id)'
);
SELECT index_is_unique(
    'app', 'exam_attempts', 'exam_attempts_one_in_progress_key',
    'exam_attempts_one_in_progress_key is unique'
);
SELECT is(
    (SELECT pg_get_expr(indpred, indrelid) FROM pg_catalog.pg_index
     WHERE indexrelid = 'app.exam_attempts_one_in_progress_key'::regclass),
    $$(status = 'in_progress'::app.attempt_status)$$,
    'exam_attempts_one_in_progress_key is partial: WHERE status = in_progress'
);
SELECT has_index(
    'app', 'exam_attempts', 'exam_attempts_deadline_idx', ARRAY['deadline'],
    'app.exam_attempts has exam_attempts_deadline_idx for the expiry sweep'
);
SELECT index_is_unique(
    'app', 'analysis_jobs', 'analysis_jobs_attempt_id_kind_key',
    'analysis_jobs_attempt_id_kind_key is unique: one live job of a kind per attempt'
);

-- ===========================================================================
-- Monitoring events: partitioned, keys lead with attempt_id
-- ===========================================================================

SELECT is_partitioned('app', 'monitoring_events', 'app.monitoring_events is partitioned');
SELECT is(
    pg_get_partkeydef('app.monitoring_events'::regclass),
    'RANGE (attempt_started_at)',
    'app.monitoring_events is partitioned by RANGE (attempt_started_at)'
);
SELECT is_partition_of(
    'app', 'monitoring_events_default', 'app', 'monitoring_events',
    'app.monitoring_events_default is a partition of app.monitoring_events'
);
SELECT is(
    (SELECT partdefid::regclass::text FROM pg_catalog.pg_partitioned_table
     WHERE partrelid = 'app.monitoring_events'::regclass),
    'app.monitoring_events_default',
    'app.monitoring_events_default is the DEFAULT partition'
);

SELECT set_eq(
    $$
    SELECT indexrelid::regclass::text FROM pg_catalog.pg_index
    WHERE indrelid = 'app.monitoring_events'::regclass AND indisunique
    $$,
    $$ VALUES ('app.monitoring_events_pkey'), ('app.monitoring_events_client_event_id_key') $$,
    'app.monitoring_events has exactly two unique indexes: the primary key and the idempotency key'
);
SELECT col_is_unique(
    'app', 'monitoring_events', ARRAY['attempt_id', 'client_event_id', 'attempt_started_at'],
    'app.monitoring_events: (attempt_id, client_event_id, attempt_started_at) is unique'
);
-- Sweep over the table and every partition: each unique index (primary key
-- included) leads with attempt_id and contains the partition key.
SELECT is_empty(
    $$
    SELECT i.indexrelid::regclass::text
    FROM pg_partition_tree('app.monitoring_events'::regclass) AS t
    JOIN pg_catalog.pg_index AS i ON i.indrelid = t.relid
    WHERE
        i.indisunique
        AND (
            (SELECT attname FROM pg_catalog.pg_attribute
             WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) IS DISTINCT FROM 'attempt_id'
            OR NOT (SELECT attnum FROM pg_catalog.pg_attribute
                    WHERE attrelid = i.indrelid AND attname = 'attempt_started_at') = ANY (i.indkey::int2[])
        )
    $$,
    'every unique index of app.monitoring_events and its partitions leads with attempt_id and holds attempt_started_at'
);
SELECT has_index(
    'app', 'monitoring_events', 'monitoring_events_attempt_id_occurred_at_idx',
    ARRAY['attempt_id', 'occurred_at', 'id'],
    'app.monitoring_events has the timeline index (attempt_id, occurred_at, id)'
);
SELECT has_index(
    'app', 'monitoring_events', 'monitoring_events_exam_id_occurred_at_idx',
    ARRAY['exam_id', 'occurred_at'],
    'app.monitoring_events has the anomaly index (exam_id, occurred_at)'
);
SELECT is(
    (SELECT pg_get_expr(indpred, indrelid) FROM pg_catalog.pg_index
     WHERE indexrelid = 'app.monitoring_events_exam_id_occurred_at_idx'::regclass),
    'is_anomaly',
    'monitoring_events_exam_id_occurred_at_idx is partial: WHERE is_anomaly'
);
SELECT index_is_type(
    'app', 'monitoring_events', 'monitoring_events_received_at_brin', 'brin',
    'monitoring_events_received_at_brin is a BRIN index'
);
SELECT index_is_type(
    'auth', 'login_attempts', 'login_attempts_attempted_at_brin', 'brin',
    'login_attempts_attempted_at_brin is a BRIN index'
);
SELECT index_is_type('audit', 'log', 'log_occurred_at_brin', 'brin', 'log_occurred_at_brin is a BRIN index');
SELECT index_is_type(
    'app', 'behavior_analyses', 'behavior_analyses_flags_idx', 'gin',
    'behavior_analyses_flags_idx is a GIN index'
);
-- Every index of the partitioned table reaches every partition.
SELECT is_empty(
    $$
    SELECT p.relid::regclass::text, pi.indexrelid::regclass::text
    FROM pg_partition_tree('app.monitoring_events'::regclass) AS p
    CROSS JOIN pg_catalog.pg_index AS pi
    WHERE
        p.isleaf AND pi.indrelid = 'app.monitoring_events'::regclass
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_index AS ci
            JOIN pg_catalog.pg_inherits AS h ON h.inhrelid = ci.indexrelid
            WHERE ci.indrelid = p.relid AND h.inhparent = pi.indexrelid
        )
    $$,
    'every index of app.monitoring_events exists on each of its partitions'
);

-- ===========================================================================
-- Roles
-- ===========================================================================

SELECT has_role('veritas_owner', 'role veritas_owner exists');
SELECT has_role('authenticator', 'role authenticator exists');
SELECT has_role('anon', 'role anon exists');
SELECT has_role('student', 'role student exists');
SELECT has_role('teacher', 'role teacher exists');
SELECT has_role('admin', 'role admin exists');
SELECT has_role('integration', 'role integration exists');
SELECT has_role('worker', 'role worker exists');
SELECT has_role('analyst', 'role analyst exists');

SELECT set_eq(
    $$
    SELECT rolname::text, rolcanlogin FROM pg_catalog.pg_roles
    WHERE rolname IN ('veritas_owner', 'authenticator', 'anon', 'student', 'teacher',
                      'admin', 'integration', 'worker', 'analyst')
    $$,
    $$
    VALUES
        ('veritas_owner', FALSE), ('authenticator', TRUE), ('anon', FALSE),
        ('student', FALSE), ('teacher', FALSE), ('admin', FALSE),
        ('integration', FALSE), ('worker', FALSE), ('analyst', TRUE)
    $$,
    'only authenticator and analyst may log in'
);
SELECT ok(
    (SELECT NOT rolinherit FROM pg_catalog.pg_roles WHERE rolname = 'authenticator'),
    'authenticator is NOINHERIT: it holds nothing until it switches role'
);
SELECT is_empty(
    $$
    SELECT rolname FROM pg_catalog.pg_roles
    WHERE rolname IN ('veritas_owner', 'authenticator', 'anon', 'student', 'teacher',
                      'admin', 'integration', 'worker', 'analyst')
        AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication)
    $$,
    'no Veritas role is SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION'
);

SELECT is_member_of(
    'anon', ARRAY['authenticator']::name[], 'authenticator is a member of anon'
);
SELECT is_member_of(
    'student', ARRAY['authenticator']::name[], 'authenticator is a member of student'
);
SELECT is_member_of(
    'teacher', ARRAY['authenticator']::name[], 'authenticator is a member of teacher'
);
SELECT is_member_of(
    'admin', ARRAY['authenticator']::name[], 'authenticator is a member of admin'
);
SELECT is_member_of(
    'integration', ARRAY['authenticator']::name[], 'authenticator is a member of integration'
);
SELECT is_member_of(
    'worker', ARRAY['authenticator']::name[], 'authenticator is a member of worker'
);
SELECT isnt_member_of(
    'veritas_owner', ARRAY['authenticator']::name[], 'authenticator is not a member of veritas_owner'
);
SELECT isnt_member_of(
    'analyst', ARRAY['authenticator']::name[], 'authenticator is not a member of analyst'
);
SELECT set_eq(
    $$
    SELECT roleid::regrole::text FROM pg_catalog.pg_auth_members
    WHERE member = 'authenticator'::regrole
    $$,
    $$ VALUES ('anon'), ('student'), ('teacher'), ('admin'), ('integration'), ('worker') $$,
    'authenticator is a direct member of the six switchable roles and nothing else'
);
-- Even indirectly, no runtime role can become the owner or a predefined
-- role that reads or writes everything.
SELECT is_empty(
    $$
    SELECT r.rolname, g.rolname
    FROM pg_catalog.pg_roles AS r
    CROSS JOIN pg_catalog.pg_roles AS g
    WHERE
        r.rolname IN ('authenticator', 'anon', 'student', 'teacher', 'admin',
                      'integration', 'worker', 'analyst')
        AND g.rolname IN ('veritas_owner', 'pg_read_all_data', 'pg_write_all_data',
                          'pg_read_server_files', 'pg_write_server_files',
                          'pg_execute_server_program')
        AND pg_has_role(r.oid, g.oid, 'MEMBER')
    $$,
    'no runtime role is a member, even indirectly, of veritas_owner or an all-powerful predefined role'
);

-- ===========================================================================
-- Ownership
-- ===========================================================================

-- Every object in our schemas (and the schemas themselves) is owned by
-- veritas_owner. Objects of an extension belong to the extension's owner
-- and are left out.
SELECT is_empty(
    $$
    WITH ours AS (
        SELECT oid FROM pg_catalog.pg_namespace
        WHERE nspname IN ('api', 'app', 'auth', 'audit', 'internal', 'analytics', 'archive', 'veritas_meta')
    ),
    objects AS (
        SELECT 'schema' AS kind, n.oid::regnamespace::text AS name, n.nspowner AS owner,
               'pg_namespace'::regclass AS catalog, n.oid
        FROM pg_catalog.pg_namespace AS n WHERE n.oid IN (SELECT oid FROM ours)
        UNION ALL
        SELECT 'relation', c.oid::regclass::text, c.relowner, 'pg_class'::regclass, c.oid
        FROM pg_catalog.pg_class AS c WHERE c.relnamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT 'function', p.oid::regprocedure::text, p.proowner, 'pg_proc'::regclass, p.oid
        FROM pg_catalog.pg_proc AS p WHERE p.pronamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT 'type', t.oid::regtype::text, t.typowner, 'pg_type'::regclass, t.oid
        FROM pg_catalog.pg_type AS t WHERE t.typnamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT 'operator', o.oid::regoperator::text, o.oprowner, 'pg_operator'::regclass, o.oid
        FROM pg_catalog.pg_operator AS o WHERE o.oprnamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT 'collation', l.collname::text, l.collowner, 'pg_collation'::regclass, l.oid
        FROM pg_catalog.pg_collation AS l WHERE l.collnamespace IN (SELECT oid FROM ours)
        UNION ALL
        SELECT 'statistics', s.stxname::text, s.stxowner, 'pg_statistic_ext'::regclass, s.oid
        FROM pg_catalog.pg_statistic_ext AS s WHERE s.stxnamespace IN (SELECT oid FROM ours)
    )
    SELECT kind, name, owner::regrole::text
    FROM objects AS o
    WHERE
        o.owner <> 'veritas_owner'::regrole
        AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_depend AS d
            WHERE d.classid = o.catalog AND d.objid = o.oid AND d.deptype = 'e'
        )
    $$,
    'every schema, relation, function, type, operator, collation and statistics object of ours is owned by veritas_owner'
);

-- ... and no runtime role owns anything in this database.
SELECT is_empty(
    $$
    SELECT d.classid::regclass::text, d.objid, d.refobjid::regrole::text
    FROM pg_catalog.pg_shdepend AS d
    WHERE
        d.deptype = 'o'
        AND d.dbid IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
        AND d.refobjid IN (
            SELECT oid FROM pg_catalog.pg_roles
            WHERE rolname IN ('authenticator', 'anon', 'student', 'teacher', 'admin',
                              'integration', 'worker', 'analyst')
        )
    $$,
    'no runtime role owns an object'
);

SELECT * FROM finish();
ROLLBACK;
