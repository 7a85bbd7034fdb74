"""Deadlines in working days (holidays, adjusted working weekends), extension once with the
operator's approval, escalation of overdue objections (service and CLI)."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from hutong.cli import app as cli
from hutong.core.security import SYSTEM
from hutong.notifications.models import Notification
from hutong.objections import service
from hutong.objections.schemas import ExtensionDecision, ExtensionRequest, ObjectionCreate
from tests.gateway.test_gateway import rid
from tests.objections.world import World

CST = dt.timezone(dt.timedelta(hours=8))
# 2024 National Day: 1-7 October off; Sunday 29 September and Saturday 12 October worked (调休)
FILED = dt.datetime(2024, 9, 27, 10, 0, tzinfo=CST)  # a Friday


@pytest.fixture
def world(client, db, settings):
    return World(client, db, settings)


def file(world, *, now=FILED, seq=3):
    with world.db.session_scope() as s:
        return service.file_objection(
            session=s,
            actor=world.citizen_user,
            settings=world.settings,
            data=ObjectionCreate(
                resource=world.resource.id,
                record_key=rid(seq),
                fields=["children"],
                proposed={"children": 1},
                explanation="子女数有误，应为一人。",
            ),
            now=now,
        )


def test_the_deadline_skips_the_holiday_and_counts_the_working_sunday(world):
    objection = file(world)
    # Sun 29 Sep (worked) 1, Mon 30 Sep 2, 1-7 Oct holiday, 8 Oct 3, 9 Oct 4, 10 Oct 5
    assert objection.due_at == dt.datetime(2024, 10, 10, 23, 59, 59, 999999, tzinfo=CST)
    assert objection.due_at.tzinfo is not None


def test_an_extension_once_with_the_operators_approval(world, db, settings):
    objection = file(world)
    steward = world.steward_user
    with db.session_scope() as s:
        service.request_extension(
            session=s,
            actor=steward,
            objection_id=objection.id,
            data=ExtensionRequest(reason="需调档"),
        )
    with db.session_scope() as s:
        extended = service.decide_extension(
            session=s,
            actor=world.operator_user,
            settings=settings,
            objection_id=objection.id,
            data=ExtensionDecision(approve=True),
        )
    # ten working days: ... 10 Oct 5, 11 Oct 6, Sat 12 Oct (worked) 7, 14 Oct 8, 15 Oct 9, 16 Oct 10
    assert extended.due_at == dt.datetime(2024, 10, 16, 23, 59, 59, 999999, tzinfo=CST)
    assert extended.extension_state == "approved"
    r = world.client.post(
        f"/api/v1/objections/{objection.id}/extension",
        json={"reason": "再次延期"},
        headers=world.steward,
    )
    assert r.status_code == 409 and "once" in r.json()["detail"]
    # only the operator approves
    r = world.client.post(
        f"/api/v1/objections/{objection.id}/extension/decision",
        json={"approve": True},
        headers=world.steward,
    )
    assert r.status_code == 403


def test_overdue_objections_escalate_to_the_operator_once(world, db, settings):
    objection = file(world)
    before = dt.datetime(2024, 10, 10, 22, 0, tzinfo=CST)
    after = dt.datetime(2024, 10, 11, 0, 0, 1, tzinfo=CST)
    with db.session_scope() as s:
        assert service.escalate_overdue(session=s, now=before, settings=settings) == []
    with db.session_scope() as s:
        assert service.escalate_overdue(session=s, now=after, settings=settings) == [objection.id]
    with db.session_scope() as s:
        assert service.escalate_overdue(session=s, now=after, settings=settings) == []
        got = service.get_objection(session=s, actor=SYSTEM, objection_id=objection.id)
        assert got.status == "escalated" and got.escalated_at is not None
        # Friday 11 Oct + 2 working days: Sat 12 Oct (worked), Mon 14 Oct
        assert got.operator_due_at == dt.datetime(2024, 10, 14, 23, 59, 59, 999999, tzinfo=CST)
        told = {
            n.organization_id for n in s.query(Notification).filter_by(kind="objection.escalated")
        }
        assert told == {world.provider, world.operator_org}
        overdue = service.provider_figures(session=s, now=after)[0]
        assert overdue.overdue == 1 and overdue.overdue_rate == 1.0 and overdue.open == 1
    # the operator may now decide it; the decision is late
    r = world.client.post(
        f"/api/v1/objections/{objection.id}/decision",
        json={"decision": "accept", "reasons": "逾期由平台核实，异议成立。"},
        headers=world.operator,
    )
    assert r.status_code == 200, r.text
    assert r.json()["late"] is True and r.json()["status"] == "corrected"


def test_the_cli_escalates(world, db, settings, monkeypatch):
    file(world, now=FILED)
    monkeypatch.setenv("HUTONG_HOME", str(settings.home))
    monkeypatch.setenv("HUTONG_DATABASE_URL", settings.resolved_database_url)
    result = CliRunner().invoke(cli, ["objections", "escalate"])
    assert result.exit_code == 0, result.output
    assert "escalated 1 overdue objection" in result.output
    result = CliRunner().invoke(cli, ["objections", "list", "--json"])
    assert '"status": "escalated"' in result.output
    again = CliRunner().invoke(cli, ["objections", "escalate"])
    assert "escalated 0" in again.output
    sent = CliRunner().invoke(cli, ["notifications", "send"])
    assert sent.exit_code == 0 and "delivered 0" in sent.output


def test_figures_for_quality(world, db, settings):
    world.a.lookup(3)
    world.a.lookup(5)
    first = world.file(world.a.app).json()["id"]
    second = world.file(world.a.app, seq=5, fields=["children"], proposed={"children": 1}).json()[
        "id"
    ]
    world.client.post(
        f"/api/v1/objections/{first}/decision",
        json={"decision": "accept", "reasons": "属实"},
        headers=world.steward,
    )
    world.client.post(
        f"/api/v1/objections/{second}/decision",
        json={"decision": "reject", "reasons": "无误"},
        headers=world.steward,
    )
    figures = world.client.get("/api/v1/objections/figures", headers=world.operator).json()
    assert len(figures) == 1
    f = figures[0]
    assert f["provider_org_id"] == world.provider and f["filed"] == 2
    assert f["confirmed"] == 1 and f["rejected"] == 1 and f["overdue"] == 0
    assert f["confirmed_by_resource"] == {world.resource.id: 1}
    assert f["mean_days_to_decision"] is not None
    assert world.client.get("/api/v1/objections/figures", headers=world.steward).status_code == 403
