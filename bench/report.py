"""The harness's figures, and the JSON file and Markdown table they make."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """One measure of one scenario, with the ceiling it is compared with
    (measured in the same run) and the issue's target, where there is one."""

    scenario: str
    measure: str
    value: float | None
    unit: str
    ceiling: float | None = None
    ceiling_label: str = ""
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.ceiling:
            return None
        return round(self.value / self.ceiling, 3)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def markdown(figures: list[Figure], header: str) -> str:
    lines = [header, "",
             "| scenario | measure | value | ceiling (same run) | ratio | target |",
             "| --- | --- | --- | --- | --- | --- |"]
    for f in figures:
        ceiling = f"{number(f.ceiling)} ({f.ceiling_label})" if f.ceiling is not None else ""
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        lines.append(f"| {f.scenario} | {f.measure} | {number(f.value)} {f.unit} | {ceiling} "
                     f"| {ratio} | {f.target} |")
    return "\n".join(lines) + "\n"


def write_json(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")


def write(folder: Path, stem: str, meta: dict[str, Any],
          figures: list[Figure]) -> tuple[Path, Path]:
    """``<stem>.json`` and ``<stem>.md`` in ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json = folder / f"{stem}.json"
    write_json(as_json, {"meta": meta, "figures": [f.as_json() for f in figures]})
    header = (f"# Veritas benchmark, {meta['started']}\n\n"
              f"{meta['machine']}; database: {meta.get('database', 'one PostgreSQL')}; "
              f"data: {meta['data']}; command: `{meta['command']}`")
    text = markdown(figures, header)
    if meta.get("failed"):
        text += "\nFailed scenarios (no figure): " + ", ".join(meta["failed"]) + "\n"
    if meta.get("warnings"):
        text += "\nRuns whose answers were not all as expected:\n\n" + "".join(
            f"- {w}\n" for w in meta["warnings"])
    as_md = folder / f"{stem}.md"
    as_md.write_text(text)
    return as_json, as_md
