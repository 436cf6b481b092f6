"""GET /openapi.json: the document lists every route of the app, and nothing else."""

from __future__ import annotations

import psycopg
from starlette.routing import Route

from glue.app import create_app
from tests.glue_server import settings_for

RPC = "/rpc/{name}"
# The web app's page (glue/web.py) is not an API route: it is not in the
# document. Its files, under the /app Mount, are no Route at all.
WEB_PAGE = {("/", "get")}


def _document(http) -> dict:
    answer = http.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def test_every_route_of_the_app_is_in_the_document(http, migrated_db):
    app = create_app(settings_for(migrated_db))
    routes = {(r.path, m.lower()) for r in app.routes if isinstance(r, Route)
              for m in r.methods or () if m != "HEAD"}
    paths = _document(http)["paths"]
    documented = {(p, m) for p, ops in paths.items() for m in ops}
    # /rpc/{name} is documented once per function of the API schema
    assert routes >= WEB_PAGE
    assert routes - {(RPC, "get"), (RPC, "post")} - WEB_PAGE == {
        (p, m) for p, m in documented if not p.startswith("/rpc/")}
    with psycopg.connect(migrated_db) as conn:
        functions = {name for (name,) in conn.execute(
            "SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'api' AND p.prokind = 'f'")}
    assert {p for p, m in documented if p.startswith("/rpc/") and m == "post"} == {
        f"/rpc/{f}" for f in functions}
    assert ("/metrics", "get") in documented
    assert not any(p == "/" or p.startswith("/app") for p, _ in documented)


def test_the_timeline_documents_its_link_header_and_csv(http):
    document = _document(http)
    ok = document["paths"]["/teacher/attempts/{attempt_id}/events"]["get"]["responses"]["200"]
    assert ok["headers"]["Link"] == {"$ref": "#/components/headers/Link"}
    assert 'rel="next"' in document["components"]["headers"]["Link"]["description"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
    assert {"limit", "after_occurred_at", "after_id"} <= {
        p["name"] for p in document["paths"]["/teacher/attempts/{attempt_id}/events"]["get"][
            "parameters"]}


def test_operation_ids_are_unique(http):
    """OpenAPI requires it (code generators name their methods after them)."""
    ids = [op["operationId"] for ops in _document(http)["paths"].values()
           for op in ops.values() if "operationId" in op]
    assert len(ids) == len(set(ids))
