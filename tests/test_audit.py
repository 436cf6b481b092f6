"""The audit trail over HTTP and the command line: changes with their actor in
GET /admin/audit, admins only; a teacher reading a student's detail in the
disclosure log and in that student's own view of it; the hash chain sealed
in commit order and ``veritas audit verify`` catching a superuser's edit,
deletion and truncation."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from glue import audit_verify, migrate
from tests.accounts import bearer, create_user, login, register
from tests.databases import AUTHENTICATOR_PASSWORD, PASSWORDS, Cluster, app_url
from tests.exams import create_exam, right_answers

ROOT = Path(__file__).resolve().parent.parent


def _login(http, migrated_db: str, role: str) -> dict:
    return login(http, create_user(migrated_db, role)["email"])


def _audit(http, admin: dict, **query: object) -> list[dict]:
    answer = http.get("/admin/audit", headers=bearer(admin), params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()


def seal(admin_url: str) -> int:
    """What the worker does every few seconds, as the worker role."""
    with psycopg.connect(app_url(admin_url), autocommit=True) as conn:
        conn.execute("SET ROLE worker")
        row = conn.execute("SELECT internal.seal_audit_log()").fetchone()
    return row[0] if row else 0


# ---------------------------------------------------------------------------
# GET /admin/audit
# ---------------------------------------------------------------------------


def test_exam_creation_submit_and_grade_change_appear_with_their_actor(http, migrated_db):
    admin = _login(http, migrated_db, "admin")
    teacher = _login(http, migrated_db, "teacher")
    student = register(http)

    exam = create_exam(http, teacher)
    created = _audit(http, admin, table="exams", actor=teacher["user"]["id"])
    entry = next(e for e in created if e["row_pk"] == {"id": exam["id"]})
    assert entry["operation"] == "INSERT"
    assert entry["table"] == "app.exams"
    assert entry["actor_id"] == teacher["user"]["id"]
    assert entry["actor_role"] == "teacher"
    assert (entry["request_method"], entry["request_path"]) == ("POST", "/teacher/exams")
    assert entry["new_values"]["title"] == exam["title"]
    assert entry["occurred_at"].endswith("Z")

    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student)).json()
    submitted = http.post(
        f"/student/exams/{attempt['attempt_id']}/submit", headers=bearer(student),
        json={"answers": right_answers(exam)},
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["score"] == 7
    entries = _audit(http, admin, table="app.exam_attempts", actor=student["user"]["id"])
    submit = next(e for e in entries
                  if e["row_pk"] == {"id": attempt["attempt_id"]} and e["operation"] == "UPDATE")
    assert submit["actor_role"] == "student"
    assert submit["request_path"] == f"/student/exams/{attempt['attempt_id']}/submit"
    assert submit["old_values"]["status"] == "in_progress"
    assert (submit["new_values"]["status"], submit["new_values"]["score"]) == ("submitted", 7)
    assert {"finished_at", "score", "status"} <= set(submit["changed_columns"])

    # A grade changed behind the API by the DBA: no API user, the login is the actor.
    question = exam["questions"][0]["id"]
    with psycopg.connect(migrated_db) as conn:
        conn.execute(
            "UPDATE app.attempt_answers SET points_awarded = 0 "
            "WHERE attempt_id = %s AND question_id = %s",
            [attempt["attempt_id"], question],
        )
    grades = _audit(http, admin, table="attempt_answers", limit=20)
    change = next(e for e in grades
                  if e["row_pk"] == {"attempt_id": attempt["attempt_id"], "question_id": question}
                  and e["new_values"].get("points_awarded") == 0)
    dba = urlsplit(migrated_db).username
    assert change["actor_id"] is None
    assert (change["actor_role"], change["db_user"]) == (dba, dba)
    assert change["old_values"] == {"points_awarded": 1}
    assert change["request_path"] is None


def test_audit_pages_newest_first(http, migrated_db):
    admin = _login(http, migrated_db, "admin")
    first = _audit(http, admin, limit=3)
    assert len(first) == 3
    ids = [e["id"] for e in first]
    assert ids == sorted(ids, reverse=True)
    second = _audit(http, admin, limit=3, before=ids[-1])
    assert second and all(e["id"] < ids[-1] for e in second)
    assert http.get("/admin/audit", headers=bearer(admin), params={"limit": 0}).status_code == 400


def test_only_admins_read_the_audit_trail(http, migrated_db):
    student = register(http)
    teacher = _login(http, migrated_db, "teacher")
    for caller in (student, teacher):
        answer = http.get("/admin/audit", headers=bearer(caller))
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "42501"
        assert http.post("/rpc/get_disclosure_log", headers=bearer(caller),
                         json={}).status_code == 403


# ---------------------------------------------------------------------------
# The disclosure log
# ---------------------------------------------------------------------------


def test_a_teacher_reading_a_student_is_in_the_students_disclosure_history(http, migrated_db):
    admin = _login(http, migrated_db, "admin")
    teacher = _login(http, migrated_db, "teacher")
    student, other = register(http), register(http)
    exam = create_exam(http, teacher)
    http.post(f"/student/exams/{exam['id']}/start", headers=bearer(student))
    before = http.get("/student/disclosures", headers=bearer(student))
    assert before.status_code == 200, before.text

    detail = http.get(f"/teacher/students/{student['user']['id']}", headers=bearer(teacher))
    assert detail.status_code == 200, detail.text

    mine = http.get("/student/disclosures", headers=bearer(student)).json()
    assert len(mine) > len(before.json())
    shown = mine[0]
    assert shown["viewer_id"] == teacher["user"]["id"]
    assert shown["viewer_role"] == "teacher"
    assert shown["viewer_name"] == teacher["user"]["full_name"]
    assert shown["record_kind"]
    assert http.get("/student/disclosures", headers=bearer(other)).json() == []

    logged = http.get("/rpc/get_disclosure_log", headers=bearer(admin),
                      params={"student_id": student["user"]["id"]}).json()
    assert shown["id"] in [e["id"] for e in logged]
    # Students have a history; teachers do not.
    assert http.get("/student/disclosures", headers=bearer(teacher)).status_code == 403


# ---------------------------------------------------------------------------
# The hash chain and `veritas audit verify`
# ---------------------------------------------------------------------------


@pytest.fixture
def audited_db(cluster: Cluster) -> Iterator[str]:
    """A database of its own, with some history, all sealed (tampering stays here)."""
    url = cluster.create_database("audit")
    try:
        migrate.migrate(url, PASSWORDS)
        for role in ("admin", "teacher", "student", "student"):
            create_user(url, role)
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE app.event_types SET description = description || '.' "
                         "WHERE event_type = 'paste'")
        assert seal(url) > 0
        yield url
    finally:
        cluster.drop_database(url)


def verify_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VERITAS_"))}
    env.update(DATABASE_URL=url, VERITAS_AUTHENTICATOR_PASSWORD=AUTHENTICATOR_PASSWORD)
    return subprocess.run(
        [sys.executable, "-m", "glue.cli", "audit", "verify", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )


def _behind_the_back(url: str, table: str, statement: str, params: list[object]) -> None:
    """A superuser's change with the append-only guards switched off."""
    with psycopg.connect(url) as conn:
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        conn.execute(statement, params)
        conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        for trigger in ("update", "delete", "truncate"):
            conn.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER _010_append_only_{trigger}")


