"""HTML pages of the audit log: a citizen's data uses, the entries, the statistics.

The routes call the same service functions as ``/api/v1/audit`` and render a template.
They are added to ``hutong.web.pages.router`` (imported at the end of that module), so
every page route lives in one router with one error handling and one permission test.
The header links to these pages come from ``pages.ROLE_NAV``, which uses the same roles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from hutong.audit import checkpoints
from hutong.audit import service as audit_service
from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import ResourceRead
from hutong.core.deps import requires
from hutong.core.errors import Forbidden, Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.identity import service as identity_service
from hutong.web.pages import AUDIT_READERS, Page, render, router

Citizen = Annotated[Actor, Depends(requires(Role.citizen))]
Reader = Annotated[Actor, Depends(requires(*AUDIT_READERS))]
# The groupings the statistics page offers (the service also knows node and action).
STAT_GROUPS = ("organization", "resource", "scenario", "day")
CHART_WIDTH = 720
CHART_HEIGHT = 200
CHART_LEFT = 44  # room for the y-axis labels
CHART_BOTTOM = 24  # room for the first and last date
CHART_TOP = 8


def _page_size(settings: Settings, limit: int | None) -> int:
    """The requested page size, the default if none. Raises Invalid above the maximum."""
    if limit is None:
        return settings.page_size_default
    if limit > settings.page_size_max:
        raise Invalid(f"limit must be at most {settings.page_size_max}", field="limit")
    return limit


def _resources(session: Session, refs: Iterable[str | None]) -> dict[str, ResourceRead]:
    """The catalog entries of the resources a page names, for their names and field labels."""
    found: dict[str, ResourceRead] = {}
    for ref in {r for r in refs if r}:
        try:
            found[ref] = catalog_service.get(session=session, resource_ref=ref)
        except (NotFound, Invalid):
            continue  # another node's resource, or one since removed: the page shows its id
    return found


def _field_labels(resources: Mapping[str, ResourceRead]) -> dict[str, dict[str, str]]:
    """Field name to label (信息项 中文名称), per resource id."""
    return {ref: {f.name: f.label for f in r.fields} for ref, r in resources.items()}


def _pager(
    path: str, pairs: list[tuple[str, str]], *, offset: int, limit: int, more: bool
) -> tuple[str | None, str | None]:
    """The previous and next page URLs (None at either end), keeping the filters."""

    def url(new_offset: int) -> str:
        query = [*pairs, ("offset", str(new_offset))] if new_offset else pairs
        return path + (f"?{urlencode(query)}" if query else "")

    prev_url = url(max(offset - limit, 0)) if offset > 0 else None
    return prev_url, url(offset + limit) if more else None


def daily_chart(days: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Bar geometry of calls per day for an inline SVG, drawn on the server (no script).

    Days without calls between the first and the last are drawn as empty slots, so the
    x-axis is a true time scale.
    """
    calls = {dt.date.fromisoformat(str(d["day"])): d for d in days}
    if not calls:
        return {"bars": [], "width": CHART_WIDTH, "height": CHART_HEIGHT}
    first, last = min(calls), max(calls)
    span = (last - first).days + 1
    top = max(int(d["calls"]) for d in calls.values()) or 1
    plot_width = CHART_WIDTH - CHART_LEFT - 4
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    slot = plot_width / span
    bars = []
    for n in range(span):
        day = first + dt.timedelta(days=n)
        row = calls.get(day)
        if row is None:
            continue
        height = plot_height * int(row["calls"]) / top
        bars.append(
            {
                "day": day.isoformat(),
                "calls": int(row["calls"]),
                "records": int(row["records"]),
                "x": round(CHART_LEFT + n * slot + slot * 0.1, 2),
                "y": round(CHART_TOP + plot_height - height, 2),
                "width": round(max(slot * 0.8, 0.5), 2),
                "height": round(height, 2),
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "top": CHART_TOP,
        "base": CHART_TOP + plot_height,
        "right": CHART_WIDTH - 4,
        "max": top,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "days": span,
    }


@router.get("/my/data-uses")
def my_data_uses(
    page: Page,
    actor: Citizen,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """我的数据使用记录: every use of the logged-in citizen's data, newest first."""
    size = _page_size(page.settings, limit)
    try:
        uses = audit_service.my_uses(session=page.session, actor=actor, offset=offset, limit=size)
    except Forbidden:
        # No verified identity (no subject key) yet: explain that instead of failing.
        return render(page, "my_data_uses.html", uses=None, prev_url=None, next_url=None)
    resources = _resources(page.session, (u.resource_id for u in uses.items))
    pairs = [("limit", str(size))] if limit is not None else []
    prev_url, next_url = _pager(
        "/my/data-uses", pairs, offset=offset, limit=size, more=offset + size < uses.total
    )
    return render(
        page,
        "my_data_uses.html",
        uses=uses,
        field_labels=_field_labels(resources),
        prev_url=prev_url,
        next_url=next_url,
    )


@router.get("/audit")
def audit_log(
    page: Page,
    actor: Reader,
    action: Annotated[str, Query(max_length=64)] = "",
    resource: Annotated[str, Query(max_length=140)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The audit entries the user may read, the latest signed checkpoint and how to verify."""
    size = _page_size(page.settings, limit)
    action, resource = action.strip(), resource.strip()
    # one entry more than shown tells whether there is a next page
    rows = audit_service.list_entries(
        session=page.session,
        actor=actor,
        action=action or None,
        resource=resource or None,
        offset=offset,
        limit=size + 1,
    )
    try:
        checkpoint = checkpoints.get_checkpoint(session=page.session)
    except NotFound:
        checkpoint = None
    verifier_key = checkpoints.public_verifier_key(
        session=page.session, keys_dir=page.settings.keys_dir
    )
    resources = _resources(page.session, (e.resource_id for e in rows[:size]))
    organizations = {
        org.id: org.name for org in identity_service.list_organizations(session=page.session)
    }
    pairs = [(k, v) for k, v in (("action", action), ("resource", resource)) if v]
    if limit is not None:
        pairs.append(("limit", str(size)))
    prev_url, next_url = _pager("/audit", pairs, offset=offset, limit=size, more=len(rows) > size)
    return render(
        page,
        "audit.html",
        entries=rows[:size],
        offset=offset,
        action=action,
        resource=resource,
        filtered=bool(action or resource),
        known_actions=audit_service.DATA_ACTIONS,
        organizations=organizations,
        resources=resources,
        field_labels=_field_labels(resources),
        checkpoint=checkpoint,
        verifier_key=verifier_key,
        prev_url=prev_url,
        next_url=next_url,
    )


@router.get("/audit/stats")
def audit_stats(
    page: Page,
    actor: Reader,
    group_by: Annotated[str, Query(max_length=32)] = "organization",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Response:
    """Data calls and records delivered by organization, resource, scenario or day."""
    stats = audit_service.statistics(
        session=page.session, actor=actor, group_by=group_by, since=since, until=until
    )
    return render(
        page,
        "audit_stats.html",
        stats=stats,
        chart=daily_chart(stats.days),
        groups=STAT_GROUPS,
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
    )
