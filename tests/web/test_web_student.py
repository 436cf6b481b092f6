"""A student in Chromium: registers, takes an exam with every question kind
while the monitoring module watches (tab hidden, offline and back, copy,
paste), reloads mid-exam, submits and sees the score. The student's clock
is two hours fast: the countdown and the events' times follow the server's."""

from __future__ import annotations

import re
import uuid

import psycopg
from playwright.sync_api import expect

from tests.accounts import PASSWORD, create_user, login
from tests.exams import create_exam
from tests.web.browser import check_page, hash_ids, login_ui, set_hidden

SKEW_MS = 2 * 3600 * 1000
FAST_CLOCK = f"(() => {{ const real = Date.now; Date.now = () => real() + {SKEW_MS}; }})();"


def _minutes_left(page) -> float:
    text = page.locator(".countdown").inner_text()
    found = re.match(r"(\d+) min (\d+) s", text)
    assert found, text
    return int(found[1]) + int(found[2]) / 60


def _wait_state(page, state: str, timeout: float = 15_000) -> None:
    expect(page.locator(".question .save-state")).to_have_attribute(
        "data-state", state, timeout=timeout)


def _state(page) -> str:
    return page.locator(".question .save-state").get_attribute("data-state")


def test_student_takes_an_exam_with_every_kind(http, migrated_db, new_context, open_page):
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    title = f"Every kind {uuid.uuid4().hex[:6]}"
    exam = create_exam(http, teacher, title=title)
    questions = {q["kind"]: q for q in exam["questions"]}

    context = new_context()
    context.add_init_script(FAST_CLOCK)
    page = open_page(context)

    # register
    page.goto("/#/register")
    check_page(page, "register", "register")
    page.get_by_label("Full name").fill("Browser Student")
    page.get_by_label("Email").fill(f"browser-{uuid.uuid4().hex[:10]}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Your dashboard").wait_for()
    check_page(page, "student-dashboard", "student-dashboard")

    # start
    page.get_by_role("link", name=f"Start {title}").click()
    page.get_by_role("button", name="Start the exam").wait_for()
    check_page(page, "exam-intro", "take-exam")
    page.get_by_role("button", name="Start the exam").click()
    page.locator(".question").wait_for()
    assert 29 <= _minutes_left(page) <= 30, "the countdown follows the server's clock, not ours"
    ends = re.search(r"ends at (\S+)", page.get_by_text(re.compile(r"ends at")).inner_text())[1]
    question = page.locator(".question")

    # 1 single choice, 2 multiple choice, 3 true or false
    question.get_by_label("4", exact=True).check()
    _wait_state(page, "saved")
    page.get_by_role("button", name="Next question").click()
    question.get_by_label("2", exact=True).check()
    question.get_by_label("4", exact=True).check()
    _wait_state(page, "saved")
    page.get_by_role("button", name="Next question").click()

    # the tab goes behind another one for a moment
    set_hidden(page, True)
    page.wait_for_timeout(1200)
    set_hidden(page, False)
    question.get_by_label("False", exact=True).check()
    _wait_state(page, "saved")
    page.get_by_role("button", name="Next question").click()

    # 4 numeric, offline: kept, retried, saved when the network is back
    context.set_offline(True)
    assert page.evaluate("() => navigator.onLine") is False
    question.get_by_label("Your answer (a number)").fill("3.14")
    _wait_state(page, "retrying")
    assert "retrying" in question.locator(".save-state").inner_text()
    page.locator(".question .prompt").dispatch_event("copy")
    check_page(page, "exam-offline", "take-exam")
    context.set_offline(False)
    _wait_state(page, "saved", 20_000)
    page.get_by_role("button", name="Next question").click()

    # 5 short text, with a paste
    answer = question.get_by_label("Your answer")
    answer.dispatch_event("paste")
    answer.fill("Paris")
    _wait_state(page, "saved")
    check_page(page, "exam-taking", "take-exam", readme="exam")

    # a reload mid-exam: the same attempt, its answers and its timer
    before = _minutes_left(page)
    page.reload()
    page.locator(".question").wait_for()
    resumed = page.get_by_text(re.compile(r"ends at")).inner_text()
    assert re.search(r"ends at (\S+)", resumed)[1] == ends
    assert "resumed" in resumed
    assert 0 < _minutes_left(page) <= before + 0.05
    assert question.get_by_label("4", exact=True).is_checked()
    assert _state(page) == "saved"
    page.get_by_role("button", name=re.compile(r"^Question 4,")).click()
    assert question.get_by_label("Your answer (a number)").input_value() == "3.14"
    page.get_by_role("button", name=re.compile(r"^Question 5,")).click()
    assert question.get_by_label("Your answer").input_value() == "Paris"
    page.get_by_role("button", name=re.compile(r"^Question 2,")).click()
    assert question.get_by_label("2", exact=True).is_checked()
    assert question.get_by_label("4", exact=True).is_checked()

    # submit, confirmed, then the result
    page.get_by_role("button", name="Submit the exam").click()
    dialog = page.get_by_role("dialog", name="Submit your answers?")
    assert "5 of 5" in dialog.inner_text()
    check_page(page, "exam-submit-dialog", "take-exam")
    dialog.get_by_role("button", name="Submit").click()
    page.get_by_role("heading", name=f"Result: {title}").wait_for()
    assert "7 / 7" in page.locator(".result").inner_text()
    check_page(page, "exam-result", "exam-result")
    exam_id, attempt_id = hash_ids(page)
    assert exam_id == exam["id"]

    # what the module recorded: each event once, offline ones included, at the server's time
    with psycopg.connect(migrated_db) as conn:
        rows = conn.execute(
            "SELECT event_type::text, client_event_id, payload, occurred_at, received_at"
            " FROM app.monitoring_events WHERE attempt_id = %s", [attempt_id]).fetchall()
    counts: dict[str, int] = {}
    for kind, *_ in rows:
        counts[kind] = counts.get(kind, 0) + 1
    assert len({r[1] for r in rows}) == len(rows)
    assert counts.get("tab_hidden") == 1 and counts.get("tab_visible") == 1, counts
    assert counts.get("network_offline") == 1 and counts.get("network_online") == 1, counts
    assert counts.get("copy") == 1, "the copy made offline arrived, once"
    assert counts.get("paste") == 1 and counts.get("heartbeat", 0) >= 1, counts
    assert "devtools_open" not in counts, "no false devtools_open in a plain window"
    paste = next(r for r in rows if r[0] == "paste")
    assert paste[2] == {"question_id": questions["short_text"]["id"]}
    copy = next(r for r in rows if r[0] == "copy")
    assert copy[2] == {"question_id": questions["numeric"]["id"]}
    offline = next(r for r in rows if r[0] == "network_offline")
    assert offline[4] > offline[3], "sent after the network came back"
    for kind, _, _, occurred, received in rows:
        assert abs((received - occurred).total_seconds()) < 60, (kind, occurred, received)


