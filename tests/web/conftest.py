"""Browser tests: the web app in Debian's Chromium, driven by Playwright for
Python, against the real glue and database of the test session.

Playwright's own browser download cannot work on these machines: the tests
launch the system's ``chromium`` (scripts/test installs it when missing) and
fail, never skip, when it is absent.

Each page a test reaches is checked with ``check_page``: a screenshot saved
as an artefact (``.artifacts/screenshots/``, or ``VERITAS_SCREENSHOTS``) and
axe-core (vendored, tests/web/vendor/axe-core) run on it, failing on any
serious or critical violation. With ``VERITAS_README_SCREENSHOTS=<folder>``
the README's screenshots are written there too (``scripts/screenshots``).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from glue import worker
from tests.databases import app_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module (Playwright's sync API owns an event loop
    while it runs: it is stopped before the next module's tests)."""
    path = shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: scripts/test installs it "
                    "(apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_context(browser: Browser, live) -> Iterator[Callable[..., BrowserContext]]:
    """Browser contexts (one per person) on the live glue; closed afterwards."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 860})
        context = browser.new_context(base_url=live.base_url, locale="en-GB",
                                      timezone_id="UTC", **options)
        context.set_default_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


class Watched:
    """A page with the problems it showed: uncaught errors, CSP refusals, alert()s."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def open_page(new_context) -> Iterator[Callable[..., Page]]:
    """open_page(context=None) -> a Page whose errors fail the test at its end."""
    watched: list[Watched] = []

    def make(context: BrowserContext | None = None) -> Page:
        page = (context or new_context()).new_page()
        watched.append(Watched(page))
        return page

    yield make
    problems = [p for w in watched for p in w.problems]
    dialogs = [d for w in watched for d in w.dialogs]
    assert not problems, problems
    assert not dialogs, f"a page opened a dialog (alert, confirm...): {dialogs}"


@pytest.fixture
def running_worker(migrated_db: str) -> Iterator[None]:
    """The real worker loop, as `veritas up` runs it, for this test only."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            worker.run(app_url(migrated_db), once=True)
            stop.wait(0.5)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=20)


