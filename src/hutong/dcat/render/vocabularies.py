"""Vocabularies of the DCAT-AP rendering: RDF namespaces, the JSON-LD context, and the
mappings of catalog terms (基础库, 更新周期, 开放属性, ...) to EU vocabulary concepts."""

from __future__ import annotations

from rdflib import RDFS, XSD, Namespace
from rdflib.namespace import DCTERMS, FOAF, SKOS

from hutong.catalog.schemas import BaseCatalog, OpenType, SharingType, UpdateCycle

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
SCHEMES: dict[str, str] = {
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

OPEN_ZH = {
    OpenType.open: "无条件开放",
    OpenType.conditional: "有条件开放",
    OpenType.closed: "非开放",
}
SHARING_ZH = {
    SharingType.unconditional: "无条件共享",
    SharingType.conditional: "有条件共享",
    SharingType.none: "不予共享",
}

# ISO 639-1 / -3 code -> (EU language code, English label, Chinese label).
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "zh": ("ZHO", "Chinese", "中文"),
    "zho": ("ZHO", "Chinese", "中文"),
    "chi": ("ZHO", "Chinese", "中文"),
    "en": ("ENG", "English", "英语"),
    "eng": ("ENG", "English", "英语"),
}

# Distribution formats: key -> (EU file type, IANA media type, label).
FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("CSV", "text/csv", "CSV"),
    "parquet": ("PARQUET", "application/vnd.apache.parquet", "Parquet"),
    "json": ("JSON", "application/json", "JSON"),
}

AVAILABILITY = ("STABLE", "stable", "稳定")
ATTRIBUTION = ("Attribution", "Attribution", "署名")
RESTRICTIVE = ("OtherRestrictiveClauses", "Other restrictive clauses", "其他限制性条款")
OPENAPI = "https://spec.openapis.org/oas/v3.1.0"

PUBLISHER_TYPES: dict[str, tuple[str, str]] = {
    "NationalAuthority": ("National authority", "国家级机关"),
    "RegionalAuthority": ("Regional authority", "省级（地区）机关"),
    "LocalAuthority": ("Local authority", "地方机关"),
}
