"""Authorization matrix: every sharing route x every role x another organization's objects.

For each route and each kind of caller the test states who may succeed; everyone else
must be refused (401, 403 or 404) and the refusal must not leak the object.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hutong.core.security import Role
from tests.factories import PASSWORD, make_org, make_resource, make_user

CALLERS = (
    "anonymous",
    "citizen",
    "auditor",
    "operator",
    "own_consumer",
    "provider_steward",
    "other_consumer",
    "other_steward",
)


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    client.cookies.clear()  # each caller authenticates by its own token only
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def setup(client, db):
    provider = make_org(db, name="上海市公安局")
    consumer = make_org(db, name="上海市民政局")
    other = make_org(db, name="上海市交通委员会")
    big = make_org(db, name="上海市大数据中心")
    resource = make_resource(db, provider_id=provider)
    users = {
        "citizen": make_user(db, roles=[Role.citizen]),
        "auditor": make_user(db, roles=[Role.auditor], org_id=big),
        "operator": make_user(db, roles=[Role.operator], org_id=big),
        "own_consumer": make_user(db, roles=[Role.consumer], org_id=consumer),
        "provider_steward": make_user(db, roles=[Role.steward], org_id=provider),
        "other_consumer": make_user(db, roles=[Role.consumer], org_id=other),
        "other_steward": make_user(db, roles=[Role.steward], org_id=other),
    }
    headers = {k: _login(client, u.name) for k, u in users.items()}
    headers["anonymous"] = {}
    today = dt.date.today()
    scenario = client.post(
        "/api/v1/scenarios",
        headers=headers["own_consumer"],
        json={
            "name": "低保核查",
            "purpose": "核对户籍信息",
            "legal_basis": "社会救助暂行办法",
            "responsible_person": "王",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=30)).isoformat(),
        },
    ).json()
    app = client.post(
        "/api/v1/applications",
        headers=headers["own_consumer"],
        json={
            "scenario_id": scenario["id"],
            "resource": resource.id,
            "fields": [{"name": "name", "justification": "核对"}],
            "call_types": ["query"],
        },
    ).json()
    return {"headers": headers, "scenario": scenario, "app": app, "resource": resource}


def _cases(s):
    app_id = s["app"]["id"]
    return [
        # (method, path, body, callers who may succeed)
        (
            "GET",
            "/api/v1/scenarios",
            None,
            {"operator", "own_consumer", "provider_steward", "other_consumer", "other_steward"},
        ),
        (
            "GET",
            f"/api/v1/applications/{app_id}",
            None,
            {"operator", "own_consumer", "provider_steward"},
        ),
        ("POST", f"/api/v1/applications/{app_id}/decision", {"approve": True}, set()),
        ("POST", f"/api/v1/applications/{app_id}/dispute", {"reason": "需要这些数据"}, set()),
        (
            "GET",
            "/api/v1/grants",
            None,
            {"operator", "own_consumer", "provider_steward", "other_consumer", "other_steward"},
        ),
    ]


@pytest.mark.parametrize("caller", CALLERS)
def test_matrix(client, setup, caller):
    h = setup["headers"][caller]
    for method, path, body, allowed in _cases(setup):
        r = client.request(method, path, json=body, headers=h)
        if caller in allowed:
            assert r.status_code < 300, (caller, method, path, r.status_code, r.text)
        else:
            assert r.status_code in (401, 403, 404, 409), (caller, method, path, r.status_code)
            if r.status_code != 409:
                assert setup["scenario"]["purpose"] not in r.text
    # lists never show another organization's objects
    if caller in ("other_consumer", "other_steward"):
        assert client.get("/api/v1/scenarios", headers=h).json() == []
        assert client.get("/api/v1/applications", headers=h).json() == []
    if caller in ("operator", "own_consumer", "provider_steward"):
        apps = client.get("/api/v1/applications", headers=h).json()
        assert [a["id"] for a in apps] == [setup["app"]["id"]]


@pytest.mark.parametrize("caller", CALLERS)
def test_only_the_operator_checks_and_only_consumers_apply(client, setup, caller):
    h = setup["headers"][caller]
    r = client.post(
        f"/api/v1/applications/{setup['app']['id']}/operator-check",
        json={"accept": False, "reasons": "测试"},
        headers=h,
    )
    assert (r.status_code == 200) == (caller == "operator"), (caller, r.status_code)
    r = client.post(
        "/api/v1/scenarios",
        headers=h,
        json={
            "name": "场景",
            "purpose": "目的说明",
            "legal_basis": "依据",
            "responsible_person": "李",
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        },
    )
    assert (r.status_code == 201) == (caller in ("own_consumer", "other_consumer")), caller
    r = client.post(
        "/api/v1/applications",
        headers=h,
        json={
            "scenario_id": setup["scenario"]["id"],
            "resource": setup["resource"].id,
            "fields": [{"name": "birth_date", "justification": "核对"}],
            "call_types": ["query"],
        },
    )
    # only the scenario's own organization can apply under it (409: its open application)
    assert (r.status_code in (201, 409)) == (caller == "own_consumer"), (caller, r.status_code)
