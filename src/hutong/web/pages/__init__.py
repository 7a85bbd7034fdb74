"""HTML pages: home, catalog search, a resource, login and logout, the sharing terms.

Server-rendered with Jinja2 (autoescape on), zh-CN by default and English, forms that work
without JavaScript. Every asset is served by the node from ``static/``.

CSRF: a random secret lives in the ``hutong_csrf`` cookie (HttpOnly, SameSite=Lax); every
POST form carries ``csrf_token`` = HMAC-SHA256(secret, login-session cookie). A POST whose
token does not match is refused with 403. Binding the token to the login session means a
cookie planted by a sibling site is not enough to forge it for a logged-in user.
"""

from hutong.web.pages.context import (
    AUDIT_READERS,
    CSRF_COOKIE,
    CSRF_FIELD,
    LANG_COOKIE_SECONDS,
    ROLE_NAV,
    SECURITY_HEADERS,
    Authenticated,
    Page,
    PageContext,
    PageRoute,
    Public,
    check_csrf,
    csrf_token,
    nav_links,
    page_context,
    render,
    render_error,
    router,
)
from hutong.web.pages.templating import (
    DISPLAY_TIMEZONE,
    DISPLAY_ZONE,
    STATIC_DIR,
    TEMPLATES_DIR,
    WEB_DIR,
    _env,
)

# The routes register on ``router`` when their modules are imported; this order is the
# order of the router's routes.
from hutong.web.pages.browse import (  # isort: skip
    ENUM_FACETS,
    FACET_NAMES,
    catalog,
    home,
    resource,
    resource_versions,
)
from hutong.web.pages.account import login, login_form, logout  # isort: skip
from hutong.web.pages.terms import sharing_terms  # isort: skip

__all__ = [
    "AUDIT_READERS",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "DISPLAY_TIMEZONE",
    "DISPLAY_ZONE",
    "ENUM_FACETS",
    "FACET_NAMES",
    "LANG_COOKIE_SECONDS",
    "ROLE_NAV",
    "SECURITY_HEADERS",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "WEB_DIR",
    "Authenticated",
    "Page",
    "PageContext",
    "PageRoute",
    "Public",
    "_env",
    "catalog",
    "check_csrf",
    "csrf_token",
    "home",
    "login",
    "login_form",
    "logout",
    "nav_links",
    "page_context",
    "render",
    "render_error",
    "resource",
    "resource_versions",
    "router",
    "sharing_terms",
]

# The audit pages (hutong.web.audit_pages) add their routes to this router; they use the
# helpers above, so their module is imported last.
from hutong.web import audit_pages  # noqa: E402, F401
