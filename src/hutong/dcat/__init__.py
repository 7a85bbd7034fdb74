"""DCAT-AP 3 rendering of the catalog (Turtle and JSON-LD)."""

from hutong.dcat.render import (
    ACCESS_RIGHTS,
    FREQUENCIES,
    JSONLD_CONTEXT,
    SHANGHAI,
    THEMES,
    CatalogInfo,
    SpatialCoverage,
    catalog_graph,
    catalog_iri,
    dataset_graph,
    dataset_iri,
    default_page_url,
    organization_iri,
    publisher_type,
    serialize,
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
