"""Taking an exam under load: start, autosave, submit.

A fresh exam (one question of every kind) by a teacher of the scale data;
twice ``count`` students of the scale data take it: half over HTTP, half
through pgbench (the ceiling), so that each start and each submit happens
exactly once (wrk's and pgbench's ``once`` modes). The submits queue the
analysis jobs that the analysis scenario then drains.
"""

from __future__ import annotations

import json
from typing import Any

from bench import ceiling
from bench.replay import replay
from bench.report import Figure
from bench.workload import (
    Bench,
    Caller,
    create_exam,
    students_of_scale_data,
    teacher_of_scale_data,
)


def answer_of(question: dict[str, Any]) -> Any:
    correct = question["correct"]
    return correct[0] if question["kind"] == "short_text" else correct


def run(bench: Bench) -> list[Figure]:
    count = 200 if bench.quick else 2000
    exam = create_exam(bench, teacher_of_scale_data(bench))
    students = students_of_scale_data(bench, 2 * count)
    over_http, direct = students[:count], students[count:]
    figures = []

    started = replay(bench.base_url, [s.request("POST", f"/student/exams/{exam['id']}/start")
                                      for s in over_http],
                     seconds=bench.seconds, connections=bench.clients, expect=201, once=True)
    started_direct = ceiling.call_ceiling(
        bench.admin_url, "start", [s.call(exam["id"]) for s in direct], "student",
        "api.create_exam_attempt(exam_id => :a1::uuid)", clients=bench.clients,
        seconds=bench.seconds, once=True)
    figures.append(Figure("attempts", "start", started["rate"], "starts/s", started_direct["tps"],
                          "the API function through pgbench",
                          detail={"http": started, "pgbench": started_direct}))

    attempts = {str(student): str(attempt) for attempt, student in bench.rows(
        "SELECT id, student_id FROM app.exam_attempts WHERE exam_id = %s", (exam["id"],))}
    questions = exam["questions"]

    def saves(group: list[Caller]) -> list[tuple[Caller, str, dict[str, Any]]]:
        return [(s, attempts[s.user_id], q) for s in group if s.user_id in attempts
                for q in questions]

    http_saves = saves(over_http)
    saved = replay(bench.base_url, [
        s.request("PUT", f"/student/attempts/{a}/answers/{q['id']}", {"answer": answer_of(q)})
        for s, a, q in http_saves], seconds=bench.seconds, connections=bench.clients,
        warmup=bench.warmup)
    saved_direct = ceiling.call_ceiling(
        bench.admin_url, "autosave",
        [s.call(a, q["id"], json.dumps(answer_of(q))) for s, a, q in saves(direct)], "student",
        "api.save_answer(attempt_id => :a1::uuid, question_id => :a2::uuid, answer => :a3::jsonb)",
        clients=bench.clients, seconds=bench.seconds)
    figures.append(Figure("attempts", "autosave", saved["rate"], "saves/s", saved_direct["tps"],
                          "the API function through pgbench",
                          detail={"http": saved, "pgbench": saved_direct}))
    figures.append(Figure("attempts", "autosave p99 at saturation", saved["p99_ms"], "ms"))

    submitted = replay(bench.base_url, [
        s.request("POST", f"/student/exams/{attempts[s.user_id]}/submit", {})
        for s in over_http if s.user_id in attempts],
        seconds=bench.seconds, connections=bench.clients, expect=200, once=True)
    submitted_direct = ceiling.call_ceiling(
        bench.admin_url, "submit",
        [s.call(attempts[s.user_id]) for s in direct if s.user_id in attempts], "student",
        "api.complete_exam_attempt(attempt_id => :a1::uuid)", clients=bench.clients,
        seconds=bench.seconds, once=True)
    figures.append(Figure("attempts", "submit", submitted["rate"], "submits/s",
                          submitted_direct["tps"], "the API function through pgbench",
                          detail={"http": submitted, "pgbench": submitted_direct}))
    return figures
