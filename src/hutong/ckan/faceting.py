"""Facet counts of a CKAN package_search in CKAN's two shapes (``facets``,
``search_facets``), over the resources a ``hutong.ckan.search`` condition selects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hutong.catalog.models import Resource
from hutong.ckan import mapping
from hutong.ckan.search import org_reads
from hutong.core.errors import Invalid

# facet.field names -> canonical facet
FACET_ALIASES = {
    "organization": "organization",
    "tags": "tags",
    "groups": "groups",
    "base_catalog": "groups",
    "res_format": "res_format",
    "license_id": "license_id",
    "sharing": "sharing",
    "sharing_type": "sharing",
    "opening": "opening",
    "open_type": "opening",
    "grade": "grade",
    "security_grade": "grade",
    "classification": "classification",
}


_LABELS: dict[str, Mapping[Any, str]] = {
    "sharing": {k.value: v for k, v in mapping.SHARING_LABELS.items()},
    "opening": {k.value: v for k, v in mapping.OPEN_LABELS.items()},
    "grade": {k.value: v for k, v in mapping.GRADE_LABELS.items()},
    "groups": {k.value: v for k, v in mapping.BASE_CATALOG_TITLES.items()},
}
_FACET_COLUMNS = {
    "sharing": Resource.sharing_type,
    "opening": Resource.open_type,
    "grade": Resource.security_grade,
    "classification": Resource.classification,
    "groups": Resource.base_catalog,
}


def _facet_items(
    session: Session, canonical: str, cond: ColumnElement[bool]
) -> list[tuple[str, str, int]]:
    """(name, display_name, count) of one facet over the matching resources."""
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    if canonical == "tags":
        for keywords in session.scalars(select(Resource.meta["keywords"]).where(cond)):
            counts.update(set(keywords or []))
    elif canonical == "organization":
        orgs = {o.id: o for o in org_reads(session)}
        by_org = select(Resource.provider_id, func.count()).where(cond)
        for org_id, n in session.execute(by_org.group_by(Resource.provider_id)):
            org = orgs.get(org_id)
            if org is None:  # pragma: no cover
                continue
            name = mapping.organization_name(org)
            counts[name] += n
            labels[name] = org.name
    elif canonical == "res_format":
        by_hosted = select(Resource.hosted, func.count()).where(cond).group_by(Resource.hosted)
        for hosted, n in session.execute(by_hosted):
            for kind in mapping.HOSTED_KINDS if hosted else mapping.GATEWAY_KINDS:
                counts[mapping.FORMATS[kind][0]] += n
    elif canonical == "license_id":
        by_open = select(Resource.open_type, func.count()).where(cond).group_by(Resource.open_type)
        for open_type, n in session.execute(by_open):
            counts[mapping.license_id(open_type)] += n
        labels = {k: v["title"] for k, v in mapping.LICENSES.items()}
    else:
        column = _FACET_COLUMNS[canonical]
        for value, n in session.execute(select(column, func.count()).where(cond).group_by(column)):
            if value is not None:
                counts[str(value)] += n
        labels = dict(_LABELS.get(canonical, {}))
    return [(name, labels.get(name, name), n) for name, n in counts.items()]


def facets(
    session: Session,
    cond: ColumnElement[bool],
    fields: Sequence[str],
    *,
    limit: int = 50,
    mincount: int = 1,
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, Any]]]:
    """Facet counts as CKAN's ``facets`` and ``search_facets``. Raises Invalid for a field."""
    out: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict[str, Any]] = {}
    for name in fields:
        canonical = FACET_ALIASES.get(name)
        if canonical is None:
            raise Invalid(
                f"facet.field: cannot count '{name}'; use {', '.join(FACET_ALIASES)}",
                field="facet.field",
                value=name,
            )
        items = [i for i in _facet_items(session, canonical, cond) if i[2] >= mincount]
        items.sort(key=lambda i: (-i[2], i[0]))
        if limit >= 0:
            items = items[:limit]
        out[name] = {n: c for n, _d, c in items}
        search_facets[name] = {
            "title": name,
            "items": [{"name": n, "display_name": d, "count": c} for n, d, c in items],
        }
    return out, search_facets
