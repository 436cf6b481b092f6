"""A teacher in Chromium: sees an attempt flagged with its tab-hidden
evidence, opens the timeline with the evidence highlighted, exports the
CSV, clears the flag with a note; authors an exam with every question kind,
publishes it, grants a colleague access and gives a student extra time."""

from __future__ import annotations

import csv
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.accounts import bearer, create_user, login, register
from tests.exams import create_exam, right_answers
from tests.web.browser import check_page, eventually, login_ui


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def flagged_attempt(http, teacher, title: str) -> dict:
    """A submitted attempt with a hidden tab and a paste right before a correct
    short answer (flagged by the built-in analyser), made over HTTP."""
    exam = create_exam(http, teacher, title=title)
    student = register(http, full_name=f"Flagged {uuid.uuid4().hex[:4]}")
    me = bearer(student)
    attempt = http.post(f"/student/exams/{exam['id']}/start", headers=me).json()
    attempt_id = attempt["attempt_id"]
    short = next(q for q in exam["questions"] if q["kind"] == "short_text")
    t = datetime.now(UTC)
    events = [("heartbeat", 0, {}), ("tab_hidden", 0.1, {}), ("tab_visible", 0.2, {}),
              ("paste", 0.3, {"question_id": short["id"]}), ("heartbeat", 0.4, {})]
    answer = http.post("/monitor/events", headers=me, json={"events": [
        {"attempt_id": attempt_id, "event_type": kind, "occurred_at": _at(t + timedelta(seconds=s)),
         "payload": payload, "client_event_id": uuid.uuid4().hex} for kind, s, payload in events]})
    assert answer.status_code == 202, answer.text
    time.sleep(0.5)
    saved = http.put(f"/student/attempts/{attempt_id}/answers/{short['id']}", headers=me,
                     json={"answer": "Paris"})
    assert saved.status_code == 200, saved.text
    answers = {k: v for k, v in right_answers(exam).items() if k != short["id"]}
    submitted = http.post(f"/student/exams/{attempt_id}/submit", headers=me,
                          json={"answers": answers})
    assert submitted.status_code == 200, submitted.text
    return {"exam": exam, "student": student, "attempt_id": attempt_id}


def test_teacher_reviews_a_flag_with_its_evidence(http, migrated_db, running_worker, open_page,
                                                 tmp_path):
    teacher_user = create_user(migrated_db, "teacher")
    teacher = login(http, teacher_user["email"])
    title = f"Integrity {uuid.uuid4().hex[:6]}"
    made = flagged_attempt(http, teacher, title)
    exam_id, attempt_id = made["exam"]["id"], made["attempt_id"]
    flagged_list = f"/teacher/exams/{exam_id}/flagged"
    eventually(lambda: http.get(flagged_list, headers=bearer(teacher)).json(),
               lambda rows: any(r["attempt_id"] == attempt_id for r in rows), "the flag")
    analysis = http.get(f"/analysis/behavior/{attempt_id}", headers=bearer(teacher)).json()
    hidden_flag = next(f for f in analysis["flags"] if f["code"] == "tab_hidden")
    timeline = http.get(f"/teacher/attempts/{attempt_id}/events", headers=bearer(teacher)).json()
    hidden_events = {e["id"] for e in timeline if e["event_type"] == "tab_hidden"}
    assert set(hidden_flag["event_ids"]) == hidden_events

    page = open_page()
    login_ui(page, teacher_user["email"])
    page.get_by_role("heading", name="Your exams").wait_for()
    check_page(page, "teacher-dashboard", "teacher-dashboard")

    # the flagged list: the attempt, pending
    page.get_by_role("link", name=f"Flagged attempts of {title}").click()
    page.get_by_role("heading", name="Flagged attempts").wait_for()
    row = page.locator("tbody tr").filter(has_text="exam tab hidden")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("pending")
    check_page(page, "flagged", "flagged")

    # the timeline: the tab_hidden event highlighted as the flag's evidence
    row.get_by_role("link", name=re.compile("Timeline and review")).click()
    page.get_by_role("heading", name="Events").wait_for()
    evidence = page.locator("tbody tr.evidence")
    hidden_row = evidence.filter(has_text="tab hidden")
    expect(hidden_row).to_have_count(1)
    expect(hidden_row).to_contain_text("tab_hidden")
    expect(page.locator("tbody tr.evidence").filter(has_text="heartbeat")).to_have_count(0)
    check_page(page, "timeline", "timeline", readme="timeline")
    flag_button = page.get_by_role("button", name=re.compile(r"^exam tab hidden"))
    flag_button.click()
    expect(flag_button).to_have_attribute("aria-pressed", "false")
    expect(page.locator("tbody tr.evidence").filter(has_text="tab hidden")).to_have_count(0)
    flag_button.click()
    expect(page.locator("tbody tr.evidence").filter(has_text="tab hidden")).to_have_count(1)

    # the CSV, fetched with the token and offered as a file
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the timeline (CSV)").click()
    path = tmp_path / "timeline.csv"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"timeline-{attempt_id}.csv"
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "event_type", "occurred_at", "received_at", "payload", "is_anomaly"]
    assert sorted(r[1] for r in rows[1:]) == sorted(e["event_type"] for e in timeline)

    # confirming needs a note; clearing with one is stored
    page.get_by_label("Confirm the flags (a note is required)").check()
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_role("alert")).to_contain_text("note")
    page.get_by_label("Clear the flags (no malpractice)").check()
    page.get_by_label("Note", exact=True).fill("The tab was hidden for a fraction of a second.")
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_role("status").filter(has_text="Review saved")).to_contain_text("cleared")
    flagged = http.get(f"/teacher/exams/{exam_id}/flagged", headers=bearer(teacher)).json()
    assert next(r for r in flagged if r["attempt_id"] == attempt_id)["review_status"] == "cleared"

    # the student, and the exam's analytics once the worker has refreshed them
    page.goto(f"/#/teacher/students/{made['student']['user']['id']}")
    page.get_by_role("heading", name=made["student"]["user"]["full_name"]).wait_for()
    expect(page.locator("tbody tr")).to_contain_text(["cleared"])
    check_page(page, "student-detail", "student-detail")
    analytics = eventually(lambda: http.get(f"/teacher/exams/{exam_id}/analytics",
                                            headers=bearer(teacher)).json(),
                           lambda a: a.get("submitted") == 1 and a.get("analysed") == 1,
                           "analytics")
    page.goto(f"/#/teacher/exams/{exam_id}/analytics")
    page.get_by_role("heading", name=f"Analytics: {title}").wait_for()
    expect(page.locator(".freshness")).to_contain_text("Figures include everything up to")
    assert page.locator(".chart svg").count() == 3
    # the integrity chart is drawn from integrity_histogram: every analysed
    # attempt (here the one, flagged and then cleared), in its band
    band = next(b for b in analytics["integrity_histogram"] if b["count"] == 1)
    chart = page.locator("details", has_text="Integrity distribution: the figures")
    chart.locator("summary").click()
    label = f"{band['from']}\N{EN DASH}{band['to']}"
    expect(chart.locator("tr", has_text=label)).to_contain_text("1")
    expect(chart.locator("tbody tr")).to_have_count(10)
    check_page(page, "exam-analytics", "exam-analytics", readme="analytics")


