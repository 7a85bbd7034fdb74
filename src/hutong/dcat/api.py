"""DCAT-AP 3 routes: /catalog.ttl, /catalog.jsonld (paged with Hydra), /dataset/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from hutong.core.deps import PUBLIC, AppSettings, DbSession, requires
from hutong.core.security import Actor
from hutong.dcat import service
from hutong.dcat.render import serialize

router = APIRouter(tags=["dcat"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]
TURTLE = "text/turtle; charset=utf-8"
JSONLD = "application/ld+json"


def _base(request: Request, settings_base: str) -> str:
    return settings_base.rstrip("/") or str(request.base_url).rstrip("/")


def _catalog(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    page: int,
    page_size: int,
    extension: str,
) -> Response:
    graph = service.catalog_page(
        session=session,
        base_url=_base(request, settings.base_url),
        page=page,
        page_size=page_size,
        extension=extension,
    )
    if extension == "jsonld":
        return Response(serialize(graph, "json-ld"), media_type=JSONLD)
    return Response(serialize(graph, "turtle"), media_type=TURTLE)


Page = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(ge=1, le=1000)]


@router.get("/catalog.ttl")
def catalog_turtle(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    _a: Public,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """The catalog in DCAT-AP 3 as Turtle, one page at a time."""
    return _catalog(request, session, settings, page, page_size, "ttl")


@router.get("/catalog.jsonld")
def catalog_jsonld(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    _a: Public,
    page: Page = 1,
    page_size: PageSize = 100,
) -> Response:
    """The catalog in DCAT-AP 3 as JSON-LD, one page at a time."""
    return _catalog(request, session, settings, page, page_size, "jsonld")


@router.get("/dataset/{resource_ref}")
def dataset(
    resource_ref: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    _a: Public,
    format: Annotated[str | None, Query(pattern="^(ttl|jsonld)$")] = None,
) -> Response:
    """One resource as a DCAT-AP dataset (Turtle, or JSON-LD by ?format=jsonld or Accept)."""
    ref = resource_ref
    if ref.endswith(".ttl"):
        ref, format = ref[:-4], "ttl"
    elif ref.endswith(".jsonld"):
        ref, format = ref[:-7], "jsonld"
    if format is None:
        format = "jsonld" if "json" in request.headers.get("accept", "") else "ttl"
    graph = service.dataset(
        session=session, base_url=_base(request, settings.base_url), resource_ref=ref
    )
    if format == "jsonld":
        return Response(serialize(graph, "json-ld"), media_type=JSONLD)
    return Response(serialize(graph, "turtle"), media_type=TURTLE)
