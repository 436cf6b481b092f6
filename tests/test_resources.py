"""The repeatable SQL's apply order (``sql/repeatable.txt``, read by
``glue.resources.repeatable_files``) is complete and is what applying needs.

Applying runs with ``check_function_bodies`` off, so a function body may name
a function of a later file. What runs or is checked while a file is applied
may not: DO blocks, top-level SELECTs, triggers, views, policies, grants and
comments, and a function's header. These tests read the files as text and
fail naming the file, the object and what it needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from glue import migrate, resources

KINDS = migrate.REPEATABLE_KINDS
FILES = resources.repeatable_files()

_CREATE_ROUTINE = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+(\w+\.\w+)\s*\(", re.IGNORECASE
)
_DOLLAR = re.compile(r"\$(\w*)\$")
_CALL = re.compile(r"\b((?:api|internal)\.\w+)\s*\(")
_COMMENT = re.compile(r"--[^\n]*")
_COMMENT_TEXT = re.compile(r"\bIS\s+'(?:[^']|'')*'", re.IGNORECASE)


def _name(path: Path) -> str:
    return path.relative_to(resources.sql_dir()).as_posix()


def _apply_time_text(text: str) -> str:
    """``text`` without its comments (``--`` and the text of COMMENT ON) and
    without the bodies of the functions it creates at top level (what runs
    when they are called, not when applied). DO blocks stay: they run while
    the file is applied."""
    text = _COMMENT_TEXT.sub("IS ''", _COMMENT.sub("", text))
    out: list[str] = []
    pos = 0
    while (create := _CREATE_ROUTINE.search(text, pos)) is not None:
        start = _DOLLAR.search(text, create.end())
        assert start is not None, f"no $$ body after {create.group(0)!r}"
        end = text.index(start.group(0), start.end())
        out.append(text[pos:start.start()])
        pos = end + len(start.group(0))
    out.append(text[pos:])
    return "".join(out)


def test_every_repeatable_file_is_listed_once() -> None:
    names = [_name(p) for p in FILES]
    on_disk = sorted(
        _name(p) for kind in KINDS for p in (resources.sql_dir() / kind).rglob("*.sql")
    )
    assert len(names) == len(set(names)), "a file is listed twice in sql/repeatable.txt"
    assert sorted(names) == on_disk, "sql/repeatable.txt and the files on disk differ"


def test_kinds_in_order_functions_views_policies() -> None:
    kinds = [_name(p).split("/", 1)[0] for p in FILES]
    assert kinds == sorted(kinds, key=KINDS.index)


def test_the_api_schema_is_recreated_first_and_policies_start_from_a_clean_slate() -> None:
    names = [_name(p) for p in FILES]
    assert names[0] == "functions/deploy/api_schema.sql"
    assert "DROP SCHEMA IF EXISTS api CASCADE" in FILES[0].read_text()
    assert next(n for n in names if n.startswith("policies/")) == "policies/00_reset.sql"
    # Whatever 00_reset wipes (policies, and privileges on the tables and
    # views of app, auth and audit) is not made before it.
    wiped = re.compile(
        r"\bCREATE\s+POLICY\b|\bGRANT\b[^;]*\bON\s+(?:TABLE\s+)?(?:app|auth|audit)\.",
        re.IGNORECASE,
    )
    for path in FILES[: names.index("policies/00_reset.sql")]:
        found = wiped.search(_apply_time_text(path.read_text()))
        assert found is None, f"{_name(path)}: {found.group(0)!r} before policies/00_reset.sql"


@pytest.mark.parametrize("index", range(len(FILES)), ids=[_name(p) for p in FILES])
def test_what_a_file_calls_while_applied_is_defined_above(index: int) -> None:
    """Every api or internal routine named outside a function body (in a DO
    block, a SELECT, a trigger, a view, a policy, a GRANT or COMMENT, a
    function's header) is created by an earlier file, or earlier in this one
    (also by a DO block's dynamic SQL)."""
    defined_before = {
        m.group(1)
        for path in FILES[:index]
        for m in _CREATE_ROUTINE.finditer(path.read_text())
    }
    text = FILES[index].read_text()
    apply_time = _apply_time_text(text)
    defined_here: dict[str, int] = {}
    for m in _CREATE_ROUTINE.finditer(apply_time):
        defined_here.setdefault(m.group(1), m.start(1))
    missing = sorted(
        {
            m.group(1)
            for m in _CALL.finditer(apply_time)
            if m.group(1) not in defined_before
            and not (m.group(1) in defined_here and defined_here[m.group(1)] <= m.start(1))
        }
    )
    assert missing == [], f"{_name(FILES[index])} uses {missing} before they are created"


SQL_FILES = sorted(
    p for kind in ("schema", *KINDS) for p in (resources.sql_dir() / kind).rglob("*.sql")
)


@pytest.mark.parametrize("path", SQL_FILES, ids=[_name(p) for p in SQL_FILES])
def test_a_file_reads_in_about_400_lines_or_says_why(path: Path) -> None:
    lines = path.read_text().splitlines()
    header = "\n".join(line for line in lines[:30] if line.startswith("--"))
    assert len(lines) <= 420 or "400 lines" in header, (
        f"{_name(path)} has {len(lines)} lines: split it by concern, or say why not in its header"
    )


ROOT = resources.sql_dir().parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _where_to_find_things() -> list[list[str]]:
    text = ARCHITECTURE.read_text()
    section = text.split("## Where to find things", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_the_where_to_find_things_table_points_to_real_code_policies_and_tests() -> None:
    rows = _where_to_find_things()
    assert len(rows) > 20, "docs/architecture.md has its table"
    for _route, functions, code, policies, tests in rows:
        source = (resources.sql_dir() / "functions" / code.strip("`")).read_text()
        for function in re.findall(r"`((?:api|internal)\.\w+)`", functions):
            assert f"CREATE OR REPLACE FUNCTION {function}(" in source, (
                f"docs/architecture.md: {function} is not defined in {code}"
            )
        for policy in re.findall(r"`([\w.]+)`", policies):
            assert (resources.sql_dir() / "policies" / policy).is_file(), policy
        for test in re.findall(r"`([\w.]+)`", tests):
            folder = ROOT / "tests" / ("sql" if test.endswith(".sql") else "")
            assert (folder / test).is_file(), test
