"""Render the catalog (公共数据资源目录) as DCAT-AP 3 RDF.

The graphs built here conform to the official DCAT-AP 3.0.1 SHACL shapes
(``shapes.ttl``, ``range.ttl`` and ``shapes_recommended.ttl``), so every node a
property points to is typed in the graph itself: the EU vocabulary terms we use
(data themes, frequencies, access rights, file types, languages, ...) are written
as ``skos:Concept`` with ``skos:prefLabel`` and ``skos:inScheme``, plus the class
the DCAT-AP range asks for (``dct:Frequency``, ``dct:RightsStatement``,
``dct:MediaTypeOrExtent``, ``dct:LinguisticSystem``, ``dct:LicenseDocument``,
``dct:Location``, ...). No inference is needed to validate them.

Paging of the catalog follows the Hydra convention used by DCAT-AP / GeoDCAT-AP
harvesters: a ``hydra:PartialCollectionView`` with ``hydra:first``, ``hydra:last``,
``hydra:next``, ``hydra:previous``, ``hydra:totalItems`` and ``hydra:itemsPerPage``.

No blank nodes are produced: every auxiliary node has an IRI (mostly a fragment of
the dataset or organization IRI), so two renderings of the same data are equal
graphs and round-trips through Turtle or JSON-LD are exact.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal as TypingLiteral
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS

from hutong.catalog.schemas import (
    BaseCatalog,
    OpenType,
    OrganizationRead,
    ResourceRead,
    SharingType,
    UpdateCycle,
)

__all__ = [
    "ACCESS_RIGHTS",
    "FREQUENCIES",
    "JSONLD_CONTEXT",
    "SHANGHAI",
    "THEMES",
    "CatalogInfo",
    "SpatialCoverage",
    "catalog_graph",
    "catalog_iri",
    "dataset_graph",
    "dataset_iri",
    "default_page_url",
    "organization_iri",
    "publisher_type",
    "serialize",
]

# --------------------------------------------------------------------------- namespaces

ADMS = Namespace("http://www.w3.org/ns/adms#")
# A plain namespace: rdflib's closed DCAT lacks DCAT 3 terms such as dcat:version.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME = Namespace(EU_AUTHORITY + "data-theme/")
FREQUENCY = Namespace(EU_AUTHORITY + "frequency/")
ACCESS_RIGHT = Namespace(EU_AUTHORITY + "access-right/")
FILE_TYPE = Namespace(EU_AUTHORITY + "file-type/")
LANGUAGE = Namespace(EU_AUTHORITY + "language/")
LICENCE = Namespace(EU_AUTHORITY + "licence/")
PLANNED_AVAILABILITY = Namespace(EU_AUTHORITY + "planned-availability/")
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
LICENCE_TYPE = Namespace("http://purl.org/adms/licencetype/")
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"

# Concept schemes (skos:ConceptScheme) with the dct:title DCAT-AP requires of them.
_SCHEMES: dict[str, str] = {
    EU_AUTHORITY + "data-theme": "Data theme",
    EU_AUTHORITY + "frequency": "Frequency",
    EU_AUTHORITY + "access-right": "Access right",
    EU_AUTHORITY + "file-type": "File type",
    EU_AUTHORITY + "language": "Language",
    EU_AUTHORITY + "planned-availability": "Planned availability",
    "http://purl.org/adms/publishertype/1.0": "Publisher type",
    "http://purl.org/adms/licencetype/1.0": "Licence type",
}

# Compact JSON-LD @context: prefixes only, so every IRI stays visible and parsers
# need no remote context.
JSONLD_CONTEXT: dict[str, str] = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "hydra": str(HYDRA),
    "adms": str(ADMS),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcatap": str(DCATAP),
    "gsp": str(GSP),
    "locn": str(LOCN),
    "rdfs": str(RDFS),
}

# --------------------------------------------------------------------------- mappings

# 基础库 -> EU data theme (code, English label, Chinese label).
THEMES: dict[BaseCatalog | None, tuple[str, str, str]] = {
    BaseCatalog.population: ("SOCI", "Population and society", "人口和社会"),
    BaseCatalog.legal_person: ("ECON", "Economy and finance", "经济和金融"),
    BaseCatalog.geography: ("REGI", "Regions and cities", "区域和城市"),
    BaseCatalog.social_credit: (
        "JUST",
        "Justice, legal system and public safety",
        "司法和公共安全",
    ),
    BaseCatalog.e_licence: ("GOVE", "Government and public sector", "政府和公共部门"),
    BaseCatalog.health: ("HEAL", "Health", "卫生健康"),
    # Not in a base catalog: it is still government data.
    None: ("GOVE", "Government and public sector", "政府和公共部门"),
}

# 更新周期 -> EU frequency (code, English label, Chinese label).
FREQUENCIES: dict[UpdateCycle, tuple[str, str, str]] = {
    UpdateCycle.realtime: ("CONT", "continuous", "实时"),
    UpdateCycle.daily: ("DAILY", "daily", "每日"),
    UpdateCycle.weekly: ("WEEKLY", "weekly", "每周"),
    UpdateCycle.monthly: ("MONTHLY", "monthly", "每月"),
    UpdateCycle.quarterly: ("QUARTERLY", "quarterly", "每季度"),
    UpdateCycle.yearly: ("ANNUAL", "annual", "每年"),
    UpdateCycle.irregular: ("IRREG", "irregular", "不定期"),
}

# 开放属性 -> EU access right (code, English label, Chinese label). The labels are the
# EU concepts' own (the gateway API is also RESTRICTED), not the 开放属性 names.
ACCESS_RIGHTS: dict[OpenType, tuple[str, str, str]] = {
    OpenType.open: ("PUBLIC", "public", "公开"),
    OpenType.conditional: ("RESTRICTED", "restricted", "受限"),
    OpenType.closed: ("NON_PUBLIC", "non-public", "非公开"),
}

_OPEN_ZH = {
    OpenType.open: "无条件开放",
    OpenType.conditional: "有条件开放",
    OpenType.closed: "非开放",
}
_SHARING_ZH = {
    SharingType.unconditional: "无条件共享",
    SharingType.conditional: "有条件共享",
    SharingType.none: "不予共享",
}

# ISO 639-1 / -3 code -> (EU language code, English label, Chinese label).
_LANGUAGES: dict[str, tuple[str, str, str]] = {
    "zh": ("ZHO", "Chinese", "中文"),
    "zho": ("ZHO", "Chinese", "中文"),
    "chi": ("ZHO", "Chinese", "中文"),
    "en": ("ENG", "English", "英语"),
    "eng": ("ENG", "English", "英语"),
}

# Distribution formats: key -> (EU file type, IANA media type, label).
_FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("CSV", "text/csv", "CSV"),
    "parquet": ("PARQUET", "application/vnd.apache.parquet", "Parquet"),
    "json": ("JSON", "application/json", "JSON"),
}

_AVAILABILITY = ("STABLE", "stable", "稳定")
_ATTRIBUTION = ("Attribution", "Attribution", "署名")
_RESTRICTIVE = ("OtherRestrictiveClauses", "Other restrictive clauses", "其他限制性条款")
_OPENAPI = "https://spec.openapis.org/oas/v3.1.0"

_PUBLISHER_TYPES: dict[str, tuple[str, str]] = {
    "NationalAuthority": ("National authority", "国家级机关"),
    "RegionalAuthority": ("Regional authority", "省级（地区）机关"),
    "LocalAuthority": ("Local authority", "地方机关"),
}

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SpatialCoverage:
    """The area a node's data covers (dct:spatial): a GeoNames IRI with its box and centre.

    ``bbox`` and ``centroid`` are WKT (CRS84: longitude latitude), as DCAT-AP recommends.
    """

    iri: str
    name_zh: str
    name_en: str
    bbox: str
    centroid: str


SHANGHAI = SpatialCoverage(
    iri="https://sws.geonames.org/1796236/",
    name_zh="上海市",
    name_en="Shanghai",
    bbox=("POLYGON((120.85 30.67, 122.12 30.67, 122.12 31.88, 120.85 31.88, 120.85 30.67))"),
    centroid="POINT(121.4737 31.2304)",
)


@dataclass(frozen=True)
class CatalogInfo:
    """Facts about this node's catalog that are not in the resources themselves."""

    base_url: str
    node: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    publisher: OrganizationRead
    issued: dt.date
    modified: dt.date | dt.datetime
    homepage: str | None = None  # default: ``{base_url}/``
    languages: tuple[str, ...] = ("zh", "en")
    spatial: SpatialCoverage = SHANGHAI
    # Licence of the catalog metadata itself.
    licence: str = str(LICENCE["CC_BY_4_0"])
    # Terms under which non-open resources are shared (a licence document we publish).
    sharing_terms_url: str | None = None  # default: ``{base_url}/terms/sharing``

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")


