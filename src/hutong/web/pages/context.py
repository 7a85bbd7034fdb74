"""HTML pages: home, catalog search, a resource, login and logout, the sharing terms.

Server-rendered with Jinja2 (autoescape on), zh-CN by default and English, forms that work
without JavaScript. Every asset is served by the node from ``static/``.

CSRF: a random secret lives in the ``hutong_csrf`` cookie (HttpOnly, SameSite=Lax); every
POST form carries ``csrf_token`` = HMAC-SHA256(secret, login-session cookie). A POST whose
token does not match is refused with 403. Binding the token to the login session means a
cookie planted by a sibling site is not enough to forge it for a logged-in user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlalchemy.orm import Session, SessionTransaction

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import (
    BaseCatalog,
    OpenType,
    ResourceFilters,
    SecurityGrade,
    SharingType,
)
from hutong.core.deps import (
    AUTHENTICATED,
    PUBLIC,
    SESSION_COOKIE,
    AppSettings,
    DbSession,
    requires,
)
from hutong.core.errors import Forbidden, HutongError, Invalid, NotFound, Unauthorized
from hutong.core.security import Actor, Role, new_token
from hutong.core.settings import Settings
from hutong.identity import service as identity_service
from hutong.web import i18n

WEB_DIR = Path(__file__).parents[1]  # hutong/web, where templates/ and static/ live
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
CSRF_COOKIE = "hutong_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
FACET_NAMES = ("provider", "classification", "sharing", "opening", "grade", "base_catalog")
ENUM_FACETS = frozenset({"sharing", "opening", "grade", "base_catalog"})
SECURITY_HEADERS = {
    # No script runs on these pages; forms post only to the node itself.
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-cache",
    "Vary": "Accept-Language, Cookie",
}
DISPLAY_TIMEZONE = "Asia/Shanghai"
AUDIT_READERS = (Role.operator, Role.auditor, Role.steward, Role.consumer)
# Header links shown only to those who may open them: (path, translation key, roles).
# The routes declare the same roles, so a link and its page cannot disagree.
ROLE_NAV = (
    ("/my/data-uses", "nav.my_data_uses", (Role.citizen,)),
    ("/audit", "nav.audit", AUDIT_READERS),
    ("/audit/stats", "nav.audit_stats", AUDIT_READERS),
)


def _display_zone() -> dt.tzinfo:
    try:
        return ZoneInfo(DISPLAY_TIMEZONE)
    except ZoneInfoNotFoundError:  # pragma: no cover - a system without a tz database
        # China has kept UTC+8 all year since 1991, so a fixed offset shows the same time.
        return dt.timezone(dt.timedelta(hours=8), "CST")


DISPLAY_ZONE = _display_zone()


def _datetime(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _localtime(value: dt.datetime | None) -> Markup:
    """A UTC time shown in Beijing time, in a <time> element that keeps the UTC instant."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    utc = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = value.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}">{}</time>').format(utc, local)


def _highlight(text: str, q: str) -> Markup:
    """``text`` escaped, with the search terms wrapped in <mark>."""
    terms = sorted({t for t in q.split() if t}, key=len, reverse=True)[:10]
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, last = Markup(""), 0
    for match in pattern.finditer(text):
        out += escape(text[last : match.start()]) + Markup("<mark>%s</mark>") % match.group()
        last = match.end()
    return out + escape(text[last:])


def _excerpt(text: str, length: int = 140) -> str:
    return text if len(text) <= length else text[:length].rstrip() + "…"


def _path(value: str) -> str:
    """A path segment for an identifier (node:uscc:code keeps its colons)."""
    return quote(value, safe=":@-._~")


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    datetime=_datetime, localtime=_localtime, highlight=_highlight, excerpt=_excerpt, path=_path
)


# request context ----------------------------------------------------------------------------


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


def _set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _finish(ctx: PageContext, response: Response) -> Response:
    if ctx.remember_lang:
        _set_cookie(response, ctx.request, i18n.LANG_COOKIE, ctx.lang, LANG_COOKIE_SECONDS)
    if ctx.new_csrf_secret:
        _set_cookie(response, ctx.request, CSRF_COOKIE, ctx.csrf_secret)
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
    return _finish(ctx, HTMLResponse(html, status_code=status))


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


# home ---------------------------------------------------------------------------------------


@router.get("/")
def home(page: Page, _a: Public) -> Response:
    """The node's front page: search box, counts, base catalogs, recent resources."""
    s = page.session
    overview = catalog_service.search(
        session=s, filters=ResourceFilters(), limit=5, facets=("base_catalog",)
    )
    hosted = catalog_service.search(
        session=s, filters=ResourceFilters(hosted=True), limit=0, facets=()
    )
    organizations = len(identity_service.list_organizations(session=s))
    return render(
        page, "home.html", overview=overview, hosted_total=hosted.total, organizations=organizations
    )


# catalog ------------------------------------------------------------------------------------


def _facet_link(pairs: Sequence[tuple[str, str]], name: str, value: str) -> tuple[bool, str]:
    """Whether a facet value is selected, and the URL that toggles it (back to page one)."""
    selected = (name, value) in pairs
    kept = [p for p in pairs if p != (name, value)] if selected else [*pairs, (name, value)]
    return selected, "/catalog" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/catalog")
