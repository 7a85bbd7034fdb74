"""HTTP plumbing: problem+json errors (RFC 9457), body-size limits, request logs, metrics."""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hutong.core.errors import HutongError, TooLarge
from hutong.core.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger("hutong.http")

REQUESTS = Counter("hutong_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("hutong_http_request_seconds", "HTTP request latency", ["method", "route"])


def problem_response(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else ""
        parts = [x for x in loc[1:] if not (where == "query" and x.isdigit())]
        name = ".".join(parts) if parts else where
        problems.append({"field": name, "in": where, "reason": err.get("msg", "invalid")})
    first = problems[0] if problems else {"field": "", "reason": "invalid"}
    body = {
        "type": "https://hutong.dev/problems/invalid",
        "title": "Invalid input",
        "status": 422,
        "detail": f"{first['field']}: {first['reason']}",
        "instance": request.url.path,
        "problems": problems,
    }
    return problem_response(body, 422)


def _is_ckan(path: str) -> bool:
    return path.startswith(("/api/3/", "/api/action/"))


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors and framework errors to problem+json, once."""

    @app.exception_handler(HutongError)
    async def _domain(request: Request, exc: HutongError) -> JSONResponse:
        if _is_ckan(request.url.path):
            from hutong.ckan.envelope import ckan_error_response

            return ckan_error_response(request, exc)
        return problem_response(exc.to_problem(request.url.path), exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _is_ckan(request.url.path):
            from hutong.ckan.envelope import ckan_validation_response

            return ckan_validation_response(request, exc)
        return _validation_problem(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return problem_response(body, exc.status_code)


class BodyLimitMiddleware:
    """Refuse bodies over a limit with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, *, default_limit: int, upload_limit: int) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        limit = (
            self.upload_limit
            if ctype.startswith("multipart/") or scope["path"].endswith("/upload")
            else self.default_limit
        )
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    await self._refuse(scope, send, limit)
                    return
            except ValueError:
                pass
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise TooLarge(f"the request body is larger than {limit} bytes")
            return message

        try:
            await self.app(scope, limited_receive, send)
        except TooLarge:
            if refused:
                await self._refuse(scope, send, limit)
            else:  # pragma: no cover
                raise

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        err = TooLarge(f"the request body is larger than the limit of {limit} bytes")
        response = problem_response(err.to_problem(scope["path"]), 413)
        await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}


class RequestIds:
    """Request ids: 32 hex digits, unique per process (a random part, the pid, a counter).

    Not secrets: they tie a log line to an audit entry. A random UUID per request cost a
    getrandom system call each, measurable on the gateway's hot path.
    """

    def __init__(self) -> None:
        self._count = itertools.count()
        self._start()
        os.register_at_fork(after_in_child=self._start)  # a forked worker makes its own

    def _start(self) -> None:
        self._prefix = os.urandom(4).hex() + f"{os.getpid() & 0xFFFFFFFF:08x}"

    def next(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFFFFFFFFFFFFFF:016x}"


REQUEST_IDS = RequestIds()
_METRICS: dict[tuple[str, str, int | None], tuple[Any, Any]] = {}


def _metrics(method: str, template: str, status: int | None) -> tuple[Any, Any]:
    """The request counter and latency histogram children of a route (looked up once)."""
    key = (method, template, status)
    found = _METRICS.get(key)
    if found is None:
        counter = REQUESTS.labels(method, template, str(status)) if status is not None else None
        found = _METRICS[key] = (counter, LATENCY.labels(method, template))
    return found


class RequestLogMiddleware:
    """One structured log line and metrics per request; path only, never the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        request_id = REQUEST_IDS.next()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = start

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log_request(scope, status, start, request_id)


def log_request(scope: Scope, status: int, start: float, request_id: str) -> None:
    """A request's log line and metrics (path template only, never the query string)."""
    elapsed = time.perf_counter() - start
    route = scope.get("route")
    template = getattr(route, "path", "unmatched")
    _metrics(scope["method"], template, status)[0].inc()
    _metrics(scope["method"], template, None)[1].observe(elapsed)
    log.info(
        "request",
        method=scope["method"],
        route=template,
        status=status,
        ms=round(elapsed * 1000, 2),
        request_id=request_id,
    )
