"""CKAN Action API logic over the catalog: search, shows, lists and the datastore.

The catalog service owns resources; this module only reads them. ``hutong.ckan.search``
turns CKAN's query language into SQL, ``hutong.ckan.faceting`` counts facets and
``hutong.ckan.mapping`` turns results into CKAN dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hutong import __version__
from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import BaseCatalog, OpenType, OrganizationRead, ResourceRead
from hutong.ckan import faceting, mapping, search
from hutong.ckan.query import QuerySyntaxError, parse_sort
from hutong.core.errors import Forbidden, Invalid, NotFound
from hutong.datastore import service as datastore_service
from hutong.identity import service as identity_service
from hutong.identity.models import Organization

DEFAULT_SORT = search.DEFAULT_SORT


@dataclass
class PackageSearch:
    """package_search parameters, already parsed and bounded by the route."""

    q: str = ""
    fq: str = ""
    rows: int = 10
    start: int = 0
    sort: str = DEFAULT_SORT
    facet_fields: list[str] = field(default_factory=list)
    facet_limit: int = 50
    facet_mincount: int = 1
    fl: list[str] | None = None


@dataclass
class DatastoreSearch:
    """datastore_search parameters, already parsed and bounded by the route."""

    resource_id: str
    filters: dict[str, Any] | None = None
    offset: int = 0
    limit: int = 100
    sort: str | None = None
    fields: list[str] | None = None
    include_total: bool = True
    records_format: str = "objects"


# --------------------------------------------------------------------------- helpers


def _distribution_index(session: Session) -> dict[str, tuple[str, str]]:
    """CKAN resource UUID -> (hutong id, distribution kind)."""
    rows = session.execute(select(Resource.id, Resource.hosted))
    out: dict[str, tuple[str, str]] = {}
    for rid, hosted in rows:
        for kind in mapping.HOSTED_KINDS if hosted else mapping.GATEWAY_KINDS:
            out[mapping.distribution_uuid(rid, kind)] = (rid, kind)
    return out


def _read(session: Session, resource_id: str) -> ResourceRead:
    return catalog_service.get(session=session, resource_ref=resource_id)


def _org_read(session: Session, org_id: str) -> OrganizationRead:
    org = session.get(Organization, org_id)
    if org is None:  # pragma: no cover - a resource always has its provider
        raise NotFound(f"organization '{org_id}' was not found")
    return OrganizationRead.model_validate(org, from_attributes=True)


def _package(session: Session, resource_id: str, base_url: str) -> dict[str, Any]:
    resource = _read(session, resource_id)
    return mapping.package_dict(
        resource, _org_read(session, resource.provider_id), base_url=base_url
    )


def _packages(session: Session, stmt: Select[Resource], base_url: str) -> list[dict[str, Any]]:
    """Package dicts of the resources a statement selects, in its order.

    Rows and their providers are loaded in two queries; the catalog service then finds them
    in the session's identity map instead of querying once per resource.
    """
    resources = list(session.scalars(stmt))
    provider_ids = {r.provider_id for r in resources}
    if provider_ids:
        session.scalars(select(Organization).where(Organization.id.in_(provider_ids))).all()
    return [_package(session, r.id, base_url) for r in resources]


# --------------------------------------------------------------------------- actions


def status(*, session: Session, site_url: str) -> dict[str, Any]:
    """status_show: the site, the CKAN version whose API we follow, and extensions."""
    node = identity_service.get_node(session=session)
    return {
        "ckan_version": mapping.CKAN_VERSION,
        "site_title": node.name if node else "hutong 互通",
        "site_description": node.name_en if node else "",
        "site_url": site_url.rstrip("/"),
        "error_emails_to": None,
        "locale_default": mapping.LOCALE_DEFAULT,
        "extensions": list(mapping.EXTENSIONS),
        "hutong_version": __version__,
        "hutong_node": node.code if node else None,
    }


def package_list(*, session: Session, offset: int = 0, limit: int | None = None) -> list[str]:
    """package_list: dataset names in a stable order."""
    ids = catalog_service.list_ids(session=session, offset=offset, limit=limit)
    return [mapping.package_name(rid) for rid in ids]


def package_search(*, session: Session, base_url: str, query: PackageSearch) -> dict[str, Any]:
    """package_search: q, fq, sort, paging and facets. Raises Invalid for a bad query."""
    cond = search.condition(session, q=query.q, fq=query.fq)
    order = search.order_by(query.sort)
    count = session.scalar(select(func.count()).select_from(Resource).where(cond)) or 0
    results: list[dict[str, Any]] = []
    if query.rows:
        stmt = select(Resource).where(cond).order_by(*order).offset(query.start)
        results = _packages(session, stmt.limit(query.rows), base_url)
    if query.fl is not None:
        results = [{k: r[k] for k in query.fl if k in r} for r in results]
    facets, search_facets = faceting.facets(
        session, cond, query.facet_fields, limit=query.facet_limit, mincount=query.facet_mincount
    )
    return {
        "count": count,
        "facets": facets,
        "results": results,
        "sort": query.sort,
        "search_facets": search_facets,
    }


def resolve_package(*, session: Session, ref: str) -> str:
    """The hutong id of a dataset given by CKAN name, CKAN UUID, hutong id or code.

    Raises NotFound.
    """
    ref = (ref or "").strip()
    rid: str | None = None
    if mapping.is_uuid(ref):
        rid = search.package_index(session).get(ref.lower())
    else:
        rid = mapping.resource_id_from_name(ref)
        if rid is None and ref:
            try:
                rid = catalog_service.get_row(session=session, resource_ref=ref).id
            except NotFound:
                rid = None
    if rid is None or session.get(Resource, rid) is None:
        raise NotFound(f"dataset '{ref}' was not found", field="id", value=ref)
    return rid


def package_show(*, session: Session, base_url: str, ref: str) -> dict[str, Any]:
    """package_show by name, UUID or hutong id. Raises NotFound."""
    return _package(session, resolve_package(session=session, ref=ref), base_url)


def resource_show(*, session: Session, base_url: str, ref: str) -> dict[str, Any]:
    """resource_show by CKAN resource UUID. Raises NotFound."""
    found = _distribution_index(session).get((ref or "").strip().lower())
    if found is None:
        raise NotFound(f"resource '{ref}' was not found", field="id", value=ref)
    rid, kind = found
    return mapping.resource_dict(_read(session, rid), kind, base_url=base_url)


def _package_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Resource.provider_id, func.count()).group_by(Resource.provider_id)
    )
    return {org_id: n for org_id, n in rows}


def organization_list(
    *,
    session: Session,
    all_fields: bool = False,
    sort: str = "title asc",
    offset: int = 0,
    limit: int | None = None,
    names: Sequence[str] | None = None,
) -> list[Any]:
    """organization_list: names, or dicts with ``all_fields``. Raises Invalid for a bad sort."""
    try:
        items = parse_sort(sort) or [("title", False)]
    except QuerySyntaxError as exc:
        raise Invalid(f"sort: {exc}", field="sort", value=sort) from None
    key_name, desc = items[0]
    if key_name not in ("name", "title", "package_count"):
        raise Invalid("sort: use name, title or package_count", field="sort", value=sort)
    counts = _package_counts(session)
    orgs = search.org_reads(session)
    if names:
        wanted = set(names)
        orgs = [o for o in orgs if mapping.organization_name(o) in wanted]

    def key(o: OrganizationRead) -> Any:
        if key_name == "package_count":
            return (counts.get(o.id, 0), mapping.organization_name(o))
        if key_name == "title":
            return (o.name, mapping.organization_name(o))
        return mapping.organization_name(o)

    orgs.sort(key=key, reverse=desc)
    orgs = orgs[offset:] if limit is None else orgs[offset : offset + limit]
    if not all_fields:
        return [mapping.organization_name(o) for o in orgs]
    return [
        mapping.organization_dict(o, package_count=counts.get(o.id, 0), detail=True) for o in orgs
    ]


def resolve_organization(*, session: Session, ref: str) -> OrganizationRead:
    """An organization by CKAN name, UUID, hutong id (node:uscc) or credit code. Raises NotFound."""
    ref = (ref or "").strip()
    for org in search.org_reads(session):
        if ref and search.org_matches(org, ref):
            return org
    raise NotFound(f"organization '{ref}' was not found", field="id", value=ref)


def organization_show(
    *,
    session: Session,
    base_url: str,
    ref: str,
    include_datasets: bool = False,
    rows_max: int = 1000,
) -> dict[str, Any]:
    """organization_show, with up to ``rows_max`` datasets when asked. Raises NotFound."""
    org = resolve_organization(session=session, ref=ref)
    count = _package_counts(session).get(org.id, 0)
    out = mapping.organization_dict(org, package_count=count, detail=True)
    if include_datasets:
        stmt = select(Resource).where(Resource.provider_id == org.id).order_by(Resource.id)
        out["packages"] = _packages(session, stmt.limit(rows_max), base_url)
    return out


def _group_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Resource.base_catalog, func.count())
        .where(Resource.base_catalog.is_not(None))
        .group_by(Resource.base_catalog)
    )
    return {str(name): n for name, n in rows}


def group_list(*, session: Session, all_fields: bool = False) -> list[Any]:
    """group_list: the base catalogs (基础库) that hold resources."""
    counts = _group_counts(session)
    names = sorted(counts)
    if not all_fields:
        return names
    return [mapping.group_dict(n, package_count=counts[n], detail=True) for n in names]


def group_show(
    *,
    session: Session,
    base_url: str,
    ref: str,
    include_datasets: bool = False,
    rows_max: int = 1000,
) -> dict[str, Any]:
    """group_show of a base catalog by name or UUID. Raises NotFound."""
    ref = (ref or "").strip()
    found = next((b for b in BaseCatalog if ref in (b.value, mapping.group_uuid(b.value))), None)
    if found is None:
        raise NotFound(f"group '{ref}' was not found", field="id", value=ref)
    out = mapping.group_dict(
        found, package_count=_group_counts(session).get(found.value, 0), detail=True
    )
    if include_datasets:
        stmt = select(Resource).where(Resource.base_catalog == found.value).order_by(Resource.id)
        out["packages"] = _packages(session, stmt.limit(rows_max), base_url)
    return out


# --------------------------------------------------------------------------- datastore

_CKAN_TYPES = {
    "string": "text",
    "integer": "int",
    "decimal": "numeric",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
}


def _field_dict(spec: Any) -> dict[str, Any]:
    if isinstance(spec, Mapping):
        name, kind = spec.get("name") or spec.get("id"), spec.get("type", "string")
        label, notes = spec.get("label", ""), spec.get("description", "")
    else:
        name, kind = spec.name, getattr(spec, "type", "string")
        label, notes = getattr(spec, "label", ""), getattr(spec, "description", "")
    kind = getattr(kind, "value", kind)
    out: dict[str, Any] = {"id": name, "type": _CKAN_TYPES.get(str(kind), str(kind))}
    if label or notes:
        out["info"] = {"label": label or "", "notes": notes or ""}
    return out


def resolve_datastore_resource(*, session: Session, ref: str) -> ResourceRead:
    """The hosted, open resource behind a datastore resource_id (CKAN UUID or hutong id).

    Raises NotFound (unknown or not hosted) and Forbidden (not open).
    """
    ref = (ref or "").strip()
    missing = NotFound(f'Resource "{ref}" was not found.', field="resource_id", value=ref)
    if mapping.is_uuid(ref):
        found = _distribution_index(session).get(ref.lower())
        if found is None or found[1] != mapping.DATASTORE_KIND:
            raise missing
        resource = _read(session, found[0])
    else:
        try:
            resource = _read(session, ref)
        except NotFound:
            raise missing from None
    if not resource.hosted:
        raise missing
    if resource.opening.type != OpenType.open:
        label = mapping.OPEN_LABELS[resource.opening.type]
        raise Forbidden(
            f"resource '{resource.id}' is not open ({label}); its data is shared through the "
            "gateway to approved applications, not through datastore_search",
            field="resource_id",
        )
    return resource


def datastore_search(*, session: Session, query: DatastoreSearch) -> dict[str, Any]:
    """datastore_search on an open hosted resource. Raises NotFound, Forbidden, Invalid."""
    resource = resolve_datastore_resource(session=session, ref=query.resource_id)
    page = datastore_service.search_records(
        session=session,
        resource_ref=resource.id,
        filters=query.filters,
        offset=query.offset,
        limit=query.limit,
        sort=query.sort,
        fields=query.fields,
        include_total=query.include_total,
    )
    fields = [_field_dict(f) for f in page.fields]
    records: list[Any] = list(page.records)
    if records and "_id" in records[0] and all(f["id"] != "_id" for f in fields):
        fields.insert(0, {"id": "_id", "type": "int"})
    if query.records_format == "lists":
        records = [[rec.get(f["id"]) for f in fields] for rec in records]
    result: dict[str, Any] = {
        "include_total": query.include_total,
        "resource_id": query.resource_id,
        "fields": fields,
        "records_format": query.records_format,
        "records": records,
        "limit": query.limit,
        "offset": query.offset,
    }
    if query.filters:
        result["filters"] = query.filters
    if query.sort:
        result["sort"] = query.sort
    if query.include_total and page.total is not None:
        result["total"] = page.total
        result["total_was_estimated"] = False
    return result
