"""JSON routes of the catalog under /api/v1/resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hutong.catalog import service
from hutong.catalog.schemas import (
    BaseCatalog,
    OpenType,
    ResourceCreate,
    ResourceFilters,
    ResourcePage,
    ResourceRead,
    ResourceUpdate,
    ResourceVersionRead,
    SecurityGrade,
    SharingType,
)
from hutong.core.deps import PUBLIC, AppSettings, DbSession, requires
from hutong.core.errors import Invalid
from hutong.core.security import Actor, Role

router = APIRouter(tags=["catalog"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]
Publisher = Annotated[Actor, Depends(requires(Role.steward, Role.operator))]


@router.get("/resources")
def search_resources(
    session: DbSession,
    settings: AppSettings,
    _a: Public,
    q: Annotated[str, Query(max_length=200)] = "",
    provider: Annotated[list[str], Query()] = [],  # noqa: B006
    classification: Annotated[list[str], Query()] = [],  # noqa: B006
    sharing: Annotated[list[SharingType], Query()] = [],  # noqa: B006
    opening: Annotated[list[OpenType], Query()] = [],  # noqa: B006
    grade: Annotated[list[SecurityGrade], Query()] = [],  # noqa: B006
    base_catalog: Annotated[list[BaseCatalog], Query()] = [],  # noqa: B006
    hosted: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=0)] = None,
    sort: str = "updated_desc",
) -> ResourcePage:
    """Search the catalog (Chinese full text) with facets."""
    limit = settings.page_size_default if limit is None else limit
    if limit > settings.page_size_max:
        raise Invalid(f"limit must be at most {settings.page_size_max}", field="limit")
    filters = ResourceFilters(
        q=q,
        provider=provider,
        classification=classification,
        sharing=sharing,
        opening=opening,
        grade=grade,
        base_catalog=base_catalog,
        hosted=hosted,
    )
    return service.search(session=session, filters=filters, offset=offset, limit=limit, sort=sort)


@router.post("/resources", status_code=201)
def create_resource(body: ResourceCreate, session: DbSession, actor: Publisher) -> ResourceRead:
    """Publish a resource (the provider's stewards, or operators)."""
    return service.create(session=session, actor=actor, data=body)


@router.get("/resources/{resource_ref}")
def get_resource(resource_ref: str, session: DbSession, _a: Public) -> ResourceRead:
    """One resource by node:uscc:code (or by code when unambiguous)."""
    return service.get(session=session, resource_ref=resource_ref)


@router.patch("/resources/{resource_ref}")
def update_resource(
    resource_ref: str, body: ResourceUpdate, session: DbSession, actor: Publisher
) -> ResourceRead:
    """Change a resource's metadata; the previous version is kept."""
    return service.update(session=session, actor=actor, resource_ref=resource_ref, data=body)


@router.get("/resources/{resource_ref}/versions")
def resource_versions(
    resource_ref: str, session: DbSession, _a: Public
) -> list[ResourceVersionRead]:
    """Every metadata version, newest first."""
    return service.versions(session=session, resource_ref=resource_ref)
