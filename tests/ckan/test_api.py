"""The CKAN-compatible Action API (/api/3/action) over HTTP, in-process, on a real database."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import types
import uuid
from typing import Any

import pytest

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec, ResourceUpdate
from hutong.core.deps import permission_of
from hutong.core.security import SYSTEM
from hutong.identity import service as identity_service
from hutong.identity.schemas import OrganizationCreate
from tests.factories import make_org, make_resource, make_uscc

CKAN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
OPEN_FIELDS = [
    {"name": "uscc", "label": "统一社会信用代码", "type": "string", "key": True},
    {"name": "reg_date", "label": "成立日期", "type": "date"},
    {"name": "capital", "label": "注册资本", "type": "decimal"},
]


# --------------------------------------------------------------------------- helpers


def _call(client, action: str, method: str = "get", **params: Any):
    """Call an action by GET (query string) or POST (JSON body)."""
    url = f"/api/3/action/{action}"
    if method == "post":
        return client.post(url, json=params)
    return client.get(url, params=params)


def _result(client, action: str, method: str = "get", **params: Any) -> Any:
    r = _call(client, action, method, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    return body["result"]


def _error(client, action: str, status: int, method: str = "get", **params: Any) -> dict:
    r = _call(client, action, method, **params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False
    assert body["help"].endswith(f"/api/3/action/help_show?name={action}")
    return body["error"]


def _open_resource(db, *, provider_id: str, **over: Any):
    """An open (无条件开放), unconditionally shared resource without personal information."""
    body: dict[str, Any] = {
        "name": "企业登记注册信息",
        "abstract": "本市企业登记注册的基本信息。",
        "classification": "201001",
        "classification_name": "企业登记",
        "base_catalog": "legal_person",
        "keywords": ["企业", "登记"],
        "fields": OPEN_FIELDS,
        "sharing": {"type": "unconditional"},
        "opening": {"type": "open"},
        "security_grade": "general",
    }
    body.update(over)
    return make_resource(db, provider_id=provider_id, **body)


def _set_modified(db, resource_id: str, when: dt.datetime) -> None:
    with db.session_scope() as s:
        s.get(Resource, resource_id).updated_at = when


def _names(result: dict) -> list[str]:
    return [p["name"] for p in result["results"]]


def _name_of(resource) -> str:
    node, uscc, code = resource.id.split(":")
    return f"{node}-{uscc.lower()}-{code}"


@pytest.fixture
def catalog(db):
    """Two providers, three resources: two population (police), one open enterprise (market)."""
    police = make_org(db, name="上海市公安局", short="police")
    market = make_org(db, name="上海市市场监督管理局", short="market")
    people = make_resource(db, provider_id=police)
    moves = make_resource(
        db,
        provider_id=police,
        name="户籍迁移登记信息",
        abstract="户籍迁入迁出登记。",
        keywords=["户籍", "迁移"],
        hosted=False,
    )
    firms = _open_resource(db, provider_id=market)
    return types.SimpleNamespace(
        police=police, market=market, people=people, moves=moves, firms=firms
    )


# --------------------------------------------------------------------------- envelope


def test_status_show_follows_ckan_2_10(client):
    r = client.get("/api/3/action/status_show")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"help", "success", "result"}
    assert body["help"] == "http://testserver/api/3/action/help_show?name=status_show"
    assert body["success"] is True
    result = body["result"]
    assert result["ckan_version"].startswith("2.10.")
    assert result["site_title"] == "上海市公共数据共享平台"
    assert result["locale_default"] == "zh_Hans_CN"
    assert "datastore" in result["extensions"]
    assert result["site_url"].startswith("http")


def test_every_action_answers_get_and_post_alike(client, catalog):
    for action, params in [
        ("status_show", {}),
        ("package_list", {}),
        ("package_search", {"q": "户籍", "rows": 5}),
        ("package_show", {"id": catalog.people.id}),
        ("organization_list", {"all_fields": True}),
        ("organization_show", {"id": "police"}),
        ("group_list", {}),
    ]:
        assert _result(client, action, "get", **params) == _result(
            client, action, "post", **params
        ), action


def test_form_encoded_post_is_accepted(client, catalog):
    r = client.post("/api/3/action/package_show", data={"id": catalog.people.id})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["title"] == "人口基本信息"


def test_unknown_action_is_ckans_bad_request(client):
    for method in ("get", "post"):
        r = getattr(client, method)("/api/3/action/package_delete")
        assert r.status_code == 400
        assert r.json() == "Bad request - Action name not known: package_delete"


def test_body_that_is_not_a_json_object_is_a_bad_request(client):
    r = client.post(
        "/api/3/action/package_search",
        content=b"[1, 2]",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json().startswith("Bad request - Bad request data: Request data JSON decoded to")
    r = client.post(
        "/api/3/action/package_search",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json().startswith("Bad request - JSON Error:")


def test_help_show_returns_the_actions_documentation(client):
    text = _result(client, "help_show", name="package_search")
    assert "fq" in text and "metadata_modified" in text
    error = _error(client, "help_show", 404, name="package_purge")
    assert error["__type"] == "Not Found Error"


def test_every_ckan_route_declares_public_permission():
    from hutong.ckan.api import router

    assert len(router.routes) >= 12
    for route in router.routes:
        assert permission_of(route) == ("public",), route.path


# --------------------------------------------------------------------------- package_show


def test_package_show_by_name_uuid_and_hutong_id(client, catalog):
    people = catalog.people
    by_id = _result(client, "package_show", id=people.id)
    name = _name_of(people)
    assert by_id["name"] == name
    assert re.fullmatch(r"[a-z0-9_\-]{2,100}", name)
    assert uuid.UUID(by_id["id"])
    assert _result(client, "package_show", id=name) == by_id
    assert _result(client, "package_show", id=by_id["id"]) == by_id
    assert _result(client, "package_show", id=by_id["id"].upper()) == by_id
    # the same UUID on every call and every node: uuid5 of the hutong id
    assert _result(client, "package_search", fq=f"id:{by_id['id']}")["count"] == 1


def test_package_dict_has_ckans_shape_and_hutong_metadata(client, catalog):
    pkg = _result(client, "package_show", id=catalog.people.id)
    assert pkg["title"] == "人口基本信息"
    assert pkg["notes"].startswith("本市户籍")
    assert pkg["type"] == "dataset" and pkg["state"] == "active" and pkg["private"] is False
    assert pkg["author"] == pkg["maintainer"] == "上海市公安局"
    assert pkg["license_id"] == "other-closed" and pkg["isopen"] is False
    assert CKAN_TIME.match(pkg["metadata_created"]) and CKAN_TIME.match(pkg["metadata_modified"])
    org = pkg["organization"]
    assert org["name"] == "police" and org["title"] == "上海市公安局"
    assert org["is_organization"] is True and org["type"] == "organization"
    assert org["state"] == "active" and org["approval_status"] == "approved"
    assert pkg["owner_org"] == org["id"]
    assert sorted(t["name"] for t in pkg["tags"]) == ["人口", "户籍"]
    assert pkg["num_tags"] == 2
    assert all(t["state"] == "active" and t["vocabulary_id"] is None for t in pkg["tags"])
    assert [g["name"] for g in pkg["groups"]] == ["population"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert all(isinstance(v, str) for v in extras.values())
    assert extras["hutong_id"] == catalog.people.id
    assert extras["sharing_type"] == "conditional"
    assert extras["sharing_legal_basis"] == "《上海市数据条例》"
    assert extras["open_type"] == "closed"
    assert extras["security_grade"] == "important"
    assert extras["update_cycle"] == "daily"
    assert extras["base_catalog"] == "population"
    fields = json.loads(extras["fields"])
    assert [f["name"] for f in fields] == ["resident_id", "name", "birth_date", "children"]
    assert fields[0]["key"] is True
    # a hosted resource: a datastore-active CSV export and a Parquet export
    assert pkg["num_resources"] == len(pkg["resources"]) == 2
    csv, parquet = pkg["resources"]
    assert csv["format"] == "CSV" and csv["datastore_active"] is True
    assert csv["url_type"] == "datastore" and csv["mimetype"] == "text/csv"
    assert csv["url"].endswith(f"/api/v1/resources/{catalog.people.id}/export?format=csv")
    assert csv["package_id"] == pkg["id"] and csv["position"] == 0
    assert csv["state"] == "active" and CKAN_TIME.match(csv["created"])
    assert parquet["format"] == "Parquet" and parquet["datastore_active"] is False
    assert parquet["position"] == 1


def test_open_and_gateway_resources(client, catalog):
    firms = _result(client, "package_show", id=catalog.firms.id)
    assert firms["license_id"] == "cc-by" and firms["isopen"] is True
    assert firms["license_title"] == "Creative Commons Attribution"
    moves = _result(client, "package_show", id=catalog.moves.id)
    assert [r["format"] for r in moves["resources"]] == ["API"]
    assert moves["resources"][0]["datastore_active"] is False
    assert moves["resources"][0]["url"].endswith(f"/api/v1/resources/{catalog.moves.id}")


def test_package_show_not_found_and_missing_id(client, catalog):
    for ref in [
        "sh-no-such",
        str(uuid.uuid4()),
        "sh:91310000MA1FL0000X:101001-00009",
        "'; DROP TABLE resource; --",
    ]:
        error = _error(client, "package_show", 404, id=ref)
        assert error["__type"] == "Not Found Error"
        assert error["message"].startswith("Not found: ")
    error = _error(client, "package_show", 409)
    assert error["__type"] == "Validation Error"
    assert error["id"] == ["Missing value"]
    assert _result(client, "package_list") != []  # nothing was dropped


# --------------------------------------------------------------------------- lists


def test_package_list_pages_names(client, catalog):
    names = _result(client, "package_list")
    assert sorted(names) == sorted(
        _name_of(r) for r in (catalog.people, catalog.moves, catalog.firms)
    )
    assert _result(client, "package_list", limit=2, offset=1) == names[1:3]
    error = _error(client, "package_list", 409, limit=-1)
    assert "limit" in error


def test_organization_list_and_show(client, catalog):
    names = _result(client, "organization_list")
    assert {"police", "market"} <= set(names)
    dicts = _result(client, "organization_list", all_fields="true", sort="name asc")
    assert [d["name"] for d in dicts] == sorted(d["name"] for d in dicts)
    counts = {d["name"]: d["package_count"] for d in dicts}
    assert counts["police"] == 2 and counts["market"] == 1
    by_count = _result(client, "organization_list", sort="package_count desc")
    assert by_count[0] == "police"
    assert _result(client, "organization_list", limit=1, offset=1, sort="name asc") == [
        sorted(names)[1]
    ]
    assert _result(client, "organization_list", organizations=["market"]) == ["market"]

    org = _result(client, "organization_show", id="police")
    assert org["title"] == "上海市公安局" and org["package_count"] == 2
    assert org["is_organization"] is True and "packages" not in org
    uscc = catalog.police.split(":")[1]
    for ref in [org["id"], catalog.police, uscc]:
        assert _result(client, "organization_show", id=ref)["id"] == org["id"]
    with_data = _result(client, "organization_show", id="police", include_datasets=True)
    assert sorted(p["title"] for p in with_data["packages"]) == ["人口基本信息", "户籍迁移登记信息"]
    error = _error(client, "organization_show", 404, id="nobody")
    assert error["__type"] == "Not Found Error"
    error = _error(client, "organization_list", 409, sort="founded asc")
    assert "sort" in error


def test_organization_without_short_name_gets_a_slug(client, db):
    uscc = make_uscc()
    with db.session_scope() as s:
        identity_service.create_organization(
            session=s, data=OrganizationCreate(uscc=uscc, name="无简称单位")
        )
    slug = f"sh-{uscc.lower()}"
    assert slug in _result(client, "organization_list")
    assert _result(client, "organization_show", id=slug)["title"] == "无简称单位"


def test_resource_show_by_ckan_id(client, catalog):
    pkg = _result(client, "package_show", id=catalog.people.id)
    for res in pkg["resources"]:
        assert _result(client, "resource_show", id=res["id"]) == res
    error = _error(client, "resource_show", 404, id=str(uuid.uuid4()))
    assert error["__type"] == "Not Found Error"


def test_groups_are_base_catalogs(client, catalog):
    assert _result(client, "group_list") == ["legal_person", "population"]
    group = _result(client, "group_show", id="population", include_datasets=True)
    assert group["title"] == "人口综合库" and group["package_count"] == 2
    assert len(group["packages"]) == 2
    assert _result(client, "group_show", id=group["id"])["name"] == "population"
    assert _error(client, "group_show", 404, id="nothing")["__type"] == "Not Found Error"


# --------------------------------------------------------------------------- package_search


def test_search_pages_with_rows_and_start(client, db):
    org = make_org(db, short="paging")
    made = [_open_resource(db, provider_id=org, name=f"资源{i}") for i in range(5)]
    first = _result(client, "package_search", rows=2, start=0, sort="name asc")
    assert first["count"] == 5 and len(first["results"]) == 2
    seen = []
    for start in (0, 2, 4):
        seen += _names(_result(client, "package_search", rows=2, start=start, sort="name asc"))
    assert seen == sorted(_name_of(r) for r in made)
    assert _result(client, "package_search", rows=0)["results"] == []
    assert _result(client, "package_search", rows=0)["count"] == 5
    assert len(_result(client, "package_search")["results"]) == 5  # default rows 10
    assert _result(client, "package_search", start=10)["results"] == []


def test_bad_rows_and_start_name_the_parameter(client, catalog):
    for params, key in [
        ({"rows": -1}, "rows"),
        ({"rows": "ten"}, "rows"),
        ({"rows": "1.5"}, "rows"),
        ({"rows": 1001}, "rows"),
        ({"start": -5}, "start"),
        ({"start": "x"}, "start"),
        ({"facet.limit": "many"}, "facet.limit"),
    ]:
        error = _error(client, "package_search", 409, **params)
        assert error["__type"] == "Validation Error"
        assert key in error, (params, error)
        assert key in error["message"]
    assert _result(client, "package_search", rows=1000)["count"] == 3


def test_search_sorts(client, db):
    org = make_org(db, short="sorting")
    a = _open_resource(db, provider_id=org, name="Beta 资源")
    b = _open_resource(db, provider_id=org, name="Alpha 资源")
    c = _open_resource(db, provider_id=org, name="Gamma 资源")
    _set_modified(db, a.id, dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
    _set_modified(db, b.id, dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    _set_modified(db, c.id, dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
    by = {r.id: _name_of(r) for r in (a, b, c)}

    def order(sort: str) -> list[str]:
        result = _result(client, "package_search", sort=sort)
        assert result["sort"] == sort
        return _names(result)

    assert order("metadata_modified desc") == [by[b.id], by[c.id], by[a.id]]
    assert order("metadata_modified asc") == [by[a.id], by[c.id], by[b.id]]
    assert order("score desc, metadata_modified desc") == [by[b.id], by[c.id], by[a.id]]
    assert order("name asc") == sorted(by.values())
    assert order("name desc") == sorted(by.values(), reverse=True)
    assert order("id asc") == order("id asc")  # stable, as the harvester's paging needs
    titles = [
        p["title"] for p in _result(client, "package_search", sort="title_string asc")["results"]
    ]
    assert titles == sorted(titles)
    default = _result(client, "package_search")
    assert default["sort"] == "score desc, metadata_modified desc"
    assert _names(default) == [by[b.id], by[c.id], by[a.id]]
    for bad in ["views_recent desc", "name sideways", "name asc; DROP TABLE resource"]:
        assert "sort" in _error(client, "package_search", 409, sort=bad)


def test_q_searches_text_and_understands_fields(client, catalog):
    assert _names(_result(client, "package_search", q="迁移")) == [_name_of(catalog.moves)]
    assert _result(client, "package_search", q="户籍")["count"] == 2
    assert _result(client, "package_search", q="*:*")["count"] == 3
    assert _result(client, "package_search", q="")["count"] == 3
    assert _result(client, "package_search", q="organization:market")["count"] == 1
    assert _result(client, "package_search", q="户籍 organization:police")["count"] == 2
    for q in [
        "'; DROP TABLE resource; --",
        '" OR 1=1',
        "%",
        "_",
        '人口" OR "',
        "NEAR(a b)",
        "http://x/y",
        "a:b:c",
        "(((",
        "organization:",
    ]:
        r = _call(client, "package_search", q=q)
        assert r.status_code == 200, (q, r.text)
    assert _result(client, "package_search")["count"] == 3


def test_fq_filters_by_organization_tags_groups_and_more(client, catalog):
    people, moves, firms = (_name_of(r) for r in (catalog.people, catalog.moves, catalog.firms))

    def names(fq: str) -> set[str]:
        return set(_names(_result(client, "package_search", fq=fq)))

    assert names("organization:police") == {people, moves}
    assert names("-organization:police") == {firms}
    assert names("organization:police OR organization:market") == {people, moves, firms}
    assert names("organization:(police OR market)") == {people, moves, firms}
    assert names("tags:户籍") == {people, moves}
    assert names("tags:迁移") == {moves}
    assert names("tags:户") == set()  # tags match whole keywords
    assert names("+organization:police +tags:人口") == {people}
    assert names("organization:police AND -tags:人口") == {moves}
    assert names("groups:population") == {people, moves}
    assert names("-groups:population") == {firms}
    assert names("res_format:CSV") == {people, firms}
    assert names("res_format:API") == {moves}
    assert names("license_id:cc-by") == {firms}
    assert names("license_id:other-closed") == {people, moves}
    assert names("sharing:unconditional") == {firms}
    assert names("opening:closed") == {people, moves}
    assert names("grade:important") == {people, moves}
    assert names("classification:2010") == {firms}
    assert names(f'name:"{people}"') == {people}
    assert names(f"hutong_id:{catalog.firms.id}") == {firms}
    assert names(f'hutong_id:"{catalog.firms.id}"') == {firms}
    assert names("dataset_type:dataset") == {people, moves, firms}
    assert names("datastore_active:true") == {people, firms}
    assert names("organization:nobody") == set()
    assert names(f"owner_org:{_result(client, 'organization_show', id='market')['id']}") == {firms}


def test_fq_metadata_modified_ranges(client, db):
    org = make_org(db, short="harvested")
    old = _open_resource(db, provider_id=org, name="旧资源")
    new = _open_resource(db, provider_id=org, name="新资源")
    _set_modified(db, old.id, dt.datetime(2020, 6, 1, 8, 0, tzinfo=dt.UTC))
    _set_modified(db, new.id, dt.datetime(2022, 6, 1, 8, 0, tzinfo=dt.UTC))

    def names(fq: str) -> list[str]:
        return _names(_result(client, "package_search", fq=fq, sort="metadata_modified asc"))

    assert names("metadata_modified:[2021-01-01T00:00:00Z TO NOW]") == [_name_of(new)]
    assert names("metadata_modified:[* TO 2021-01-01T00:00:00Z]") == [_name_of(old)]
    assert names("metadata_modified:[2020-01-01T00:00:00Z TO *]") == [_name_of(old), _name_of(new)]
    # the CKAN harvester's form: isoformat with microseconds and a Z
    assert names("metadata_modified:[2022-06-01T07:00:00.000000Z TO *]") == [_name_of(new)]
    assert names("metadata_modified:[2022-06-01T08:00:00Z TO *]") == [_name_of(new)]
    assert names("metadata_modified:{2022-06-01T08:00:00Z TO *]") == []
    assert names("metadata_modified:[2020-06-01 TO 2020-06-02]") == [_name_of(old)]
    assert names("metadata_modified:[NOW-1DAY TO NOW]") == []
    assert names("metadata_created:[NOW-1DAY TO *]") == [_name_of(old), _name_of(new)]
    combined = "-organization:elsewhere metadata_modified:[2021-01-01T00:00:00Z TO *]"
    assert names(combined) == [_name_of(new)]
    result = _result(client, "package_search", fq="metadata_modified:[2021-01-01T00:00:00Z TO *]")
    assert result["results"][0]["metadata_modified"] == "2022-06-01T08:00:00.000000"


def test_a_changed_resource_enters_the_since_window(client, db):
    org = make_org(db, short="changes")
    first = _open_resource(db, provider_id=org, name="第一")
    second = _open_resource(db, provider_id=org, name="第二")
    _set_modified(db, first.id, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    _set_modified(db, second.id, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fq = f"metadata_modified:[{since} TO *]"
    assert _result(client, "package_search", fq=fq)["count"] == 0
    with db.session_scope() as s:
        catalog_service.update(
            session=s,
            actor=SYSTEM,
            resource_ref=first.id,
            data=ResourceUpdate(abstract="修订后的摘要。", note="修订"),
        )
    assert _names(_result(client, "package_search", fq=fq)) == [_name_of(first)]


def test_malformed_fq_is_a_validation_error(client, catalog):
    for fq in [
        "organization:(police",
        "metadata_modified:[yesterday TO NOW]",
        "metadata_modified:[2020-01-01T00:00:00Z]",
        "metadata_modified:[2020-01-01T00:00:00Z TO NOW",
        "nosuchfield:x",
        "tags:[a TO b]",
        'title:"unclosed',
        "organization:",
        "just words",
    ]:
        if fq == "just words":
            # bare words in fq search the text, as Solr's default field does
            assert _call(client, "package_search", fq=fq).status_code == 200
            continue
        error = _error(client, "package_search", 409, fq=fq)
        assert error["__type"] == "Validation Error", fq
        assert "fq" in error, fq


def test_injection_strings_in_fq_are_just_values(client, catalog):
    for fq in [
        "organization:x' OR '1'='1",
        'name:"\'; DROP TABLE resource; --"',
        "tags:%",
        "tags:_",
        "title:%",
    ]:
        result = _result(client, "package_search", fq=fq)
        assert result["count"] == 0, fq
    assert _result(client, "package_search")["count"] == 3


def test_facets_in_ckan_shapes(client, catalog):
    fields = ["organization", "tags", "res_format", "license_id", "groups", "sharing", "grade"]
    result = _result(client, "package_search", **{"facet.field": json.dumps(fields)})
    facets, search = result["facets"], result["search_facets"]
    assert set(facets) == set(search) == set(fields)
    assert facets["organization"] == {"police": 2, "market": 1}
    assert facets["tags"]["户籍"] == 2 and facets["tags"]["企业"] == 1
    assert facets["res_format"] == {"CSV": 2, "Parquet": 2, "API": 1}
    assert facets["license_id"] == {"other-closed": 2, "cc-by": 1}
    assert facets["groups"] == {"population": 2, "legal_person": 1}
    assert facets["sharing"] == {"conditional": 2, "unconditional": 1}
    assert facets["grade"] == {"important": 2, "general": 1}
    org_facet = search["organization"]
    assert org_facet["title"] == "organization"
    assert org_facet["items"][0] == {"name": "police", "display_name": "上海市公安局", "count": 2}
    sharing_items = {i["name"]: i["display_name"] for i in search["sharing"]["items"]}
    assert sharing_items["unconditional"] == "无条件共享"
    # facets follow the filters, and facet.limit bounds them
    filtered = _result(
        client, "package_search", fq="organization:police", **{"facet.field": '["organization"]'}
    )
    assert filtered["facets"]["organization"] == {"police": 2}
    limited = _result(client, "package_search", **{"facet.field": '["tags"]', "facet.limit": 1})
    assert list(limited["facets"]["tags"]) == ["户籍"]
    # POST may send the list itself
    posted = _result(client, "package_search", "post", **{"facet.field": ["groups"]})
    assert posted["facets"]["groups"] == {"population": 2, "legal_person": 1}
    assert _result(client, "package_search")["facets"] == {}


def test_bad_facet_fields_are_validation_errors(client, catalog):
    for value in ["organization", '{"a": 1}', "[1, 2]", '["nosuch"]']:
        error = _error(client, "package_search", 409, **{"facet.field": value})
        assert "facet.field" in error, value


def test_fl_limits_the_returned_keys(client, catalog):
    result = _result(client, "package_search", fl="id,name,metadata_modified")
    assert all(set(p) == {"id", "name", "metadata_modified"} for p in result["results"])


# --------------------------------------------------------------------------- datastore_search


def test_datastore_search_refuses_resources_that_are_not_open(client, catalog):
    pkg = _result(client, "package_show", id=catalog.people.id)
    for ref in (pkg["resources"][0]["id"], catalog.people.id):
        error = _error(client, "datastore_search", 403, resource_id=ref)
        assert error["__type"] == "Authorization Error"
        assert error["message"].startswith("Access denied: ")
        assert "not open" in error["message"]


def test_datastore_search_not_found_for_unknown_or_unhosted(client, catalog):
    firms = _result(client, "package_show", id=catalog.firms.id)
    parquet = firms["resources"][1]["id"]
    for ref in [str(uuid.uuid4()), "sh:nothing", catalog.moves.id, parquet]:
        error = _error(client, "datastore_search", 404, resource_id=ref)
        assert error["__type"] == "Not Found Error", ref
    assert "resource_id" in _error(client, "datastore_search", 409)


def test_datastore_search_validates_parameters(client, catalog):
    rid = catalog.firms.id
    for params, key in [
        ({"limit": -1}, "limit"),
        ({"limit": 32001}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"offset": -3}, "offset"),
        ({"filters": "{not json"}, "filters"),
        ({"filters": "[1, 2]"}, "filters"),
        ({"filters": '{"uscc": {"$ne": 1}}'}, "filters"),
        ({"q": "企业"}, "q"),
        ({"records_format": "csv"}, "records_format"),
        ({"include_total": "maybe"}, "include_total"),
    ]:
        error = _error(client, "datastore_search", 409, resource_id=rid, **params)
        assert error["__type"] == "Validation Error"
        assert key in error, (params, error)


class _FakePage:
    def __init__(self, fields, records, total):
        self.fields, self.records, self.total = fields, records, total


@pytest.fixture
def fake_search_records(monkeypatch):
    """Stand in for hutong.datastore.service.search_records, recording each call."""
    calls: list[dict[str, Any]] = []

    def search_records(**kwargs: Any) -> _FakePage:
        calls.append(kwargs)
        fields = [FieldSpec.model_validate(f) for f in OPEN_FIELDS]
        records = [
            {"_id": 1, "uscc": "91310000MA1FL0001X", "reg_date": "2020-01-02", "capital": "10.5"},
            {"_id": 2, "uscc": "91310000MA1FL0002X", "reg_date": "2021-03-04", "capital": "7"},
        ]
        return _FakePage(fields, records[: kwargs["limit"]], 2)

    try:
        import hutong.datastore.service as module
    except ImportError:
        module = types.ModuleType("hutong.datastore.service")
        monkeypatch.setitem(sys.modules, "hutong.datastore.service", module)
        import hutong.datastore

        monkeypatch.setattr(hutong.datastore, "service", module, raising=False)
    monkeypatch.setattr(module, "search_records", search_records, raising=False)
    return calls


def test_datastore_search_calls_the_datastore_and_answers_in_ckans_shape(
    client, catalog, fake_search_records
):
    pkg = _result(client, "package_show", id=catalog.firms.id)
    ckan_id = pkg["resources"][0]["id"]
    result = _result(
        client,
        "datastore_search",
        resource_id=ckan_id,
        limit=1,
        offset=0,
        filters=json.dumps({"uscc": ["91310000MA1FL0001X", "91310000MA1FL0002X"]}),
        sort="reg_date desc",
        fields="uscc,reg_date",
    )
    call = fake_search_records[-1]
    assert call["resource_ref"] == catalog.firms.id
    assert call["filters"] == {"uscc": ["91310000MA1FL0001X", "91310000MA1FL0002X"]}
    assert call["limit"] == 1 and call["offset"] == 0
    assert call["sort"] == "reg_date desc" and call["fields"] == ["uscc", "reg_date"]
    assert call["include_total"] is True
    assert result["resource_id"] == ckan_id
    assert result["fields"][0] == {"id": "_id", "type": "int"}
    types_ = {f["id"]: f["type"] for f in result["fields"]}
    assert types_ == {"_id": "int", "uscc": "text", "reg_date": "date", "capital": "numeric"}
    assert result["fields"][1]["info"]["label"] == "统一社会信用代码"
    assert result["records"] == [
        {"_id": 1, "uscc": "91310000MA1FL0001X", "reg_date": "2020-01-02", "capital": "10.5"}
    ]
    assert result["total"] == 2 and result["limit"] == 1 and result["offset"] == 0
    assert result["_links"]["start"].startswith("/api/3/action/datastore_search?")
    assert "offset=1" in result["_links"]["next"]
    assert f"resource_id={ckan_id}" in result["_links"]["next"]


def test_datastore_search_by_post_with_lists_format(client, catalog, fake_search_records):
    result = _result(
        client,
        "datastore_search",
        "post",
        resource_id=catalog.firms.id,
        filters={"capital": "7"},
        records_format="lists",
        include_total=False,
        offset=0,
    )
    assert fake_search_records[-1]["filters"] == {"capital": "7"}
    assert fake_search_records[-1]["limit"] == 100
    assert fake_search_records[-1]["include_total"] is False
    assert result["records"][0] == [1, "91310000MA1FL0001X", "2020-01-02", "10.5"]
    assert "total" not in result


def _real_search_records():
    module = pytest.importorskip("hutong.datastore.service")
    if not hasattr(module, "search_records"):
        pytest.skip("datastore.search_records not built yet")
    return module.search_records


def test_datastore_search_reaches_the_real_datastore(client, catalog):
    _real_search_records()
    # no data loaded yet: the declared schema and no records
    result = _result(client, "datastore_search", resource_id=catalog.firms.id)
    assert [f["id"] for f in result["fields"] if f["id"] != "_id"] == [
        "uscc",
        "reg_date",
        "capital",
    ]
    assert result["records"] == [] and result["total"] == 0
    assert result["limit"] == 100 and result["offset"] == 0
    assert result["_links"]["next"].startswith("/api/3/action/datastore_search?")


def test_datastore_search_maps_the_real_datastores_errors(client, catalog):
    _real_search_records()
    error = _error(
        client, "datastore_search", 409, resource_id=catalog.firms.id, fields="uscc,nosuch"
    )
    assert error["__type"] == "Validation Error"
    assert "fields" in error
