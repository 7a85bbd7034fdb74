"""What every page shares: its context (language, node, CSRF), rendering, errors, the router.

CSRF: a random secret lives in the ``hutong_csrf`` cookie (HttpOnly, SameSite=Lax); every
POST form carries ``csrf_token`` = HMAC-SHA256(secret, login-session cookie). A POST whose
token does not match is refused with 403. Binding the token to the login session means a
cookie planted by a sibling site is not enough to forge it for a logged-in user.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from markupsafe import Markup
from sqlalchemy.orm import Session, SessionTransaction

from hutong.core.deps import AUTHENTICATED, PUBLIC, SESSION_COOKIE, AppSettings, DbSession, requires
from hutong.core.errors import Forbidden, HutongError
from hutong.core.security import Actor, Role, new_token
from hutong.core.settings import Settings
from hutong.identity import service as identity_service
from hutong.web import i18n
from hutong.web.pages.templating import _env

CSRF_COOKIE = "hutong_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
SECURITY_HEADERS = {
    # No script runs on these pages; forms post only to the node itself.
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-cache",
    "Vary": "Accept-Language, Cookie",
}
AUDIT_READERS = (Role.operator, Role.auditor, Role.steward, Role.consumer)
# Header links shown only to those who may open them: (path, translation key, roles).
# The routes declare the same roles, so a link and its page cannot disagree.
ROLE_NAV = (
    ("/my/data-uses", "nav.my_data_uses", (Role.citizen,)),
    ("/audit", "nav.audit", AUDIT_READERS),
    ("/audit/stats", "nav.audit_stats", AUDIT_READERS),
)


@dataclass
class PageContext:
    """What every page needs: language, node, CSRF secret, and the request's savepoint."""

    request: Request
    session: Session
    settings: Settings
    lang: str
    remember_lang: bool
    node_name: str
    demo: bool
    csrf_secret: str
    new_csrf_secret: bool
    savepoint: SessionTransaction | None = None

    @property
    def actor(self) -> Actor | None:
        return getattr(self.request.state, "actor", None)


def page_context(request: Request, session: DbSession, settings: AppSettings) -> PageContext:
    """Load the page context first, so an error raised later can still render a full page."""
    lang, remember = i18n.choose_language(
        query=request.query_params.get(i18n.LANG_QUERY),
        cookie=request.cookies.get(i18n.LANG_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )
    node = identity_service.get_node(session=session)
    name = "hutong 互通"
    if node is not None:
        name = node.name_en if lang == "en" and node.name_en else node.name
    secret = request.cookies.get(CSRF_COOKIE, "")
    ctx = PageContext(
        request=request,
        session=session,
        settings=settings,
        lang=lang,
        remember_lang=remember,
        node_name=name,
        demo=bool(node.demo) if node is not None else False,
        csrf_secret=secret or new_token(),
        new_csrf_secret=not secret,
    )
    # A domain error on a page rolls back what the route wrote, like the API does.
    ctx.savepoint = session.begin_nested()
    request.state.page = ctx
    return ctx


Page = Annotated[PageContext, Depends(page_context)]
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]
Authenticated = Annotated[Actor, Depends(requires(AUTHENTICATED))]


def csrf_token(secret: str, session_token: str) -> str:
    """The form token for a CSRF secret and a login-session cookie value."""
    message = b"hutong-csrf\x00" + session_token.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str) -> None:
    """Raise Forbidden unless the submitted token matches the request's cookies."""
    secret = request.cookies.get(CSRF_COOKIE, "")
    expected = csrf_token(secret, request.cookies.get(SESSION_COOKIE, "")) if secret else ""
    # bytes, not str: compare_digest refuses non-ASCII str, and the token is user input
    if not expected or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise Forbidden("CSRF token missing or invalid", extra={"csrf": True})


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    """Set an HttpOnly, SameSite=Lax cookie (Secure when the request came over HTTPS)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def finish(ctx: PageContext, response: Response) -> Response:
    """Add the language and CSRF cookies a page owes, and the security headers."""
    if ctx.remember_lang:
        set_cookie(response, ctx.request, i18n.LANG_COOKIE, ctx.lang, LANG_COOKIE_SECONDS)
    if ctx.new_csrf_secret:
        set_cookie(response, ctx.request, CSRF_COOKIE, ctx.csrf_secret)
    response.headers.update(SECURITY_HEADERS)
    return response


def nav_links(user: Actor | None) -> list[dict[str, str]]:
    """The role-restricted header links (``ROLE_NAV``) a user may follow."""
    if user is None:
        return []
    return [{"href": href, "key": key} for href, key, roles in ROLE_NAV if user.has(*roles)]


def render(ctx: PageContext, template: str, status: int = 200, **values: Any) -> Response:
    """Render a page template with the layout's context."""
    request, lang = ctx.request, ctx.lang

    def t(key: str, **values: Any) -> str:
        text = i18n.translate(key, lang)
        return text.format(**values) if values else text

    def term(key: str) -> Markup:
        return i18n.term(key, lang)

    def lang_url(code: str) -> str:
        url = request.url.include_query_params(**{i18n.LANG_QUERY: code})
        return f"{url.path}?{url.query}"

    actor = ctx.actor
    user = actor if actor is not None and actor.kind == "user" else None
    html = _env.get_template(template).render(
        t=t,
        term=term,
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        lang_url=lang_url,
        node_name=ctx.node_name,
        demo=ctx.demo,
        user=user,
        nav_links=nav_links(user),
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(ctx.csrf_secret, request.cookies.get(SESSION_COOKIE, "")),
        path=request.url.path,
        **values,
    )
    return finish(ctx, HTMLResponse(html, status_code=status))


def render_error(request: Request, status: int, detail: str, *, csrf: bool = False) -> Response:
    """The friendly HTML error page (used for domain errors raised on page routes)."""
    ctx: PageContext | None = getattr(request.state, "page", None)
    if ctx is None:  # pragma: no cover - the context dependency runs before anything can fail
        raise RuntimeError("page context missing")
    if ctx.savepoint is not None and ctx.savepoint.is_active:
        ctx.savepoint.rollback()
    title = f"error.{status}" if f"error.{status}" in i18n.TRANSLATIONS else "error.title"
    return render(
        ctx, "error.html", status, code=status, title_key=title, detail=detail, csrf_error=csrf
    )


class PageRoute(APIRoute):
    """An HTML route: domain errors and bad parameters render error.html, not problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HutongError as exc:
                return render_error(
                    request, exc.status, exc.detail, csrf=bool(exc.extra.get("csrf"))
                )
            except RequestValidationError as exc:
                errors = exc.errors()
                first = errors[0] if errors else {}
                where = ".".join(str(p) for p in first.get("loc", ())[1:])
                return render_error(request, 422, f"{where}: {first.get('msg', 'invalid')}")

        return page_handler


router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["pages"])
