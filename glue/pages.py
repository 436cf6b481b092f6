"""Answers of one page of several: the Link to the next page, and a CSV that
follows the pages to the end.

A function that answers one page of several says so itself: it sets the
transaction-local ``response.next_page`` (catalog.NEXT_PAGE_SETTING) to the JSON
object of the arguments that change for the next page, and the call statement
reads it back in the same round trip (catalog.call_statement). The last page sets
nothing. The glue knows nothing of what a page is: it keeps the caller's other
arguments (the ``limit`` above all) and

- for JSON, writes them into ``Link: <url>; rel="next"`` (RFC 8288), the same
  path with the next page's query;
- for CSV, calls the function again with them, one page and one transaction at
  a time, streaming each page out before it reads the next, until a page sets
  nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.responses import StreamingResponse


@dataclass(frozen=True)
class Page:
    """One answer of a function: its JSON text, and the arguments that change
    for the next page (None: this is the last, or the only, page)."""

    text: str
    next: dict[str, Any] | None

    @classmethod
    def of(cls, text: str | None, next_page: str | None) -> Page:
        changes = json.loads(next_page) if next_page else None
        return cls(text if text is not None else "null",
                   changes if isinstance(changes, dict) and changes else None)


def link(path: str, query: dict[str, Any], changes: dict[str, Any]) -> str | None:
    """``<path?query>; rel="next"``, the query with the next page's changes;
    None when a value cannot be written in a query (null, a JSON object or list)."""
    merged = {**query, **changes}
    if not all(isinstance(v, str | int | float) for v in merged.values()):
        return None
    text = urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in merged.items()})
    return f'<{quote(path)}?{text}>; rel="next"'


def _csv_rows(text: str, columns: tuple[str, ...]) -> str:
    """A JSON list of objects as CSV lines; nested values as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in json.loads(text) or []:
        values = (row.get(c) for c in columns)
        writer.writerow([
            json.dumps(v) if isinstance(v, dict | list)
            else str(v).lower() if isinstance(v, bool)
            else v
            for v in values
        ])
    return out.getvalue()


def csv_response(
    first: Page,
    args: dict[str, Any],
    fetch: Callable[[dict[str, Any]], Awaitable[Page]],
    columns: tuple[str, ...],
) -> StreamingResponse:
    """The whole list as CSV: ``first`` (already read, so that its errors still
    have their status), then every following page, ``fetch``-ed with ``args``
    and the changes each page names.

    An error after the first page cannot change the status any more: it
    aborts the answer, so a cut-off CSV never looks complete.
    """

    async def lines() -> AsyncIterator[str]:
        page, current = first, args
        yield ",".join(columns) + "\n" + _csv_rows(page.text, columns)
        while page.next is not None:
            current = {**current, **page.next}
            page = await fetch(current)
            yield _csv_rows(page.text, columns)

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8")
