"""Request dependencies: the transaction, the acting principal, and route permissions.

Every route declares a permission with ``Depends(requires(...))``; a test walks
``app.routes`` and fails on any route without one (CKAN's "did not call its auth function").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hutong.core.errors import Forbidden, Unauthorized
from hutong.core.security import Actor
from hutong.core.settings import Settings

PUBLIC = "public"
AUTHENTICATED = "authenticated"
SESSION_COOKIE = "hutong_session"


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response, rolled back on error."""
    db = request.app.state.db
    with db.session_scope(readonly=request.method in ("GET", "HEAD")) as session:
        yield session


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def current_actor(request: Request, session: DbSession) -> Actor | None:
    """The principal of the request: API key or login-session token, else None (anonymous)."""
    return resolve_actor(request, session)


def resolve_actor(request: Request, session: Session) -> Actor | None:
    """:func:`current_actor` for code that holds its own session."""
    from hutong.identity import service as identity_service

    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    actor = None
    token = _bearer(request)
    prefix = request.app.state.settings.api_key_prefix
    if token and token.startswith(prefix):
        actor = identity_service.actor_from_api_key(session=session, key=token)
        if actor is None:
            raise Unauthorized("unknown API key")
    elif token:
        actor = identity_service.actor_from_session(session=session, token=token)
        if actor is None:
            raise Unauthorized("the login session is unknown or has expired; log in again")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        # The page cookie authenticates pages, and safe (GET/HEAD) API calls a page links
        # to; a state-changing API call needs a bearer token or an API key (no CSRF).
        api = request.url.path.startswith(("/api/", "/gateway/"))
        if cookie and (not api or request.method in ("GET", "HEAD")):
            actor = identity_service.actor_from_session(session=session, token=cookie)
    request.state.actor = actor
    return actor


def requires(*roles: str) -> Callable[..., Actor | None]:
    """A dependency that admits the request if the actor holds any of ``roles``.

    ``requires(PUBLIC)`` admits everyone, ``requires(AUTHENTICATED)`` any logged-in actor.
    """

    def dependency(actor: Annotated[Actor | None, Depends(current_actor)]) -> Actor | None:
        return check_roles(actor, roles)

    dependency.__hutong_permission__ = roles  # type: ignore[attr-defined]
    return dependency


def check_roles(actor: Actor | None, roles: tuple[str, ...]) -> Actor | None:
    """The actor if it holds any of ``roles``; raises Unauthorized or Forbidden."""
    if PUBLIC in roles:
        return actor
    if actor is None:
        raise Unauthorized("log in or send an API key (Authorization: Bearer …)")
    if AUTHENTICATED in roles or actor.has(*roles):
        return actor
    raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


def requires_in_call(*roles: str) -> Callable[..., Any]:
    """Declare a route's permission, checked by the route itself in its own transaction.

    For hot routes that do all their database work in one worker-thread call: the
    dependency does no I/O (so it costs no thread hop) and hands the roles to the route,
    which calls :func:`resolve_actor` and :func:`check_roles` before anything else.
    """

    async def dependency() -> tuple[str, ...]:
        return roles

    dependency.__hutong_permission__ = roles  # type: ignore[attr-defined]
    return dependency


def permission_of(route: Any) -> tuple[str, ...] | None:
    """The permission a route declared, or None."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        perm = getattr(dep.call, "__hutong_permission__", None)
        if perm is not None:
            return perm  # type: ignore[no-any-return]
        stack.extend(dep.dependencies)
    return None


def iter_routes(routes: Any, prefix: str = "") -> Any:
    """Yield ``(full path, route)`` for every route, through included routers."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from iter_routes(original.routes, prefix + getattr(context, "prefix", ""))
        else:
            yield prefix + getattr(route, "path", ""), route
