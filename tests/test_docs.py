"""The README and docs/ as a new user reads them: every ``veritas`` command
they show parses, every flag exists, every route (METHOD /path) is served,
every ``/rpc/`` name is an API function (GET only for a read-only one), every
``VERITAS_*`` variable is read by the glue (and every one it reads is in
docs/operations.md), and the README's curl examples answer 2xx from a live
glue on a database holding the demo data."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
from pathlib import Path

import psycopg
import pytest
from starlette.routing import Match

from glue import dbtarget, demo, migrate
from glue.app import create_app
from glue.cli import build_parser, parse_args
from tests.databases import PASSWORDS
from tests.glue_server import settings_for

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_FENCE = re.compile(r"^```(?:sh|bash|shell|console)\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`(veritas [^`]+)`")
ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[\w{}/.\-…]*)")
VARIABLE = re.compile(r"\bVERITAS_[A-Z_]*[A-Z]\b")


def _text(page: Path) -> str:
    return page.read_text()


def _where(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _shell_lines(block: str) -> list[str]:
    """The block's command lines, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip().removeprefix("$ ") for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _commands(line: str) -> list[list[str]]:
    """Each simple command of a line (split on && ; |), environment assignments dropped."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return []
    commands: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "||", ";", "|"):
            commands.append([])
        else:
            commands[-1].append(word)
    result = []
    for command in commands:
        while command and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", command[0]):
            command = command[1:]
        if command:
            result.append(command)
    return result


def _documented_veritas_lines() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        for block in SHELL_FENCE.findall(_text(page)):
            for line in _shell_lines(block):
                for command in _commands(line):
                    if command[0] == "veritas":
                        found.append((f"{_where(page)}: {line}", command[1:]))
    return found


def test_the_docs_show_veritas_commands():
    assert len(_documented_veritas_lines()) >= 3


@pytest.mark.parametrize(("where", "argv"), _documented_veritas_lines(),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_every_veritas_command_line_in_a_code_block_parses(where, argv):
    try:
        parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: veritas {' '.join(argv)} does not parse")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def _inline_commands() -> list[tuple[str, str]]:
    return [(_where(page), span) for page in PAGES for span in INLINE.findall(_text(page))]


def test_every_inline_veritas_command_names_real_commands_and_flags():
    """Table cells show forms such as ``veritas user add --email --password
    --role [--full-name]``: each word must be a command and each flag one of
    its options (or the top level's)."""
    problems = []
    spans = _inline_commands()
    assert spans
    for where, span in spans:
        top = build_parser()
        parser, path = top, ["veritas"]
        for word in re.findall(r"--?[\w-]+|[a-z][\w-]*", span.split(" ", 1)[1]):
            if word.startswith("-"):
                if word not in _options(parser) | _options(top):
                    problems.append(f"{where}: `{span}`: {' '.join(path)} has no {word}")
            elif word in _subcommands(parser):
                parser = _subcommands(parser)[word]
                path.append(word)
        if parser is top:
            problems.append(f"{where}: `{span}`: no such command")
    assert problems == []


# -- routes ------------------------------------------------------------------


def _documented_routes() -> set[tuple[str, str, str]]:
    # "GET /rpc" alone names the family: /rpc/{name}
    return {(_where(page), method, "/rpc/{name}" if path == "/rpc" else path.rstrip("."))
            for page in PAGES for method, path in ROUTE.findall(_text(page))}


def _api_functions(migrated_db: str) -> dict[str, bool]:
    """Each API function's name: whether it is read-only (GET /rpc allowed)."""
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            "SELECT p.proname, bool_and(p.provolatile <> 'v') FROM pg_proc AS p "
            "JOIN pg_namespace AS n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'api' GROUP BY p.proname").fetchall()
    return dict(rows)


def test_every_documented_route_is_served(migrated_db):
    app = create_app(settings_for(migrated_db))
    routes = list(app.routes)  # Route and Mount (the web app's files under /app/)
    functions = _api_functions(migrated_db)
    documented = _documented_routes()
    assert len(documented) > 30
    problems = []
    for where, method, path in sorted(documented):
        scope = {"type": "http", "method": method, "path": path}
        if not any(r.matches(scope)[0] == Match.FULL for r in routes):
            problems.append(f"{where}: {method} {path} is not a route of the app")
        if path.startswith("/rpc/") and "{" not in path:
            name = path.removeprefix("/rpc/")
            if name not in functions:
                problems.append(f"{where}: {method} {path}: no API function {name}")
            elif method == "GET" and not functions[name]:
                problems.append(f"{where}: GET {path}: {name} is VOLATILE (POST only)")
    assert problems == []


# -- environment variables -------------------------------------------------------


def _glue_source() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "glue").glob("*.py")))


def _test_tooling_source() -> str:
    """The browser tests and scripts/: what reads the variables that only the
    tests use (VERITAS_SCREENSHOTS, VERITAS_README_SCREENSHOTS)."""
    paths = [*sorted((ROOT / "tests" / "web").glob("*.py")),
             *sorted(p for p in (ROOT / "scripts").iterdir() if p.is_file())]
    return "\n".join(p.read_text() for p in paths)


def test_every_documented_variable_is_read_by_the_glue():
    source = _glue_source() + _test_tooling_source()
    dynamic = {f"VERITAS_{role.upper()}_PASSWORD" for role in dbtarget.LOGIN_ROLES}
    problems = [f"{_where(page)}: {name}" for page in PAGES
                for name in sorted(set(VARIABLE.findall(_text(page))))
                if name not in source and name not in dynamic]
    assert problems == []


def test_every_variable_the_glue_reads_is_in_the_configuration_table():
    table = (ROOT / "docs" / "operations.md").read_text()
    read = set(VARIABLE.findall(_glue_source())) | {
        f"VERITAS_{role.upper()}_PASSWORD" for role in dbtarget.LOGIN_ROLES}
    assert sorted(name for name in read if f"`{name}`" not in table) == []


# -- the README's curl examples, on a live glue with the demo data ------------


def _readme_curls() -> list[str]:
    return [line for block in SHELL_FENCE.findall(_text(ROOT / "README.md"))
            for line in _shell_lines(block) if line.startswith("curl ")]


@pytest.fixture(scope="module")
def demo_db(cluster):
    url = cluster.create_database("docs")
    try:
        migrate.migrate(url, PASSWORDS)
        demo.load_if_empty(url)
        yield url
    finally:
        cluster.drop_database(url)


def test_the_readme_curl_examples_answer_on_a_live_glue(demo_db, live_factory):
    curls = _readme_curls()
    assert len(curls) >= 2
    server = live_factory(demo_db)
    address = server.base_url.removeprefix("http://")
    for line in curls:
        assert "127.0.0.1:8000" in line, line
        command = shlex.split(line.replace("127.0.0.1:8000", address))
        done = subprocess.run([*command, "-w", "\n%{http_code}"], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, (line, done.stderr)
        status = done.stdout.rsplit("\n", 1)[-1]
        assert status.startswith("2"), (line, done.stdout)
