"""CPU time spent by PostgreSQL servers, read from /proc: what a run cost each
node of a cluster (one server, or a Citus coordinator and its workers).

A server's CPU time is its postmaster's own time, the time of the children
it has already reaped (``cutime`` and ``cstime``: backends that ended), and
the time of the children still alive (pooled connections). The difference
between two readings is what the server spent in between, in CPU seconds,
whichever core it ran on: the figure a planning formula needs (events per
second per core), and one that the load generator sharing the machine does
not distort as much as a rate does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _postmaster(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split()[0])


def server_seconds(pgdata: Path) -> float:
    """CPU seconds used so far by the server of ``pgdata`` and its processes."""
    root = _postmaster(pgdata)
    # fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    own = _stat(root)
    ticks = sum(int(value) for value in own[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # ended while we looked
        if int(fields[1]) == root:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / TICKS


def reading(nodes: Mapping[str, Path]) -> dict[str, float]:
    """Each node's CPU seconds so far, by name."""
    return {name: server_seconds(pgdata) for name, pgdata in nodes.items()}


def spent(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds each node spent between two readings."""
    return {name: round(after[name] - before[name], 3) for name in before}
