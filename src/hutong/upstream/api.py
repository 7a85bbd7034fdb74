"""JSON routes of provider-API resources: a resource's upstream endpoint.

A steward of the providing organization registers, changes and disables the endpoint;
the provider's stewards and operators read it. The auth header value is never returned.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from hutong.core.deps import AppSettings, DbSession, requires
from hutong.core.security import Actor, Role
from hutong.upstream import service
from hutong.upstream.schemas import EndpointCreate, EndpointRead, EndpointUpdate

router = APIRouter(tags=["upstream"])
Steward = Annotated[Actor, Depends(requires(Role.steward))]
Reader = Annotated[Actor, Depends(requires(Role.steward, Role.operator))]


@router.post("/resources/{resource_ref}/upstream", status_code=201)
def register(
    resource_ref: str,
    body: EndpointCreate,
    session: DbSession,
    settings: AppSettings,
    actor: Steward,
) -> EndpointRead:
    """Register the provider's API that delivers this resource (not hosted here)."""
    return service.register(
        session=session,
        actor=actor,
        resource_ref=resource_ref,
        data=body,
        keys_dir=settings.keys_dir,
    )


@router.get("/resources/{resource_ref}/upstream")
def get_endpoint(resource_ref: str, session: DbSession, actor: Reader) -> EndpointRead:
    """The resource's API endpoint (its provider's stewards and operators)."""
    return service.get(session=session, actor=actor, resource_ref=resource_ref)


@router.patch("/resources/{resource_ref}/upstream")
def update(
    resource_ref: str,
    body: EndpointUpdate,
    session: DbSession,
    settings: AppSettings,
    actor: Steward,
) -> EndpointRead:
    """Change the endpoint: URL, timeout, key fields, auth header, enabled."""
    return service.update(
        session=session,
        actor=actor,
        resource_ref=resource_ref,
        data=body,
        keys_dir=settings.keys_dir,
    )


@router.post("/resources/{resource_ref}/upstream/disable")
def disable(resource_ref: str, session: DbSession, actor: Steward) -> EndpointRead:
    """Stop calling the endpoint; the gateway answers 503 until it is enabled again."""
    return service.disable(session=session, actor=actor, resource_ref=resource_ref)


@router.get("/upstream-endpoints")
def list_endpoints(session: DbSession, actor: Reader) -> list[EndpointRead]:
    """Your organization's endpoints (all of them, for operators)."""
    return service.list_endpoints(session=session, actor=actor)
