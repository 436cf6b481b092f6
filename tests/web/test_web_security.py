"""Hardening in the browser: values are text, never HTML; the CSP refuses
inline script; a student typing a teacher's address sees the API's refusal
and no data; two tabs refresh at once without revoking the session; logout
clears everything, in every tab."""

from __future__ import annotations

import uuid

import httpx
import psycopg
from playwright.sync_api import expect

from tests.accounts import bearer, create_user, login, register
from tests.exams import create_exam
from tests.web.browser import check_page, login_ui

XSS = "<img src=x onerror=alert(1)>"


def test_an_exam_title_is_shown_as_text(http, migrated_db, open_page):
    teacher_user = create_user(migrated_db, "teacher")
    teacher = login(http, teacher_user["email"])
    exam = create_exam(http, teacher, title=XSS, description="<script>alert(2)</script>")
    student = create_user(migrated_db, "student")

    page = open_page()
    page.goto("/")
    check_page(page, "login", "login", readme="login")
    login_ui(page, student["email"])
    page.get_by_role("heading", name="Your dashboard").wait_for()
    expect(page.get_by_text(XSS, exact=True)).to_be_visible()
    expect(page.get_by_text("<script>alert(2)</script>", exact=True)).to_be_visible()
    page.goto(f"/#/student/exams/{exam['id']}")
    expect(page.get_by_role("heading", name=XSS)).to_be_visible()
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0

    teacher_page = open_page()
    login_ui(teacher_page, teacher_user["email"])
    expect(teacher_page.get_by_role("link", name=XSS, exact=True)).to_be_visible()
    assert teacher_page.locator("main img").count() == 0
    # no alert() ran: open_page fails the test on any dialog


