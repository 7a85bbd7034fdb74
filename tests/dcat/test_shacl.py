"""The DCAT-AP rendering conforms to the official DCAT-AP 3.0.1 SHACL shapes.

The shapes live in the shared directory next to the repository (``<repo>/../shared``),
or wherever ``HUTONG_SHARED_DIR`` points. Tests that need them are skipped when absent.

Shape files used (``conformance/dcat-ap/3.0.1/html/shacl/``):

- ``shapes.ttl`` (mandatory properties and cardinalities), ``range.ttl`` (class ranges)
  and ``shapes_recommended.ttl`` (recommended properties, severity Warning): the graphs
  must conform with no result at all, warnings counted as failures.
- ``deprecateduris.ttl``: must give no result.
- ``mdr-vocabularies.shape.ttl`` (EU controlled vocabularies): no Violation; the only
  results allowed are the Warnings that a publisher is not in the EU corporate-body
  list, which a Chinese department never is.
- ``imports.ttl`` / ``mdr_imports.ttl`` are not loaded: they are only ``owl:imports``
  of remote ontologies and vocabularies (network access) for inference; the graphs
  type every node explicitly, so validation runs with ``inference='none'``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, SH

from hutong.catalog.schemas import (
    BaseCatalog,
    FieldSpec,
    FieldType,
    Opening,
    OpenType,
    OrganizationRead,
    PICategory,
    ResourceRead,
    Sharing,
    SharingType,
    UpdateCycle,
)
from hutong.dcat import (
    CatalogInfo,
    catalog_graph,
    catalog_iri,
    dataset_graph,
    dataset_iri,
    organization_iri,
    serialize,
)

pyshacl = pytest.importorskip("pyshacl")

DCAT = Namespace("http://www.w3.org/ns/dcat#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU = "http://publications.europa.eu/resource/authority/"
BASE = "http://127.0.0.1:8000"
TZ = dt.timezone(dt.timedelta(hours=8))


# --------------------------------------------------------------------------- shapes


def _shared_dir() -> Path:
    env = os.environ.get("HUTONG_SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared"


SHACL_DIR = _shared_dir() / "conformance" / "dcat-ap" / "3.0.1" / "html" / "shacl"


def _load_shapes(name: str) -> Graph:
    path = SHACL_DIR / name
    if not path.is_file():
        pytest.skip(
            f"DCAT-AP 3.0.1 SHACL shapes not found at {path} "
            "(set HUTONG_SHARED_DIR to the shared/ directory)"
        )
    g = Graph()
    g.parse(path, format="turtle")
    assert len(g) > 0, f"{name} is empty"
    return g


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return _load_shapes("shapes.ttl")


@pytest.fixture(scope="module")
def ranges() -> Graph:
    return _load_shapes("range.ttl")


@pytest.fixture(scope="module")
def recommended() -> Graph:
    return _load_shapes("shapes_recommended.ttl")


@pytest.fixture(scope="module")
def mdr() -> Graph:
    return _load_shapes("mdr-vocabularies.shape.ttl")


@pytest.fixture(scope="module")
def deprecated() -> Graph:
    return _load_shapes("deprecateduris.ttl")


def _validate(data: Graph, shacl: Graph, *, allow_warnings: bool = False):
    conforms, report, text = pyshacl.validate(
        data,
        shacl_graph=shacl,
        ont_graph=None,
        inference="none",
        advanced=True,
        allow_warnings=allow_warnings,
    )
    return conforms, report, text


def _results(report: Graph) -> list:
    """Top-level results of a report (nested sh:detail results excluded)."""
    return list(report.objects(None, SH.result))


def _assert_conforms(data: Graph, shacl: Graph) -> None:
    # allow_warnings=False: a sh:Warning result also makes the graph non-conforming.
    conforms, report, text = _validate(data, shacl)
    assert conforms and not _results(report), text


# --------------------------------------------------------------------------- data


def _org(uscc: str, name: str, name_en: str, node: str = "sh") -> OrganizationRead:
    return OrganizationRead(
        id=f"{node}:{uscc}",
        node=node,
        uscc=uscc,
        name=name,
        name_en=name_en,
        created_at=dt.datetime(2023, 3, 1, 9, 0, tzinfo=TZ),
    )


OPERATOR = _org("12310000MB0M82112M", "上海市大数据中心", "Shanghai Big Data Center")
POLICE = _org("113100000024163908", "上海市公安局", "Shanghai Municipal Public Security Bureau")
MARKET = _org(
    "11310000MB2F07563T", "上海市市场监督管理局", "Shanghai Administration for Market Regulation"
)
HEALTH = _org("11310000002418010D", "上海市卫生健康委员会", "")  # no English name
# A district department not in the organizations mapping: the agent comes from the resource.
PUDONG_USCC = "11310000002420000A"

INFO = CatalogInfo(
    base_url=BASE + "/",
    node="sh",
    title_zh="上海市公共数据资源目录",
    title_en="Shanghai Public Data Resource Catalog",
    description_zh="上海市各部门登记的公共数据资源，供部门间共享。",
    description_en="Public data resources registered by Shanghai departments for sharing.",
    publisher=OPERATOR,
    issued=dt.date(2023, 3, 1),
    modified=dt.datetime(2025, 6, 30, 18, 0, tzinfo=TZ),
)


def _resource(
    org_uscc: str,
    provider_name: str,
    code: str,
    name: str,
    *,
    node: str = "sh",
    **kw,
) -> ResourceRead:
    data = {
        "classification": code.split("-")[0],
        "fields": [FieldSpec(name="id", label="编号", type=FieldType.string, key=True)],
        "sharing": Sharing(type=SharingType.unconditional),
        "opening": Opening(type=OpenType.open),
        "version": 1,
        "created_at": dt.datetime(2024, 1, 10, 10, 0, tzinfo=TZ),
        "updated_at": dt.datetime(2025, 5, 20, 16, 30, tzinfo=TZ),
    }
    data.update(kw)
    return ResourceRead(
        id=f"{node}:{org_uscc}:{code}",
        code=code,
        node=node,
        provider=org_uscc,
        provider_id=f"{node}:{org_uscc}",
        provider_name=provider_name,
        name=name,
        **data,
    )


# Hosted, personal information: closed to the public, shared on conditions.
POPULATION = _resource(
    POLICE.uscc,
    POLICE.name,
    "101001-00001",
    "实有人口基础信息",
    classification_name="人口基础信息",
    abstract="本市实有人口的姓名、身份证号、居住地址等基础信息。",
    fields=[
        FieldSpec(name="xm", label="姓名", pi_category=PICategory.name),
        FieldSpec(name="sfzh", label="身份证号", key=True, pi_category=PICategory.resident_id),
        FieldSpec(name="jzdz", label="居住地址", pi_category=PICategory.address),
        FieldSpec(name="csrq", label="出生日期", type=FieldType.date),
    ],
    sharing=Sharing(
        type=SharingType.conditional,
        condition="仅限依法履职需要，按最小必要原则申请字段",
        reason="含个人信息",
        legal_basis="《中华人民共和国个人信息保护法》第三十四条",
    ),
    opening=Opening(
        type=OpenType.closed,
        reason="含个人敏感信息",
        legal_basis="《上海市数据条例》第四十一条",
    ),
    update_cycle=UpdateCycle.daily,
    published_on=dt.date(2024, 2, 1),
    base_catalog=BaseCatalog.population,
    keywords=["人口", "户籍", "居住"],
    hosted=True,
    version=4,
    row_count=120_000,
    data_updated_at=dt.datetime(2025, 6, 29, 2, 0, tzinfo=TZ),
)

# Hosted, open, related to the penalties resource (by code) and to the population one (by id).
ENTERPRISES = _resource(
    MARKET.uscc,
    MARKET.name,
    "201001-00003",
    "企业登记基本信息",
    classification_name="市场主体登记",
    abstract="本市企业的统一社会信用代码、名称、住所、法定代表人、成立日期等登记信息。",
    update_cycle=UpdateCycle.monthly,
    published_on=dt.date(2024, 3, 15),
    base_catalog=BaseCatalog.legal_person,
    keywords=["企业", "法人", "登记"],
    related=["201002-00007", POPULATION.id],
    hosted=True,
    version=2,
    data_updated_at=dt.datetime(2025, 6, 1, 3, 0, tzinfo=TZ),
)

# Not hosted, conditionally open, no published date, no keywords.
PENALTIES = _resource(
    MARKET.uscc,
    MARKET.name,
    "201002-00007",
    "行政处罚信息",
    classification_name="信用监管",
    abstract="市场监管部门作出的行政处罚决定书信息。",
    sharing=Sharing(type=SharingType.unconditional),
    opening=Opening(
        type=OpenType.conditional,
        condition="申请人说明用途并签署数据使用协议",
        reason="处罚信息公示期满后限制公开",
        legal_basis="《市场监督管理行政处罚信息公示规定》第十四条",
    ),
    update_cycle=UpdateCycle.weekly,
    base_catalog=BaseCatalog.social_credit,
    related=[ENTERPRISES.id],
)

# Not hosted, open, health, no English organization name.
CLINICS = _resource(
    HEALTH.uscc,
    HEALTH.name,
    "301001-00002",
    "医疗机构执业登记信息",
    abstract="本市医疗机构的名称、地址、诊疗科目和执业许可证信息。",
    update_cycle=UpdateCycle.quarterly,
    published_on=dt.date(2024, 5, 6),
    base_catalog=BaseCatalog.health,
    keywords=["医疗机构", "卫生"],
    format="接口",
)

# A district node's resource whose provider is not in the organizations mapping.
PERMITS = _resource(
    PUDONG_USCC,
    "浦东新区行政审批局",
    "401001-00011",
    "电子证照目录",
    node="sh.pudong",
    abstract="浦东新区签发的电子证照目录信息。",
    update_cycle=UpdateCycle.realtime,
    published_on=dt.date(2024, 8, 8),
    base_catalog=BaseCatalog.e_licence,
    keywords=["电子证照"],
    hosted=True,
)

RESOURCES = [POPULATION, ENTERPRISES, PENALTIES, CLINICS, PERMITS]
ORGS = {o.id: o for o in (POLICE, MARKET, HEALTH, OPERATOR)}
ORG_OF = {r.id: ORGS.get(r.provider_id) for r in RESOURCES}


def _page_url(n: int) -> str:
    return f"{BASE}/catalog.ttl?page={n}"


@pytest.fixture(scope="module")
def catalog() -> Graph:
    # Page 2 of 5: 23 resources, 5 a page.
    return catalog_graph(
        info=INFO,
        resources=RESOURCES,
        organizations=ORGS,
        page=2,
        page_size=5,
        total=23,
        page_url=_page_url,
    )


def _dataset(r: ResourceRead) -> Graph:
    return dataset_graph(info=INFO, resource=r, organization=ORG_OF[r.id])


# --------------------------------------------------------------------------- SHACL

SHAPE_FIXTURES = ["shapes", "ranges", "recommended", "deprecated"]


@pytest.mark.parametrize("shape_name", SHAPE_FIXTURES)
def test_catalog_page_conforms(catalog: Graph, shape_name: str, request) -> None:
    _assert_conforms(catalog, request.getfixturevalue(shape_name))


@pytest.mark.parametrize("shape_name", SHAPE_FIXTURES)
@pytest.mark.parametrize("resource", RESOURCES, ids=[r.code for r in RESOURCES])
def test_dataset_graph_conforms(resource: ResourceRead, shape_name: str, request) -> None:
    _assert_conforms(_dataset(resource), request.getfixturevalue(shape_name))


def test_controlled_vocabularies(catalog: Graph, mdr: Graph) -> None:
    """EU vocabulary constraints: only the corporate-body publisher warning remains."""
    data = catalog + _dataset(PERMITS)
    _conforms, report, text = _validate(data, mdr, allow_warnings=True)
    unexpected = []
    for result in _results(report):
        severity = report.value(result, SH.resultSeverity)
        path = report.value(result, SH.resultPath)
        if severity == SH.Warning and path == DCTERMS.publisher:
            continue
        unexpected.append(result)
    assert not unexpected, text


def test_validator_catches_a_missing_title(shapes: Graph) -> None:
    g = _dataset(CLINICS)
    g.remove((URIRef(dataset_iri(BASE, CLINICS.id)), DCTERMS.title, None))
    conforms, _report, _text = _validate(g, shapes)
    assert not conforms


def test_validator_catches_an_untyped_range(ranges: Graph) -> None:
    g = _dataset(CLINICS)
    g.remove((URIRef(f"{EU}frequency/QUARTERLY"), RDF.type, DCTERMS.Frequency))
    conforms, _report, _text = _validate(g, ranges)
    assert not conforms


# --------------------------------------------------------------------------- mapping


def _ds(r: ResourceRead) -> URIRef:
    return URIRef(dataset_iri(BASE, r.id))


def test_dataset_iri_is_valid_and_reversible() -> None:
    iri = dataset_iri(BASE + "/", POPULATION.id)
    parts = urlsplit(iri)
    assert parts.scheme == "http" and parts.netloc == "127.0.0.1:8000"
    assert not any(c in iri for c in ' <>"{}|\\^`')
    assert unquote(parts.path.rsplit("/", 1)[1]) == POPULATION.id
    assert dataset_iri(BASE, "sh:X Y:1") == f"{BASE}/dataset/sh:X%20Y:1"


def test_closed_personal_information_resource(catalog: Graph) -> None:
    ds = _ds(POPULATION)
    assert catalog.value(ds, DCTERMS.identifier) == Literal(POPULATION.id)
    assert catalog.value(ds, DCTERMS.title) == Literal("实有人口基础信息", lang="zh")
    assert catalog.value(ds, DCTERMS.accessRights) == URIRef(f"{EU}access-right/NON_PUBLIC")
    assert catalog.value(ds, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/DAILY")
    assert catalog.value(ds, DCAT.theme) == URIRef(f"{EU}data-theme/SOCI")
    assert catalog.value(ds, DCTERMS.issued) == Literal("2024-02-01", datatype=_xsd("date"))
    # modified: the later of the metadata and the data update.
    assert catalog.value(ds, DCTERMS.modified).toPython() == POPULATION.data_updated_at
    assert catalog.value(ds, DCTERMS.publisher) == URIRef(organization_iri(BASE, POLICE.id))
    dists = set(catalog.objects(ds, DCAT.distribution))
    assert len(dists) == 3  # CSV, Parquet, datastore API
    csv_url = URIRef(f"{BASE}/api/v1/resources/{POPULATION.id}/export?format=csv")
    assert any(catalog.value(d, DCAT.downloadURL) == csv_url for d in dists)
    for d in dists:
        assert catalog.value(d, DCTERMS.license) != URIRef(f"{EU}licence/CC_BY_4_0")
        rights = catalog.value(d, DCTERMS.rights)
        assert rights is not None
        assert "《中华人民共和国个人信息保护法》" in " ".join(
            str(x) for x in catalog.objects(rights, _rdfs("label"))
        )


def test_open_resource_and_relations(catalog: Graph) -> None:
    ds = _ds(ENTERPRISES)
    assert catalog.value(ds, DCTERMS.accessRights) == URIRef(f"{EU}access-right/PUBLIC")
    assert set(catalog.objects(ds, DCTERMS.relation)) == {_ds(PENALTIES), _ds(POPULATION)}
    assert catalog.value(ds, DCAT.theme) == URIRef(f"{EU}data-theme/ECON")
    formats = {catalog.value(d, DCTERMS.format) for d in catalog.objects(ds, DCAT.distribution)}
    assert formats == {URIRef(f"{EU}file-type/{f}") for f in ("CSV", "PARQUET", "JSON")}
    for d in catalog.objects(ds, DCAT.distribution):
        assert catalog.value(d, DCTERMS.license) == URIRef(f"{EU}licence/CC_BY_4_0")
        assert catalog.value(d, DCTERMS.rights) is None
        assert catalog.value(d, DCAT.accessURL) is not None


def test_resource_without_published_date(catalog: Graph) -> None:
    ds = _ds(PENALTIES)
    assert catalog.value(ds, DCTERMS.issued) is None
    assert catalog.value(ds, DCTERMS.modified) is not None
    assert catalog.value(ds, DCTERMS.accessRights) == URIRef(f"{EU}access-right/RESTRICTED")
    # No keywords: the classification name stands in.
    assert set(catalog.objects(ds, DCAT.keyword)) == {Literal("信用监管", lang="zh")}
    (dist,) = catalog.objects(ds, DCAT.distribution)  # not hosted: the gateway only
    assert catalog.value(dist, DCAT.accessService) is not None
    assert catalog.value(dist, DCAT.downloadURL) is None


def test_agents_and_catalog(catalog: Graph) -> None:
    cat = URIRef(catalog_iri(BASE))
    assert catalog.value(cat, RDF.type) == DCAT.Catalog
    assert set(catalog.objects(cat, DCAT.dataset)) == {_ds(r) for r in RESOURCES}
    assert catalog.value(cat, DCTERMS.publisher) == URIRef(organization_iri(BASE, OPERATOR.id))
    police = URIRef(organization_iri(BASE, POLICE.id))
    assert set(catalog.objects(police, FOAF.name)) == {
        Literal("上海市公安局", lang="zh"),
        Literal("Shanghai Municipal Public Security Bureau", lang="en"),
    }
    assert catalog.value(police, DCTERMS.type) == URIRef(
        "http://purl.org/adms/publishertype/RegionalAuthority"
    )
    pudong = URIRef(organization_iri(BASE, PERMITS.provider_id))
    assert catalog.value(pudong, FOAF.name) == Literal("浦东新区行政审批局", lang="zh")
    assert catalog.value(pudong, DCTERMS.type) == URIRef(
        "http://purl.org/adms/publishertype/LocalAuthority"
    )
    assert catalog.value(_ds(PERMITS), DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/CONT")


# --------------------------------------------------------------------------- Hydra


def _view(g: Graph) -> URIRef:
    (view,) = g.subjects(RDF.type, HYDRA.PartialCollectionView)
    return view


def test_hydra_paging_page_2_of_5(catalog: Graph) -> None:
    view = _view(catalog)
    assert view == URIRef(_page_url(2))
    assert catalog.value(URIRef(catalog_iri(BASE)), HYDRA.view) == view
    assert catalog.value(view, HYDRA.first) == URIRef(_page_url(1))
    assert catalog.value(view, HYDRA.previous) == URIRef(_page_url(1))
    assert catalog.value(view, HYDRA.next) == URIRef(_page_url(3))
    assert catalog.value(view, HYDRA.last) == URIRef(_page_url(5))
    assert catalog.value(view, HYDRA.totalItems).toPython() == 23
    assert catalog.value(view, HYDRA.itemsPerPage).toPython() == 5


@pytest.mark.parametrize(
    ("page", "total", "has_prev", "has_next", "last"),
    [(1, 23, False, True, 5), (5, 23, True, False, 5), (1, 0, False, False, 1)],
)
def test_hydra_edges(page: int, total: int, has_prev: bool, has_next: bool, last: int) -> None:
    jsonld_url = lambda n: f"{BASE}/catalog.jsonld?page={n}"  # noqa: E731
    g = catalog_graph(
        info=INFO,
        resources=RESOURCES[:1] if total else [],
        organizations=ORGS,
        page=page,
        page_size=5,
        total=total,
        page_url=jsonld_url,
    )
    view = _view(g)
    assert view == URIRef(jsonld_url(page))
    assert (g.value(view, HYDRA.previous) is not None) is has_prev
    assert (g.value(view, HYDRA.next) is not None) is has_next
    assert g.value(view, HYDRA.last) == URIRef(jsonld_url(last))


def test_default_page_url_is_turtle() -> None:
    g = catalog_graph(
        info=INFO, resources=RESOURCES[:2], organizations=ORGS, page=1, page_size=2, total=3
    )
    assert g.value(_view(g), HYDRA.next) == URIRef(f"{BASE}/catalog.ttl?page=2")


def test_bad_paging_is_refused() -> None:
    with pytest.raises(ValueError):
        catalog_graph(info=INFO, resources=[], organizations={}, page=0, page_size=5, total=0)
    with pytest.raises(ValueError):
        catalog_graph(info=INFO, resources=[], organizations={}, page=1, page_size=0, total=0)


# --------------------------------------------------------------------------- serialization


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_jsonld_round_trip(catalog: Graph) -> None:
    data = serialize(catalog, "json-ld")
    doc = json.loads(data.decode("utf-8"))
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert {"dct", "foaf", "vcard", "hydra", "adms", "xsd"} <= set(doc["@context"])
    assert "实有人口基础信息" in data.decode("utf-8")
    back = Graph().parse(data=data, format="json-ld")
    assert isomorphic(back, catalog)


def test_turtle_round_trip() -> None:
    g = _dataset(POPULATION)
    data = serialize(g, "turtle")
    assert data.decode("utf-8").startswith("@prefix")
    assert isomorphic(Graph().parse(data=data, format="turtle"), g)


def test_dataset_graph_is_deterministic() -> None:
    assert isomorphic(_dataset(ENTERPRISES), _dataset(ENTERPRISES))


def test_unknown_format_is_refused(catalog: Graph) -> None:
    with pytest.raises(ValueError):
        serialize(catalog, "xml")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- helpers


def _xsd(name: str) -> URIRef:
    return URIRef(f"http://www.w3.org/2001/XMLSchema#{name}")


def _rdfs(name: str) -> URIRef:
    return URIRef(f"http://www.w3.org/2000/01/rdf-schema#{name}")
