"""Helpers of the browser tests (tests/web/): pages checked (a screenshot and
axe-core), logging in through the page, waiting for a condition, reading the
page's address, hiding the tab. The fixtures are in conftest.py."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.accounts import PASSWORD

REPO = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
SCREENSHOTS = Path(os.environ.get("VERITAS_SCREENSHOTS") or REPO / ".artifacts" / "screenshots")
README_SHOTS = os.environ.get("VERITAS_README_SCREENSHOTS")
PAGES = REPO / "web" / "js" / "pages"
WAIT_SECONDS = 30
# Pages checked by check_page in this session, by page module.
CHECKED: set[str] = set()


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