def catalog(
    page: Page,
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
    limit: Annotated[int | None, Query(ge=1)] = None,
    sort: str = "updated_desc",
) -> Response:
    """Search the catalog with facets; the same query parameters as /api/v1/resources."""
    settings = page.settings
    limit = settings.page_size_default if limit is None else limit
    if limit > settings.page_size_max:
        raise Invalid(f"limit must be at most {settings.page_size_max}", field="limit")
    filters = ResourceFilters(
        q=q.strip(),
        provider=provider,
        classification=classification,
        sharing=sharing,
        opening=opening,
        grade=grade,
        base_catalog=base_catalog,
        hosted=hosted,
    )
    result = catalog_service.search(
        session=page.session, filters=filters, offset=offset, limit=limit, sort=sort
    )
    # The query as (name, value) pairs, without paging: facet links and forms rebuild from it.
    filter_pairs: list[tuple[str, str]] = [
        (name, str(getattr(v, "value", v))) for name in FACET_NAMES for v in getattr(filters, name)
    ]
    if hosted is not None:
        filter_pairs.append(("hosted", "true" if hosted else "false"))
    base = ([("q", filters.q)] if filters.q else []) + filter_pairs
    if sort != "updated_desc":
        base.append(("sort", sort))
    if limit != settings.page_size_default:
        base.append(("limit", str(limit)))

    labels: dict[tuple[str, str], str] = {}
    facets = []
    for name in FACET_NAMES:
        items = []
        for fc in result.facets.get(name, []):
            selected, url = _facet_link(base, name, fc.value)
            labels[(name, fc.value)] = fc.label
            items.append({"facet": fc, "selected": selected, "url": url})
        facets.append({"name": name, "items": items})
    active = []
    for name, value in filter_pairs:
        _, url = _facet_link(base, name, value)
        active.append(
            {"name": name, "value": value, "label": labels.get((name, value), value), "url": url}
        )

    def page_url(new_offset: int) -> str:
        pairs = [*base, ("offset", str(new_offset))] if new_offset else base
        return "/catalog" + (f"?{urlencode(pairs)}" if pairs else "")

    prev_url = page_url(max(offset - limit, 0)) if offset > 0 else None
    next_url = page_url(offset + limit) if offset + limit < result.total else None
    return render(
        page,
        "catalog.html",
        result=result,
        q=filters.q,
        facets=facets,
        active=active,
        hidden=[p for p in base if p[0] not in ("q", "sort")],
        sort=sort,
        sorts=list(catalog_service.SORTS),
        prev_url=prev_url,
        next_url=next_url,
        enum_facets=ENUM_FACETS,
        clear_url="/catalog" + (f"?{urlencode([('q', filters.q)])}" if filters.q else ""),
    )


@router.get("/catalog/{resource_id}")
def resource(resource_id: str, page: Page, _a: Public) -> Response:
    """One resource's full catalog entry."""
    res = catalog_service.get(session=page.session, resource_ref=resource_id)
    related = []
    for ref in res.related:
        try:
            other = catalog_service.get(session=page.session, resource_ref=ref)
        except (NotFound, Invalid):
            related.append({"id": ref, "name": None})
        else:
            related.append({"id": other.id, "name": other.name})
    return render(page, "resource.html", r=res, related=related)


@router.get("/catalog/{resource_id}/versions")
def resource_versions(resource_id: str, page: Page, _a: Public) -> Response:
    """Every metadata version of a resource, newest first."""
    res = catalog_service.get(session=page.session, resource_ref=resource_id)
    versions = catalog_service.versions(session=page.session, resource_ref=res.id)
    return render(page, "versions.html", r=res, versions=versions)


# login --------------------------------------------------------------------------------------


@router.get("/login")
def login_form(page: Page, _a: Public) -> Response:
    """The login form."""
    return render(page, "login.html", username="", failed=False)


@router.post("/login")
def login(
    page: Page,
    _a: Public,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Check the password, open a login session in an HttpOnly cookie, go home."""
    check_csrf(page.request, csrf_token)
    try:
        token, _user, _expires = identity_service.login(
            session=page.session,
            username=username,
            password=password,
            hours=page.settings.session_hours,
        )
    except Unauthorized:
        return render(page, "login.html", 401, username=username, failed=True)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(response, page.request, SESSION_COOKIE, token, page.settings.session_hours * 3600)
    return _finish(page, response)


@router.post("/logout")
def logout(page: Page, _actor: Authenticated, csrf_token: Annotated[str, Form()] = "") -> Response:
    """End the login session and clear its cookie."""
    check_csrf(page.request, csrf_token)
    token = page.request.cookies.get(SESSION_COOKIE)
    if token:
        identity_service.logout(session=page.session, token=token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return _finish(page, response)


# terms --------------------------------------------------------------------------------------


@router.get("/terms/sharing")
def sharing_terms(page: Page, _a: Public) -> Response:
    """The platform's sharing terms; DCAT links non-open resources' licences here."""
    return render(page, "terms_sharing.html")
