"""Every route declares its permission; the OpenAPI document is served."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Mount

from hutong.core.deps import iter_routes, permission_of

# FastAPI's own documentation routes carry no data.
DOC_PATHS = {"/api/v1/openapi.json", "/api/v1/docs", "/docs/oauth2-redirect"}


def test_every_route_declares_a_permission(app):
    missing = []
    seen = 0
    for path, route in iter_routes(app.routes):
        if isinstance(route, Mount):
            continue  # static files
        if path in DOC_PATHS:
            continue
        assert isinstance(route, APIRoute), (path, route)
        seen += 1
        if permission_of(route) is None:
            missing.append(f"{sorted(route.methods)} {path}")
    assert seen > 30
    assert not missing, "routes without a declared permission:\n" + "\n".join(missing)


def test_openapi_and_health(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["node"] == "sh"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "hutong_http_requests_total" in metrics.text


def test_unknown_route_is_problem_json(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_oversized_json_body_is_refused(client, app):
    limit = app.state.settings.max_json_body_bytes
    r = client.post(
        "/api/v1/resources",
        content=b"{" + b" " * (limit + 10) + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert "larger than" in r.json()["detail"]
