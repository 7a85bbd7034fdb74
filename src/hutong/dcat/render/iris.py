"""IRIs and URLs of the rendered nodes: catalog, datasets, organizations, pages, the
node's APIs (资源标识)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from rdflib import URIRef

from hutong.catalog.schemas import ResourceRead


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


def export_url(base: str, resource_id: str, fmt: str) -> str:
    return f"{base}/api/v1/resources/{_seg(resource_id)}/export?format={fmt}"


def datastore_url(base: str, resource_id: str) -> str:
    # CKAN-compatible Action API of the node (hutong.ckan).
    return f"{base}/api/3/action/datastore_search?resource_id={quote(resource_id, safe='')}"


def resource_api_url(base: str, resource_id: str) -> str:
    return f"{base}/api/v1/resources/{_seg(resource_id)}"


def service_iri(base: str) -> URIRef:
    return URIRef(f"{base}/catalog#api")


def related_id(resource: ResourceRead, ref: str) -> str:
    """A related reference is a full id ``node:uscc:code`` or a code of the same provider."""
    return ref if ":" in ref else f"{resource.node}:{resource.provider}:{ref}"


def publisher_type(node: str) -> str:
    """ADMS publisher type from the node level: ``cn`` national, ``sh`` regional, ``sh.x`` local."""
    if node == "cn":
        return "NationalAuthority"
    return "LocalAuthority" if "." in node else "RegionalAuthority"
