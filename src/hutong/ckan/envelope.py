"""CKAN's action API envelope: ``{"help", "success", "result"}`` and its error shapes.

The statuses, ``__type`` strings and message prefixes are those of CKAN 2.10's
``ckan/views/api.py``: Not Found Error 404 ("Not found: …"), Authorization Error 403
("Access denied: …"), Validation Error 409 (a dict of field -> messages), and for an
unknown action or an unreadable body a bare JSON string with 400 ("Bad request - …").
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hutong.core.errors import HutongError

# CKAN's error "__type" strings and HTTP statuses, as ckan/views/api.py sends them.
CKAN_ERROR_TYPES = {
    400: "Bad request",
    401: "Authorization Error",
    403: "Authorization Error",
    404: "Not Found Error",
    409: "Validation Error",
    413: "Validation Error",
    422: "Validation Error",
}
CKAN_STATUS = {422: 409, 401: 403}
_MESSAGE_PREFIX = {"Not Found Error": "Not found", "Authorization Error": "Access denied"}


class BadRequest(HutongError):
    """A request CKAN refuses before any action runs: unknown action, unreadable body."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"


def help_url(request: Request, action: str | None = None) -> str:
    """``{base}/api/3/action/help_show?name=ACTION``, as CKAN puts in every response."""
    action = action or request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={action}"


def ok(request: Request, result: Any) -> JSONResponse:
    """The success envelope."""
    return JSONResponse({"help": help_url(request), "success": True, "result": result})


def bad_request(message: str) -> JSONResponse:
    """CKAN's 400: a bare JSON string ``"Bad request - <message>"``, no envelope."""
    return JSONResponse(f"Bad request - {message}", status_code=400)


def ckan_error(exc: HutongError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the ``error`` object CKAN sends for a domain error."""
    status = CKAN_STATUS.get(exc.status, exc.status)
    kind = CKAN_ERROR_TYPES.get(exc.status, "Internal Server Error")
    if kind == "Validation Error":
        error: dict[str, Any] = {}
        if exc.field:
            error[exc.field] = [exc.detail]
        for problem in exc.problems:
            error.setdefault(problem.column or "input", []).append(problem.reason)
        error["__type"] = kind
        error["message"] = exc.detail
        return status, error
    prefix = _MESSAGE_PREFIX.get(kind)
    message = f"{prefix}: {exc.detail}" if prefix and exc.detail else exc.detail
    return status, {"__type": kind, "message": message}


def ckan_error_response(request: Request, exc: HutongError) -> JSONResponse:
    """A domain error in CKAN's error envelope."""
    if exc.status == 400:
        return bad_request(exc.detail)
    status, error = ckan_error(exc)
    return JSONResponse(
        {"help": help_url(request), "success": False, "error": error}, status_code=status
    )


def ckan_validation_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Request validation errors as CKAN's Validation Error (409)."""
    error: dict[str, Any] = {}
    messages = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = loc[-1] if loc else "input"
        msg = err.get("msg", "invalid")
        error.setdefault(name, []).append(msg)
        messages.append(f"{name}: {msg}")
    error["__type"] = "Validation Error"
    error["message"] = "; ".join(messages) or "invalid input"
    return JSONResponse(
        {"help": help_url(request), "success": False, "error": error}, status_code=409
    )