def test_teacher_creates_an_exam_with_every_kind(http, migrated_db, open_page):
    teacher_user = create_user(migrated_db, "teacher")
    colleague = create_user(migrated_db, "teacher")
    student = create_user(migrated_db, "student")
    page = open_page()
    login_ui(page, teacher_user["email"])
    page.get_by_role("link", name="New exam").click()
    page.get_by_role("heading", name="New exam").wait_for()
    title = f"Authored {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Made in the browser.")
    page.get_by_label("Publish now").uncheck()

    specs = [
        ("single_choice", "Largest planet?", "Mars\nJupiter\nVenus", "Jupiter", None),
        ("multiple_choice", "Gas giants?", "Mars\nJupiter\nSaturn", "Jupiter\nSaturn", None),
        ("true_false", "Pluto is a planet.", None, "false", None),
        ("numeric", "Planets in the solar system?", None, "8", "0"),
        ("short_text", "Closest star?", None, "the Sun\nSun", None),
    ]
    for index, (kind, prompt, options, correct, tolerance) in enumerate(specs):
        if index:
            page.get_by_role("button", name="Add a question").click()
        q = page.locator("fieldset.question-editor").nth(index)
        q.get_by_label("Kind").select_option(kind)
        q.get_by_label("Prompt").fill(prompt)
        if options:
            q.get_by_label("Options (one per line)").fill(options)
        if kind == "true_false":
            q.locator("select").nth(1).select_option(correct)
        elif kind == "numeric":
            q.get_by_label("Correct answer", exact=True).locator("visible=true").fill(correct)
            q.get_by_label("Tolerance (optional)").fill(tolerance)
        else:
            q.locator("textarea:visible").nth(2 if options else 1).fill(correct)
    check_page(page, "exam-editor", "exam-editor")
    page.get_by_role("button", name="Create the exam").click()
    page.get_by_role("heading", name=title).wait_for()
    expect(page.get_by_role("status")).to_contain_text("as a draft")
    check_page(page, "exam-manage", "exam-manage")
    exam_id = page.url.split("/teacher/exams/")[1].split("?")[0]

    page.get_by_role("button", name="Publish the exam").click()
    expect(page.get_by_role("status").filter(has_text="Published")).to_be_visible()
    page.get_by_label("The teacher's user id").fill(colleague["id"])
    page.get_by_role("button", name="Grant access").click()
    expect(page.get_by_role("status").filter(has_text="Access granted")).to_be_visible()
    page.get_by_label("The student's user id").fill(student["id"])
    page.get_by_label("Extra minutes").fill("20")
    page.get_by_role("button", name="Set extra time").click()
    expect(page.get_by_role("status").filter(has_text="Extra time set")).to_be_visible()

    exam = http.get("/rpc/get_exam", params={"exam_id": exam_id},
                    headers=bearer(login(http, teacher_user["email"]))).json()
    assert exam["published"] is True
    assert [(q["kind"], q["prompt"], q["options"], q["correct"]) for q in exam["questions"]] == [
        ("single_choice", "Largest planet?", ["Mars", "Jupiter", "Venus"], "Jupiter"),
        ("multiple_choice", "Gas giants?", ["Mars", "Jupiter", "Saturn"], ["Jupiter", "Saturn"]),
        ("true_false", "Pluto is a planet.", [], False),
        ("numeric", "Planets in the solar system?", [], 8),
        ("short_text", "Closest star?", [], ["the Sun", "Sun"]),
    ]
    shared = http.get(f"/teacher/exams/{exam_id}/analytics",
                      headers=bearer(login(http, colleague["email"])))
    assert shared.status_code == 200, "the colleague was granted access"
    detail = http.get(f"/student/exams/{exam_id}",
                      headers=bearer(login(http, student["email"]))).json()
    assert detail["exam"]["extra_minutes"] == 20


