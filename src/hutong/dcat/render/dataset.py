"""Datasets (dcat:Dataset) with their temporal coverage, rights statement and
distributions (数据资源)."""

from __future__ import annotations

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from hutong.catalog.schemas import OpenType, OrganizationRead, ResourceRead, SharingType
from hutong.dcat.render.iris import (
    dataset_iri,
    datastore_url,
    export_url,
    related_id,
    resource_api_url,
    service_iri,
)
from hutong.dcat.render.terms import GraphBuilder, date_literal, en_literal, zh_literal
from hutong.dcat.render.vocabularies import (
    ADMS,
    AVAILABILITY,
    DCAT,
    DCATAP,
    EU_AUTHORITY,
    FILE_TYPE,
    FORMATS,
    IANA_MEDIA,
    OPEN_ZH,
    PLANNED_AVAILABILITY,
    SHARING_ZH,
)


class DatasetBuilder(GraphBuilder):
    """Adds datasets and their distributions to the graph."""

    def dataset(self, resource: ResourceRead, organization: OrganizationRead | None) -> URIRef:
        g = self.g
        r = resource
        ds = URIRef(dataset_iri(self.base, r.id))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(r.id)))
        g.add((ds, DCTERMS.title, zh_literal(r.name)))
        g.add((ds, DCTERMS.description, zh_literal(r.abstract)))
        g.add((ds, DCAT.version, Literal(str(r.version))))

        # Provider (提供方): the publisher and the contact point.
        if organization is not None:
            agent = self.organization(organization)
            contact_name = organization.name
        else:
            agent = self.agent(r.provider_id, r.node, r.provider_name, uscc=r.provider)
            contact_name = r.provider_name
        g.add((ds, DCTERMS.publisher, agent))
        g.add((ds, DCAT.contactPoint, self.contact(agent, contact_name)))

        # Resource code (资源代码), scoped by its provider.
        ident = URIRef(f"{ds}#identifier")
        g.add((ident, RDF.type, ADMS.Identifier))
        g.add((ident, SKOS.notation, Literal(r.code)))
        g.add((ident, ADMS.schemaAgency, zh_literal(r.provider_name)))
        g.add((ds, ADMS.identifier, ident))

        keywords = list(dict.fromkeys(k for k in r.keywords if k.strip()))
        if not keywords:
            keywords = [r.classification_name or r.name]
        for kw in keywords:
            g.add((ds, DCAT.keyword, zh_literal(kw)))
        g.add((ds, DCAT.theme, self.theme(r.base_catalog)))

        if r.published_on is not None:
            g.add((ds, DCTERMS.issued, date_literal(r.published_on)))
        modified = r.updated_at
        if r.data_updated_at is not None and r.data_updated_at > modified:
            modified = r.data_updated_at
        g.add((ds, DCTERMS.modified, date_literal(modified)))

        g.add((ds, DCTERMS.accrualPeriodicity, self.frequency(r.update_cycle)))
        g.add((ds, DCTERMS.accessRights, self.access_right(r.opening.type)))
        g.add((ds, DCTERMS.language, self.language("zh")))
        g.add((ds, DCTERMS.spatial, self.spatial()))
        g.add((ds, DCTERMS.temporal, self.temporal(ds, r)))

        for ref in dict.fromkeys(r.related):
            rid = related_id(r, ref)
            if rid != r.id:
                g.add((ds, DCTERMS.relation, URIRef(dataset_iri(self.base, rid))))

        for dist in self.distributions(ds, r):
            g.add((ds, DCAT.distribution, dist))
        return ds

    def temporal(self, ds: URIRef, r: ResourceRead) -> URIRef:
        """Temporal coverage, approximated by the period the data has been kept in the catalog.

        The catalog records no coverage period of its own; we state the span from the
        publication date (or registration) to the last update of data or metadata.
        """
        g = self.g
        node = URIRef(f"{ds}#temporal")
        start = r.published_on or r.created_at.date()
        last = r.data_updated_at or r.updated_at
        end = max(start, last.date())
        g.add((node, RDF.type, DCTERMS.PeriodOfTime))
        g.add((node, DCAT.startDate, date_literal(start)))
        g.add((node, DCAT.endDate, date_literal(end)))
        return node

    def rights(self, ds: URIRef, r: ResourceRead) -> URIRef:
        g = self.g
        node = URIRef(f"{ds}#rights")
        parts = [f"开放属性：{OPEN_ZH[r.opening.type]}"]
        if r.opening.condition:
            parts.append(f"开放条件：{r.opening.condition}")
        if r.opening.reason:
            parts.append(f"理由：{r.opening.reason}")
        if r.opening.legal_basis:
            parts.append(f"依据：{r.opening.legal_basis}")
        parts.append(f"共享属性：{SHARING_ZH[r.sharing.type]}")
        if r.sharing.condition:
            parts.append(f"共享条件：{r.sharing.condition}")
        if r.sharing.type != SharingType.unconditional and r.sharing.legal_basis:
            parts.append(f"共享依据：{r.sharing.legal_basis}")
        g.add((node, RDF.type, DCTERMS.RightsStatement))
        g.add((node, RDFS.label, zh_literal("；".join(parts))))
        g.add(
            (
                node,
                RDFS.label,
                en_literal(
                    "Not unconditionally open: access on an approved application, under the "
                    "platform's sharing terms; conditions and legal basis in the Chinese text."
                ),
            )
        )
        return node

    def distributions(self, ds: URIRef, r: ResourceRead) -> list[URIRef]:
        is_open = r.opening.type == OpenType.open
        licence = self.open_licence() if is_open else self.sharing_terms()
        rights = None if is_open else self.rights(ds, r)
        out: list[URIRef] = []
        if r.hosted:
            for fmt in ("csv", "parquet"):
                url = URIRef(export_url(self.base, r.id, fmt))
                label = FORMATS[fmt][2]
                out.append(
                    self.distribution(
                        URIRef(f"{ds}#distribution-{fmt}"),
                        r,
                        fmt,
                        access=url,
                        download=url,
                        title=(f"{r.name}（{label} 下载）", f"{label} download"),
                        description=(
                            f"{label} 格式的全量导出；个人信息按授权范围脱敏。",
                            f"Full export in {label}; personal information is masked "
                            "per authorisation.",
                        ),
                        licence=licence,
                        rights=rights,
                    )
                )
            out.append(
                self.distribution(
                    URIRef(f"{ds}#distribution-api"),
                    r,
                    "json",
                    access=URIRef(datastore_url(self.base, r.id)),
                    title=(f"{r.name}（数据接口）", "Datastore API"),
                    description=(
                        "CKAN 兼容的 datastore_search 接口，按字段过滤与分页查询。",
                        "CKAN-compatible datastore_search API with field filters and paging.",
                    ),
                    licence=licence,
                    rights=rights,
                    service=True,
                )
            )
        else:
            out.append(
                self.distribution(
                    URIRef(f"{ds}#distribution-gateway"),
                    r,
                    "json",
                    access=URIRef(resource_api_url(self.base, r.id)),
                    title=(f"{r.name}（共享接口）", "Sharing gateway"),
                    description=(
                        f"经节点网关向提供方申请共享；源格式：{r.format}。",
                        "Shared from the provider through the node gateway on application.",
                    ),
                    licence=licence,
                    rights=rights,
                    service=True,
                )
            )
        return out

    def distribution(
        self,
        node: URIRef,
        r: ResourceRead,
        fmt: str,
        *,
        access: URIRef,
        title: tuple[str, str],
        description: tuple[str, str],
        licence: URIRef,
        rights: URIRef | None,
        download: URIRef | None = None,
        service: bool = False,
    ) -> URIRef:
        g = self.g
        file_type, media, label = FORMATS[fmt]
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCTERMS.title, zh_literal(title[0])))
        g.add((node, DCTERMS.title, en_literal(title[1])))
        g.add((node, DCTERMS.description, zh_literal(description[0])))
        g.add((node, DCTERMS.description, en_literal(description[1])))
        g.add((node, DCAT.accessURL, access))
        if download is not None:
            g.add((node, DCAT.downloadURL, download))
        g.add(
            (
                node,
                DCTERMS.format,
                self.concept(
                    FILE_TYPE[file_type],
                    EU_AUTHORITY + "file-type",
                    label,
                    classes=[DCTERMS.MediaTypeOrExtent],
                ),
            )
        )
        media_node = URIRef(IANA_MEDIA + media)
        g.add((media_node, RDF.type, DCTERMS.MediaType))
        g.add((node, DCAT.mediaType, media_node))
        code, en, zh = AVAILABILITY
        g.add(
            (
                node,
                DCATAP.availability,
                self.concept(
                    PLANNED_AVAILABILITY[code], EU_AUTHORITY + "planned-availability", en, zh
                ),
            )
        )
        g.add((node, DCTERMS.license, licence))
        if rights is not None:
            g.add((node, DCTERMS.rights, rights))
        if r.data_updated_at is not None:
            g.add((node, DCTERMS.modified, date_literal(r.data_updated_at)))
        if service:
            g.add((node, DCAT.accessService, service_iri(self.base)))
        return node
