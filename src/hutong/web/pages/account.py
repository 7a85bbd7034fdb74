"""Logging in and out: the form, the password check, the login-session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response
from fastapi.responses import RedirectResponse

from hutong.core.deps import SESSION_COOKIE
from hutong.core.errors import Unauthorized
from hutong.identity import service as identity_service
from hutong.web.pages.context import (
    Authenticated,
    Page,
    Public,
    check_csrf,
    finish,
    render,
    router,
    set_cookie,
)


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
    set_cookie(response, page.request, SESSION_COOKIE, token, page.settings.session_hours * 3600)
    return finish(page, response)


@router.post("/logout")
def logout(page: Page, _actor: Authenticated, csrf_token: Annotated[str, Form()] = "") -> Response:
    """End the login session and clear its cookie."""
    check_csrf(page.request, csrf_token)
    token = page.request.cookies.get(SESSION_COOKIE)
    if token:
        identity_service.logout(session=page.session, token=token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return finish(page, response)
