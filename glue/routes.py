"""The API's REST routes (docs/api.md), as data: (method, path) -> API function.

Path parameters and the JSON body's fields become the function's named
arguments (``body_arg`` passes the whole body as one JSON argument instead);
``status`` is the success status, and ``status_if`` names a boolean field of
the result that turns it into another (a resumed attempt answers 200, not 201).
The auth routes are not here: they hash passwords in Python (glue/auth_routes.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    function: str
    status: int = 200
    body_arg: str | None = None
    status_if: tuple[str, int] | None = None
    summary: str = ""
    # Columns of the CSV answer (``Accept: text/csv``) of a route returning a
    # list: the whole list, every page of it (glue/pages.py).
    csv_columns: tuple[str, ...] = ()
    # The function answers in pages, a page not the last with a Link to the
    # next (glue/pages.py). The function decides; this tells the OpenAPI document.
    pages: bool = False


ENDPOINTS: tuple[Endpoint, ...] = (
    # student
    Endpoint("GET", "/student/dashboard", "get_student_dashboard_data",
             summary="profile, metrics, recent attempts and available exams"),
    Endpoint("GET", "/student/exams", "get_available_exams_for_student",
             summary="exams open to this student now or later"),
    Endpoint("GET", "/student/exams/{exam_id}", "get_student_exam_detail",
             summary="the exam and this student's own attempts"),
    Endpoint("POST", "/student/exams/{exam_id}/start", "create_exam_attempt", status=201,
             status_if=("resumed", 200),
             summary="start an attempt, or resume the one in progress (200)"),
    Endpoint("PUT", "/student/attempts/{attempt_id}/answers/{question_id}", "save_answer",
             summary="autosave one answer (last write wins)"),
    Endpoint("POST", "/student/exams/{attempt_id}/submit", "complete_exam_attempt",
             summary="submit the attempt, with optional final answers"),
    Endpoint("POST", "/student/attempts/{attempt_id}/abandon", "abandon_exam_attempt",
             summary="abandon the attempt"),
    Endpoint("GET", "/student/disclosures", "get_my_disclosures",
             summary="who was shown this student's records (FERPA), newest first"),
    # monitoring
    Endpoint("POST", "/monitor/events", "record_monitoring_events", status=202,
             body_arg="body", summary="one monitoring event, or a batch of up to 500"),
    # teacher
    Endpoint("POST", "/teacher/exams", "create_exam", status=201, summary="author an exam"),
    Endpoint("POST", "/teacher/exams/{exam_id}/publish", "publish_exam",
             summary="publish a draft exam"),
    Endpoint("POST", "/teacher/exams/{exam_id}/permissions", "grant_exam_permission",
             status=201, summary="grant another teacher access to the exam"),
    Endpoint("POST", "/teacher/exams/{exam_id}/accommodations", "set_accommodation",
             status=201, summary="extra minutes for one student"),
    Endpoint("GET", "/teacher/colleagues", "find_teachers",
             summary="other active teachers by name or email, to grant one access to an exam"),
    Endpoint("GET", "/teacher/students", "find_students",
             summary="students this teacher can see, by name or email"),
    Endpoint("GET", "/teacher/dashboard", "get_teacher_dashboard_data",
             summary="exams, alerts and summary for this teacher"),
    Endpoint("GET", "/teacher/exams/{exam_id}/analytics", "get_teacher_exam_analytics",
             summary="per-exam analytics from the materialized views"),
    Endpoint("GET", "/teacher/exams/{exam_id}/flagged", "get_flagged_students_for_exam",
             summary="flagged attempts of the exam"),
    Endpoint("GET", "/teacher/students/{student_id}", "get_student_detail_for_teacher",
             summary="a student, on the exams this teacher may access"),
    Endpoint("GET", "/teacher/attempts/{attempt_id}/events", "get_monitoring_events_for_attempt",
             summary="the attempt's monitoring timeline, oldest first: JSON pages, or all as CSV",
             csv_columns=("id", "event_type", "occurred_at", "received_at", "payload",
                          "is_anomaly"), pages=True),
    Endpoint("POST", "/teacher/attempts/{attempt_id}/review", "review_attempt",
             summary="clear or confirm an attempt's flags"),
    # behaviour analysis
    Endpoint("POST", "/analysis/behavior", "save_behavior_analysis", status=201,
             summary="store an external engine's analysis"),
    Endpoint("GET", "/analysis/behavior/{attempt_id}", "get_behavior_analysis",
             summary="the attempt's latest analysis"),
    # admin
    Endpoint("GET", "/admin/audit", "get_audit_log", summary="the audit trail, newest first"),
    Endpoint("GET", "/admin/users", "get_users",
             summary="users by email, filtered by role, activity and a search on name and email",
             pages=True),
    Endpoint("POST", "/admin/users/{user_id}/active", "set_user_active",
             summary="enable or disable a user (disabling ends their sessions)"),
    Endpoint("GET", "/admin/service-tokens", "get_service_tokens",
             summary="the service tokens issued, newest first (never the tokens themselves)"),
    Endpoint("POST", "/admin/service-tokens/{jti}/revoke", "revoke_service_token",
             summary="revoke a service token at once"),
)
