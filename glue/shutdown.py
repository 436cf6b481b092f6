"""SIGTERM and SIGINT: one orderly stop for ``veritas up``, ``serve`` and ``worker``.

SIGTERM (what systemd, Docker and Kubernetes send) and SIGINT (Ctrl-C) mean
the same: stop. While a command is starting (migrating, loading demo data),
a signal raises ``KeyboardInterrupt`` at once, so the command unwinds
through its ``finally`` blocks (the private PostgreSQL it started stops).
Once it serves, the signal is handed to the parts that registered with
``on_stop`` (the HTTP server, the worker): they finish what is in flight,
within ``VERITAS_SHUTDOWN_GRACE`` seconds, and return. A second signal
forces the stop: what is still running is cancelled (a cancelled
transaction rolls back; the analysis jobs it had claimed are queued again).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)

# Called with True when the stop is forced (a second signal).
Listener = Callable[[bool], None]


class Shutdown:
    """The stop a signal asked for, and who must hear of it."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.forced = threading.Event()
        self.signal_name: str | None = None
        self._listeners: list[Listener] = []

    def on_stop(self, listener: Listener) -> None:
        """Tell ``listener`` of the stop (at once, if one was already asked for)."""
        self._listeners.append(listener)
        if self.requested.is_set():
            listener(self.forced.is_set())

    def request(self, forced: bool = False) -> None:
        """Ask for a stop, as a signal does."""
        if self.requested.is_set():
            forced = True
        self.requested.set()
        if forced:
            self.forced.set()
        for listener in list(self._listeners):
            listener(forced)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        if not self._listeners:
            # still starting: unwind at once (the finally blocks clean up)
            self.requested.set()
            raise KeyboardInterrupt
        self.request()

    @contextlib.contextmanager
    def handling_signals(self) -> Iterator[Shutdown]:
        """SIGTERM and SIGINT handled by this object while the block runs
        (in the main thread only: elsewhere Python cannot take signals)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