# --------------------------------------------------------------------------- IRIs


def _seg(value: str) -> str:
    """One path segment: ':' is allowed in a segment (RFC 3986 pchar), the rest encoded."""
    return quote(value, safe=":")


def catalog_iri(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/catalog"


def dataset_iri(base_url: str, resource_id: str) -> str:
    """``{base}/dataset/{node:uscc:code}``; the id is percent-encoded except ':'."""
    return f"{base_url.rstrip('/')}/dataset/{_seg(resource_id)}"


def organization_iri(base_url: str, org_id: str) -> str:
    return f"{base_url.rstrip('/')}/organization/{_seg(org_id)}"


def default_page_url(base_url: str) -> Callable[[int], str]:
    """Page URLs of the Turtle catalog: ``{base}/catalog.ttl?page=N``."""
    base = base_url.rstrip("/")
    return lambda n: f"{base}/catalog.ttl?page={n}"


def _export_url(base: str, resource_id: str, fmt: str) -> str:
    return f"{base}/api/v1/resources/{_seg(resource_id)}/export?format={fmt}"


def _datastore_url(base: str, resource_id: str) -> str:
    # CKAN-compatible Action API of the node (hutong.ckan).
    return f"{base}/api/3/action/datastore_search?resource_id={quote(resource_id, safe='')}"


def _resource_api_url(base: str, resource_id: str) -> str:
    return f"{base}/api/v1/resources/{_seg(resource_id)}"


def _service_iri(base: str) -> URIRef:
    return URIRef(f"{base}/catalog#api")


def _related_id(resource: ResourceRead, ref: str) -> str:
    """A related reference is a full id ``node:uscc:code`` or a code of the same provider."""
    return ref if ":" in ref else f"{resource.node}:{resource.provider}:{ref}"


def publisher_type(node: str) -> str:
    """ADMS publisher type from the node level: ``cn`` national, ``sh`` regional, ``sh.x`` local."""
    if node == "cn":
        return "NationalAuthority"
    return "LocalAuthority" if "." in node else "RegionalAuthority"


# --------------------------------------------------------------------------- builder


def _new_graph() -> Graph:
    g = Graph()
    for prefix, ns in JSONLD_CONTEXT.items():
        g.bind(prefix, ns, override=True)
    g.bind("hydra", HYDRA)
    return g


def _zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def _en(text: str) -> Literal:
    return Literal(text, lang="en")


def _date(value: dt.date | dt.datetime) -> Literal:
    if isinstance(value, dt.datetime):
        return Literal(value.isoformat(), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


class _Builder:
    def __init__(self, info: CatalogInfo) -> None:
        self.info = info
        self.base = info.base
        self.g = _new_graph()

    # ---- vocabulary terms

    def scheme(self, iri: str) -> URIRef:
        node = URIRef(iri)
        self.g.add((node, RDF.type, SKOS.ConceptScheme))
        self.g.add((node, DCTERMS.title, _en(_SCHEMES[iri])))
        return node

    def concept(
        self,
        iri: str,
        scheme: str,
        label_en: str,
        label_zh: str | None = None,
        classes: Iterable[URIRef] = (),
    ) -> URIRef:
        node = URIRef(iri)
        g = self.g
        g.add((node, RDF.type, SKOS.Concept))
        for cls in classes:
            g.add((node, RDF.type, cls))
        g.add((node, SKOS.prefLabel, _en(label_en)))
        if label_zh:
            g.add((node, SKOS.prefLabel, _zh(label_zh)))
        g.add((node, SKOS.inScheme, self.scheme(scheme)))
        return node

    def theme(self, base_catalog: BaseCatalog | None) -> URIRef:
        code, en, zh = THEMES[base_catalog]
        return self.concept(DATA_THEME[code], EU_AUTHORITY + "data-theme", en, zh)

    def language(self, code: str) -> URIRef:
        key = code.lower()
        eu, en, zh = _LANGUAGES.get(key, (key.upper(), key, key))
        return self.concept(
            LANGUAGE[eu], EU_AUTHORITY + "language", en, zh, classes=[DCTERMS.LinguisticSystem]
        )

    def licence_type(self, term: tuple[str, str, str]) -> URIRef:
        code, en, zh = term
        return self.concept(LICENCE_TYPE[code], "http://purl.org/adms/licencetype/1.0", en, zh)

    def licence(
        self, iri: str, title_en: str, title_zh: str, ltype: tuple[str, str, str]
    ) -> URIRef:
        node = URIRef(iri)
        g = self.g
        g.add((node, RDF.type, DCTERMS.LicenseDocument))
        g.add((node, DCTERMS.title, _en(title_en)))
        g.add((node, DCTERMS.title, _zh(title_zh)))
        g.add((node, DCTERMS.type, self.licence_type(ltype)))
        return node

    def open_licence(self) -> URIRef:
        return self.licence(
            str(LICENCE["CC_BY_4_0"]),
            "Creative Commons Attribution 4.0 International",
            "知识共享署名 4.0 国际许可协议",
            _ATTRIBUTION,
        )

    def catalog_licence(self) -> URIRef:
        iri = self.info.licence
        if iri == str(LICENCE["CC_BY_4_0"]):
            return self.open_licence()
        return self.licence(iri, "Catalog metadata licence", "目录元数据许可", _ATTRIBUTION)

    def sharing_terms(self) -> URIRef:
        iri = self.info.sharing_terms_url or f"{self.base}/terms/sharing"
        return self.licence(iri, "Public data sharing terms", "公共数据共享使用条款", _RESTRICTIVE)

    def spatial(self) -> URIRef:
        sp = self.info.spatial
        node = URIRef(sp.iri)
        g = self.g
        g.add((node, RDF.type, DCTERMS.Location))
        g.add((node, RDFS.label, _zh(sp.name_zh)))
        g.add((node, RDFS.label, _en(sp.name_en)))
        g.add((node, DCAT.bbox, Literal(sp.bbox, datatype=GSP.wktLiteral)))
        g.add((node, DCAT.centroid, Literal(sp.centroid, datatype=GSP.wktLiteral)))
        return node

    def document(self, iri: str) -> URIRef:
        node = URIRef(iri)
        self.g.add((node, RDF.type, FOAF.Document))
        return node

    # ---- agents

    def agent(
        self, org_id: str, node_code: str, name: str, name_en: str = "", uscc: str = ""
    ) -> URIRef:
        g = self.g
        node = URIRef(organization_iri(self.base, org_id))
        g.add((node, RDF.type, FOAF.Agent))
        g.add((node, RDF.type, FOAF.Organization))
        g.add((node, FOAF.name, _zh(name)))
        if name_en:
            g.add((node, FOAF.name, _en(name_en)))
        if uscc:
            g.add((node, DCTERMS.identifier, Literal(uscc)))
        ptype = publisher_type(node_code)
        en, zh = _PUBLISHER_TYPES[ptype]
        g.add(
            (
                node,
                DCTERMS.type,
                self.concept(
                    PUBLISHER_TYPE[ptype], "http://purl.org/adms/publishertype/1.0", en, zh
                ),
            )
        )
        return node

    def organization(self, org: OrganizationRead) -> URIRef:
        return self.agent(org.id, org.node, org.name, org.name_en, org.uscc)

    def contact(self, agent: URIRef, name: str) -> URIRef:
        g = self.g
        node = URIRef(f"{agent}#contact")
        g.add((node, RDF.type, VCARD.Organization))
        g.add((node, RDF.type, VCARD.Kind))
        g.add((node, VCARD.fn, _zh(name)))
        g.add((node, VCARD.hasURL, agent))
        return node

    # ---- data service (the node's gateway / API)

    def service(self, datasets: Sequence[URIRef]) -> URIRef:
        g = self.g
        info = self.info
        node = _service_iri(self.base)
        g.add((node, RDF.type, DCAT.DataService))
        g.add((node, DCTERMS.title, _zh(f"{info.title_zh}数据共享接口")))
        g.add((node, DCTERMS.title, _en(f"{info.title_en} data sharing API")))
        g.add(
            (
                node,
                DCTERMS.description,
                _zh("节点网关提供的数据共享接口：经授权后按申请范围调用，返回脱敏后的数据。"),
            )
        )
        g.add(
            (
                node,
                DCTERMS.description,
                _en(
                    "Data sharing API of the node gateway: callable within the scope of an "
                    "approved application; personal information is masked."
                ),
            )
        )
        g.add((node, DCAT.endpointURL, URIRef(f"{self.base}/api/v1")))
        g.add((node, DCAT.endpointDescription, URIRef(f"{self.base}/openapi.json")))
        standard = URIRef(_OPENAPI)
        g.add((standard, RDF.type, DCTERMS.Standard))
        g.add((standard, DCTERMS.title, _en("OpenAPI Specification 3.1.0")))
        g.add((node, DCTERMS.conformsTo, standard))
        publisher = self.organization(info.publisher)
        g.add((node, DCTERMS.publisher, publisher))
        g.add((node, DCAT.contactPoint, self.contact(publisher, info.publisher.name)))
        g.add((node, DCAT.theme, self.theme(None)))
        for kw in ("数据共享", "接口"):
            g.add((node, DCAT.keyword, _zh(kw)))
        g.add((node, DCAT.keyword, _en("API")))
        code, en, zh = ACCESS_RIGHTS[OpenType.conditional]
        g.add(
            (
                node,
                DCTERMS.accessRights,
                self.concept(
                    ACCESS_RIGHT[code],
                    EU_AUTHORITY + "access-right",
                    en,
                    zh,
                    classes=[DCTERMS.RightsStatement],
                ),
            )
        )
        for ds in datasets:
            g.add((node, DCAT.servesDataset, ds))
        return node

    # ---- datasets

    def dataset(self, resource: ResourceRead, organization: OrganizationRead | None) -> URIRef:
        g = self.g
        r = resource
        ds = URIRef(dataset_iri(self.base, r.id))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(r.id)))
        g.add((ds, DCTERMS.title, _zh(r.name)))
        g.add((ds, DCTERMS.description, _zh(r.abstract)))
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
        g.add((ident, ADMS.schemaAgency, _zh(r.provider_name)))
        g.add((ds, ADMS.identifier, ident))

        keywords = list(dict.fromkeys(k for k in r.keywords if k.strip()))
        if not keywords:
            keywords = [r.classification_name or r.name]
        for kw in keywords:
            g.add((ds, DCAT.keyword, _zh(kw)))
        g.add((ds, DCAT.theme, self.theme(r.base_catalog)))

        if r.published_on is not None:
            g.add((ds, DCTERMS.issued, _date(r.published_on)))
        modified = r.updated_at
        if r.data_updated_at is not None and r.data_updated_at > modified:
            modified = r.data_updated_at
        g.add((ds, DCTERMS.modified, _date(modified)))

        code, en, zh = FREQUENCIES[r.update_cycle]
        g.add(
            (
                ds,
                DCTERMS.accrualPeriodicity,
                self.concept(
                    FREQUENCY[code], EU_AUTHORITY + "frequency", en, zh, classes=[DCTERMS.Frequency]
                ),
            )
        )
        code, en, zh = ACCESS_RIGHTS[r.opening.type]
        g.add(
            (
                ds,
                DCTERMS.accessRights,
                self.concept(
                    ACCESS_RIGHT[code],
                    EU_AUTHORITY + "access-right",
                    en,
                    zh,
                    classes=[DCTERMS.RightsStatement],
                ),
            )
        )
        g.add((ds, DCTERMS.language, self.language("zh")))
        g.add((ds, DCTERMS.spatial, self.spatial()))
        g.add((ds, DCTERMS.temporal, self.temporal(ds, r)))

        for ref in dict.fromkeys(r.related):
            rid = _related_id(r, ref)
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
        g.add((node, DCAT.startDate, _date(start)))
        g.add((node, DCAT.endDate, _date(end)))
        return node

    def rights(self, ds: URIRef, r: ResourceRead) -> URIRef:
        g = self.g
        node = URIRef(f"{ds}#rights")
        parts = [f"开放属性：{_OPEN_ZH[r.opening.type]}"]
        if r.opening.condition:
            parts.append(f"开放条件：{r.opening.condition}")
        if r.opening.reason:
            parts.append(f"理由：{r.opening.reason}")
        if r.opening.legal_basis:
            parts.append(f"依据：{r.opening.legal_basis}")
        parts.append(f"共享属性：{_SHARING_ZH[r.sharing.type]}")
        if r.sharing.condition:
            parts.append(f"共享条件：{r.sharing.condition}")
        if r.sharing.type != SharingType.unconditional and r.sharing.legal_basis:
            parts.append(f"共享依据：{r.sharing.legal_basis}")
        g.add((node, RDF.type, DCTERMS.RightsStatement))
        g.add((node, RDFS.label, _zh("；".join(parts))))
        g.add(
            (
                node,
                RDFS.label,
                _en(
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
                url = URIRef(_export_url(self.base, r.id, fmt))
                label = _FORMATS[fmt][2]
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
                    access=URIRef(_datastore_url(self.base, r.id)),
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
                    access=URIRef(_resource_api_url(self.base, r.id)),
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
        file_type, media, label = _FORMATS[fmt]
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCTERMS.title, _zh(title[0])))
        g.add((node, DCTERMS.title, _en(title[1])))
        g.add((node, DCTERMS.description, _zh(description[0])))
        g.add((node, DCTERMS.description, _en(description[1])))
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
        code, en, zh = _AVAILABILITY
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
            g.add((node, DCTERMS.modified, _date(r.data_updated_at)))
        if service:
            g.add((node, DCAT.accessService, _service_iri(self.base)))
        return node

    # ---- catalog

    def catalog(self, datasets: Sequence[URIRef]) -> URIRef:
        g = self.g
        info = self.info
        cat = URIRef(catalog_iri(self.base))
        g.add((cat, RDF.type, DCAT.Catalog))
        g.add((cat, DCTERMS.identifier, Literal(info.node)))
        g.add((cat, DCTERMS.title, _zh(info.title_zh)))
        g.add((cat, DCTERMS.title, _en(info.title_en)))
        g.add((cat, DCTERMS.description, _zh(info.description_zh)))
        g.add((cat, DCTERMS.description, _en(info.description_en)))
        g.add((cat, DCTERMS.publisher, self.organization(info.publisher)))
        g.add((cat, FOAF.homepage, self.document(info.homepage or f"{self.base}/")))
        for code in dict.fromkeys(info.languages):
            g.add((cat, DCTERMS.language, self.language(code)))
        g.add((cat, DCTERMS.issued, _date(info.issued)))
        g.add((cat, DCTERMS.modified, _date(info.modified)))
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
    b = _Builder(info)
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
    b = _Builder(info)
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
