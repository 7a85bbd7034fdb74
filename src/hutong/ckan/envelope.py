"""CKAN's action API envelope: ``{"help", "success", "result"}`` and its error types."""

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


def help_url(request: Request) -> str:
    action = request.url.path.rsplit("/", 1)[-1]
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={action}"


def ok(request: Request, result: Any) -> JSONResponse:
    """The success envelope."""
    return JSONResponse({"help": help_url(request), "success": True, "result": result})


def ckan_error_response(request: Request, exc: HutongError) -> JSONResponse:
    """A domain error in CKAN's error envelope."""
    status = CKAN_STATUS.get(exc.status, exc.status)
    error: dict[str, Any] = {"__type": CKAN_ERROR_TYPES.get(exc.status, "Internal Server Error"),
                             "message": exc.detail}
    if exc.field and error["__type"] == "Validation Error":
        error[exc.field] = [exc.detail]
    return JSONResponse(
        {"help": help_url(request), "success": False, "error": error}, status_code=status
    )


def ckan_validation_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Request validation errors as CKAN's Validation Error (409)."""
    error: dict[str, Any] = {"__type": "Validation Error"}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = loc[-1] if loc else "input"
        error.setdefault(name, []).append(err.get("msg", "invalid"))
    return JSONResponse(
        {"help": help_url(request), "success": False, "error": error}, status_code=409
    )
