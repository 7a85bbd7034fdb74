"""Parameters of CKAN actions: read from the query string and a JSON or form body, then
checked and bounded one by one; a bad value raises Invalid naming the parameter."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from hutong.ckan.envelope import BadRequest
from hutong.core.errors import Invalid

MAX_PARAM_CHARS = 4000

_TRUE = {"true", "1", "yes", "on", "t"}
_FALSE = {"false", "0", "no", "off", "f", ""}


async def action_params(request: Request) -> dict[str, Any]:
    """The action's parameters: the query string, then a JSON object or form body on POST.

    Raises BadRequest (CKAN's 400) for a body that is not a JSON object.
    """
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values[0] if len(values) == 1 else values
    if request.method != "POST":
        return params
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key in form:
            values = [v for v in form.getlist(key) if isinstance(v, str)]
            if values:
                params[key] = values[0] if len(values) == 1 else values
        return params
    body = await request.body()
    if not body.strip():
        return params
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"JSON Error: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(
            f"Bad request data: Request data JSON decoded to {data!r} but it needs to be a "
            "dictionary."
        )
    params.update(data)
    return params


Params = Annotated[dict[str, Any], Depends(action_params)]


def param_scalar(params: dict[str, Any], name: str) -> Any:
    """One value of a parameter: the last one when it was given several times."""
    value = params.get(name)
    if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
        value = value[-1] if value else None
    return value


def param_int(
    params: dict[str, Any],
    name: str,
    *,
    default: int | None,
    minimum: int = 0,
    maximum: int | None = None,
) -> int | None:
    """A whole number within bounds, or ``default`` when absent. Raises Invalid."""
    value = param_scalar(params, name)
    if value is None or value == "":
        return default
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    message = f"{name} must be a whole number {bounds}"
    if isinstance(value, bool):
        raise Invalid(message, field=name, value=value)
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise Invalid(message, field=name, value=value) from None
    if number < minimum or (maximum is not None and number > maximum):
        raise Invalid(message, field=name, value=value)
    return number


def param_bool(params: dict[str, Any], name: str, *, default: bool) -> bool:
    """A boolean (true/false, 1/0, yes/no, on/off). Raises Invalid."""
    value = param_scalar(params, name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"{name} must be true or false", field=name, value=value)


def param_str(params: dict[str, Any], name: str, *, default: str = "") -> str:
    """A string of at most MAX_PARAM_CHARS characters. Raises Invalid."""
    value = param_scalar(params, name)
    if value is None:
        return default
    if isinstance(value, list | dict):
        raise Invalid(f"{name} must be a string", field=name)
    text = str(value)
    if len(text) > MAX_PARAM_CHARS:
        raise Invalid(f"{name} is longer than {MAX_PARAM_CHARS} characters", field=name)
    return text


def param_required(params: dict[str, Any], name: str) -> str:
    """A string that must be given and not blank. Raises Invalid."""
    value = param_str(params, name).strip()
    if not value:
        raise Invalid("Missing value", field=name)
    return value


def param_json(params: dict[str, Any], name: str) -> Any:
    """A value given as JSON text, or as is from a JSON body. Raises Invalid."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise Invalid(f"{name} is not valid JSON", field=name, value=value) from None
    return value


def param_strings(params: dict[str, Any], name: str, *, json_text: bool) -> list[str] | None:
    """A list of strings given as a JSON list, a real list, or (``json_text`` off) commas."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if json_text or text.startswith("["):
            value = param_json(params, name)
        else:
            return [v.strip() for v in text.replace(" ", ",").split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"{name} must be a JSON list of strings", field=name, value=value)
    return value
