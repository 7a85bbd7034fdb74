"""The catalog (dcat:Catalog) and the node's data service, one page at a time with Hydra
paging; the public entry points and serialization (目录)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal as TypingLiteral

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF

from hutong.catalog.schemas import OpenType, OrganizationRead, ResourceRead
from hutong.dcat.render.dataset import DatasetBuilder
from hutong.dcat.render.inputs import CatalogInfo
from hutong.dcat.render.iris import catalog_iri, default_page_url, service_iri
from hutong.dcat.render.terms import date_literal, en_literal, zh_literal
from hutong.dcat.render.vocabularies import DCAT, EU_AUTHORITY, HYDRA, JSONLD_CONTEXT, OPENAPI


class CatalogBuilder(DatasetBuilder):
    """Adds the node's data service and the catalog itself to the graph."""

    # ---- data service (the node's gateway / API)

    def service(self, datasets: Sequence[URIRef]) -> URIRef:
        g = self.g
        info = self.info
        node = service_iri(self.base)
        g.add((node, RDF.type, DCAT.DataService))
        g.add((node, DCTERMS.title, zh_literal(f"{info.title_zh}数据共享接口")))
        g.add((node, DCTERMS.title, en_literal(f"{info.title_en} data sharing API")))
        g.add(
            (
                node,
                DCTERMS.description,
                zh_literal(
                    "节点网关提供的数据共享接口：经授权后按申请范围调用，返回脱敏后的数据。"
                ),
            )
        )
        g.add(
            (
                node,
                DCTERMS.description,
                en_literal(
                    "Data sharing API of the node gateway: callable within the scope of an "
                    "approved application; personal information is masked."
                ),
            )
        )
        g.add((node, DCAT.endpointURL, URIRef(f"{self.base}/api/v1")))
        g.add((node, DCAT.endpointDescription, URIRef(f"{self.base}/openapi.json")))
        standard = URIRef(OPENAPI)
        g.add((standard, RDF.type, DCTERMS.Standard))
        g.add((standard, DCTERMS.title, en_literal("OpenAPI Specification 3.1.0")))
        g.add((node, DCTERMS.conformsTo, standard))
        publisher = self.organization(info.publisher)
        g.add((node, DCTERMS.publisher, publisher))
        g.add((node, DCAT.contactPoint, self.contact(publisher, info.publisher.name)))
        g.add((node, DCAT.theme, self.theme(None)))
        for kw in ("数据共享", "接口"):
            g.add((node, DCAT.keyword, zh_literal(kw)))
        g.add((node, DCAT.keyword, en_literal("API")))
        g.add((node, DCTERMS.accessRights, self.access_right(OpenType.conditional)))
        for ds in datasets:
            g.add((node, DCAT.servesDataset, ds))
        return node

    # ---- catalog

    def catalog(self, datasets: Sequence[URIRef]) -> URIRef:
        g = self.g
        info = self.info
        cat = URIRef(catalog_iri(self.base))
        g.add((cat, RDF.type, DCAT.Catalog))
        g.add((cat, DCTERMS.identifier, Literal(info.node)))
        g.add((cat, DCTERMS.title, zh_literal(info.title_zh)))
        g.add((cat, DCTERMS.title, en_literal(info.title_en)))
        g.add((cat, DCTERMS.description, zh_literal(info.description_zh)))
        g.add((cat, DCTERMS.description, en_literal(info.description_en)))
        g.add((cat, DCTERMS.publisher, self.organization(info.publisher)))
        g.add((cat, FOAF.homepage, self.document(info.homepage or f"{self.base}/")))
        for code in dict.fromkeys(info.languages):
            g.add((cat, DCTERMS.language, self.language(code)))
        g.add((cat, DCTERMS.issued, date_literal(info.issued)))
        g.add((cat, DCTERMS.modified, date_literal(info.modified)))
        g.add((cat, DCTERMS.license, self.catalog_licence()))
        g.add((cat, DCTERMS.spatial, self.spatial()))
        g.add((cat, DCAT.themeTaxonomy, self.scheme(EU_AUTHORITY + "data-theme")))
        for ds in datasets:
            g.add((cat, DCAT.dataset, ds))
        g.add((cat, DCAT.service, self.service(datasets)))
        return cat


# --------------------------------------------------------------------------- public API


def catalog_graph(
    *,
    info: CatalogInfo,
    resources: Sequence[ResourceRead],
    organizations: Mapping[str, OrganizationRead],
    page: int,
    page_size: int,
    total: int,
    page_url: Callable[[int], str] | None = None,
) -> Graph:
    """One page of the catalog: the dcat:Catalog, its datasets on this page, Hydra paging.

    ``organizations`` maps an organization id (``node:uscc``, i.e. ``resource.provider_id``)
    to the provider. ``page_url(n)`` gives the URL of page ``n`` (1-based) in the
    format being served; it defaults to ``{base}/catalog.ttl?page=n``.
    """
    if page < 1:
        raise ValueError("page starts at 1")
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if total < 0:
        raise ValueError("total cannot be negative")
    url = page_url or default_page_url(info.base_url)
    b = CatalogBuilder(info)
    datasets = [b.dataset(r, organizations.get(r.provider_id)) for r in resources]
    cat = b.catalog(datasets)

    g = b.g
    last = max(1, math.ceil(total / page_size))
    view = URIRef(url(page))
    g.add((cat, HYDRA.view, view))
    g.add((view, RDF.type, HYDRA.PartialCollectionView))
    g.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    g.add((view, HYDRA.itemsPerPage, Literal(page_size, datatype=XSD.integer)))
    g.add((view, HYDRA.first, URIRef(url(1))))
    g.add((view, HYDRA.last, URIRef(url(last))))
    if page < last:
        g.add((view, HYDRA.next, URIRef(url(page + 1))))
    if page > 1:
        g.add((view, HYDRA.previous, URIRef(url(min(page - 1, last)))))
    return g


def dataset_graph(
    *,
    info: CatalogInfo,
    resource: ResourceRead,
    organization: OrganizationRead | None,
) -> Graph:
    """One resource as a dcat:Dataset with its distributions and the node's data service."""
    b = CatalogBuilder(info)
    ds = b.dataset(resource, organization)
    b.service([ds])
    return b.g


def serialize(graph: Graph, fmt: TypingLiteral["turtle", "json-ld"]) -> bytes:
    """Turtle, or JSON-LD compacted with :data:`JSONLD_CONTEXT` (inline, no remote context)."""
    if fmt == "turtle":
        return graph.serialize(format="turtle", encoding="utf-8")
    if fmt == "json-ld":
        text = graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
        # Re-dump so the bytes are UTF-8 with Chinese left readable.
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2).encode("utf-8")
    raise ValueError(f"unknown RDF format: {fmt!r}")
