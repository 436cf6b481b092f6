-- 0002.drop-write-answers: internal.write_answers(uuid, jsonb, jsonb) became
-- internal.store_answers(uuid, jsonb, jsonb, boolean) in
-- sql/functions/attempts.sql (a submit stores its final answers graded, so
-- each is written once). The repeatable step creates the new function; this
-- removes the old one from databases that had it, since CREATE OR REPLACE
-- never drops an overload. Run by yoyo as veritas_owner.
DROP FUNCTION IF EXISTS internal.write_answers(uuid, jsonb, jsonb);
