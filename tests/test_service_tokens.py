"""Service tokens (docs/security.md, "Service tokens"): an admin issues an
integration account a long-lived access token with its own lifetime, lists
them, and revokes one, which then stops working at once."""

from __future__ import annotations

import time

import jwt

from tests.accounts import bearer, create_user, login
from tests.glue_server import JWT_SECRET


def _admin(http, migrated_db):
    return login(http, create_user(migrated_db, "admin")["email"])


def test_an_admin_issues_a_long_lived_token_that_works_until_revoked(http, migrated_db):
    admin = _admin(http, migrated_db)
    account = create_user(migrated_db, "integration")
    issued = http.post("/admin/service-tokens", headers=bearer(admin), json={
        "user_id": account["id"], "label": "proctoring engine", "lifetime_days": 180})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 180 * 86400
    assert (body["user_id"], body["label"]) == (account["id"], "proctoring engine")

    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"],
                        audience="veritas-api", issuer="veritas")
    assert claims["typ"] == "access" and claims["role"] == "integration"
    assert claims["sub"] == account["id"] and claims["jti"] == body["jti"]
    assert claims["exp"] - claims["iat"] == 180 * 86400
    assert abs(claims["iat"] - time.time()) < 60

    token = {"Authorization": f"Bearer {body['access_token']}"}
    me = http.get("/auth/me", headers=token)
    assert me.status_code == 200 and me.json()["role"] == "integration"

    listed = http.get("/admin/service-tokens", headers=bearer(admin))
    assert listed.status_code == 200
    mine = next(t for t in listed.json() if t["jti"] == body["jti"])
    assert mine["revoked_at"] is None and mine["email"] == account["email"]

    revoked = http.post(f"/admin/service-tokens/{body['jti']}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert http.get("/auth/me", headers=token).status_code == 401
    again = http.post(f"/admin/service-tokens/{body['jti']}/revoke", headers=bearer(admin))
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]

    audit = http.get("/admin/audit", headers=bearer(admin),
                     params={"table": "service_tokens", "actor": admin["user"]["id"]})
    assert audit.status_code == 200, audit.text
    assert {e["operation"] for e in audit.json()
            if e["row_pk"] == {"jti": body["jti"]}} == {"INSERT", "UPDATE"}


def test_the_default_lifetime_is_90_days(http, migrated_db):
    admin = _admin(http, migrated_db)
    account = create_user(migrated_db, "integration")
    issued = http.post("/admin/service-tokens", headers=bearer(admin),
                       json={"user_id": account["id"], "label": "nightly export"})
    assert issued.status_code == 201, issued.text
    assert issued.json()["expires_in"] == 90 * 86400


def test_only_admins_issue_and_only_for_integration_accounts(http, migrated_db):
    admin = _admin(http, migrated_db)
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    account = create_user(migrated_db, "integration")
    body = {"user_id": account["id"], "label": "x"}
    assert http.post("/admin/service-tokens", json=body).status_code == 401
    assert http.post("/admin/service-tokens", headers=bearer(teacher), json=body).status_code == 403
    assert http.get("/admin/service-tokens", headers=bearer(teacher)).status_code == 403
    for bad in ({"user_id": teacher["user"]["id"], "label": "x"},
                {"user_id": account["id"], "label": "x", "lifetime_days": 366},
                {"user_id": account["id"], "label": "x", "lifetime_days": "ninety"},
                {"user_id": account["id"], "label": " "},
                {"user_id": "not-a-uuid", "label": "x"}):
        answer = http.post("/admin/service-tokens", headers=bearer(admin), json=bad)
        assert answer.status_code == 400, (bad, answer.text)
    unknown = http.post("/admin/service-tokens", headers=bearer(admin), json={
        "user_id": "00000000-0000-4000-8000-000000000000", "label": "x"})
    assert unknown.status_code == 404
    assert http.post("/admin/service-tokens/00000000-0000-4000-8000-000000000000/revoke",
                     headers=bearer(admin)).status_code == 404


def test_disabling_the_account_ends_its_service_tokens(http, migrated_db):
    admin = _admin(http, migrated_db)
    account = create_user(migrated_db, "integration")
    issued = http.post("/admin/service-tokens", headers=bearer(admin),
                       json={"user_id": account["id"], "label": "engine"}).json()
    token = {"Authorization": f"Bearer {issued['access_token']}"}
    assert http.get("/auth/me", headers=token).status_code == 200
    off = http.post(f"/admin/users/{account['id']}/active", headers=bearer(admin),
                    json={"active": False})
    assert off.status_code == 200, off.text
    assert http.get("/auth/me", headers=token).status_code == 401
