"""glue/web.py: the web app is served at / and /app/... with a strict CSP,
and web/ keeps the rules that let the CSP stay strict (no inline script or
style, no HTML from strings, no other origin, one module that calls fetch)."""

from __future__ import annotations

import re
from pathlib import Path

from glue import web

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def test_the_app_and_its_files_carry_the_headers(http):
    for path, kind in (("/", "text/html"), ("/app/js/api.js", "text/javascript"),
                       ("/app/css/app.css", "text/css"), ("/app/monitor/monitor.js",
                                                          "text/javascript")):
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith(kind), path
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.headers["etag"]
    assert http.get("/", headers={"If-None-Match": http.get("/").headers["etag"]}).status_code in (
        200, 304)


def test_unknown_files_are_the_contracts_404(http):
    for path in ("/app/nothing.js", "/app/../glue/settings.py", "/app/%2e%2e/pyproject.toml"):
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert set(answer.json()) == {"code", "message", "details", "hint"}


def test_the_api_is_unchanged(http):
    assert http.get("/health").json() == {"status": "ok", "database": "ok"}
    assert http.get("/student/dashboard").status_code == 401


def test_web_dir_is_found():
    assert web.web_dir() == WEB


def _files(*suffixes: str) -> list[Path]:
    return [p for p in WEB.rglob("*") if p.suffix in suffixes]


def test_no_inline_script_or_style_and_no_other_origin():
    for page in _files(".html"):
        text = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), page
        assert "<style" not in text and " style=" not in text, page
        assert not re.search(r"\son[a-z]+=", text), page
    for file in _files(".html", ".js", ".css", ".svg"):
        text = file.read_text()
        origins = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not origins, (file, origins)


def _code(file: Path) -> str:
    """A JavaScript file without its comments."""
    text = re.sub(r"/\*.*?\*/", "", file.read_text(), flags=re.S)
    return re.sub(r"(^|\s)//[^\n]*", "", text)


def test_values_never_become_html():
    for file in _files(".js"):
        text = _code(file)
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                     "new Function", ".style."):
            assert sink not in text, (file, sink)


def test_only_the_api_module_and_the_monitor_call_fetch():
    callers = {p.relative_to(WEB).as_posix() for p in _files(".js") if "fetch(" in _code(p)}
    assert callers == {"js/api.js", "monitor/monitor.js"}


def test_the_monitor_is_standalone():
    text = _code(WEB / "monitor" / "monitor.js")
    assert not re.search(r"^\s*import\s", text, re.M)
    for never in ("clipboardData", "readText", "getDisplayMedia", "getUserMedia", "event.key",
                  ".key ", "innerText", "textContent", ".value;", ".value)", "selection"):
        assert never not in text, never


def test_every_page_has_a_browser_test_with_an_accessibility_check():
    tests = "\n".join(p.read_text() for p in (REPO / "tests" / "web").glob("test_*.py"))
    checked = set(re.findall(r'check_page\(\s*\w+,\s*"[^"]+",\s*"([^"]+)"', tests))
    pages = {p.stem for p in (WEB / "js" / "pages").glob("*.js")}
    assert pages == checked, pages ^ checked
