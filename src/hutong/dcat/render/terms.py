"""The graph builder's base: literals, EU vocabulary concepts, licences, the spatial
coverage and agents (publishers and contact points)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS

from hutong.catalog.schemas import BaseCatalog, OpenType, OrganizationRead, UpdateCycle
from hutong.dcat.render.inputs import CatalogInfo
from hutong.dcat.render.iris import organization_iri, publisher_type
from hutong.dcat.render.vocabularies import (
    ACCESS_RIGHT,
    ACCESS_RIGHTS,
    ATTRIBUTION,
    DATA_THEME,
    DCAT,
    EU_AUTHORITY,
    FREQUENCIES,
    FREQUENCY,
    GSP,
    HYDRA,
    JSONLD_CONTEXT,
    LANGUAGE,
    LANGUAGES,
    LICENCE,
    LICENCE_TYPE,
    PUBLISHER_TYPE,
    PUBLISHER_TYPES,
    RESTRICTIVE,
    SCHEMES,
    THEMES,
    VCARD,
)


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in JSONLD_CONTEXT.items():
        g.bind(prefix, ns, override=True)
    g.bind("hydra", HYDRA)
    return g


def zh_literal(text: str) -> Literal:
    return Literal(text, lang="zh")


def en_literal(text: str) -> Literal:
    return Literal(text, lang="en")


def date_literal(value: dt.date | dt.datetime) -> Literal:
    if isinstance(value, dt.datetime):
        return Literal(value.isoformat(), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


class GraphBuilder:
    """A graph being built, with the vocabulary terms and agents every node refers to."""

    def __init__(self, info: CatalogInfo) -> None:
        self.info = info
        self.base = info.base
        self.g = new_graph()

    # ---- vocabulary terms

    def scheme(self, iri: str) -> URIRef:
        node = URIRef(iri)
        self.g.add((node, RDF.type, SKOS.ConceptScheme))
        self.g.add((node, DCTERMS.title, en_literal(SCHEMES[iri])))
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
        g.add((node, SKOS.prefLabel, en_literal(label_en)))
        if label_zh:
            g.add((node, SKOS.prefLabel, zh_literal(label_zh)))
        g.add((node, SKOS.inScheme, self.scheme(scheme)))
        return node

    def theme(self, base_catalog: BaseCatalog | None) -> URIRef:
        code, en, zh = THEMES[base_catalog]
        return self.concept(DATA_THEME[code], EU_AUTHORITY + "data-theme", en, zh)

    def frequency(self, update_cycle: UpdateCycle) -> URIRef:
        code, en, zh = FREQUENCIES[update_cycle]
        return self.concept(
            FREQUENCY[code], EU_AUTHORITY + "frequency", en, zh, classes=[DCTERMS.Frequency]
        )

    def access_right(self, open_type: OpenType) -> URIRef:
        code, en, zh = ACCESS_RIGHTS[open_type]
        return self.concept(
            ACCESS_RIGHT[code],
            EU_AUTHORITY + "access-right",
            en,
            zh,
            classes=[DCTERMS.RightsStatement],
        )

    def language(self, code: str) -> URIRef:
        key = code.lower()
        eu, en, zh = LANGUAGES.get(key, (key.upper(), key, key))
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
        g.add((node, DCTERMS.title, en_literal(title_en)))
        g.add((node, DCTERMS.title, zh_literal(title_zh)))
        g.add((node, DCTERMS.type, self.licence_type(ltype)))
        return node

    def open_licence(self) -> URIRef:
        return self.licence(
            str(LICENCE["CC_BY_4_0"]),
            "Creative Commons Attribution 4.0 International",
            "知识共享署名 4.0 国际许可协议",
            ATTRIBUTION,
        )

    def catalog_licence(self) -> URIRef:
        iri = self.info.licence
        if iri == str(LICENCE["CC_BY_4_0"]):
            return self.open_licence()
        return self.licence(iri, "Catalog metadata licence", "目录元数据许可", ATTRIBUTION)

    def sharing_terms(self) -> URIRef:
        iri = self.info.sharing_terms_url or f"{self.base}/terms/sharing"
        return self.licence(iri, "Public data sharing terms", "公共数据共享使用条款", RESTRICTIVE)

    def spatial(self) -> URIRef:
        sp = self.info.spatial
        node = URIRef(sp.iri)
        g = self.g
        g.add((node, RDF.type, DCTERMS.Location))
        g.add((node, RDFS.label, zh_literal(sp.name_zh)))
        g.add((node, RDFS.label, en_literal(sp.name_en)))
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
        g.add((node, FOAF.name, zh_literal(name)))
        if name_en:
            g.add((node, FOAF.name, en_literal(name_en)))
        if uscc:
            g.add((node, DCTERMS.identifier, Literal(uscc)))
        ptype = publisher_type(node_code)
        en, zh = PUBLISHER_TYPES[ptype]
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
        g.add((node, VCARD.fn, zh_literal(name)))
        g.add((node, VCARD.hasURL, agent))
        return node

    # ---- data service (the node's gateway / API)
