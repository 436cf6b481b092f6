-- Text search over names and emails: the LIKE pattern that the people
-- lists (api.get_users, api.find_teachers, api.find_students) match
-- against lower(email) and lower(full_name).

-- Search pattern --------------------------------------------------------------

-- A case-insensitive substring pattern for LIKE: the text lowered, trimmed,
-- its LIKE wildcards (% _) and the escape character (\) escaped, so that a
-- search for "50%" finds "50%" only. NULL (no filter) for NULL or blank;
-- 22023 (HTTP 400) beyond 200 characters.
CREATE OR REPLACE FUNCTION internal.search_pattern(p_q text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text constant text := lower(btrim(p_q));
BEGIN
    IF v_text IS NULL OR v_text = '' THEN
        RETURN NULL;
    END IF;
    IF length(v_text) > 200 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023', MESSAGE = 'q must be at most 200 characters';
    END IF;
    RETURN '%' || replace(replace(replace(v_text, '\', '\\'), '%', '\%'), '_', '\_') || '%';
END;
$$;

COMMENT ON FUNCTION internal.search_pattern(text) IS
'The LIKE pattern of a case-insensitive substring search for q (wildcards escaped); NULL for no filter; 22023 beyond 200 characters.';

REVOKE ALL ON FUNCTION internal.search_pattern(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION internal.search_pattern(text) TO teacher, admin;
