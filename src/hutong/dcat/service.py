"""DCAT-AP views of the catalog: gather what the renderer needs from the database."""

from __future__ import annotations

from rdflib import Graph
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import OrganizationRead, ResourceFilters
from hutong.core.errors import Invalid
from hutong.core.security import Role
from hutong.dcat.render import CatalogInfo, catalog_graph, dataset_graph
from hutong.identity import service as identity_service
from hutong.identity.models import Organization, User


def _operator_org(session: Session) -> OrganizationRead:
    """The organization that runs the node: the first operator's, else one named after the node."""
    node = identity_service.require_node(session=session)
    for user in session.scalars(select(User).where(User.organization_id.is_not(None))):
        if Role.operator in user.roles:
            org = session.get(Organization, user.organization_id)
            if org is not None:
                return OrganizationRead.model_validate(org, from_attributes=True)
    return OrganizationRead(
        id=f"{node.code}:operator",
        node=node.code,
        uscc="",
        name=node.name,
        name_en=node.name_en,
        created_at=node.created_at,
    )


def catalog_info(*, session: Session, base_url: str) -> CatalogInfo:
    """Catalog-level metadata of this node."""
    node = identity_service.require_node(session=session)
    modified = session.scalar(select(func.max(Resource.updated_at))) or node.created_at
    return CatalogInfo(
        base_url=base_url.rstrip("/"),
        node=node.code,
        title_zh=f"{node.name}数据资源目录",
        title_en=f"{node.name_en or node.code} data catalog",
        description_zh="公共数据资源目录：共享属性、开放属性、安全级别与信息项。",
        description_en="Catalog of public data resources with sharing and open attributes, "
        "security grades and fields.",
        publisher=_operator_org(session),
        issued=node.created_at.date(),
        modified=modified,
    )


def _organizations(session: Session) -> dict[str, OrganizationRead]:
    return {
        o.id: OrganizationRead.model_validate(o, from_attributes=True)
        for o in identity_service.list_organizations(session=session)
    }


def catalog_page(
    *, session: Session, base_url: str, page: int, page_size: int, extension: str
) -> Graph:
    """One page of the catalog as a graph (Hydra paging). Raises Invalid for a bad page."""
    if page < 1 or page_size < 1:
        raise Invalid("page and page_size start at 1", field="page", value=page)
    total = catalog_service.count(session=session)
    last = max(1, -(-total // page_size))
    if page > last:
        raise Invalid(f"page {page} is past the last page ({last})", field="page", value=page)
    result = catalog_service.search(
        session=session,
        filters=ResourceFilters(),
        offset=(page - 1) * page_size,
        limit=page_size,
        sort="code_asc",
        facets=(),
    )
    base = base_url.rstrip("/")
    return catalog_graph(
        info=catalog_info(session=session, base_url=base),
        resources=result.items,
        organizations=_organizations(session),
        page=page,
        page_size=page_size,
        total=total,
        page_url=lambda n: f"{base}/catalog.{extension}?page={n}&page_size={page_size}",
    )


def dataset(*, session: Session, base_url: str, resource_ref: str) -> Graph:
    """One resource as a DCAT-AP dataset graph. Raises NotFound."""
    resource = catalog_service.get(session=session, resource_ref=resource_ref)
    org = _organizations(session).get(resource.provider_id)
    return dataset_graph(
        info=catalog_info(session=session, base_url=base_url), resource=resource, organization=org
    )
