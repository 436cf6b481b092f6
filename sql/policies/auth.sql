-- auth policies: users, sessions, revocations, login attempts, the
-- permission matrix, and the users' profiles.
--
-- Repeatable and idempotent; sql/policies/00_reset.sql has dropped every
-- policy and table privilege before this file runs, so what is not written
-- here does not exist in the database. Policies name their database roles
-- (TO student, TO teacher ...), never PUBLIC, so that a login that sets
-- request.jwt.claims by hand without holding the role gains nothing.
--
-- definer_helpers_... policies are for veritas_owner: RLS is forced, so
-- the SECURITY DEFINER functions (which run as the owner) see and change
-- only what these policies allow.

-- users ----------------------------------------------------------------------------

-- password_hash is readable by nobody but the owner (login_lookup).
DROP POLICY IF EXISTS users_read_own_row ON auth.users;
CREATE POLICY users_read_own_row ON auth.users
AS PERMISSIVE FOR SELECT TO student, teacher, integration
USING (id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS teachers_read_their_students ON auth.users;
CREATE POLICY teachers_read_their_students ON auth.users
AS PERMISSIVE FOR SELECT TO teacher
USING (
    -- inline, not internal.teacher_can_see_student(id): one index probe a row,
    -- the teacher's exams computed once per statement
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.student_id = users.id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
);

DROP POLICY IF EXISTS admins_read_users ON auth.users;
CREATE POLICY admins_read_users ON auth.users
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- POST /admin/users (internal.create_user, SECURITY INVOKER).
DROP POLICY IF EXISTS admins_create_users ON auth.users;
CREATE POLICY admins_create_users ON auth.users
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (TRUE);

-- Names and emails only: roles, activity and session revocation change
-- through internal.set_user_active (which ends the sessions too).
DROP POLICY IF EXISTS admins_update_users ON auth.users;
CREATE POLICY admins_update_users ON auth.users
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_delete_other_users ON auth.users;
CREATE POLICY admins_delete_other_users ON auth.users
AS PERMISSIVE FOR DELETE TO admin
USING (id <> (SELECT internal.current_user_id()));

-- login_lookup, refresh_rotate, assert_session_active, set_user_active ...
DROP POLICY IF EXISTS definer_helpers_read_users ON auth.users;
CREATE POLICY definer_helpers_read_users ON auth.users
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- register_student: students only.
DROP POLICY IF EXISTS definer_helpers_register_students ON auth.users;
CREATE POLICY definer_helpers_register_students ON auth.users
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (role = 'student');

-- set_user_active.
DROP POLICY IF EXISTS definer_helpers_update_users ON auth.users;
CREATE POLICY definer_helpers_update_users ON auth.users
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

GRANT SELECT (
    id, email, role, full_name, is_active, created_at, updated_at
) ON auth.users TO student, teacher, integration;
GRANT SELECT (
    id, email, role, full_name, is_active, sessions_revoked_at, created_at, updated_at
) ON auth.users TO admin;
GRANT INSERT (email, password_hash, role, full_name) ON auth.users TO admin;
GRANT UPDATE (email, full_name) ON auth.users TO admin;
GRANT DELETE ON auth.users TO admin;

-- refresh_token_families -------------------------------------------------------

DROP POLICY IF EXISTS admins_read_sessions ON auth.refresh_token_families;
CREATE POLICY admins_read_sessions ON auth.refresh_token_families
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_read_sessions ON auth.refresh_token_families;
CREATE POLICY definer_helpers_read_sessions ON auth.refresh_token_families
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_open_sessions ON auth.refresh_token_families;
CREATE POLICY definer_helpers_open_sessions ON auth.refresh_token_families
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (revoked_at IS NULL);

DROP POLICY IF EXISTS definer_helpers_revoke_sessions ON auth.refresh_token_families;
CREATE POLICY definer_helpers_revoke_sessions ON auth.refresh_token_families
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (revoked_at IS NOT NULL);

DROP POLICY IF EXISTS definer_helpers_purge_empty_sessions ON auth.refresh_token_families;
CREATE POLICY definer_helpers_purge_empty_sessions ON auth.refresh_token_families
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (
    created_at < now() - interval '1 day'
    AND NOT EXISTS (
        SELECT FROM auth.refresh_tokens AS t
        WHERE t.family_id = refresh_token_families.id
    )
);

GRANT SELECT ON auth.refresh_token_families TO admin;

-- refresh_tokens ---------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_refresh_tokens ON auth.refresh_tokens;
CREATE POLICY admins_read_refresh_tokens ON auth.refresh_tokens
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- refresh_rotate (SELECT ... FOR UPDATE needs the UPDATE policy too).
DROP POLICY IF EXISTS definer_helpers_read_refresh_tokens ON auth.refresh_tokens;
CREATE POLICY definer_helpers_read_refresh_tokens ON auth.refresh_tokens
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_issue_refresh_tokens ON auth.refresh_tokens;
CREATE POLICY definer_helpers_issue_refresh_tokens ON auth.refresh_tokens
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (used_at IS NULL AND replaced_by IS NULL);

DROP POLICY IF EXISTS definer_helpers_rotate_refresh_tokens ON auth.refresh_tokens;
CREATE POLICY definer_helpers_rotate_refresh_tokens ON auth.refresh_tokens
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_purge_expired_refresh_tokens ON auth.refresh_tokens;
CREATE POLICY definer_helpers_purge_expired_refresh_tokens ON auth.refresh_tokens
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (expires_at < now() - interval '1 day');

-- Never the hash, even to admins.
GRANT SELECT (
    id, family_id, user_id, issued_at, expires_at, used_at, replaced_by
) ON auth.refresh_tokens TO admin;

-- revoked_tokens ---------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_revoked_tokens ON auth.revoked_tokens;
CREATE POLICY admins_read_revoked_tokens ON auth.revoked_tokens
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- assert_session_active.
DROP POLICY IF EXISTS definer_helpers_read_revoked_tokens ON auth.revoked_tokens;
CREATE POLICY definer_helpers_read_revoked_tokens ON auth.revoked_tokens
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

-- logout.
DROP POLICY IF EXISTS definer_helpers_revoke_tokens ON auth.revoked_tokens;
CREATE POLICY definer_helpers_revoke_tokens ON auth.revoked_tokens
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_purge_expired_revocations ON auth.revoked_tokens;
CREATE POLICY definer_helpers_purge_expired_revocations ON auth.revoked_tokens
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (expires_at < now());

GRANT SELECT ON auth.revoked_tokens TO admin;

-- service_tokens -----------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_service_tokens ON auth.service_tokens;
CREATE POLICY admins_read_service_tokens ON auth.service_tokens
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- issue_service_token and revoke_service_token.
DROP POLICY IF EXISTS definer_helpers_read_service_tokens ON auth.service_tokens;
CREATE POLICY definer_helpers_read_service_tokens ON auth.service_tokens
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_issue_service_tokens ON auth.service_tokens;
CREATE POLICY definer_helpers_issue_service_tokens ON auth.service_tokens
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (revoked_at IS NULL);

DROP POLICY IF EXISTS definer_helpers_revoke_service_tokens ON auth.service_tokens;
CREATE POLICY definer_helpers_revoke_service_tokens ON auth.service_tokens
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (revoked_at IS NULL)
WITH CHECK (revoked_at IS NOT NULL);

GRANT SELECT ON auth.service_tokens TO admin;

-- login_attempts ---------------------------------------------------------------

DROP POLICY IF EXISTS admins_read_login_attempts ON auth.login_attempts;
CREATE POLICY admins_read_login_attempts ON auth.login_attempts
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

-- login_lookup and login_record (throttling).
DROP POLICY IF EXISTS definer_helpers_read_login_attempts ON auth.login_attempts;
CREATE POLICY definer_helpers_read_login_attempts ON auth.login_attempts
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_record_login_attempts ON auth.login_attempts;
CREATE POLICY definer_helpers_record_login_attempts ON auth.login_attempts
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

-- Only rows far older than the throttling window: a purge cannot lift a lock.
DROP POLICY IF EXISTS definer_helpers_purge_old_login_attempts ON auth.login_attempts;
CREATE POLICY definer_helpers_purge_old_login_attempts ON auth.login_attempts
AS PERMISSIVE FOR DELETE TO veritas_owner
USING (attempted_at < now() - interval '30 days');

GRANT SELECT ON auth.login_attempts TO admin;

-- role_permissions -------------------------------------------------------------

-- api.has_permission (SECURITY INVOKER): each role reads its own rows.
DROP POLICY IF EXISTS roles_read_own_permissions ON auth.role_permissions;
CREATE POLICY roles_read_own_permissions ON auth.role_permissions
AS PERMISSIVE FOR SELECT TO student, teacher, integration
USING (role::text = current_user);

DROP POLICY IF EXISTS admins_read_permissions ON auth.role_permissions;
CREATE POLICY admins_read_permissions ON auth.role_permissions
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

GRANT SELECT ON auth.role_permissions TO student, teacher, admin, integration;

-- student_profiles -------------------------------------------------------------

DROP POLICY IF EXISTS students_read_own_profile ON app.student_profiles;
CREATE POLICY students_read_own_profile ON app.student_profiles
AS PERMISSIVE FOR SELECT TO student
USING (user_id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS teachers_read_their_students_profiles ON app.student_profiles;
CREATE POLICY teachers_read_their_students_profiles ON app.student_profiles
AS PERMISSIVE FOR SELECT TO teacher
USING (
    -- inline, not internal.teacher_can_see_student(user_id): one index probe a row,
    -- the teacher's exams computed once per statement
    EXISTS (
        SELECT FROM app.exam_attempts AS a
        WHERE
            a.student_id = student_profiles.user_id
            AND a.exam_id = any((SELECT internal.teacher_exam_ids())::uuid[])
    )
);

-- update_student_profile_stats reads the statistics columns (grants below);
-- they are derived, written only by the SECURITY DEFINER statistics helpers.
DROP POLICY IF EXISTS integration_reads_profile_statistics ON app.student_profiles;
CREATE POLICY integration_reads_profile_statistics ON app.student_profiles
AS PERMISSIVE FOR SELECT TO integration
USING (TRUE);

DROP POLICY IF EXISTS admins_read_student_profiles ON app.student_profiles;
CREATE POLICY admins_read_student_profiles ON app.student_profiles
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_create_student_profiles ON app.student_profiles;
CREATE POLICY admins_create_student_profiles ON app.student_profiles
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_update_student_profiles ON app.student_profiles;
CREATE POLICY admins_update_student_profiles ON app.student_profiles
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

-- register_student; the analysis worker's statistics; the analytics views.
DROP POLICY IF EXISTS definer_helpers_read_student_profiles ON app.student_profiles;
CREATE POLICY definer_helpers_read_student_profiles ON app.student_profiles
AS PERMISSIVE FOR SELECT TO veritas_owner
USING (TRUE);

DROP POLICY IF EXISTS definer_helpers_create_student_profiles ON app.student_profiles;
CREATE POLICY definer_helpers_create_student_profiles ON app.student_profiles
AS PERMISSIVE FOR INSERT TO veritas_owner
WITH CHECK (TRUE);

DROP POLICY IF EXISTS definer_helpers_update_student_profiles ON app.student_profiles;
CREATE POLICY definer_helpers_update_student_profiles ON app.student_profiles
AS PERMISSIVE FOR UPDATE TO veritas_owner
USING (TRUE)
WITH CHECK (TRUE);

GRANT SELECT ON app.student_profiles TO student, teacher, admin;
GRANT SELECT (
    user_id, integrity_score, lmi_score, exams_taken, average_score, best_score, flags_count,
    updated_at
) ON app.student_profiles TO integration;
GRANT INSERT (user_id, student_number) ON app.student_profiles TO admin;
GRANT UPDATE (student_number) ON app.student_profiles TO admin;

-- teacher_profiles -------------------------------------------------------------

DROP POLICY IF EXISTS teachers_read_own_profile ON app.teacher_profiles;
CREATE POLICY teachers_read_own_profile ON app.teacher_profiles
AS PERMISSIVE FOR SELECT TO teacher
USING (user_id = (SELECT internal.current_user_id()));

DROP POLICY IF EXISTS admins_read_teacher_profiles ON app.teacher_profiles;
CREATE POLICY admins_read_teacher_profiles ON app.teacher_profiles
AS PERMISSIVE FOR SELECT TO admin
USING (TRUE);

DROP POLICY IF EXISTS admins_create_teacher_profiles ON app.teacher_profiles;
CREATE POLICY admins_create_teacher_profiles ON app.teacher_profiles
AS PERMISSIVE FOR INSERT TO admin
WITH CHECK (TRUE);

DROP POLICY IF EXISTS admins_update_teacher_profiles ON app.teacher_profiles;
CREATE POLICY admins_update_teacher_profiles ON app.teacher_profiles
AS PERMISSIVE FOR UPDATE TO admin
USING (TRUE)
WITH CHECK (TRUE);

GRANT SELECT ON app.teacher_profiles TO teacher, admin;
GRANT INSERT (user_id, department) ON app.teacher_profiles TO admin;
GRANT UPDATE (department) ON app.teacher_profiles TO admin;
