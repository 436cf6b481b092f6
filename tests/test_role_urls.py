"""``veritas db url --role R`` and ``veritas psql --role R``: an analyst (or
the DBA, or the glue's login) connects to the private server or to the one
``DATABASE_URL`` names, without reading local.json."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from glue.localdb import LocalServer
from tests.commands import clean_env, processes_naming, veritas
from tests.databases import ANALYST_PASSWORD


@pytest.fixture(scope="module")
def private_dir():
    """A private database, migrated (and stopped again) by ``veritas db migrate``."""
    folder = Path(tempfile.mkdtemp(prefix="veritas-urls-"))
    folder.chmod(0o755)
    done = veritas("--data-dir", str(folder), "db", "migrate")
    assert done.returncode == 0, done.stderr
    yield folder
    LocalServer(folder).stop()
    shutil.rmtree(folder, ignore_errors=True)


def _url(folder: Path, role: str) -> str:
    done = veritas("--data-dir", str(folder), "db", "url", "--role", role)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_db_url_gives_each_login_of_the_private_server(private_dir):
    urls = {role: _url(private_dir, role) for role in ("analyst", "dba", "app")}
    assert _url(private_dir, "analyst") == urls["analyst"], "the same URL every time"
    server = LocalServer(private_dir)
    server.start()
    try:
        with psycopg.connect(urls["analyst"]) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("analyst",)
            conn.execute("SELECT count(*) FROM analytics.exam_overview")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT 1 FROM auth.users")
        with psycopg.connect(urls["dba"]) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                                ).fetchone() == (True,)
        with psycopg.connect(urls["app"]) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("authenticator",)
    finally:
        server.stop()


def test_db_url_of_a_stopped_private_server_says_it_is_not_running(private_dir):
    done = veritas("--data-dir", str(private_dir), "db", "url")
    assert done.returncode == 0
    assert done.stdout.startswith("postgresql://analyst:")
    assert "is not running" in done.stderr


def test_psql_as_the_analyst_runs_a_query_and_stops_the_server_it_started(private_dir):
    assert not LocalServer(private_dir).running()
    done = veritas("--data-dir", str(private_dir), "psql", "--role", "analyst",
                   "-At", "-c", "SELECT current_user, count(*) FROM analytics.exam_overview")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "analyst|0"
    assert not LocalServer(private_dir).running()
    assert processes_naming(str(private_dir)) == []


def test_psql_passes_on_its_exit_status(private_dir):
    done = veritas("--data-dir", str(private_dir), "psql", "--", "-v", "ON_ERROR_STOP=1",
                   "-c", "SELECT 1 FROM auth.users")
    assert done.returncode != 0
    assert "permission denied" in done.stderr


def test_db_url_and_psql_for_database_url(migrated_db):
    env = clean_env(DATABASE_URL=migrated_db, VERITAS_ANALYST_PASSWORD=ANALYST_PASSWORD)
    done = veritas("db", "url", "--role", "analyst", env=env)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(done.stdout.strip()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("analyst",)
    assert veritas("db", "url", "--role", "dba", env=env).stdout.strip() == migrated_db
    query = veritas("psql", "-At", "-c", "SELECT current_user", env=env)
    assert query.returncode == 0, query.stderr
    assert query.stdout.strip() == "analyst"


def test_db_url_errors_end_in_one_sentence(migrated_db, tmp_path):
    without = veritas("db", "url", "--role", "analyst", env=clean_env(DATABASE_URL=migrated_db))
    assert without.returncode == 1
    assert without.stderr.strip().count("\n") == 0
    assert "VERITAS_ANALYST_PASSWORD" in without.stderr

    nothing = veritas("--data-dir", str(tmp_path / "none"), "db", "url")
    assert nothing.returncode == 1
    assert "no private database" in nothing.stderr and "veritas up" in nothing.stderr

    extra = veritas("--data-dir", str(tmp_path / "none"), "db", "url", "-c", "select 1")
    assert extra.returncode == 2
    assert "unrecognized arguments: -c select 1" in extra.stderr
