"""The routes table (glue/routes.py) and its documentation (docs/api.md) agree."""

from __future__ import annotations

import re
from pathlib import Path

from glue.routes import ENDPOINTS

API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE) (/\S*)` \| `api\.(\w+)` \|", re.MULTILINE)


def test_docs_api_lists_every_rest_route_and_no_other():
    documented = ROW.findall(API_DOC.read_text())
    table = [(e.method, e.path, e.function) for e in ENDPOINTS]
    assert sorted(documented) == sorted(table)
    assert len(documented) == len(set(documented))