def _sealed_rows(url: str) -> list[tuple[int, int, str]]:
    """(id, chain position, actor_role) of the sealed audit.log rows, in chain order."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT u.id, s.first_position + u.ord - 1, l.actor_role "
            "FROM audit.seals AS s, unnest(s.row_ids) WITH ORDINALITY AS u (id, ord), "
            "audit.log AS l WHERE s.chain = 'log' AND l.id = u.id ORDER BY 2"
        ).fetchall()


def test_verify_passes_on_a_clean_database(audited_db):
    done = verify_cli(audited_db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit chain intact: ")
    total = int(done.stdout.split(":")[1].split()[0])
    assert total >= len(_sealed_rows(audited_db)) > 0
    assert "audit.security_events" in done.stdout and "audit.disclosures" in done.stdout


def test_verify_names_a_row_edited_by_a_superuser(audited_db):
    rows = _sealed_rows(audited_db)
    row_id, position, role = rows[len(rows) // 2]
    _behind_the_back(audited_db, "audit.log",
                     "UPDATE audit.log SET actor_role = 'nobody' WHERE id = %s", [row_id])
    done = verify_cli(audited_db)
    assert done.returncode == 1
    assert f"audit.log row id {row_id} (chain position {position})" in done.stderr
    assert "edited" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr

    # Put back as it was, the chain holds again.
    _behind_the_back(audited_db, "audit.log",
                     "UPDATE audit.log SET actor_role = %s WHERE id = %s", [role, row_id])
    assert verify_cli(audited_db).returncode == 0


def test_verify_names_a_row_deleted_by_a_superuser(audited_db):
    deleted, position, _ = _sealed_rows(audited_db)[2]
    _behind_the_back(audited_db, "audit.log", "DELETE FROM audit.log WHERE id = %s", [deleted])
    done = verify_cli(audited_db)
    assert done.returncode == 1
    assert f"audit.log row id {deleted} (chain position {position})" in done.stderr
    assert "deleted" in done.stderr


def test_verify_catches_a_forged_row_and_a_chain_cut_short(audited_db):
    with psycopg.connect(audited_db) as conn:
        forged = conn.execute(
            "INSERT INTO audit.log (id, table_schema, table_name, operation) "
            "OVERRIDING SYSTEM VALUE "
            "SELECT min(id) - 1, 'app', 'exams', 'DELETE' FROM audit.log RETURNING id"
        ).fetchone()
    assert forged is not None
    done = verify_cli(audited_db)
    assert done.returncode == 1
    assert f"audit.log row id {forged[0]}: it is in no seal" in done.stderr

    _behind_the_back(audited_db, "audit.log", "DELETE FROM audit.log WHERE id = %s", [forged[0]])
    done = verify_cli(audited_db)
    assert done.returncode == 0, done.stderr
    head = next(line.split(" head ")[1] for line in done.stdout.splitlines()
                if line.startswith("  audit.log:"))

    # A seal lists its rows: deleting the newest row is caught, but deleting
    # it with its whole seal leaves a shorter chain that is still whole.
    # Only a head kept outside the database (--anchor) shows that.
    with psycopg.connect(audited_db) as conn:
        row = conn.execute(
            "SELECT id, row_ids FROM audit.seals WHERE chain = 'log' ORDER BY seal_no DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    _behind_the_back(audited_db, "audit.log", "DELETE FROM audit.log WHERE id = ANY (%s)",
                     [row[1]])
    assert verify_cli(audited_db).returncode == 1
    _behind_the_back(audited_db, "audit.seals", "DELETE FROM audit.seals WHERE id = %s",
                     [row[0]])
    assert verify_cli(audited_db).returncode == 0
    done = verify_cli(audited_db, "--anchor", f"log:{head}")
    assert done.returncode == 1
    assert "anchored position" in done.stderr


def test_rows_committing_out_of_id_order_are_sealed_in_commit_order(audited_db):
    insert = ("INSERT INTO audit.log (table_schema, table_name, operation) "
              "VALUES ('app', 'exams', 'EXPORT') RETURNING id")
    with psycopg.connect(audited_db) as slow, psycopg.connect(audited_db) as fast:
        slow.execute("SELECT txid_current()")  # a writer holds its xid before its audit id
        early = slow.execute(insert).fetchone()  # drawn first, committed last
        late = fast.execute(insert).fetchone()
        fast.commit()
        assert early is not None and late is not None and early[0] < late[0]
        assert seal(audited_db) == 1  # only what has committed
        assert seal(audited_db) == 0  # the early one stays pending while its writer runs
        assert seal(audited_db) == 0
        slow.commit()
    assert seal(audited_db) == 1
    positions = {row_id: position for row_id, position, _ in _sealed_rows(audited_db)}
    assert positions[early[0]] > positions[late[0]]
    assert audit_verify.verify(audited_db).sealed > 0
    assert seal(audited_db) == 0


def test_a_rolled_back_audit_id_is_forgotten(audited_db):
    insert = ("INSERT INTO audit.log (table_schema, table_name, operation) "
              "VALUES ('app', 'exams', 'EXPORT') RETURNING id")
    with psycopg.connect(audited_db) as conn:
        conn.execute("SELECT txid_current()")
        lost = conn.execute(insert).fetchone()
        conn.rollback()
        kept = conn.execute(insert).fetchone()
        conn.commit()
    assert lost is not None and kept is not None
    assert seal(audited_db) == 1

    def pending() -> list[int]:
        with psycopg.connect(audited_db) as conn:
            row = conn.execute("SELECT pending_ids FROM audit.seals WHERE chain = 'log' "
                               "ORDER BY seal_no DESC LIMIT 1").fetchone()
        return list(row[0]) if row else []

    assert lost[0] in pending()
    seal(audited_db)  # its bound is taken a run after it was found missing
    seal(audited_db)  # and passed: every transaction that could commit it has ended
    assert lost[0] not in pending()
    assert verify_cli(audited_db).returncode == 0


@pytest.mark.parametrize("anchor", [
    "log:1200:9f2c",            # the docs' example, shortened
    "log:1200:9f2c...",
    "log:1200",
    "nothing:1:" + "ab" * 32,
    "log:first:" + "ab" * 32,
    "log:0:" + "ab" * 32,
    "log:1:" + "zz" * 32,
])
def test_a_malformed_anchor_is_refused_not_reported_as_tampering(anchor):
    with pytest.raises(ValueError, match="anchor"):
        audit_verify.parse_anchor(anchor)


def test_a_shortened_anchor_exits_2_with_its_own_message(audited_db):
    head = next(line.split(" head ")[1] for line in verify_cli(audited_db).stdout.splitlines()
                if line.startswith("  audit.log:")).split(";")[0]
    assert verify_cli(audited_db, "--anchor", f"log:{head}").returncode == 0
    done = verify_cli(audited_db, "--anchor", f"log:{head[:20]}")
    assert done.returncode == 2
    assert "64 hex digits" in done.stderr
    assert "rewritten" not in done.stderr and "broken" not in done.stderr
