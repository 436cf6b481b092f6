"""Finding people over HTTP: the admin's list of users (GET /admin/users) and
a teacher's search for a colleague or a student (GET /teacher/colleagues,
GET /teacher/students); who is refused, over HTTP and as a direct SQL login."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.accounts import bearer, create_user, login, register, unique_email
from tests.databases import ANALYST_PASSWORD, app_url, with_db
from tests.exams import create_exam

ERROR_KEYS = {"code", "message", "details", "hint"}


def _refused(answer, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == ERROR_KEYS
    if code:
        assert body["code"] == code


def _tagged(migrated_db: str, tag: str, role: str, name: str) -> dict:
    return create_user(migrated_db, role, email=f"{tag}-{name}@example.org")


# -- the admin's list -------------------------------------------------------------------

def test_admin_lists_users_with_filters_and_pages(http, migrated_db):
    admin = login(http, create_user(migrated_db, "admin")["email"])
    tag = f"ppl{uuid.uuid4().hex[:8]}"
    made = {name: _tagged(migrated_db, tag, role, name) for name, role in
            [("a-stu", "student"), ("b-tea", "teacher"), ("c-int", "integration"),
             ("d-stu", "student"), ("e-adm", "admin")]}
    off = http.post(f"/admin/users/{made['d-stu']['id']}/active", headers=bearer(admin),
                    json={"active": False})
    assert off.status_code == 200

    def emails(**query) -> list[str]:
        answer = http.get("/admin/users", headers=bearer(admin), params={"q": tag, **query})
        assert answer.status_code == 200, answer.text
        return [u["email"].split("@")[0].removeprefix(f"{tag}-") for u in answer.json()]

    assert emails() == ["a-stu", "b-tea", "c-int", "d-stu", "e-adm"]
    assert emails(role="integration") == ["c-int"]
    assert emails(role="student", active="true") == ["a-stu"]
    assert emails(active="false") == ["d-stu"]
    assert emails(q=tag.upper() + "-B") == ["b-tea"], "case-insensitive"
    one = http.get("/admin/users", headers=bearer(admin), params={"q": f"{tag}-b"}).json()[0]
    assert set(one) == {"id", "email", "full_name", "role", "is_active", "department",
                        "created_at", "sessions_revoked_at"}
    assert "password_hash" not in json.dumps(one)

    # Pages of two, linked as the timeline's are.
    seen: list[str] = []
    url: str | None = f"/admin/users?q={tag}&limit=2"
    pages = 0
    while url:
        answer = http.get(url, headers=bearer(admin))
        assert answer.status_code == 200, answer.text
        seen += [u["email"] for u in answer.json()]
        pages += 1
        link = answer.headers.get("link")
        if link is None:
            url = None
            continue
        assert link.endswith('>; rel="next"')
        url = link[1:link.index(">")]
        query = parse_qs(urlsplit(url).query)
        assert query["q"] == [tag] and query["limit"] == ["2"], "the filters are kept"
    assert pages == 3
    assert seen == sorted(u["email"] for u in made.values())


@pytest.mark.parametrize("query", [{"role": "wizard"}, {"active": "maybe"}, {"limit": "0"},
                                   {"limit": "501"}, {"q": "x" * 201}, {"colour": "red"}])
def test_admin_list_bad_input_is_400(http, migrated_db, query):
    admin = login(http, create_user(migrated_db, "admin")["email"])
    _refused(http.get("/admin/users", headers=bearer(admin), params=query), 400)


@pytest.mark.parametrize("role", ["teacher", "student", "integration"])
def test_only_admins_list_users(http, migrated_db, role):
    caller = login(http, create_user(migrated_db, role)["email"])
    _refused(http.get("/admin/users", headers=bearer(caller)), 403, "42501")


def test_admin_list_without_a_token_is_401(http):
    _refused(http.get("/admin/users"), 401)


# -- a teacher's search -------------------------------------------------------------------

def test_a_teacher_finds_colleagues_and_only_students_they_can_see(http, migrated_db):
    tag = f"ppl{uuid.uuid4().hex[:8]}"
    me_user = _tagged(migrated_db, tag, "teacher", "me")
    colleague = _tagged(migrated_db, tag, "teacher", "colleague")
    gone = _tagged(migrated_db, tag, "teacher", "gone")
    _tagged(migrated_db, tag, "admin", "boss")
    me, other = login(http, me_user["email"]), login(http, colleague["email"])
    admin = login(http, create_user(migrated_db, "admin")["email"])
    assert http.post(f"/admin/users/{gone['id']}/active", headers=bearer(admin),
                     json={"active": False}).status_code == 200

    colleagues = http.get("/teacher/colleagues", headers=bearer(me), params={"q": tag})
    assert colleagues.status_code == 200, colleagues.text
    assert colleagues.json() == [{"id": colleague["id"], "full_name": colleague["full_name"],
                                  "email": colleague["email"]}], \
        "another active teacher only: not me, a disabled teacher or an admin"

    mine = register(http, email=f"{tag}-mine@example.org", full_name="Mine Student")
    theirs = register(http, email=f"{tag}-theirs@example.org", full_name="Theirs Student")
    nobody = register(http, email=f"{tag}-nobody@example.org", full_name="Nobody Student")
    for teacher, student in ((me, mine), (other, theirs)):
        exam = create_exam(http, teacher, title=f"People {tag}")
        started = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
        assert started.status_code == 201, started.text

    def found(tokens, q: str) -> list[str]:
        answer = http.get("/teacher/students", headers=bearer(tokens), params={"q": q})
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()]

    assert found(me, tag) == [mine["user"]["id"]]
    assert found(me, theirs["user"]["email"]) == [], "not by exact email either"
    assert found(me, nobody["user"]["email"]) == []
    assert found(other, tag) == [theirs["user"]["id"]]
    assert set(found(admin, tag)) == {mine["user"]["id"], theirs["user"]["id"],
                                      nobody["user"]["id"]}, "an admin finds any student"

    # An id typed by hand works as before: a student the teacher cannot see
    # gets the same answer as a new accommodation, and says nothing.
    exam = create_exam(http, me, title=f"Hand {tag}")
    typed = http.post(f"/teacher/exams/{exam['id']}/accommodations", headers=bearer(me),
                      json={"student_id": nobody["user"]["id"], "extra_minutes": 10})
    assert typed.status_code == 201, typed.text
    assert found(me, nobody["user"]["email"]) == [], "an accommodation is no licence to find"


@pytest.mark.parametrize("path", ["/teacher/colleagues", "/teacher/students"])
@pytest.mark.parametrize("role", ["student", "integration"])
def test_students_and_integrations_cannot_search(http, migrated_db, path, role):
    caller = login(http, create_user(migrated_db, role)["email"])
    _refused(http.get(path, headers=bearer(caller), params={"q": "a"}), 403, "42501")


@pytest.mark.parametrize("path", ["/teacher/colleagues", "/teacher/students"])
def test_search_bad_input_is_400_and_no_token_401(http, teacher, path):
    _refused(http.get(path, headers=bearer(teacher), params={"limit": "101"}), 400)
    _refused(http.get(path, headers=bearer(teacher), params={"q": "x" * 201}), 400)
    _refused(http.get(path), 401)


# -- as a direct SQL login ----------------------------------------------------------------

def test_the_analyst_login_can_call_none_of_them(migrated_db):
    name = urlsplit(migrated_db).path.lstrip("/")
    analyst = with_db(migrated_db, name, "analyst", ANALYST_PASSWORD)
    for call in ("api.get_users()", "api.find_teachers('a')", "api.find_students('a')"):
        with psycopg.connect(analyst) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SELECT {call}")


@pytest.mark.parametrize(("role", "call"), [
    ("teacher", "api.get_users()"),
    ("student", "api.get_users()"),
    ("integration", "api.get_users()"),
    ("student", "api.find_students('a')"),
    ("student", "api.find_teachers('a')"),
    ("integration", "api.find_students('a')"),
])
def test_the_glue_login_as_another_role_is_refused(migrated_db, role, call):
    """The authenticator login, switched to a role with a real user's claims
    (what a request does), is refused by the grants, not by the glue."""
    user = create_user(migrated_db, role, email=unique_email(role))
    claims = {"sub": user["id"], "role": role, "jti": str(uuid.uuid4()), "iat": 0,
              "exp": 4102444800, "iss": "veritas", "aud": "veritas-api", "typ": "access"}
    with psycopg.connect(app_url(migrated_db)) as conn:
        conn.execute("SELECT set_config('role', %s, true),"
                     " set_config('request.jwt.claims', %s, true)", [role, json.dumps(claims)])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SELECT {call}")
