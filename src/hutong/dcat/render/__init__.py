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

from hutong.dcat.render.catalog import catalog_graph, dataset_graph, serialize
from hutong.dcat.render.inputs import SHANGHAI, CatalogInfo, SpatialCoverage
from hutong.dcat.render.iris import (
    catalog_iri,
    dataset_iri,
    default_page_url,
    organization_iri,
    publisher_type,
)
from hutong.dcat.render.vocabularies import ACCESS_RIGHTS, FREQUENCIES, JSONLD_CONTEXT, THEMES

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
