"""DCAT-AP routes served by the node conform to the official shapes."""

from __future__ import annotations

import pytest
from rdflib import Graph, Namespace, URIRef

from tests.dcat.test_shacl import _assert_conforms, _load_shapes
from tests.factories import make_org, make_resource

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture
def catalog(db):
    org = make_org(db, name="上海市公安局")
    made = [make_resource(db, provider_id=org) for _ in range(3)]
    make_resource(
        db,
        provider_id=org,
        name="门牌地址",
        classification="301001",
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        hosted=False,
        fields=[{"name": "address_code", "label": "地址编码", "key": True}],
        related=[made[0].id],
    )
    return made


@pytest.mark.parametrize("shape_file", ["shapes.ttl", "range.ttl", "shapes_recommended.ttl"])
def test_served_catalog_page_conforms(client, catalog, shape_file):
    r = client.get("/catalog.ttl", params={"page": 1, "page_size": 2})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=r.text, format="turtle")
    _assert_conforms(graph, _load_shapes(shape_file))


def test_paging_links_and_jsonld(client, catalog):
    r = client.get("/catalog.jsonld", params={"page": 2, "page_size": 2})
    assert r.status_code == 200
    graph = Graph().parse(data=r.text, format="json-ld")
    datasets = set(graph.objects(None, DCAT.dataset))
    assert len(datasets) == 2
    nexts = list(graph.objects(None, HYDRA.next))
    assert nexts == []  # page 2 of 2
    firsts = [str(o) for o in graph.objects(None, HYDRA.first)]
    assert any("catalog.jsonld?page=1" in f for f in firsts)
    assert client.get("/catalog.ttl", params={"page": 9, "page_size": 2}).status_code == 422
    assert client.get("/catalog.ttl", params={"page": 0}).status_code == 422


def test_dataset_view_conforms(client, catalog):
    rid = catalog[0].id
    r = client.get(f"/dataset/{rid}.ttl")
    assert r.status_code == 200
    graph = Graph().parse(data=r.text, format="turtle")
    assert (None, None, URIRef(DCAT.Dataset)) in graph
    _assert_conforms(graph, _load_shapes("shapes.ttl"))
    assert client.get("/dataset/sh:nope:1-001").status_code in (404, 422)
