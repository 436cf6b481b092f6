"""Authoring exams and answering them right, for the HTTP tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.accounts import bearer


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC, as the API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def questions() -> list[dict[str, Any]]:
    """One question of every kind, 7 points in all."""
    return [
        {"kind": "single_choice", "prompt": "2 + 2?", "options": ["3", "4", "5"],
         "correct": "4", "points": 1},
        {"kind": "multiple_choice", "prompt": "Even numbers?", "options": ["1", "2", "3", "4"],
         "correct": ["2", "4"], "points": 2},
        {"kind": "true_false", "prompt": "The sky is green.", "options": [], "correct": False,
         "points": 1},
        {"kind": "numeric", "prompt": "Pi?", "options": [], "correct": 3.14, "tolerance": 0.01,
         "points": 2},
        {"kind": "short_text", "prompt": "Capital of France?", "options": [],
         "correct": ["Paris"], "points": 1},
    ]


def exam_body(**overrides: Any) -> dict[str, Any]:
    """The body of POST /teacher/exams: open now for a day, two attempts."""
    now = datetime.now(UTC)
    body = {"title": "Exam", "description": "d", "duration_minutes": 30,
            "opens_at": iso(now - timedelta(minutes=5)),
            "closes_at": iso(now + timedelta(days=1)),
            "max_attempts": 2, "questions": questions()}
    body.update(overrides)
    return body


def create_exam(http: httpx.Client, teacher: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """An exam authored by ``teacher`` (a tokens body); the exam, with its answer keys."""
    answer = http.post("/teacher/exams", headers=bearer(teacher), json=exam_body(**overrides))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def right_answer(question: dict[str, Any]) -> Any:
    """A correct answer: short_text's key may list several accepted strings."""
    correct = question["correct"]
    if question["kind"] == "short_text" and isinstance(correct, list):
        return correct[0]
    return correct


def right_answers(exam: dict[str, Any]) -> dict[str, Any]:
    return {q["id"]: right_answer(q) for q in exam["questions"]}
