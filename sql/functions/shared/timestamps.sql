-- created_at and updated_at: the trigger function and the _100_timestamps
-- trigger of every table that has an updated_at column.

-- Timestamps -------------------------------------------------------------------

-- created_at: kept as given on INSERT (the column default is now()), never
-- changed by an UPDATE. updated_at: now() on UPDATE, always moving forward
-- (a second update in the same transaction still advances it). Tables
-- without created_at pass the argument 'updated_at_only'.
CREATE OR REPLACE FUNCTION internal.tg__timestamps()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_has_created_at constant boolean := TG_NARGS = 0 OR TG_ARGV[0] <> 'updated_at_only';
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF v_has_created_at THEN
            NEW.created_at := coalesce(NEW.created_at, now());
        END IF;
        NEW.updated_at := coalesce(NEW.updated_at, now());
    ELSIF TG_OP = 'UPDATE' THEN
        IF v_has_created_at THEN
            NEW.created_at := OLD.created_at;
        END IF;
        NEW.updated_at := CASE
            WHEN OLD.updated_at >= now() THEN OLD.updated_at + interval '1 microsecond'
            ELSE now()
        END;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION internal.tg__timestamps() IS
'BEFORE INSERT OR UPDATE trigger: keeps created_at, sets updated_at = now() on update. Argument ''updated_at_only'' for tables without created_at.';

REVOKE ALL ON FUNCTION internal.tg__timestamps() FROM PUBLIC;

-- Every table with an updated_at column, listed explicitly.
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON auth.users
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.student_profiles
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.teacher_profiles
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.exams
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.questions
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.accommodations
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.exam_attempts
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.performance_metrics
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps('updated_at_only');
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.exam_metrics
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps('updated_at_only');
CREATE OR REPLACE TRIGGER _100_timestamps
BEFORE INSERT OR UPDATE ON app.analysis_jobs
FOR EACH ROW EXECUTE FUNCTION internal.tg__timestamps();
