"""The test session's PostgreSQL: its login passwords, URLs, and a cluster on
which tests create and drop databases of their own."""

from __future__ import annotations

import os
import shutil
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from glue.citus_cluster import CitusCluster
from glue.localdb import LocalServer

# The Citus run (scripts/test-citus): the session's server is a local Citus
# cluster, and every database the tests make is a Citus database.
CITUS = os.environ.get("VERITAS_TEST_CITUS") == "1"

AUTHENTICATOR_PASSWORD = "authenticator-test-password"
ANALYST_PASSWORD = "analyst-test-password"
PASSWORDS = {"authenticator": AUTHENTICATOR_PASSWORD, "analyst": ANALYST_PASSWORD}


def with_db(url: str, dbname: str, user: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}:{password}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{dbname}", parts.query, ""))


def app_url(admin_url: str) -> str:
    """The glue's own login (``authenticator``) to the same database."""
    name = urlsplit(admin_url).path.lstrip("/")
    return with_db(admin_url, name, "authenticator", AUTHENTICATOR_PASSWORD)


class Cluster:
    """A PostgreSQL server the tests may create and drop databases on."""

    def __init__(self, superuser_url: str, local: LocalServer | None) -> None:
        self.superuser_url = superuser_url
        self.local = local

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(with_db(self.superuser_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return with_db(self.superuser_url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(with_db(self.superuser_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def tool(self, name: str) -> str:
        if self.local is not None:
            return str(self.local.tool(name))
        found = shutil.which(name)
        if not found:
            pytest.fail(f"{name} is needed on PATH to test against TEST_DATABASE_URL")
        return found


class CitusTestCluster(Cluster):
    """The local Citus cluster (glue/citus_cluster.py): a database made here
    exists on the coordinator and both workers, with the extension in each
    and the workers registered; tests connect to the coordinator."""

    def __init__(self, citus: CitusCluster) -> None:
        super().__init__(citus.url("postgres"), citus.coordinator)
        self.citus = citus

    def create_database(self, prefix: str = "t") -> str:
        return self.citus.create_database(f"{prefix}_{uuid.uuid4().hex[:10]}")

    def drop_database(self, url: str) -> None:
        self.citus.drop_database(urlsplit(url).path.lstrip("/"))
