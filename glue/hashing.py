"""Password hashing (bcrypt) off the event loop, at a lower CPU priority.

bcrypt at cost 12 takes about a quarter of a second of one core. It runs on
a small thread pool of its own (``Settings.hashing_threads``: one per core
but one for a process alone, shared out among the processes of a
``--workers N`` serve), so a login never blocks the event loop. Those
threads also run at a lower scheduling priority (``nice`` +10, Linux: a
thread's own), so that during a login storm the event loops and
PostgreSQL get the CPU first whenever they want it, and logins take what
is left: event ingestion is not starved, and logins still use every idle
core.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

# Added to the hashing threads' nice value (lower priority; never needs privileges).
NICENESS = 10
T = TypeVar("T")


def _lower_priority() -> None:
    # On Linux a thread is a schedulable task of its own: PRIO_PROCESS with
    # its native id changes that thread only. Elsewhere it would change the
    # whole process, so it is left alone.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS)


class Hashing:
    """A process's bcrypt threads."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="bcrypt", initializer=_lower_priority
        )

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on a hashing thread; the event loop keeps serving meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
