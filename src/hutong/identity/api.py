"""JSON routes of identity: login, organizations, users, apps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from hutong.catalog.schemas import OrganizationRead
from hutong.core.deps import AUTHENTICATED, PUBLIC, SESSION_COOKIE, AppSettings, DbSession, requires
from hutong.core.errors import NotFound
from hutong.core.security import Actor, Role
from hutong.identity import service
from hutong.identity.schemas import (
    AppCreate,
    AppCreated,
    AppRead,
    LoginRequest,
    LoginResult,
    OrganizationCreate,
    UserCreate,
    UserRead,
)

router = APIRouter(tags=["identity"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]
Anyone = Annotated[Actor, Depends(requires(AUTHENTICATED))]
Operator = Annotated[Actor, Depends(requires(Role.operator))]
AppManager = Annotated[Actor, Depends(requires(Role.operator, Role.consumer, Role.steward))]


@router.post("/auth/login")
def login(
    body: LoginRequest, session: DbSession, settings: AppSettings, response: Response, _a: Public
) -> LoginResult:
    """Open a login session; the token also comes back as an HttpOnly cookie."""
    token, user, expires = service.login(
        session=session,
        username=body.username,
        password=body.password,
        hours=settings.session_hours,
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        max_age=settings.session_hours * 3600,
    )
    return LoginResult(token=token, expires_at=expires, user=user)


@router.get("/me")
def me(actor: Anyone) -> dict[str, object]:
    """Who the caller is."""
    return {
        "kind": actor.kind,
        "id": actor.id,
        "name": actor.name,
        "organization_id": actor.organization_id,
        "roles": sorted(actor.roles),
    }


@router.get("/organizations")
def list_organizations(session: DbSession, _a: Public) -> list[OrganizationRead]:
    """Every organization of the node (the catalog's publishers are public)."""
    return [
        OrganizationRead.model_validate(o, from_attributes=True)
        for o in service.list_organizations(session=session)
    ]


@router.get("/organizations/{ref}")
def get_organization(ref: str, session: DbSession, _a: Public) -> OrganizationRead:
    """One organization by node:uscc, uscc or short name."""
    org = service.resolve_organization(session=session, ref=ref)
    return OrganizationRead.model_validate(org, from_attributes=True)


@router.post("/organizations", status_code=201)
def create_organization(
    body: OrganizationCreate, session: DbSession, _actor: Operator
) -> OrganizationRead:
    """Register an organization by its unified social credit code (operators)."""
    org = service.create_organization(session=session, data=body, actor=_actor)
    return OrganizationRead.model_validate(org, from_attributes=True)


@router.post("/users", status_code=201)
def create_user(body: UserCreate, session: DbSession, _actor: Operator) -> UserRead:
    """Create a user with roles (operators)."""
    return service.create_user(session=session, data=body, actor=_actor)


@router.get("/apps")
def list_apps(session: DbSession, actor: AppManager) -> list[AppRead]:
    """Apps of the caller's organization (all, for operators)."""
    return service.list_apps(session=session, actor=actor)


@router.post("/apps", status_code=201)
def create_app(
    body: AppCreate, session: DbSession, settings: AppSettings, actor: AppManager
) -> AppCreated:
    """Register an app; its API key is in this response and never again."""
    if actor.kind == "app":
        raise NotFound("apps cannot register apps")
    return service.create_app(
        session=session, actor=actor, data=body, key_prefix=settings.api_key_prefix
    )


@router.post("/apps/{app_id}/revoke")
def revoke_app(app_id: str, session: DbSession, actor: AppManager) -> AppRead:
    """Revoke an app's API key at once."""
    return service.revoke_app(session=session, actor=actor, app_id=app_id)
