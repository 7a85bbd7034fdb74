"""Sharing by application scenario: the workflow over HTTP, every step audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from hutong.audit.models import AuditEntry
from hutong.core.security import Role
from hutong.sharing.models import Application
from tests.factories import PASSWORD, make_org, make_resource, make_user


def _login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def world(client, db):
    police = make_org(db, name="上海市公安局")
    civil = make_org(db, name="上海市民政局")
    other = make_org(db, name="上海市交通委员会")
    big = make_org(db, name="上海市大数据中心")
    conditional = make_resource(db, provider_id=police)
    unconditional = make_resource(
        db,
        provider_id=police,
        name="门牌地址",
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        fields=[
            {"name": "code", "label": "地址编码", "key": True},
            {"name": "address", "label": "标准地址"},
        ],
    )
    secret = make_resource(
        db,
        provider_id=police,
        name="涉密人员信息",
        sharing={"type": "none", "reason": "涉及国家秘密", "legal_basis": "《保守国家秘密法》"},
    )
    users = {
        "steward": make_user(db, roles=[Role.steward], org_id=police),
        "consumer": make_user(db, roles=[Role.consumer], org_id=civil),
        "stranger": make_user(db, roles=[Role.consumer, Role.steward], org_id=other),
        "operator": make_user(db, roles=[Role.operator], org_id=big),
    }
    h = {k: _login(client, u.name) for k, u in users.items()}
    today = dt.date.today()
    scenario = client.post(
        "/api/v1/scenarios",
        headers=h["consumer"],
        json={
            "name": "最低生活保障资格核查",
            "purpose": "核对低保申请人的户籍信息",
            "legal_basis": "《社会救助暂行办法》",
            "business_system": "社会救助系统",
            "responsible_person": "王科长",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=365)).isoformat(),
            "expected_daily_volume": 2000,
        },
    )
    assert scenario.status_code == 201, scenario.text
    return {
        "h": h,
        "scenario": scenario.json()["id"],
        "conditional": conditional,
        "unconditional": unconditional,
        "secret": secret,
        "police": police,
        "civil": civil,
    }


def _apply(client, w, resource, fields, **kw):
    return client.post(
        "/api/v1/applications",
        headers=w["h"]["consumer"],
        json={
            "scenario_id": w["scenario"],
            "resource": resource.id,
            "fields": [{"name": f, "justification": "核对身份"} for f in fields],
            "call_types": kw.get("call_types", ["query", "verify"]),
        },
    )


def test_conditional_application_two_of_three_fields(client, db, world):
    w = world
    r = _apply(client, w, w["conditional"], ["resident_id", "name", "birth_date"])
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "submitted" and app["operator_due"] > app["created_at"]
    r = client.post(
        f"/api/v1/applications/{app['id']}/operator-check",
        headers=w["h"]["operator"],
        json={"accept": True},
    )
    assert r.json()["status"] == "provider_review" and r.json()["provider_due"]
    # only the provider decides
    r = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        headers=w["h"]["stranger"],
        json={"approve": True},
    )
    assert r.status_code in (403, 404)
    r = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        headers=w["h"]["steward"],
        json={
            "approve": True,
            "fields": [
                {"name": "resident_id", "delivery": "masked"},
                {"name": "name", "delivery": "masked"},
            ],
            "reasons": "出生日期不属于最小必要",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "granted" and r.json()["grant_id"]
    for who in ("consumer", "steward", "operator"):
        grants = client.get("/api/v1/grants", headers=w["h"][who]).json()
        assert [g["fields"] for g in grants] == [{"resident_id": "masked", "name": "masked"}]
    assert client.get("/api/v1/grants", headers=w["h"]["stranger"]).json() == []
    with db.session_scope() as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("sharing.%"))
                .order_by(AuditEntry.leaf_index)
            )
        )
    assert actions == [
        "sharing.scenario_create",
        "sharing.apply",
        "sharing.operator_check",
        "sharing.provider_decision",
        "sharing.grant",
    ]


def test_unconditional_is_granted_after_the_operator_check(client, world):
    w = world
    app = _apply(client, w, w["unconditional"], ["code", "address"]).json()
    r = client.post(
        f"/api/v1/applications/{app['id']}/operator-check",
        headers=w["h"]["operator"],
        json={"accept": True},
    )
    assert r.json()["status"] == "granted"
    grant = client.get("/api/v1/grants", headers=w["h"]["consumer"]).json()[0]
    assert grant["fields"] == {"code": "clear", "address": "clear"}


def test_none_cannot_be_applied_for_and_says_why(client, world):
    w = world
    r = _apply(client, w, w["secret"], ["resident_id"])
    assert r.status_code == 403
    assert "保守国家秘密法" in r.json()["detail"] and r.json()["legal_basis"]


def test_refusal_needs_reasons_then_dispute_then_operator_decides(client, world):
    w = world
    app = _apply(client, w, w["conditional"], ["name"]).json()
    client.post(
        f"/api/v1/applications/{app['id']}/operator-check",
        headers=w["h"]["operator"],
        json={"accept": True},
    )
    r = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        headers=w["h"]["steward"],
        json={"approve": False},
    )
    assert r.status_code == 422 and "reasons" in r.json()["detail"]
    r = client.post(
        f"/api/v1/applications/{app['id']}/decision",
        headers=w["h"]["steward"],
        json={"approve": False, "reasons": "场景与数据无关"},
    )
    assert r.json()["status"] == "refused"
    r = client.post(
        f"/api/v1/applications/{app['id']}/dispute",
        headers=w["h"]["consumer"],
        json={"reason": "低保核查依法需要姓名"},
    )
    assert r.json()["status"] == "disputed"
    r = client.post(
        f"/api/v1/applications/{app['id']}/operator-check",
        headers=w["h"]["operator"],
        json={"accept": True},
    )
    assert r.json()["status"] == "granted"


def test_overdue_applications_are_listed_for_the_operator(client, db, world):
    w = world
    app = _apply(client, w, w["conditional"], ["name"]).json()
    assert (
        client.get(
            "/api/v1/applications", params={"overdue": True}, headers=w["h"]["operator"]
        ).json()
        == []
    )
    with db.session_scope() as s:
        s.execute(
            update(Application).values(operator_due=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
    overdue = client.get(
        "/api/v1/applications", params={"overdue": True}, headers=w["h"]["operator"]
    ).json()
    assert [a["id"] for a in overdue] == [app["id"]]


def test_revoke_is_immediate_and_provider_only(client, world):
    w = world
    app = _apply(client, w, w["unconditional"], ["code"]).json()
    client.post(
        f"/api/v1/applications/{app['id']}/operator-check",
        headers=w["h"]["operator"],
        json={"accept": True},
    )
    grant = client.get("/api/v1/grants", headers=w["h"]["consumer"]).json()[0]
    r = client.post(
        f"/api/v1/grants/{grant['id']}/revoke", headers=w["h"]["consumer"], json={"reason": "x"}
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/grants/{grant['id']}/revoke",
        headers=w["h"]["steward"],
        json={"reason": "场景已结束"},
    )
    assert r.status_code == 200 and r.json()["revoked_at"]


def test_bad_input_is_named(client, world):
    w = world
    r = _apply(client, w, w["conditional"], ["no_such_field"])
    assert r.status_code == 422 and "no_such_field" in r.json()["detail"]
    r = client.post(
        "/api/v1/applications",
        headers=w["h"]["consumer"],
        json={
            "scenario_id": "nope",
            "resource": w["conditional"].id,
            "fields": [{"name": "name", "justification": "x1"}],
            "call_types": ["query"],
        },
    )
    assert r.status_code == 404
    r = client.post(
        "/api/v1/applications",
        headers=w["h"]["consumer"],
        json={
            "scenario_id": w["scenario"],
            "resource": w["conditional"].id,
            "fields": [{"name": "name", "justification": "x1"}],
            "call_types": ["download"],
        },
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/scenarios",
        headers=w["h"]["consumer"],
        json={
            "name": "侦查",
            "purpose": "案件侦查",
            "legal_basis": "刑诉法",
            "responsible_person": "李",
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "confidential": True,
        },
    )
    assert r.status_code == 422 and "disclose" in r.json()["detail"]
    assert _apply(client, w, w["conditional"], ["name"]).status_code == 201
    assert _apply(client, w, w["conditional"], ["name"]).status_code == 409


def test_cli_lists_and_revokes(client, world, settings, monkeypatch):
    import json as _json

    from typer.testing import CliRunner

    from hutong.cli import app as cli_app

    w = world
    app = _apply(client, w, w["unconditional"], ["code"]).json()
    client.post(
        f"/api/v1/applications/{app['id']}/operator-check",
        headers=w["h"]["operator"],
        json={"accept": True},
    )
    monkeypatch.setenv("HUTONG_HOME", str(settings.home))
    monkeypatch.setenv("HUTONG_DATABASE_URL", settings.resolved_database_url)
    runner = CliRunner()
    out = runner.invoke(cli_app, ["sharing", "grants", "--json"])
    assert out.exit_code == 0, out.output
    grant = _json.loads(out.output)[0]
    out = runner.invoke(cli_app, ["sharing", "revoke", grant["id"], "--reason", "场景结束"])
    assert out.exit_code == 0 and "revoked" in out.output
    out = runner.invoke(cli_app, ["sharing", "revoke", "nope", "--reason", "x"])
    assert out.exit_code == 1
    out = runner.invoke(cli_app, ["sharing", "applications", "--json"])
    assert _json.loads(out.output)[0]["status"] == "granted"
