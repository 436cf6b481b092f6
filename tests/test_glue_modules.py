"""docs/glue.md names every module of glue/, and no module that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_glue_lists_exactly_the_modules_of_glue():
    listed = set(re.findall(r"^\| `(\w+\.py)` \|", (ROOT / "docs" / "glue.md").read_text(),
                            re.MULTILINE))
    modules = {p.name for p in (ROOT / "glue").glob("*.py") if p.name != "__init__.py"}
    assert sorted(modules - listed) == [], "add these to docs/glue.md"
    assert sorted(listed - modules) == [], "these are gone from glue/"
