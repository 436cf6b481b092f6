-- 30 exams: authoring and its validation, who may see and share an exam,
-- publishing, editing an exam whose attempts keep what they were scored
-- against, and accommodations (extra time), also for an attempt running.
BEGIN;
SET LOCAL search_path = public, pg_catalog;
SELECT plan(71);

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------

INSERT INTO auth.users (id, email, password_hash, full_name, role) VALUES
('00000000-0000-4000-8000-000000030a01', 'ex-owner@example.org', 'x', 'Owner', 'teacher'),
('00000000-0000-4000-8000-000000030a02', 'ex-colleague@example.org', 'x', 'Colleague', 'teacher'),
('00000000-0000-4000-8000-000000030a03', 'ex-third@example.org', 'x', 'Third', 'teacher'),
('00000000-0000-4000-8000-000000030a04', 'ex-stranger@example.org', 'x', 'Stranger', 'teacher'),
('00000000-0000-4000-8000-000000030a09', 'ex-admin@example.org', 'x', 'Admin', 'admin'),
('00000000-0000-4000-8000-000000030b01', 'ex-alice@example.org', 'x', 'Alice', 'student'),
('00000000-0000-4000-8000-000000030b02', 'ex-bob@example.org', 'x', 'Bob', 'student');
INSERT INTO app.student_profiles (user_id) VALUES
('00000000-0000-4000-8000-000000030b01'),
('00000000-0000-4000-8000-000000030b02');

