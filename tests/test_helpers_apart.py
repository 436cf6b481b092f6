"""Test helpers live in helper modules (tests/accounts.py, tests/databases.py,
tests/exams.py, tests/glue_server.py): no module of tests/ imports a test
module or conftest.py, which pytest imports on its own, under its own name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
FORBIDDEN = re.compile(r"(^|\.)(test_\w+|conftest)(\.|$)")


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append((node.lineno, base.lstrip(".")))
            if node.module in (None, "tests"):  # from tests import test_x; from . import x
                found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_no_module_of_tests_imports_a_test_module_or_conftest():
    offences = [
        f"{path.name}:{line} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        if "vendor" not in path.parts
        for line, name in _imported(ast.parse(path.read_text(), str(path)))
        if FORBIDDEN.search(name)
    ]
    assert offences == [], "move the helper into a helper module: " + "; ".join(offences)


def test_the_check_sees_an_offence():
    sample = "from tests.test_exams import create_exam\nfrom tests import conftest\n"
    names = [name for _, name in _imported(ast.parse(sample)) if FORBIDDEN.search(name)]
    assert names == ["tests.test_exams", "conftest"]
