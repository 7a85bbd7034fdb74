"""Inputs of the DCAT-AP rendering that are not in the resources: the node's catalog
facts and its spatial coverage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hutong.catalog.schemas import OrganizationRead
from hutong.dcat.render.vocabularies import LICENCE


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