CREATE TEMPORARY TABLE ctx (k text PRIMARY KEY, v text);
GRANT ALL ON ctx TO PUBLIC;
CREATE FUNCTION pg_temp.keep(p_key text, p_value text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pg_temp.ctx (k, v) VALUES (p_key, p_value)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v;
$$;
CREATE FUNCTION pg_temp.val(p_key text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT v FROM pg_temp.ctx WHERE k = p_key $$;
CREATE FUNCTION pg_temp.id(p_key text) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT v::uuid FROM pg_temp.ctx WHERE k = p_key $$;
CREATE FUNCTION pg_temp.age_attempt(p_attempt_id uuid, p_by interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('session_replication_role', 'replica', TRUE);
    UPDATE app.exam_attempts
    SET started_at = started_at - p_by, deadline = deadline - p_by
    WHERE id = p_attempt_id;
    PERFORM set_config('session_replication_role', 'origin', TRUE);
END
$$;

-- create_exam with one question replaced (or the questions given whole).
CREATE FUNCTION pg_temp.create(
    p_questions jsonb,
    p_title text DEFAULT 'Exams',
    p_opens interval DEFAULT '-1 hour',
    p_closes interval DEFAULT '1 day',
    p_published boolean DEFAULT TRUE,
    p_duration integer DEFAULT 30,
    p_max_attempts integer DEFAULT 2,
    p_grading_method text DEFAULT 'highest',
    p_grace integer DEFAULT 60
) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT api.create_exam(
        title => p_title, description => 'About exams', duration_minutes => p_duration,
        opens_at => now() + p_opens, closes_at => now() + p_closes,
        max_attempts => p_max_attempts, questions => p_questions, published => p_published,
        grading_method => p_grading_method, grace_seconds => p_grace
    );
$$;
CREATE FUNCTION pg_temp.good() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT '[
        {"kind": "single_choice", "prompt": "2 + 2?", "options": ["3", "4"], "correct": "4",
         "points": 2},
        {"kind": "multiple_choice", "prompt": "Primes?", "options": ["2", "3", "4"],
         "correct": ["2", "3"]},
        {"kind": "true_false", "prompt": "Sky green?", "options": [], "correct": false},
        {"kind": "numeric", "prompt": "Pi?", "correct": 3.14, "tolerance": 0.01},
        {"kind": "short_text", "prompt": "Capital of France?", "correct": "Paris"}
    ]'::jsonb
$$;
CREATE FUNCTION pg_temp.one(p_question text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT jsonb_build_array(p_question::jsonb) $$;

-- ---------------------------------------------------------------------------
-- Authoring
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT pg_temp.keep('doc', pg_temp.create(pg_temp.good(), 'Exams main')::text);
SELECT pg_temp.keep('exam', pg_temp.val('doc')::jsonb ->> 'id');
SELECT pg_temp.keep('other', pg_temp.create(pg_temp.good(), 'Exams other') ->> 'id');

SELECT is(
    (SELECT array_agg(q ->> 'kind' ORDER BY (q ->> 'position')::int)
     FROM jsonb_array_elements(pg_temp.val('doc')::jsonb -> 'questions') AS q),
    ARRAY['single_choice', 'multiple_choice', 'true_false', 'numeric', 'short_text'],
    'create_exam: the questions, in order, positions from 1'
);
SELECT is(
    (SELECT jsonb_agg(q -> 'correct' ORDER BY (q ->> 'position')::int)
     FROM jsonb_array_elements(pg_temp.val('doc')::jsonb -> 'questions') AS q),
    '["4", ["2", "3"], false, 3.14, "Paris"]'::jsonb,
    'create_exam: the teacher gets the answer key back'
);
SELECT is(
    pg_temp.val('doc')::jsonb - 'id' - 'questions' - 'created_at' - 'updated_at' - 'created_by'
    - 'opens_at' - 'closes_at',
    '{"title": "Exams main", "description": "About exams", "duration_minutes": 30,
      "max_attempts": 2, "grading_method": "highest", "grace_seconds": 60,
      "shuffle_questions": false, "shuffle_options": false, "published": true,
      "max_score": 6}'::jsonb,
    'create_exam: settings and defaults (highest, 60 s of grace, published, no shuffle)'
);
SELECT is(
    (SELECT granted_by FROM app.teacher_exam_permissions
     WHERE exam_id = pg_temp.id('exam') AND teacher_id = '00000000-0000-4000-8000-000000030a01'),
    '00000000-0000-4000-8000-000000030a01'::uuid,
    'create_exam: the creator gets permission on the exam'
);

-- Validation: 400 naming the problem, nothing written.
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good(), p_closes => '-2 hours')$$,
    '22023', 'closes_at must be after opens_at',
    'refused: a closing time before the opening'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "single_choice", "prompt": "?",
        "options": ["a", "b"], "correct": "c"}'))$$,
    '22023', 'question 1: the correct answer "c" is not one of the options',
    'refused: an option list without the correct answer'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "multiple_choice", "prompt": "?",
        "options": ["a", "b"], "correct": ["a", "z"]}'))$$,
    '22023', 'question 1: correct answers not among the options: "z"',
    'refused: multiple_choice answers that are not options'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "true_false", "prompt": "?",
        "correct": true, "points": 0}'))$$,
    '22023', 'question 1: points must be a number greater than 0',
    'refused: zero points'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "essay", "prompt": "?", "correct": "x"}'))$$,
    '22023',
    'question 1: kind must be one of single_choice, multiple_choice, true_false, numeric, short_text',
    'refused: an unknown kind'
);
SELECT throws_ok(
    $$SELECT pg_temp.create('[]')$$,
    '22023', 'questions must be a non-empty list of questions',
    'refused: no questions'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "single_choice", "prompt": "?",
        "options": ["a", "a"], "correct": "a"}'))$$,
    '22023', 'question 1: options must be distinct',
    'refused: the same option twice'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "single_choice", "prompt": "?",
        "options": ["a"], "correct": "a"}'))$$,
    '22023', 'question 1: a single_choice question needs at least two options',
    'refused: a choice with one option'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "true_false", "prompt": "?",
        "options": ["yes", "no"], "correct": true}'))$$,
    '22023', 'question 1: a true_false question has no options (give [] or leave it out)',
    'refused: options on a true_false question'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "numeric", "prompt": "?", "correct": "3"}'))$$,
    '22023', 'question 1: correct must be a number',
    'refused: a numeric answer key that is not a number'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "short_text", "prompt": "?",
        "correct": "x", "tolerance": 1}'))$$,
    '22023', 'question 1: tolerance is for numeric questions only',
    'refused: a tolerance on a short_text question'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "numeric", "prompt": "?",
        "correct": 3, "tolerance": -1}'))$$,
    '22023', 'question 1: tolerance must be a number of 0 or more',
    'refused: a negative tolerance'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "short_text", "prompt": "?", "correct": []}'))$$,
    '22023', 'question 1: correct must be a non-empty string or a list of non-empty strings',
    'refused: a short_text question without an accepted answer'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "true_false", "prompt": "?"}'))$$,
    '22023', 'question 1: correct is required',
    'refused: a question without an answer key'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "true_false", "prompt": " ", "correct": true}'))$$,
    '22023', 'question 1: prompt must be a non-empty string',
    'refused: a blank prompt'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.one('{"kind": "numeric", "prompt": "?", "correct": 3,
        "tolerence": 1}'))$$,
    '22023',
    'question 1: unknown field tolerence (expected kind, prompt, options, correct, tolerance, points)',
    'refused: an unknown field (a typo is not silently ignored)'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good() || pg_temp.one('{"kind": "true_false",
        "prompt": "?", "correct": "yes"}'))$$,
    '22023', 'question 6: correct must be true or false',
    'refused: the message names the question at fault'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good(), p_grading_method => 'median')$$,
    '22023', 'grading_method must be one of highest, average, first, last',
    'refused: an unknown grading method'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good(), p_duration => 0)$$,
    '22023', 'duration_minutes must be between 1 and 1440',
    'refused: a duration of 0'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good(), p_max_attempts => 0)$$,
    '22023', 'max_attempts must be between 1 and 100',
    'refused: no attempt allowed'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good(), p_grace => 601)$$,
    '22023', 'grace_seconds must be between 0 and 600',
    'refused: more than 10 minutes of grace'
);
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good(), p_title => '  ')$$,
    '22023', 'title is required',
    'refused: a blank title'
);
SELECT is(
    (SELECT count(*)::int FROM app.exams WHERE created_by = '00000000-0000-4000-8000-000000030a01'),
    2,
    'a refused exam leaves nothing behind'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT throws_ok(
    $$SELECT pg_temp.create(pg_temp.good())$$, '42501', NULL,
    'a student cannot author an exam'
);
SELECT throws_ok(
    $$SELECT api.get_exam(pg_temp.id('exam'))$$, '42501', NULL,
    'a student cannot read an exam with its key (get_exam)'
);
SELECT throws_ok(
    $$SELECT internal.exam_document(pg_temp.id('exam'))$$, '42501', NULL,
    'a student cannot read an exam with its key (exam_document)'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Who sees an exam, and sharing it
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000030a02');
SELECT throws_ok(
    $$SELECT api.get_exam(pg_temp.id('exam'))$$, 'VT404', 'exam not found',
    'a teacher without permission: 404'
);
SELECT throws_ok(
    $$SELECT api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a02')$$,
    'VT404', 'exam not found',
    'a teacher without permission cannot grant themself access: 404'
);
SELECT throws_ok(
    $$SELECT api.update_exam(pg_temp.id('exam'), title => 'Mine now')$$,
    'VT404', 'exam not found',
    'a teacher without permission cannot edit it: 404'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT is(
    api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a02')
    - 'granted_at',
    jsonb_build_object(
        'exam_id', pg_temp.val('exam'), 'teacher_id', '00000000-0000-4000-8000-000000030a02',
        'granted_by', '00000000-0000-4000-8000-000000030a01'
    ),
    'the owner grants a colleague access'
);
SELECT is(
    api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a02')
    - 'granted_at',
    jsonb_build_object(
        'exam_id', pg_temp.val('exam'), 'teacher_id', '00000000-0000-4000-8000-000000030a02',
        'granted_by', '00000000-0000-4000-8000-000000030a01'
    ),
    'granting twice is harmless'
);
SELECT throws_ok(
    $$SELECT api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030b01')$$,
    'VT404', 'teacher not found',
    'granting access to a student: 404 teacher not found'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030a02');
SELECT is(
    api.get_exam(pg_temp.id('exam')) ->> 'title', 'Exams main',
    'the colleague now sees the exam'
);
SELECT throws_ok(
    $$SELECT api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a03')$$,
    '42501', 'only the exam''s owner or an admin may grant access to it',
    'a colleague who does not own the exam cannot pass it on: 403'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030a09');
SELECT lives_ok(
    $$SELECT api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a03')$$,
    'an admin grants access to any exam'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT throws_ok(
    $$SELECT api.grant_exam_permission(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a04')$$,
    '42501', NULL,
    'a student cannot grant access'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Publishing
-- ---------------------------------------------------------------------------

SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT pg_temp.keep(
    'draft', pg_temp.create(pg_temp.good(), 'Exams draft', p_published => FALSE) ->> 'id'
);
SELECT tests.unbecome();
SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT ok(
    NOT api.get_available_exams_for_student() @> jsonb_build_array(
        jsonb_build_object('id', pg_temp.val('draft'))),
    'a draft is not offered to students'
);
SELECT tests.unbecome();
SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT is(
    api.publish_exam(pg_temp.id('draft')) -> 'published', 'true'::jsonb,
    'publish_exam publishes a draft'
);
SELECT tests.unbecome();
SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT ok(
    api.get_available_exams_for_student() @> jsonb_build_array(
        jsonb_build_object('id', pg_temp.val('draft'))),
    'once published, it is offered'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Editing: attempts keep what they were scored against
-- ---------------------------------------------------------------------------

SELECT pg_temp.keep('q_single', id::text)
FROM app.questions WHERE exam_id = pg_temp.id('exam') AND position = 1;
SELECT pg_temp.keep('q_other2', id::text)
FROM app.questions WHERE exam_id = pg_temp.id('other') AND position = 2;

SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT pg_temp.keep('alice1', api.create_exam_attempt(pg_temp.id('exam')) ->> 'attempt_id');
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030a02');
SELECT is(
    api.update_question(
        pg_temp.id('q_single'), options => '["4", "5", "6"]', correct => '"5"',
        prompt => '2 + 3?'
    ) - 'id' - 'exam_id' - 'updated_at',
    '{"position": 1, "kind": "single_choice", "prompt": "2 + 3?", "options": ["4", "5", "6"],
      "correct": "5", "tolerance": null, "points": 2, "version": 2}'::jsonb,
    'update_question: a permitted colleague edits a question; its version goes up'
);
SELECT throws_ok(
    $$SELECT api.update_question(pg_temp.id('q_single'), correct => '"7"')$$,
    '22023', 'the correct answer "7" is not one of the options',
    'update_question: the edited question is validated whole'
);
SELECT is(
    api.update_exam(pg_temp.id('exam'), title => 'Exams main, edited') ->> 'title',
    'Exams main, edited',
    'update_exam: a permitted colleague edits the settings'
);
SELECT throws_ok(
    $$SELECT api.update_exam(pg_temp.id('exam'), closes_at => now() - interval '3 hours')$$,
    '22023', 'closes_at must be after opens_at',
    'update_exam: the settings are validated as they would be'
);
SELECT throws_ok(
    $$SELECT api.update_exam(pg_temp.id('exam'), published => FALSE)$$,
    'VT409', 'an exam with attempts cannot be unpublished: move closes_at to close it',
    'update_exam: an exam with attempts stays published'
);
SELECT is(
    api.add_question(pg_temp.id('exam'), 'true_false', 'Added later?', 'true') -> 'position',
    '6'::jsonb,
    'add_question appends a question'
);
SELECT throws_ok(
    $$SELECT api.remove_question(pg_temp.id('q_single'))$$,
    'VT409', 'the exam has attempts: its questions can be edited but not removed',
    'remove_question: refused once the exam has attempts'
);
SELECT throws_ok(
    $$SELECT api.remove_question(pg_temp.id('q_other2'))$$,
    'VT404', 'question not found',
    'remove_question on an exam the teacher may not access: 404'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT is(
    (SELECT array_agg((q ->> 'position') || ':' || (q ->> 'prompt') ORDER BY (q ->> 'position')::int)
     FROM jsonb_array_elements(
        api.remove_question(pg_temp.id('q_other2')) -> 'questions') AS q),
    ARRAY['1:2 + 2?', '2:Sky green?', '3:Pi?', '4:Capital of France?'],
    'remove_question on an exam without attempts: removed, positions closed up'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT is(
    (SELECT jsonb_build_object('count', count(*), 'first', min(q ->> 'prompt') FILTER (
        WHERE q ->> 'id' = pg_temp.val('q_single')))
     FROM jsonb_array_elements(
        api.create_exam_attempt(pg_temp.id('exam')) -> 'questions') AS q),
    '{"count": 5, "first": "2 + 2?"}'::jsonb,
    'the running attempt still shows the questions it started with'
);
SELECT is(
    api.complete_exam_attempt(
        pg_temp.id('alice1'), jsonb_build_object(pg_temp.val('q_single'), '4')
    ) -> 'score',
    '2'::jsonb,
    'the running attempt is scored against its snapshot (the old answer key)'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030b02');
SELECT is(
    (SELECT jsonb_build_object('count', count(*), 'first', min(q ->> 'prompt') FILTER (
        WHERE q ->> 'id' = pg_temp.val('q_single')))
     FROM jsonb_array_elements(
        api.create_exam_attempt(pg_temp.id('exam')) -> 'questions') AS q),
    '{"count": 6, "first": "2 + 3?"}'::jsonb,
    'an attempt started after the edit gets the new version'
);
SELECT tests.unbecome();

-- ---------------------------------------------------------------------------
-- Accommodations
-- ---------------------------------------------------------------------------

SELECT pg_temp.keep('bob1', id::text)
FROM app.exam_attempts
WHERE exam_id = pg_temp.id('exam') AND student_id = '00000000-0000-4000-8000-000000030b02';
SELECT pg_temp.keep('bob1_deadline', deadline::text)
FROM app.exam_attempts WHERE id = pg_temp.id('bob1');

SELECT tests.become('00000000-0000-4000-8000-000000030a04');
SELECT throws_ok(
    $$SELECT api.set_accommodation(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030b02', 15)$$,
    'VT404', 'exam not found',
    'accommodation by a teacher without permission: 404'
);
SELECT throws_ok(
    $$SELECT internal.recompute_attempt_deadline(
        pg_temp.id('exam'), '00000000-0000-4000-8000-000000030b02')$$,
    'VT404', 'exam not found',
    'nor can they move a deadline through the helper'
);
SELECT tests.unbecome();

SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT throws_ok(
    $$SELECT api.set_accommodation(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030b02', -1)$$,
    '22023', 'extra_minutes must be between 0 and 1440',
    'accommodation: negative extra time is 400'
);
-- A teacher learns nothing of ids it cannot see: someone who is not a
-- student, or no one at all, gets the answer of a new accommodation, and
-- nothing is stored. (An admin, who sees every user, gets 404: below.)
SELECT is(
    api.set_accommodation(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a02', 10)
    - 'created_at' - 'updated_at',
    jsonb_build_object(
        'exam_id', pg_temp.id('exam'), 'student_id', '00000000-0000-4000-8000-000000030a02',
        'extra_minutes', 10, 'attempt_deadline', NULL
    ),
    'accommodation by a teacher for someone who is not a student: the answer of a new one'
);
SELECT is(
    api.set_accommodation(pg_temp.id('exam'), '00000000-0000-4000-8000-0000000309ff', 10)
    - 'created_at' - 'updated_at',
    jsonb_build_object(
        'exam_id', pg_temp.id('exam'), 'student_id', '00000000-0000-4000-8000-0000000309ff',
        'extra_minutes', 10, 'attempt_deadline', NULL
    ),
    '...and for an id that is no one'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT count(*)::int FROM app.accommodations
     WHERE student_id IN ('00000000-0000-4000-8000-000000030a02', '00000000-0000-4000-8000-0000000309ff')),
    0,
    '...and neither was stored'
);
SELECT tests.become('00000000-0000-4000-8000-000000030a09');
SELECT throws_ok(
    $$SELECT api.set_accommodation(pg_temp.id('exam'), '00000000-0000-4000-8000-000000030a02', 10)$$,
    'VT404', 'student not found',
    'accommodation by an admin for someone who is not a student: 404'
);
SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT is(
    (api.set_accommodation(
        pg_temp.id('exam'), '00000000-0000-4000-8000-000000030b02', 15
    ) ->> 'attempt_deadline')::timestamptz,
    pg_temp.val('bob1_deadline')::timestamptz + interval '15 minutes',
    'accommodation mid-attempt: the running deadline is extended at once'
);
SELECT is(
    (SELECT deadline FROM app.exam_attempts WHERE id = pg_temp.id('bob1')),
    pg_temp.val('bob1_deadline')::timestamptz + interval '15 minutes',
    'accommodation mid-attempt: stored on the attempt'
);
SELECT tests.unbecome();

-- 40 minutes in, with 15 extra: 5 minutes left. Taking the extra time back
-- would put the deadline 10 minutes ago: it stops at now instead.
SELECT pg_temp.age_attempt(pg_temp.id('bob1'), interval '40 minutes');
SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT is(
    (api.set_accommodation(
        pg_temp.id('exam'), '00000000-0000-4000-8000-000000030b02', 0
    ) ->> 'attempt_deadline')::timestamptz,
    now(),
    'accommodation reduced: the deadline is never moved before now'
);
SELECT tests.unbecome();

-- Capped by the closing time; counted from the start for a later attempt.
SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT pg_temp.keep('closing', pg_temp.create(pg_temp.good(), 'Exams closing', p_closes => '20 minutes') ->> 'id');
SELECT pg_temp.keep('later', pg_temp.create(pg_temp.good(), 'Exams later') ->> 'id');
SELECT lives_ok(
    $$SELECT api.set_accommodation(pg_temp.id('later'), '00000000-0000-4000-8000-000000030b01', 10)$$,
    'accommodation before the student starts'
);
SELECT tests.unbecome();
SELECT tests.become('00000000-0000-4000-8000-000000030b01');
SELECT pg_temp.keep('closing_attempt', api.create_exam_attempt(pg_temp.id('closing')) ->> 'attempt_id');
SELECT is(
    (api.create_exam_attempt(pg_temp.id('later')) ->> 'deadline')::timestamptz,
    now() + interval '40 minutes',
    'start: deadline = started_at + duration + extra time'
);
SELECT is(
    (api.get_student_exam_detail(pg_temp.id('later')) -> 'exam' -> 'extra_minutes'),
    '10'::jsonb,
    'the student sees their extra time'
);
SELECT tests.unbecome();
SELECT tests.become('00000000-0000-4000-8000-000000030a09');
SELECT is(
    (api.set_accommodation(
        pg_temp.id('closing'), '00000000-0000-4000-8000-000000030b01', 60
    ) ->> 'attempt_deadline')::timestamptz,
    now() + interval '20 minutes',
    'accommodation (by an admin): still capped by the exam''s closing time'
);
SELECT tests.unbecome();

-- An attempt already past deadline + grace is expired, not revived.
SELECT pg_temp.age_attempt(pg_temp.id('closing_attempt'), interval '30 minutes');
SELECT tests.become('00000000-0000-4000-8000-000000030a01');
SELECT is(
    api.set_accommodation(
        pg_temp.id('closing'), '00000000-0000-4000-8000-000000030b01', 120
    ) -> 'attempt_deadline',
    'null'::jsonb,
    'accommodation after the attempt ran out: no running attempt to extend'
);
SELECT tests.unbecome();
SELECT is(
    (SELECT status::text FROM app.exam_attempts WHERE id = pg_temp.id('closing_attempt')),
    'expired',
    'the overdue attempt was expired, not revived'
);

SELECT * FROM finish();
ROLLBACK;
