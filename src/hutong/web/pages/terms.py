"""The platform's sharing terms (DCAT links non-open resources' licences here)."""

from __future__ import annotations

from fastapi import Response

from hutong.web.pages.context import (
    Page,
    Public,
    render,
    router,
)


@router.get("/terms/sharing")
def sharing_terms(page: Page, _a: Public) -> Response:
    """The platform's sharing terms; DCAT links non-open resources' licences here."""
    return render(page, "terms_sharing.html")
