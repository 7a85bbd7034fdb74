"""The demo loads into a real database through the real services."""

from __future__ import annotations

import json
import os
import stat

from sqlalchemy import func, select

from hutong.catalog.models import Resource
from hutong.core.settings import Settings
from hutong.demo.load import CREDENTIALS_FILE, load_demo
from hutong.identity.models import App, Node, Organization, User


def test_demo_loads_every_role_and_hosted_data(database, settings: Settings):
    creds = load_demo(db=database, settings=settings, people=1500)
    with database.session_scope() as s:
        assert s.scalar(select(Node.demo)) is True
        assert s.scalar(select(func.count()).select_from(Organization)) >= 12
        assert s.scalar(select(func.count()).select_from(Resource)) >= 40
        hosted = list(s.scalars(select(Resource).where(Resource.row_count > 0)))
        assert len(hosted) >= 5
        roles = {r for u in s.scalars(select(User)) for r in u.roles}
        assert roles == {"operator", "steward", "consumer", "auditor", "citizen"}
        consumers = {u.organization_id for u in s.scalars(select(User)) if "consumer" in u.roles}
        app_orgs = set(s.scalars(select(App.organization_id)))
        assert consumers <= app_orgs
    path = settings.home / CREDENTIALS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert {u["username"] for u in saved["users"]} == {u["username"] for u in creds.users}
    assert "演示环境" in creds.summary
    # the demo citizens have verified identities and see uses of their data
    from hutong.audit import service as audit_service
    from hutong.core.security import Actor

    with database.session_scope() as s:
        zhang = s.scalars(select(User).where(User.username == "citizen-zhang")).one()
        actor = Actor(kind="user", id=zhang.id, roles=frozenset({"citizen"}))
        uses = audit_service.my_uses(session=s, actor=actor)
    assert uses.total >= 2
    assert {u.scenario_name for u in uses.items} >= {"最低生活保障资格核查", "社会保险待遇资格认证"}
    assert "刑事案件侦查" not in {u.scenario_name for u in uses.items}
    # a second run changes nothing and returns the same credentials
    again = load_demo(db=database, settings=settings, people=1500)
    assert again.users == saved["users"]


def test_a_demo_app_can_call_the_gateway_at_once(database, settings: Settings):
    from fastapi.testclient import TestClient

    from hutong.app import create_app
    from hutong.demo.load import gateway_curl

    creds = load_demo(db=database, settings=settings, people=1500)
    gw = creds.gateway
    assert gw["organization"] == "上海市民政局"
    assert any(gw["api_key"] in line for line in gateway_curl(creds.base_url, gw))
    assert "/gateway/v1/resources/" in creds.summary
    headers = {"Authorization": f"Bearer {gw['api_key']}", "X-Hutong-Scenario": gw["scenario_id"]}
    url = f"/gateway/v1/resources/{gw['resource_id']}/records/{gw['key']}"
    with TestClient(create_app(settings, database=database)) as client:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        record = r.json()["record"]
        assert set(record) == {"resident_id", "name", "household_district"}
        assert record["resident_id"] != gw["key"] and "*" in record["resident_id"]
        assert "*" in record["name"]
        r = client.get(url, headers=headers, params={"fields": "mobile"})
        assert r.status_code == 403
    saved = json.loads((settings.home / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    assert saved["gateway"] == gw
