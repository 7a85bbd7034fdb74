"""The front page and the catalog: search with facets, one resource, its versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Response

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import (
    BaseCatalog,
    OpenType,
    ResourceFilters,
    SecurityGrade,
    SharingType,
)
from hutong.core.errors import Invalid, NotFound
from hutong.identity import service as identity_service
from hutong.web.pages.context import (
    Page,
    Public,
    render,
    router,
)

FACET_NAMES = ("provider", "classification", "sharing", "opening", "grade", "base_catalog")
ENUM_FACETS = frozenset({"sharing", "opening", "grade", "base_catalog"})


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
