-- 0007.service-tokens: auth.service_tokens, the long-lived access tokens an
-- admin issues to integration accounts (POST /admin/service-tokens;
-- sql/functions/auth/service_tokens.sql, docs/security.md). The repeatable
-- step adds its policies, grants and audit triggers. Run by yoyo as
-- veritas_owner.

CREATE TABLE auth.service_tokens (
    jti uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A token dies with its account.
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    label text NOT NULL,
    issued_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    CONSTRAINT service_tokens_label_check CHECK (
        length(label) <= 200 AND btrim(label) <> ''
    ),
    CONSTRAINT service_tokens_expires_at_check CHECK (expires_at > issued_at),
    CONSTRAINT service_tokens_revoked_check CHECK (revoked_by IS NULL OR revoked_at IS NOT NULL)
);
COMMENT ON TABLE auth.service_tokens IS
'Long-lived access tokens an admin issued to integration accounts (POST /admin/service-tokens), by jti; the token itself is never stored. Revoking one also lists its jti in auth.revoked_tokens.';
COMMENT ON COLUMN auth.service_tokens.label IS
'What the token is for (the system that holds it), chosen by the admin.';

CREATE INDEX service_tokens_user_id_idx ON auth.service_tokens (user_id);
CREATE INDEX service_tokens_issued_by_idx ON auth.service_tokens (issued_by);
CREATE INDEX service_tokens_revoked_by_idx ON auth.service_tokens (revoked_by);

ALTER TABLE auth.service_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.service_tokens FORCE ROW LEVEL SECURITY;
