"""Catalog logic: publish, change (versioned), read, search with facets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.orm import Session

from hutong.catalog.models import Resource, ResourceVersion
from hutong.catalog.schemas import (
    FacetCount,
    ResourceBase,
    ResourceCreate,
    ResourceFilters,
    ResourcePage,
    ResourceRead,
    ResourceUpdate,
    ResourceVersionRead,
)
from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Forbidden, Invalid, NotFound
from hutong.core.ids import check_uscc, resource_id
from hutong.core.security import Actor, Role
from hutong.identity import service as identity_service
from hutong.identity.models import Organization

FACETS = ("provider", "classification", "sharing", "opening", "grade", "base_catalog")
_FACET_COLUMNS = {
    "provider": Resource.provider_id,
    "classification": Resource.classification,
    "sharing": Resource.sharing_type,
    "opening": Resource.open_type,
    "grade": Resource.security_grade,
    "base_catalog": Resource.base_catalog,
}
SORTS: dict[str, Any] = {
    "updated_desc": Resource.updated_at.desc(),
    "updated_asc": Resource.updated_at.asc(),
    "name_asc": Resource.name.asc(),
    "name_desc": Resource.name.desc(),
    "code_asc": Resource.code.asc(),
    "created_desc": Resource.created_at.desc(),
}


def _search_text(meta: ResourceBase, provider_name: str) -> str:
    parts = [meta.name, meta.abstract, meta.classification_name, provider_name, *meta.keywords]
    parts += [f.label for f in meta.fields]
    return "\n".join(p for p in parts if p)


def _to_read(resource: Resource, provider: Organization) -> ResourceRead:
    return ResourceRead(
        **resource.meta,
        id=resource.id,
        code=resource.code,
        node=resource.node,
        provider=provider.uscc,
        provider_id=provider.id,
        provider_name=provider.name,
        version=resource.version,
        created_at=resource.created_at,
        updated_at=resource.updated_at,
        row_count=resource.row_count,
        data_updated_at=resource.data_updated_at,
    )


def _index(session: Session, resource: Resource) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("DELETE FROM resource_fts WHERE resource_id = :id"), {"id": resource.id}
        )
        session.execute(
            text("INSERT INTO resource_fts (resource_id, text) VALUES (:id, :t)"),
            {"id": resource.id, "t": resource.search_text},
        )


def _check_may_publish(actor: Actor, provider_id: str) -> None:
    if actor.has(Role.operator):
        return
    if actor.has(Role.steward) and actor.organization_id == provider_id:
        return
    raise Forbidden("only the provider's stewards or an operator may publish or change it")


def _check_related(session: Session, related: Sequence[str], node: str) -> list[str]:
    out = []
    for ref in related:
        rid = ref if ":" in ref else None
        if rid is None:
            found = session.scalars(select(Resource.id).where(Resource.code == ref)).first()
            if found is None:
                raise Invalid(f"related resource '{ref}' is not in the catalog", field="related")
            rid = found
        elif ref.split(":")[0] == node and session.get(Resource, ref) is None:
            raise Invalid(f"related resource '{ref}' is not in the catalog", field="related")
        out.append(rid)
    return out


def create(*, session: Session, actor: Actor, data: ResourceCreate) -> ResourceRead:
    """Publish a resource. Raises Invalid, Forbidden, Conflict, NotFound (provider)."""
    node = identity_service.require_node(session=session)
    uscc = check_uscc(data.provider, field="provider")
    provider = identity_service.resolve_organization(session=session, ref=uscc)
    _check_may_publish(actor, provider.id)
    rid = resource_id(node.code, uscc, data.code)
    if session.get(Resource, rid) is not None:
        raise Conflict(f"resource {rid} already exists", field="code", value=data.code)
    base = ResourceBase.model_validate(data.model_dump(exclude={"code", "provider"}))
    base.related = _check_related(session, base.related, node.code)
    now = utcnow()
    resource = Resource(
        id=rid,
        node=node.code,
        code=data.code,
        provider_id=provider.id,
        created_at=now,
        version=0,
    )
    _apply(resource, base, provider, now)
    session.add(resource)
    session.flush()
    _new_version(session, resource, actor, "created")
    _index(session, resource)
    _audit(session, actor, "resource.create", resource)
    return _to_read(resource, provider)


def _apply(resource: Resource, base: ResourceBase, provider: Organization, now: Any) -> None:
    resource.name = base.name
    resource.classification = base.classification
    resource.sharing_type = base.sharing.type.value
    resource.open_type = base.opening.type.value
    resource.security_grade = base.security_grade.value
    resource.base_catalog = base.base_catalog.value if base.base_catalog else None
    resource.hosted = base.hosted
    resource.meta = base.model_dump(mode="json")
    resource.search_text = _search_text(base, provider.name)
    resource.updated_at = now


def _new_version(session: Session, resource: Resource, actor: Actor, note: str) -> None:
    resource.version = (resource.version or 0) + 1
    session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=resource.version,
            meta=resource.meta,
            actor=actor.label,
            note=note,
            created_at=resource.updated_at,
        )
    )
    session.flush()


def _audit(session: Session, actor: Actor, action: str, resource: Resource) -> None:
    from hutong.audit import service as audit_service

    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            action,
            resource=resource.id,
            provider_org=resource.provider_id,
            detail={"version": resource.version},
        ),
    )


def get_row(*, session: Session, resource_ref: str) -> Resource:
    """The ORM row of a resource by id (node:uscc:code) or code. Raises NotFound."""
    resource = session.get(Resource, resource_ref) if ":" in resource_ref else None
    if resource is None and ":" not in resource_ref:
        rows = list(session.scalars(select(Resource).where(Resource.code == resource_ref)))
        if len(rows) > 1:
            raise Invalid(
                f"code '{resource_ref}' is used by several providers; give node:uscc:code",
                field="resource",
            )
        resource = rows[0] if rows else None
    if resource is None:
        raise NotFound(f"no resource '{resource_ref}'", field="resource", value=resource_ref)
    return resource


def get(*, session: Session, resource_ref: str) -> ResourceRead:
    """A resource by id or code. Raises NotFound."""
    resource = get_row(session=session, resource_ref=resource_ref)
    provider = session.get(Organization, resource.provider_id)
    assert provider is not None
    return _to_read(resource, provider)


def update(
    *, session: Session, actor: Actor, resource_ref: str, data: ResourceUpdate
) -> ResourceRead:
    """Change metadata, keeping the old version. Raises NotFound, Forbidden, Invalid."""
    resource = get_row(session=session, resource_ref=resource_ref)
    _check_may_publish(actor, resource.provider_id)
    provider = session.get(Organization, resource.provider_id)
    assert provider is not None
    changes = data.model_dump(exclude_unset=True, exclude={"note"})
    if not changes:
        raise Invalid("nothing to change")
    merged = {
        **resource.meta,
        **{k: v for k, v in data.model_dump(mode="json").items() if k in changes},
    }
    try:
        base = ResourceBase.model_validate(merged)
    except ValidationError as exc:
        raise Invalid(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    if resource.table_name and "fields" in changes:
        old = [(f["name"], f["type"], f["key"]) for f in resource.meta["fields"]]
        new = [(f.name, f.type.value, f.key) for f in base.fields]
        if old != new:
            raise Conflict(
                "the fields of a hosted resource with data cannot change name, type or key; "
                "labels, categories and descriptions can",
                field="fields",
            )
    base.related = _check_related(session, base.related, resource.node)
    _apply(resource, base, provider, utcnow())
    _new_version(session, resource, actor, data.note or "updated")
    _index(session, resource)
    _audit(session, actor, "resource.update", resource)
    return _to_read(resource, provider)


def versions(*, session: Session, resource_ref: str) -> list[ResourceVersionRead]:
    """Every metadata version of a resource, newest first. Raises NotFound."""
    resource = get_row(session=session, resource_ref=resource_ref)
    rows = session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id == resource.id)
        .order_by(ResourceVersion.version.desc())
    )
    return [ResourceVersionRead.model_validate(r, from_attributes=True) for r in rows]


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_condition(session: Session, q: str) -> ColumnElement[bool] | None:
    """The condition matching every whitespace-separated term of ``q`` (Chinese too)."""
    terms = [t for t in q.split() if t][:10]
    if not terms:
        return None
    conds: list[ColumnElement[bool]] = []
    sqlite = session.get_bind().dialect.name == "sqlite"
    for term in terms:
        if sqlite and len(term) >= 3:
            # trigram FTS5: a quoted phrase matches any substring of three or more characters
            phrase = '"' + term.replace('"', '""') + '"'
            conds.append(
                Resource.id.in_(
                    select(text("resource_id"))
                    .select_from(text("resource_fts"))
                    .where(text("resource_fts MATCH :p").bindparams(p=phrase))
                )
            )
        else:
            conds.append(Resource.search_text.ilike(f"%{_like_escape(term)}%", escape="\\"))
    return and_(*conds)


def _filtered(session: Session, filters: ResourceFilters, skip: str | None = None) -> list[Any]:
    conds: list[Any] = []
    tc = text_condition(session, filters.q)
    if tc is not None:
        conds.append(tc)
    values: dict[str, list[str]] = {
        "provider": [_provider_key(session, p) for p in filters.provider],
        "classification": filters.classification,
        "sharing": [v.value for v in filters.sharing],
        "opening": [v.value for v in filters.opening],
        "grade": [v.value for v in filters.grade],
        "base_catalog": [v.value for v in filters.base_catalog],
    }
    for name, vals in values.items():
        if not vals or name == skip:
            continue
        column = _FACET_COLUMNS[name]
        if name == "classification":
            conds.append(or_(*[column.startswith(v) for v in vals]))
        else:
            conds.append(column.in_(vals))
    if filters.hosted is not None:
        conds.append(Resource.hosted.is_(filters.hosted))
    return conds


def _provider_key(session: Session, ref: str) -> str:
    if ":" in ref:
        return ref
    try:
        return identity_service.resolve_organization(session=session, ref=ref).id
    except NotFound:
        return ref  # filtering by an unknown provider simply matches nothing


def search(
    *,
    session: Session,
    filters: ResourceFilters,
    offset: int = 0,
    limit: int = 20,
    sort: str = "updated_desc",
    facets: Sequence[str] = FACETS,
    facet_limit: int = 50,
) -> ResourcePage:
    """Search the catalog: text that works for Chinese, facet filters and facet counts."""
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}", field="sort", value=sort)
    if offset < 0 or limit < 0:
        raise Invalid("offset and limit must not be negative", field="offset")
    conds = _filtered(session, filters)
    stmt = select(Resource, Organization).join(
        Organization, Organization.id == Resource.provider_id
    )
    if conds:
        stmt = stmt.where(*conds)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(SORTS[sort], Resource.id).offset(offset).limit(limit))
    items = [_to_read(r, o) for r, o in rows]
    facet_counts: dict[str, list[FacetCount]] = {}
    names = _org_names(session) if "provider" in facets else {}
    for name in facets:
        if name not in _FACET_COLUMNS:
            raise Invalid(f"unknown facet '{name}'", field="facet.field", value=name)
        column = _FACET_COLUMNS[name]
        fstmt = select(column, func.count()).group_by(column).order_by(func.count().desc(), column)
        fconds = _filtered(session, filters)
        if fconds:
            fstmt = fstmt.where(*fconds)
        facet_counts[name] = [
            FacetCount(value=str(v), label=names.get(str(v), str(v)), count=c)
            for v, c in session.execute(fstmt.limit(facet_limit))
            if v is not None
        ]
    return ResourcePage(items=items, total=total, offset=offset, limit=limit, facets=facet_counts)


def _org_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Organization.id, Organization.name)).all())


def list_ids(*, session: Session, offset: int = 0, limit: int | None = None) -> list[str]:
    """Resource ids in a stable order."""
    stmt = select(Resource.id).order_by(Resource.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def count(*, session: Session) -> int:
    """How many resources the catalog holds."""
    return session.scalar(select(func.count()).select_from(Resource)) or 0