def test_who_read_my_records(http, migrated_db, open_page):
    student = create_user(migrated_db, "student")
    page = open_page()
    login_ui(page, student["email"])
    page.get_by_role("link", name="Who read my records").click()
    page.get_by_role("heading", name="Who has read my records").wait_for()
    expect(page.locator("main")).to_contain_text("Nobody has been shown your records yet.")
    check_page(page, "disclosures", "disclosures")


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def _fits(page) -> None:
    """Nothing wider than the screen: wide tables scroll inside their own box."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_an_exam_on_a_phone(http, migrated_db, new_context, open_page):
    teacher = login(http, create_user(migrated_db, "teacher")["email"])
    title = f"Phone {uuid.uuid4().hex[:6]}"
    create_exam(http, teacher, title=title)
    student = create_user(migrated_db, "student")
    page = open_page(new_context(**PHONE))
    login_ui(page, student["email"])
    page.get_by_role("heading", name="Your dashboard").wait_for()
    _fits(page)
    check_page(page, "phone-dashboard", "student-dashboard")
    page.get_by_role("link", name=f"Start {title}").tap()
    page.get_by_role("button", name="Start the exam").tap()
    page.locator(".question").wait_for()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_focused()
    page.locator(".question").get_by_label("4", exact=True).tap()
    _wait_state(page, "saved")
    _fits(page)
    check_page(page, "phone-exam", "take-exam")
