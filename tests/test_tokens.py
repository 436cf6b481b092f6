"""Token and secret rules that need no database: rotation, secret length, refresh
successors and the reuse interval's bounds."""

from __future__ import annotations

import time
import uuid

import pytest

from glue import passwords, settings, tokens

CURRENT = b"current-secret-current-secret-0123456789"
PREVIOUS = b"previous-secret-previous-secret-01234567"


def test_a_token_from_the_previous_secret_is_accepted_during_rotation():
    old, _ = tokens.issue_access_token(PREVIOUS, str(uuid.uuid4()), "student")
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(CURRENT, old)
    claims = tokens.verify_access_token(CURRENT, old, previous_secret=PREVIOUS)
    assert claims.role == "student"


def test_an_expired_token_from_the_previous_secret_stays_refused():
    old, _ = tokens.issue_access_token(PREVIOUS, str(uuid.uuid4()), "teacher",
                                       now=time.time() - 2 * tokens.ACCESS_TTL_SECONDS)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify_access_token(CURRENT, old, previous_secret=PREVIOUS)


def test_unknown_role_claim_is_refused():
    token, _ = tokens.issue_access_token(CURRENT, str(uuid.uuid4()), "superuser")
    with pytest.raises(tokens.TokenError, match="role"):
        tokens.verify_access_token(CURRENT, token)


def test_short_secret_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("VERITAS_JWT_SECRET", "too-short")
    with pytest.raises(settings.SettingsError, match="32 bytes"):
        settings.load_jwt_secret(tmp_path)


def test_dev_secret_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("VERITAS_JWT_SECRET", raising=False)
    first = settings.load_jwt_secret(tmp_path)
    assert len(first) >= settings.MIN_SECRET_BYTES
    assert settings.load_jwt_secret(tmp_path) == first
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_refresh_tokens_are_stored_as_hashes():
    token, stored = tokens.new_refresh_token()
    assert token.encode() not in stored
    assert tokens.refresh_token_hash(token) == stored


def test_a_refresh_successor_needs_the_secret():
    token, _ = tokens.new_refresh_token()
    successor = tokens.refresh_successor(CURRENT, token)
    assert successor == tokens.refresh_successor(CURRENT, token), "the same for every twin"
    assert successor != token
    assert successor != tokens.refresh_successor(PREVIOUS, token), "another secret, another one"
    assert len(successor) == len(token), "the same form as a login's random token"
    assert tokens.refresh_successor(CURRENT, token, steps=2) == \
        tokens.refresh_successor(CURRENT, successor)


@pytest.mark.parametrize("value", ["-1", "61", "soon"])
def test_the_refresh_reuse_interval_is_bounded(monkeypatch, value):
    monkeypatch.setenv("VERITAS_REFRESH_REUSE_SECONDS", value)
    with pytest.raises(settings.SettingsError, match="VERITAS_REFRESH_REUSE_SECONDS"):
        settings.Settings.from_env("", CURRENT)


def test_the_refresh_reuse_interval_is_off_unless_set(monkeypatch):
    # off by default: the contract's "401 if used" holds as written
    monkeypatch.delenv("VERITAS_REFRESH_REUSE_SECONDS", raising=False)
    assert settings.Settings.from_env("", CURRENT).refresh_reuse_seconds == 0
    monkeypatch.setenv("VERITAS_REFRESH_REUSE_SECONDS", "5")
    assert settings.Settings.from_env("", CURRENT).refresh_reuse_seconds == 5


def test_passwords_differing_after_byte_72_are_different():
    base = "é" * 40  # 80 bytes of UTF-8
    hashed = passwords.hash_password(base + "a", cost=4)
    assert passwords.verify_password(base + "a", hashed)
    assert not passwords.verify_password(base + "b", hashed)