def test_teacher_finds_people_by_name_and_edits_a_question_just_added(http, migrated_db,
                                                                    open_page):
    teacher_user = create_user(migrated_db, "teacher")
    teacher = login(http, teacher_user["email"])
    colleague = create_user(migrated_db, "teacher")
    exam = create_exam(http, teacher, title=f"People {uuid.uuid4().hex[:6]}")
    tag = uuid.uuid4().hex[:8]
    seen = register(http, email=f"seen-{tag}@example.org", full_name=f"Seen Student {tag}")
    unseen = register(http, email=f"unseen-{tag}@example.org", full_name=f"Unseen Student {tag}")
    started = http.post(f"/student/exams/{exam['id']}/start", headers=bearer(seen))
    assert started.status_code == 201, started.text

    page = open_page()
    login_ui(page, teacher_user["email"])
    page.goto(f"/#/teacher/exams/{exam['id']}")
    page.get_by_role("heading", name=exam["title"]).wait_for()

    # A question added is editable at once, without a reload.
    count = len(exam["questions"])
    new = page.locator("fieldset.question-editor").last
    new.get_by_label("Kind").select_option("true_false")
    new.get_by_label("Prompt").fill("Added in the browser.")
    page.get_by_role("button", name="Add this question").click()
    expect(page.get_by_role("status").filter(has_text="added")).to_contain_text(
        f"Question {count + 1} added")
    added = page.locator("fieldset.question-editor").nth(count)
    expect(added.get_by_label("Prompt")).to_have_value("Added in the browser.")
    added.get_by_label("Prompt").fill("Edited at once.")
    page.get_by_role("button", name=f"Save question {count + 1}").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text(
        f"Question {count + 1} saved")
    expect(page.locator("fieldset.question-editor").last.get_by_label("Prompt")).to_have_value("")
    stored = http.get("/rpc/get_exam", params={"exam_id": exam["id"]},
                      headers=bearer(teacher)).json()
    assert [q["prompt"] for q in stored["questions"]][-1] == "Edited at once."
    assert len(stored["questions"]) == count + 1, "added once, then edited, not added again"

    # Another teacher, found by email.
    page.get_by_label("Find a teacher").fill(colleague["email"].upper())
    page.get_by_role("button", name="Search teachers").click()
    chosen = f"Choose {colleague['full_name']} ({colleague['email']})"
    page.get_by_role("button", name=chosen).click()
    expect(page.get_by_label("The teacher's user id")).to_have_value(colleague["id"])
    expect(page.get_by_role("button", name="Grant access")).to_be_focused()
    page.get_by_role("button", name="Grant access").click()
    expect(page.get_by_role("status").filter(has_text="Access granted")).to_be_visible()
    shared = http.get(f"/teacher/exams/{exam['id']}/analytics",
                      headers=bearer(login(http, colleague["email"])))
    assert shared.status_code == 200, "the colleague was granted access"

    # A student the teacher cannot see is not found; one of their exam is.
    page.get_by_label("Find a student").fill(unseen["user"]["email"])
    page.get_by_role("button", name="Search students").click()
    expect(page.get_by_text("No student of your exams matches")).to_be_visible()
    assert unseen["user"]["full_name"] not in page.locator("main").inner_text()
    page.get_by_label("Find a student").fill(f"student {tag}")
    page.get_by_role("button", name="Search students").click()
    choose = page.get_by_role("button", name=re.compile(r"^Choose "))
    expect(choose).to_have_count(1)
    expect(choose).to_have_text(f"Choose {seen['user']['full_name']} ({seen['user']['email']})")
    check_page(page, "exam-manage-people", "exam-manage")
    choose.click()
    expect(page.get_by_label("The student's user id")).to_have_value(seen["user"]["id"])
    page.get_by_label("Extra minutes").fill("25")
    page.get_by_role("button", name="Set extra time").click()
    expect(page.get_by_role("status").filter(has_text="Extra time set")).to_be_visible()
    detail = http.get(f"/student/exams/{exam['id']}", headers=bearer(seen)).json()
    assert detail["exam"]["extra_minutes"] == 25
