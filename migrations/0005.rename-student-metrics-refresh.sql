-- 0005.rename-student-metrics-refresh: internal.refresh_students_stats(uuid[])
-- and its one-student wrapper internal.refresh_student_stats(uuid), two
-- names one letter apart, became one function,
-- internal.refresh_student_metrics(uuid[]) in
-- sql/functions/analysis/statistics.sql (the twin of
-- internal.refresh_exam_metrics). The repeatable step creates it; this
-- removes the old names from databases that had them, since CREATE OR
-- REPLACE never drops a function. Run by yoyo as veritas_owner.
DROP FUNCTION IF EXISTS internal.refresh_student_stats(uuid);
DROP FUNCTION IF EXISTS internal.refresh_students_stats(uuid[]);
