"""A provider's API for the gateway tests, run by uvicorn in its own process on loopback.

``GET /{mode}/records`` implements the upstream contract of docs/sharing.md (mode ``ok``)
or breaks it in one way per mode; ``/switch/{token}/records`` fails until
``POST /_switch/{token}/ok``. ``GET /_hits`` counts the calls per mode and ``GET /_last``
shows the last call's query and headers, so tests can see what reached the provider.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from stdnum.cn import ric

API_KEY_HEADER = "X-Api-Key"
API_KEY = "s3cret-upstream-key-7f3a"
HITS: Counter[str] = Counter()
LAST: dict[str, Any] = {}
SWITCH: dict[str, str] = {}


def rid(seq: int) -> str:
    base = f"31010119800101{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def person(seq: int) -> dict[str, Any]:
    return {
        "resident_id": rid(seq),
        "name": f"张{'三丰'[seq % 2]}{seq}",
        "mobile": f"1381234{seq:04d}",
        "address": f"上海市黄浦区南京东路{seq}号",
        "birth_date": f"{1980 + seq % 20}-0{1 + seq % 9}-1{seq % 10}",
        "children": seq % 3,
        "internal_note": "内部备注: 不应外传",  # not a field of the resource
    }


PEOPLE = {rid(i): person(i) for i in range(30)}


def _found(request: Request) -> list[dict[str, Any]]:
    wanted = request.query_params.getlist("resident_id")
    limit = int(request.query_params.get("limit", "20"))
    return [PEOPLE[w] for w in wanted if w in PEOPLE][:limit]


async def _huge() -> Any:
    yield b'{"records": [{"name": "'
    for _ in range(64):
        yield b"x" * 32768
    yield b'"}]}'


async def records(request: Request) -> Response:
    mode = request.path_params["mode"]
    token = request.path_params.get("token")
    if token is not None:
        mode = f"switch-{SWITCH.get(token, 'fail')}"
    HITS[request.path_params["mode"]] += 1
    LAST.clear()
    LAST.update(query=str(request.url.query), headers=dict(request.headers))
    if mode == "auth" and request.headers.get(API_KEY_HEADER) != API_KEY:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    if mode in ("ok", "auth", "switch-ok"):
        return JSONResponse({"records": _found(request), "total": len(_found(request))})
    if mode == "slow":
        await asyncio.sleep(5)
        return JSONResponse({"records": _found(request)})
    if mode in ("fail", "switch-fail"):
        return JSONResponse({"error": "boom", "records": _found(request)}, status_code=500)
    if mode == "badjson":
        return Response(b'{"records": [', media_type="application/json")
    if mode == "nan":
        return Response(b'{"records": [{"children": NaN}]}', media_type="application/json")
    if mode == "notobject":
        return JSONResponse(["records"])
    if mode == "huge":  # streamed, no Content-Length
        return StreamingResponse(_huge(), media_type="application/json")
    if mode == "hugecl":
        return JSONResponse({"records": [], "padding": "x" * 200_000})
    if mode == "text":
        return PlainTextResponse(f"<html>{_found(request)}</html>", media_type="text/html")
    if mode == "gbk":
        return Response(b'{"records": []}', media_type="application/json; charset=gbk")
    if mode == "redirect":
        port = request.url.port
        return Response(
            status_code=302, headers={"Location": f"http://localhost:{port}/elsewhere/records"}
        )
    if mode == "badtype":
        return JSONResponse(
            {"records": [{**r, "birth_date": "31/02/1980"} for r in _found(request)]}
        )
    if mode == "mismatch":
        return JSONResponse({"records": [PEOPLE[rid(29)]]})
    if mode == "toomany":
        return JSONResponse({"records": list(PEOPLE.values())[:3]})
    if mode == "badtotal":
        return JSONResponse({"records": [], "total": "many"})
    return JSONResponse({"error": "no such mode"}, status_code=404)


async def switch(request: Request) -> Response:
    SWITCH[request.path_params["token"]] = request.path_params["mode"]
    return JSONResponse({"ok": True})


async def hits(request: Request) -> Response:
    return JSONResponse(dict(HITS))


async def last(request: Request) -> Response:
    return JSONResponse(LAST)


app = Starlette(
    routes=[
        Route("/_hits", hits),
        Route("/_last", last),
        Route("/_switch/{token}/{mode}", switch, methods=["POST"]),
        Route("/{mode}/records", records),
        Route("/{mode}/{token}/records", records),
    ]
)
