"""Authorization matrix: every gateway and sharing route x every kind of caller x another
organization's objects.

For each route and caller the test states who may succeed; everyone else is refused
(401, 403, 404, or 409 for a state conflict) and the refusal carries none of the data,
nor the scenario's purpose. A last test fails when a gateway or sharing route has no row
here or declares no permission.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from hutong.core.clock import utcnow
from hutong.core.deps import iter_routes, permission_of
from hutong.core.security import SYSTEM, Role, token_hash
from hutong.identity import service as identity_service
from hutong.identity.models import App
from hutong.privacy.masking import mask
from tests.factories import PASSWORD, make_app_key, make_org, make_resource, make_user
from tests.gateway.test_gateway import FIELDS, World, make_scenario, rid

USERS = ("operator", "provider_steward", "own_consumer", "auditor", "citizen", "other_steward")
APPS = ("own_app", "other_app", "revoked_key", "expired_grant", "revoked_grant")
CALLERS = ("anonymous", *USERS, "other_consumer", *APPS)

GATEWAY_ROUTES = {
    ("GET", "/gateway/v1/resources/{resource_ref}/records"),
    ("GET", "/gateway/v1/resources/{resource_ref}/records/{key}"),
    ("POST", "/gateway/v1/resources/{resource_ref}/verify"),
    ("GET", "/gateway/v1/resources/{resource_ref}/bulk"),
}
SHARING_ROUTES = {
    ("POST", "/api/v1/scenarios"),
    ("GET", "/api/v1/scenarios"),
    ("POST", "/api/v1/applications"),
    ("GET", "/api/v1/applications"),
    ("GET", "/api/v1/applications/{application_id}"),
    ("POST", "/api/v1/applications/{application_id}/operator-check"),
    ("POST", "/api/v1/applications/{application_id}/decision"),
    ("POST", "/api/v1/applications/{application_id}/dispute"),
    ("GET", "/api/v1/grants"),
    ("POST", "/api/v1/grants/{grant_id}/revoke"),
}
SECRET_PURPOSE = "办理居住证时核验申请人户籍信息"  # the own scenarios' purpose


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # each caller authenticates by its own token only
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _app_org(db, name: str) -> tuple[str, str]:
    org = make_org(db, name=name)
    return org, make_app_key(db, org_id=org)


@pytest.fixture
def setup(client, db):
    world = World(client, db)  # provider + hosted table; 'org' and 'other' with app keys
    world.grant()  # the own organization's grant: query, verify, bulk
    world.grant(consumer=world.other, scenario=world.other_scenario)  # the other's own grant
    big = make_org(db, name="上海市大数据中心")
    users = {
        "operator": make_user(db, roles=[Role.operator], org_id=big),
        "auditor": make_user(db, roles=[Role.auditor], org_id=big),
        "citizen": make_user(db, roles=[Role.citizen]),
        "provider_steward": make_user(db, roles=[Role.steward], org_id=world.provider),
        "own_consumer": make_user(db, roles=[Role.consumer], org_id=world.org),
        "other_consumer": make_user(db, roles=[Role.consumer], org_id=world.other),
        "other_steward": make_user(db, roles=[Role.steward], org_id=world.other),
    }
    auth = {k: _login(client, u.name) for k, u in users.items()}
    auth["anonymous"] = {}
    auth["own_app"] = {"Authorization": f"Bearer {world.key}"}
    auth["other_app"] = {"Authorization": f"Bearer {world.other_key}"}
    revoked_key = make_app_key(db, org_id=world.org)
    with db.session_scope() as s:
        app = s.scalars(select(App).where(App.key_hash == token_hash(revoked_key))).one()
        identity_service.revoke_app(session=s, actor=SYSTEM, app_id=app.id)
    auth["revoked_key"] = {"Authorization": f"Bearer {revoked_key}"}
    # an organization whose grant has expired, and one whose grant was revoked
    scenarios = {k: world.scenario for k in auth}
    for caller, over in (
        ("expired_grant", {"expires_on": utcnow().date() - dt.timedelta(days=1)}),
        ("revoked_grant", {"revoked_at": utcnow(), "revoked_reason": "场景已结束"}),
    ):
        org, key = _app_org(db, f"上海市{caller}局")
        scenarios[caller] = make_scenario(db, org, purpose=f"{caller} 的目的说明")
        world.grant(consumer=org, scenario=scenarios[caller], **over)
        auth[caller] = {"Authorization": f"Bearer {key}"}
    # an application of the own organization, waiting for the operator's check
    pending = make_scenario(db, world.org, purpose=SECRET_PURPOSE)
    r = client.post(
        "/api/v1/applications",
        headers=auth["own_consumer"],
        json={
            "scenario_id": pending,
            "resource": world.resource.id,
            "fields": [{"name": "mobile", "justification": "联系申请人"}],
            "call_types": ["query"],
        },
    )
    assert r.status_code == 201, r.text
    grants = client.get("/api/v1/grants", headers=auth["own_consumer"]).json()
    own_grant = next(g["id"] for g in grants if g["consumer_org_id"] == world.org)
    return {
        "world": world,
        "auth": auth,
        "scenarios": scenarios,
        "application": r.json()["id"],
        "grant": own_grant,
    }


def _secrets(world) -> list[str]:
    """What must never appear in a refusal: the data, clear or masked."""
    values = []
    for i in (1, 2, 3):
        values += [rid(i), mask(rid(i), "resident_id"), f"张{'三丰'[i % 2]}{i}"]
    return values


def _gateway_calls(world):
    url = f"/gateway/v1/resources/{world.resource.id}"
    return [
        ("GET", f"{url}/records", {"params": {"resident_id": rid(1)}}),
        ("GET", f"{url}/records/{rid(2)}", {}),
        ("POST", f"{url}/verify", {"json": {"key": rid(3), "checks": {"name": "张丰3"}}}),
        ("GET", f"{url}/bulk", {"params": {"format": "csv"}}),
    ]


def _refused(r, caller, world, *, purpose: str = SECRET_PURPOSE) -> None:
    assert r.status_code in (401, 403, 404), (caller, r.request.url, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), caller
    sent = str(r.request.url) + r.request.content.decode()  # echoing the caller's input is fine
    for secret in [*_secrets(world), purpose]:
        if secret not in sent:
            assert secret not in r.text, (caller, r.request.url, secret)


def test_gateway_matrix(client, setup):
    world = setup["world"]
    for caller in CALLERS:  # the gateway changes no state: one setup serves every caller
        headers = {**setup["auth"][caller], "X-Hutong-Scenario": setup["scenarios"][caller]}
        for method, path, kw in _gateway_calls(world):
            r = client.request(method, path, headers=headers, **kw)
            if caller == "own_app":
                assert r.status_code == 200, (method, path, r.text)
            else:
                _refused(r, caller, world)
                expected = {
                    "anonymous": 401,
                    "revoked_key": 401,
                    "other_app": 404,  # the scenario is another organization's
                }.get(caller, 403)
                assert r.status_code == expected, (caller, method, path, r.status_code, r.text)


@pytest.mark.parametrize("caller", ("own_app", "other_app"))
def test_an_app_cannot_use_another_organizations_scenario_or_resource(client, db, setup, caller):
    world = setup["world"]
    theirs = world.other_scenario if caller == "own_app" else world.scenario
    headers = {**setup["auth"][caller], "X-Hutong-Scenario": theirs}
    for method, path, kw in _gateway_calls(world):
        r = client.request(method, path, headers=headers, **kw)
        assert r.status_code == 404, (caller, method, path, r.text)
        _refused(r, caller, world)
    # a resource of another provider that no grant covers, under the app's own scenario
    stranger = make_org(db, name="上海市卫生健康委员会")
    unshared = make_resource(db, provider_id=stranger, fields=FIELDS)
    own = world.scenario if caller == "own_app" else world.other_scenario
    headers = {**setup["auth"][caller], "X-Hutong-Scenario": own}
    url = f"/gateway/v1/resources/{unshared.id}"
    r = client.get(f"{url}/records/{rid(1)}", headers=headers)
    assert r.status_code == 403 and r.json()["reason"] == "no_grant"
    # an unknown resource and an unknown scenario are told apart without leaking anything
    r = client.get("/gateway/v1/resources/sh:nothing:101001-99999/records/1", headers=headers)
    assert r.status_code == 404
    r = client.get(
        f"/gateway/v1/resources/{world.resource.id}/records/{rid(1)}",
        headers={**headers, "X-Hutong-Scenario": "00000000-0000-0000-0000-000000000000"},
    )
    assert r.status_code == 404 and r.json()["field"] == "X-Hutong-Scenario"


def _sharing_cases(s):
    application, grant = s["application"], s["grant"]
    resource = s["world"].resource.id
    scenario = s["world"].scenario
    today = dt.date.today()
    new_scenario = {
        "name": "场景",
        "purpose": "目的说明",
        "legal_basis": "依据",
        "responsible_person": "李",
        "valid_from": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=30)).isoformat(),
    }
    consumers = {"own_consumer", "other_consumer", "own_app", "other_app"}
    consumers |= {"expired_grant", "revoked_grant"}  # apps of consumer organizations
    parties = consumers | {"operator", "provider_steward", "other_steward"}
    return [
        # (method, path, body, callers who may succeed)
        ("POST", "/api/v1/scenarios", new_scenario, consumers),
        ("GET", "/api/v1/scenarios", None, parties),
        (
            "POST",
            "/api/v1/applications",
            {
                "scenario_id": scenario,
                "resource": resource,
                "fields": [{"name": "address", "justification": "核对住址"}],
                "call_types": ["query"],
            },
            {"own_consumer", "own_app"},
        ),
        ("GET", "/api/v1/applications", None, parties),
        (
            "GET",
            f"/api/v1/applications/{application}",
            None,
            {"operator", "own_consumer", "own_app", "provider_steward"},
        ),
        ("POST", f"/api/v1/applications/{application}/decision", {"approve": True}, set()),
        ("POST", f"/api/v1/applications/{application}/dispute", {"reason": "需要这些数据"}, set()),
        ("GET", "/api/v1/grants", None, parties),
        (
            "POST",
            f"/api/v1/grants/{grant}/revoke",
            {"reason": "矩阵测试"},
            {"operator", "provider_steward"},
        ),
        (
            "POST",
            f"/api/v1/applications/{application}/operator-check",
            {"accept": False, "reasons": "测试"},
            {"operator"},
        ),
    ]


@pytest.mark.parametrize("caller", CALLERS)
def test_sharing_matrix(client, setup, caller):
    world = setup["world"]
    h = setup["auth"][caller]
    for method, path, body, allowed in _sharing_cases(setup):
        r = client.request(method, path, json=body, headers=h)
        if caller in allowed:
            assert r.status_code < 300, (caller, method, path, r.status_code, r.text)
        else:
            assert r.status_code in (401, 403, 404, 409), (caller, method, path, r.status_code)
            if r.status_code != 409:
                assert SECRET_PURPOSE not in r.text, (caller, path)
    # lists show another organization's objects to no one but the parties and the operator
    if caller in ("other_consumer", "other_steward", "other_app"):
        scenarios = client.get("/api/v1/scenarios", headers=h).json()
        assert world.scenario not in [x["id"] for x in scenarios]
        assert client.get("/api/v1/applications", headers=h).json() == []
        grants = client.get("/api/v1/grants", headers=h).json()
        assert {g["consumer_org_id"] for g in grants} <= {world.other}
    if caller in ("expired_grant", "revoked_grant"):
        assert client.get("/api/v1/applications", headers=h).json() == []
        scenarios = client.get("/api/v1/scenarios", headers=h).json()
        assert world.scenario not in [x["id"] for x in scenarios]


@pytest.mark.parametrize("caller", ("other_consumer", "other_steward", "other_app"))
def test_another_organization_does_not_see_the_calls_in_the_audit_log(client, setup, caller):
    world = setup["world"]
    own = {**setup["auth"]["own_app"], "X-Hutong-Scenario": world.scenario}
    for method, path, kw in _gateway_calls(world):
        assert client.request(method, path, headers=own, **kw).status_code == 200
    h = setup["auth"][caller]
    r = client.get("/api/v1/audit/entries", params={"limit": 1000}, headers=h)
    assert r.status_code == 200
    assert [e for e in r.json() if e["actor_org"] == world.org] == []
    assert world.scenario not in r.text


def test_every_gateway_and_sharing_route_is_in_the_matrix_and_declares_a_permission(app):
    found = set()
    for path, route in iter_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        if path.startswith("/gateway/") or {"gateway", "sharing"} & set(route.tags):
            for method in route.methods:
                found.add((method, path))
                assert permission_of(route) is not None, (method, path)
    assert found, "no gateway or sharing route found"
    missing = found - GATEWAY_ROUTES - SHARING_ROUTES
    assert not missing, f"routes with no row in the authorization matrix: {sorted(missing)}"
    assert found >= GATEWAY_ROUTES | SHARING_ROUTES