def test_the_csp_refuses_inline_script(new_context):
    page = new_context().new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text
            else None)
    page.goto("/")
    page.locator("main h1").wait_for()
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.append(s);
        const d = document.createElement('div');
        d.setAttribute('onclick', 'window.__handler = 1');
        document.body.append(d);
        d.click();
    }""")
    assert page.evaluate("() => [window.__inline, window.__handler]") == [None, None]
    assert refused, "the browser reported the refusals"


def test_a_student_typing_a_teacher_address_sees_the_refusal(http, migrated_db, open_page):
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    exam = create_exam(http, teacher, title=f"Secret {uuid.uuid4().hex[:6]}")
    student = create_user(migrated_db, "student")
    page = open_page()
    login_ui(page, student["email"])
    for address in (f"/#/teacher/exams/{exam['id']}/analytics", "/#/teacher",
                    f"/#/teacher/exams/{exam['id']}/flagged", "/#/admin/audit"):
        page.goto(address)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("You are not allowed to do this")
        assert page.locator("main .stats, main .chart, main table").count() == 0, address
        assert exam["title"] not in page.locator("main").inner_text()


def _family_revoked(migrated_db: str, user_id: str) -> bool:
    with psycopg.connect(migrated_db) as conn:
        (reused,) = conn.execute(
            "SELECT count(*) FROM audit.security_events WHERE user_id = %s"
            " AND kind = 'reuse_detected'", [user_id]).fetchone()
    return reused > 0


def test_two_tabs_refresh_at_once_and_logout_clears_everything(http, migrated_db, new_context,
                                                               open_page):
    student = register(http)
    user_id = student["user"]["id"]
    context = new_context()
    first = open_page(context)
    login_ui(first, student["user"]["email"])
    second = open_page(context)
    second.goto("/#/student")  # a new tab: resumes the session with the refresh token
    second.get_by_role("heading", name="Your dashboard").wait_for()

    # Both tabs refresh at the very same moment, several times each.
    kick = """() => { window.__done = import('/app/js/api.js').then(m => Promise.all(
        [m.refresh(), new Promise(r => setTimeout(r, 5)).then(() => m.refresh())])); }"""
    for _ in range(3):
        first.evaluate(kick)
        second.evaluate(kick)
        assert first.evaluate("() => window.__done") == [True, True]
        assert second.evaluate("() => window.__done") == [True, True]
    me = "() => import('/app/js/api.js').then(m => m.get('/auth/me')).then(u => u.id)"
    assert first.evaluate(me) == user_id
    assert second.evaluate(me) == user_id
    assert not _family_revoked(migrated_db, user_id), "no refresh token was presented twice"

    # Logout in one tab: the session ends on the server, the other tab follows.
    api = "() => import('/app/js/api.js')"
    assert first.evaluate(f"{api}.then(m => m.hasStoredSession())") is True
    kept = first.evaluate("""() => new Promise(resolve => {
        const open = indexedDB.open('veritas-session');
        open.onsuccess = () => {
            const read = open.result.transaction('kv').objectStore('kv').get('refresh_token');
            read.onsuccess = () => resolve(read.result);
        };
    })""")
    first.get_by_role("button", name="Log out").click()
    first.get_by_role("heading", name="Log in to Veritas").wait_for()
    second.get_by_role("heading", name="Log in to Veritas").wait_for()
    for page in (first, second):
        assert page.evaluate(
            "() => Object.keys(localStorage).concat(Object.keys(sessionStorage))"
            ".filter(k => k.startsWith('veritas.'))") == []
        assert page.evaluate(f"{api}.then(m => m.user())") is None
        assert page.evaluate(f"{api}.then(m => m.hasStoredSession())") is False
    assert http.post("/auth/refresh", json={"refresh_token": kept}).status_code == 401
    with httpx.Client(base_url=http.base_url) as other:
        assert other.get("/student/dashboard", headers=bearer(student)).status_code in (200, 401)


# What an insecure context (plain http:// to a host that is not localhost)
# looks like to the app: no Web Locks. And a slow network: each refresh
# takes a second to leave, so that two tabs refreshing at one moment both
# read the stored token before either has replaced it.
NO_WEB_LOCKS_SLOW_REFRESH = """
Object.defineProperty(Navigator.prototype, 'locks', {configurable: true, get: () => undefined});
const realFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : input.url;
  const go = () => realFetch.call(this, input, init);
  return url.endsWith('/auth/refresh') ? new Promise(r => setTimeout(r, 1000)).then(go) : go();
};
"""


def _twins(migrated_db: str, user_id: str) -> int:
    with psycopg.connect(migrated_db) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM audit.security_events WHERE user_id = %s AND kind = 'refresh'"
            " AND (details ->> 'reuse_interval')::boolean", [user_id]).fetchone()
    return int(count)


def test_two_tabs_without_web_locks_refresh_at_once_and_stay_logged_in(http, migrated_db,
                                                                      new_context, open_page):
    """Without Web Locks each tab refreshes on its own: two tabs present the
    same refresh token at the same moment, and the server's reuse interval
    answers both with the same new token."""
    student = register(http)
    user_id = student["user"]["id"]
    context = new_context()
    context.add_init_script(NO_WEB_LOCKS_SLOW_REFRESH)
    login_ui(open_page(context), student["user"]["email"])
    # Two tabs opened together: each resumes the session with the stored token.
    first, second = open_page(context), open_page(context)
    first.goto("/#/student", wait_until="commit")
    second.goto("/#/student", wait_until="commit")
    for page in (first, second):
        page.get_by_role("heading", name="Your dashboard").wait_for()
        assert page.evaluate("() => navigator.locks === undefined")
    assert _twins(migrated_db, user_id) == 1, "the two tabs resumed with the same token"

    # Both tabs refresh at one instant of the browser's clock, three times.
    at_once = """at => { window.__done = import('/app/js/api.js').then(m =>
        new Promise(r => setTimeout(r, at - Date.now())).then(() => m.refresh())); }"""
    for _ in range(3):
        at = first.evaluate("() => Date.now()") + 300
        first.evaluate(at_once, at)
        second.evaluate(at_once, at)
        assert first.evaluate("() => window.__done") is True
        assert second.evaluate("() => window.__done") is True
    assert _twins(migrated_db, user_id) == 4, "each time, the second tab was a twin"
    me = "() => import('/app/js/api.js').then(m => m.get('/auth/me')).then(u => u.id)"
    assert first.evaluate(me) == user_id
    assert second.evaluate(me) == user_id
    assert not _family_revoked(migrated_db, user_id), "no reuse was detected"
    # The token both tabs hold is the live one: a reload resumes the session.
    second.reload()
    second.get_by_role("heading", name="Your dashboard").wait_for()
    assert second.evaluate(me) == user_id
