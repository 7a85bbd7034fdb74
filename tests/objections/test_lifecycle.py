"""The whole loop over HTTP: file -> flagged in every gateway answer and export -> corrected
with history -> every recipient (and only they) told, signed -> flag removed; reject ->
appeal -> the operator decides."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from hutong.notifications import service as notifications
from hutong.notifications.models import Notification
from hutong.privacy.masking import mask
from tests.gateway.test_gateway import rid
from tests.notifications.receiver import Receiver
from tests.objections.world import World, login


@pytest.fixture
def world(client, db, settings):
    return World(client, db, settings)


def subscribe(world, consumer, url):
    h = login(world.client, consumer.user.name)
    r = world.client.post("/api/v1/webhooks", json={"url": url}, headers=h)
    assert r.status_code == 201, r.text


def test_full_lifecycle(world, db, settings):
    client = world.client
    a, b, c = world.a, world.b, world.c
    before_a = a.lookup(3)
    assert before_a["flags"] == [] and before_a["record"]["name"] == "张丰3"
    b.lookup(3)
    c.lookup(4)  # c never received record 3
    with Receiver(public_key_b64=world.public_key()) as receiver:
        for consumer in (a, b, c):
            subscribe(world, consumer, f"{receiver.url}/hook/{consumer.org}")

        # a consumer that received the record files, with its app key
        r = world.file(a.app)
        assert r.status_code == 201, r.text
        objection = r.json()
        assert objection["status"] == "open" and objection["record_key"] == rid(3)

        # flagged in every answer and export, field by field
        flagged = a.lookup(3)
        assert {f["field"] for f in flagged["flags"]} == {"name", "children"}
        assert all(f["objection_id"] == objection["id"] for f in flagged["flags"])
        assert a.lookup(4)["flags"] == []
        page = client.get(
            f"/gateway/v1/resources/{world.resource.id}/records",
            params={"resident_id": [rid(2), rid(3)]},
            headers=a.app,
        ).json()
        index = [i for i, rec in enumerate(page["records"]) if rec["name"] == "张丰3"][0]
        assert {(f["record"], f["field"]) for f in page["flags"]} == {
            (index, "name"),
            (index, "children"),
        }
        # b's grant has no birth_date; it asks only for children: only that flag shows
        only = client.get(
            f"/gateway/v1/resources/{world.resource.id}/records/{rid(3)}",
            params={"fields": "children"},
            headers=b.app,
        ).json()
        assert [f["field"] for f in only["flags"]] == ["children"]
        bulk = client.get(
            f"/gateway/v1/resources/{world.resource.id}/bulk",
            params={"format": "csv", "fields": "resident_id,name"},
            headers=a.app,
        )
        rows = {r["resident_id"]: r["_flagged"] for r in csv.DictReader(io.StringIO(bulk.text))}
        assert rows[mask(rid(3), "resident_id")] == "name"
        assert rows[mask(rid(4), "resident_id")] == ""

        # the provider's steward accepts: the record is corrected with its history
        r = client.post(
            f"/api/v1/objections/{objection['id']}/decision",
            json={"decision": "accept", "reasons": "经核实户籍档案，异议成立。"},
            headers=world.steward,
        )
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["status"] == "corrected" and done["recipients"] == 2
        assert done["corrected"] == {"name": "张三", "children": 2}

        history = client.get(
            "/api/v1/records/history",
            params={"resource": world.resource.id, "key": rid(3)},
            headers=world.auditor,
        ).json()
        assert len(history) == 1
        assert history[0]["before"] == {"name": "张丰3", "children": 0}
        assert history[0]["after"] == {"name": "张三", "children": 2}
        assert history[0]["objection_id"] == objection["id"]

        # the two recipients are told, in-app and by signed webhook; c is not
        run = notifications.deliver_due(db=db, settings=settings)
        assert receiver.rejected == []
        corrected = [x for x in receiver.received if x["kind"] == "record.corrected"]
        assert sorted(x["organization"] for x in corrected) == sorted([a.org, b.org])
        assert len(run.delivered) >= 2
        by_org = {x["organization"]: x["body"] for x in corrected}
        assert by_org[a.org]["changes"] == {
            "name": {"old": "张丰3", "new": "张三"},
            "children": {"old": 0, "new": 2},
        }
        # b's grant masks names: b learns of the fix as masked as it received the value
        assert by_org[b.org]["changes"]["name"] == {"old": mask("张丰3", "name"), "new": "张*"}
        assert by_org[b.org]["record"] == {"resident_id": mask(rid(3), "resident_id")}
        with db.session_scope() as s:
            told = {
                n.organization_id for n in s.query(Notification).filter_by(kind="record.corrected")
            }
        assert told == {a.org, b.org}
        inbox = client.get("/api/v1/notifications", headers=login(client, c.user.name)).json()
        assert all(n["kind"] != "record.corrected" for n in inbox["items"])

    # the flag is gone and the value is the corrected one
    after = a.lookup(3)
    assert after["flags"] == [] and after["record"]["name"] == "张三"

    # what did a receive today? the value before the correction, as delivered
    received = client.get(
        "/api/v1/records/received",
        params={
            "resource": world.resource.id,
            "key": rid(3),
            "organization": a.org,
            "on": dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat(),
        },
        headers=world.auditor,
    ).json()
    assert received[0]["values"]["name"] == "张丰3"
    assert received[-1]["values"]["name"] == "张三"
    assert (
        client.get(
            "/api/v1/records/received",
            params={
                "resource": world.resource.id,
                "key": rid(3),
                "organization": a.org,
                "on": "2020-01-01",
            },
            headers=world.auditor,
        ).json()
        == []
    )


def test_reject_then_appeal_then_operator_decides(world, db):
    client = world.client
    r = world.file(world.citizen_h, fields=["children"], proposed={"children": 1})
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert r.json()["filer_kind"] == "citizen"
    # the citizen cannot decide, nor can another provider's steward see it
    assert (
        client.post(
            f"/api/v1/objections/{oid}/decision",
            json={"decision": "accept", "reasons": "理由"},
            headers=world.citizen_h,
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/objections/{oid}/decision",
        json={"decision": "reject", "reasons": "户籍档案显示子女为零。"},
        headers=world.steward,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["appeal_due_at"]
    assert world.a.lookup(3)["flags"] == []  # a rejection removes the flag
    # the filer is told
    inbox = client.get("/api/v1/notifications", headers=world.citizen_h).json()
    assert [n["kind"] for n in inbox["items"]] == ["objection.decided"]

    # the operator cannot decide an appeal that was not made
    r = client.post(
        f"/api/v1/objections/{oid}/appeal/decision",
        json={"decision": "uphold", "reasons": "理由"},
        headers=world.operator,
    )
    assert r.status_code == 409
    r = client.post(
        f"/api/v1/objections/{oid}/appeal",
        json={"reason": "出生医学证明可证明有一名子女。"},
        headers=world.citizen_h,
    )
    assert r.status_code == 200 and r.json()["status"] == "appealed"
    assert [f["field"] for f in world.a.lookup(3)["flags"]] == ["children"]  # flagged again
    # only the operator decides it
    r = client.post(
        f"/api/v1/objections/{oid}/appeal/decision",
        json={"decision": "uphold", "reasons": "理由"},
        headers=world.steward,
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/objections/{oid}/appeal/decision",
        json={"decision": "uphold", "reasons": "证据充分，申诉成立。"},
        headers=world.operator,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "corrected" and r.json()["appeal_decision"] == "upheld"
    assert world.a.lookup(3)["record"]["children"] == 1

    # a second objection, rejected, appealed and dismissed: final
    r = world.file(world.citizen_h, fields=["name"], proposed={"name": "张叁"})
    oid2 = r.json()["id"]
    client.post(
        f"/api/v1/objections/{oid2}/decision",
        json={"decision": "reject", "reasons": "姓名无误。"},
        headers=world.steward,
    )
    client.post(
        f"/api/v1/objections/{oid2}/appeal", json={"reason": "有误"}, headers=world.citizen_h
    )
    r = client.post(
        f"/api/v1/objections/{oid2}/appeal/decision",
        json={"decision": "dismiss", "reasons": "与户籍档案一致。"},
        headers=world.operator,
    )
    assert r.json()["status"] == "dismissed"
    r = client.post(
        f"/api/v1/objections/{oid2}/appeal", json={"reason": "再诉"}, headers=world.citizen_h
    )
    assert r.status_code == 409
    assert world.a.lookup(3)["record"]["name"] == "张丰3"


def test_partial_acceptance_corrects_only_what_the_steward_says(world):
    world.a.lookup(3)
    oid = world.file(world.a.app).json()["id"]
    r = world.client.post(
        f"/api/v1/objections/{oid}/decision",
        json={"decision": "partly", "reasons": "姓名无误，子女数有误。", "values": {"children": 2}},
        headers=world.steward,
    )
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "partly_accepted" and r.json()["corrected"] == {"children": 2}
    record = world.a.lookup(3)["record"]
    assert record["name"] == "张丰3" and record["children"] == 2
    # a partial acceptance must say what is corrected
    oid = world.file(world.a.app, fields=["name"], proposed={"name": "张三"}).json()["id"]
    r = world.client.post(
        f"/api/v1/objections/{oid}/decision",
        json={"decision": "partly", "reasons": "部分成立"},
        headers=world.steward,
    )
    assert r.status_code == 422
