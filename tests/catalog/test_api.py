"""Catalog over HTTP: publish, validation, versions, Chinese search, facets."""

from __future__ import annotations

from hutong.core.security import Role
from tests.factories import PASSWORD, make_org, make_resource, make_user, resource_payload


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_steward_publishes_and_reads_back(client, db):
    org = make_org(db, name="上海市公安局", short="police")
    steward = make_user(db, roles=[Role.steward], org_id=org)
    h = _login(client, steward.name)
    body = resource_payload(org.split(":")[1])
    r = client.post("/api/v1/resources", json=body, headers=h)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert rid == f"sh:{org.split(':')[1]}:{body['code']}"
    got = client.get(f"/api/v1/resources/{rid}").json()
    assert got["name"] == "人口基本信息"
    assert got["provider_name"] == "上海市公安局"
    assert got["version"] == 1


def test_conditional_sharing_without_reason_is_refused(client, db):
    org = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    h = _login(client, steward.name)
    body = resource_payload(org.split(":")[1], sharing={"type": "conditional"})
    r = client.post("/api/v1/resources", json=body, headers=h)
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "legal basis" in problem["detail"]


def test_invalid_credit_code_is_refused_with_reason(client, db):
    operator_org = make_org(db)
    op = make_user(db, roles=[Role.operator], org_id=operator_org)
    h = _login(client, op.name)
    r = client.post(
        "/api/v1/organizations", json={"uscc": "91310000MA1FL0000X", "name": "坏代码"}, headers=h
    )
    assert r.status_code == 422
    assert "check character" in r.json()["detail"]


def test_steward_cannot_publish_for_another_organization(client, db):
    org_a = make_org(db)
    org_b = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=org_a)
    h = _login(client, steward.name)
    r = client.post("/api/v1/resources", json=resource_payload(org_b.split(":")[1]), headers=h)
    assert r.status_code == 403


def test_anonymous_cannot_publish(client, db):
    org = make_org(db)
    r = client.post("/api/v1/resources", json=resource_payload(org.split(":")[1]))
    assert r.status_code == 401


def test_metadata_change_is_versioned(client, db):
    org = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    res = make_resource(db, provider_id=org)
    h = _login(client, steward.name)
    r = client.patch(
        f"/api/v1/resources/{res.id}",
        json={"abstract": "新的摘要内容", "note": "修订摘要"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    versions = client.get(f"/api/v1/resources/{res.id}/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["note"] == "修订摘要"
    assert versions[1]["meta"]["abstract"] != "新的摘要内容"


def test_chinese_search_and_facets(client, db):
    police = make_org(db, name="上海市公安局")
    market = make_org(db, name="上海市市场监督管理局")
    make_resource(db, provider_id=police)
    make_resource(
        db,
        provider_id=market,
        name="企业登记注册信息",
        abstract="市场主体登记信息",
        classification="201001",
        classification_name="法人基础信息",
        base_catalog="legal_person",
        keywords=["企业"],
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        fields=[{"name": "uscc", "label": "统一社会信用代码", "key": True}],
    )
    # two-character term (shorter than a trigram) and a longer one both work
    r = client.get("/api/v1/resources", params={"q": "人口"}).json()
    assert r["total"] == 1 and r["items"][0]["name"] == "人口基本信息"
    r = client.get("/api/v1/resources", params={"q": "统一社会信用"}).json()
    assert r["total"] == 1 and r["items"][0]["name"] == "企业登记注册信息"
    r = client.get("/api/v1/resources", params={"sharing": "unconditional"}).json()
    assert r["total"] == 1
    all_ = client.get("/api/v1/resources").json()
    sharing = {f["value"]: f["count"] for f in all_["facets"]["sharing"]}
    assert sharing == {"conditional": 1, "unconditional": 1}
    providers = {f["label"] for f in all_["facets"]["provider"]}
    assert providers == {"上海市公安局", "上海市市场监督管理局"}


def test_search_injection_is_just_text(client, db):
    org = make_org(db)
    make_resource(db, provider_id=org)
    for q in ["'; DROP TABLE resource; --", '" OR 1=1', "%", "_", '人口" OR "', "NEAR(a b)"]:
        r = client.get("/api/v1/resources", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    assert client.get("/api/v1/resources").json()["total"] == 1


def test_bad_query_parameters_are_named(client, db):
    r = client.get("/api/v1/resources", params={"sharing": "sometimes"})
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "sharing"
    r = client.get("/api/v1/resources", params={"limit": 100000})
    assert r.status_code == 422
