"""docker-compose.yml, checked by reading (no container engine runs in CI):
every service's command is one the ``veritas`` command accepts, and the
services start in the order the data needs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from glue.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


@pytest.mark.parametrize("name", ["migrate", "api", "worker"])
def test_service_command_is_a_veritas_command(name):
    command = SERVICES[name]["command"]
    assert command[0] == "veritas"
    build_parser().parse_args(command[1:])  # exits (fails the test) if unknown


def test_startup_order_follows_the_data():
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_runtime_services_never_get_the_dba_login():
    for name in ("api", "worker"):
        env = SERVICES[name]["environment"]
        assert "DATABASE_URL" not in env
        assert env["VERITAS_APP_DATABASE_URL"].startswith("postgresql://authenticator:")
    assert "DATABASE_URL" in SERVICES["migrate"]["environment"]


def test_files_the_images_are_built_from_exist():
    for service in SERVICES.values():
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_database_image_carries_pgtap():
    assert "postgresql-15-pgtap" in (ROOT / "docker" / "postgres.Dockerfile").read_text()


def test_the_image_gets_every_folder_the_wheel_carries():
    """The Dockerfile builds the wheel: each folder pyproject.toml force-includes
    (sql, migrations, web) must be copied into the build context first."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    carried = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in carried:
        assert f"COPY {folder} ./{folder}" in dockerfile, folder
