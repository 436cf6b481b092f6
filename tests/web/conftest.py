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

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from glue import worker
from tests.accounts import PASSWORD
from tests.conftest import app_url

REPO = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
SCREENSHOTS = Path(os.environ.get("VERITAS_SCREENSHOTS") or REPO / ".artifacts" / "screenshots")
README_SHOTS = os.environ.get("VERITAS_README_SCREENSHOTS")
PAGES = REPO / "web" / "js" / "pages"
WAIT_SECONDS = 30

# Pages checked by check_page in this session, by page module.
CHECKED: set[str] = set()


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


def check_page(page: Page, name: str, module: str, readme: str | None = None) -> None:
    """Screenshot the page, then fail on any serious or critical axe-core violation."""
    page.locator("main h1").first.wait_for()
    page.locator("main .loading").wait_for(state="detached")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if README_SHOTS and readme:
        folder = Path(README_SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{readme}.png"))
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    assert page.evaluate("() => axe.version") == AXE_VERSION
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
    )
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name}: accessibility violations: {serious}"
    assert (PAGES / f"{module}.js").is_file(), module
    CHECKED.add(module)


def login_ui(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/#/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator("#nav .user").wait_for()
    page.locator("main h1").first.wait_for()


def eventually(fetch: Callable[[], Any], ready: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = fetch()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready within {WAIT_SECONDS} s: {value}")
        time.sleep(0.3)


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


def hash_ids(page: Page) -> list[str]:
    """The uuids in the page's address (#/...)."""
    return re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page.url)


def set_hidden(page: Page, hidden: bool) -> None:
    """What the browser does when the tab goes behind another (headless has no tabs to switch)."""
    page.evaluate(
        """hidden => {
            if (hidden) {
                const own = (name, value) => Object.defineProperty(
                    document, name, {configurable: true, get: () => value});
                own('visibilityState', 'hidden');
                own('hidden', true);
            } else {
                delete document.visibilityState;
                delete document.hidden;
            }
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )
