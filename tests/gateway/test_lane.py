"""The gateway's fast lane for key lookups: the same answers and audit entries as the
routes, and every change of policy seen at the next call."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from hutong.app import create_app
from hutong.audit.models import AuditEntry
from hutong.core.clock import utcnow
from hutong.core.security import SYSTEM, token_hash
from hutong.datastore import service as datastore_service
from hutong.gateway.models import POLICY_TABLES
from hutong.identity import service as identity_service
from hutong.identity.models import App
from hutong.sharing.models import Grant
from tests.factories import make_resource
from tests.gateway.test_gateway import FIELDS, URL, World, entry, make_grant, rid

ALL_KINDS = {
    "resident_id": "masked",
    "name": "pseudonym",
    "mobile": "masked",
    "address": "masked",
    "birth_date": "clear",
    "children": "clear",
}
# parts of an entry that differ between any two calls
VARYING = ("time", "latency_us", "request_id")


@pytest.fixture
def world(client, db):
    return World(client, db)


@pytest.fixture
def routes_client(settings, db):
    """A second app on the same database with the fast lane off: the routes answer."""
    app = create_app(settings.model_copy(update={"gateway_fast_lane": False}), database=db)
    with TestClient(app) as c:
        yield c


def lane(client) -> int:
    return client.app.state.gateway_lane.answered


def steady(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in VARYING}


def test_the_lane_answers_as_the_routes_do(world, db, client, routes_client):
    world.grant(fields=ALL_KINDS)
    for seq in (0, 1, 7, 99):  # 99: no such record, 404
        for params in (None, {"fields": "name,birth_date"}, {"fields": ""}):
            before = lane(client)
            extra = {"X-Hutong-End-User": "officer-7", "X-Hutong-Case": f"c-{seq}"} if seq else {}
            fast = world.get(f"records/{rid(seq)}", params, **extra)
            assert fast.status_code == (404 if seq == 99 else 200), fast.text
            assert lane(client) == before + 1
            slow = routes_client.get(
                URL.format(world.resource.id, f"records/{rid(seq)}"),
                params=params,
                headers=world.headers(**extra),
            )
            assert slow.status_code == fast.status_code
            assert fast.content == slow.content  # byte for byte
            assert fast.headers["content-type"] == slow.headers["content-type"]
            assert fast.headers["content-length"] == slow.headers["content-length"]
            assert len(fast.headers["x-request-id"]) == 32
            assert entry(db, fast)["request_id"] == fast.headers["x-request-id"]
            assert steady(entry(db, fast)) == steady(entry(db, slow))
    body = world.get(f"records/{rid(3)}").json()
    assert body["record"]["resident_id"].count("*") > 0
    assert body["record"]["name"].startswith("pn_") or body["record"]["name"] != "张三0"


def test_every_other_answer_is_left_to_the_routes(world, db, client):
    world.grant(daily_quota=4)
    before = lane(client)
    missing = world.get(f"records/{rid(99)}")  # no such record: the lane says so too
    assert missing.status_code == 404 and missing.json()["field"] == "key"
    assert lane(client) == before + 1
    before += 1
    cases = [
        (missing, 404),
        (world.get("records/not-a-number", scenario="nope"), 404),  # unknown scenario
        (world.get(f"records/{rid(1)}", {"fields": "mobile"}), 403),  # not granted
        (world.get(f"records/{rid(1)}", {"fields": "nope"}), 422),  # no such field
        (world.get(f"records/{rid(1)}", key="ht_unknown"), 401),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert lane(client) == before
    missing = entry(db, cases[0][0])  # a lookup that found nothing is still a call
    assert missing["outcome"] == "ok" and missing["detail"] == {"found": False}
    for response, _ in cases[1:4]:
        assert entry(db, response)["outcome"] == "denied"
    # the quota counts the lane's calls and the routes' refusals alike
    assert world.get(f"records/{rid(2)}").status_code == 200
    r = world.get(f"records/{rid(3)}")
    assert r.status_code == 429 and r.json()["reason"] == "daily_quota"
    assert lane(client) == before + 1


def test_a_revoked_grant_or_key_is_refused_at_the_next_call(world, db, client):
    grant = world.grant()
    assert world.get(f"records/{rid(1)}").status_code == 200
    with db.session_scope() as s:
        s.get(Grant, grant).revoked_at = utcnow()
        s.get(Grant, grant).revoked_reason = "场景已结束"
    r = world.get(f"records/{rid(1)}")
    assert r.status_code == 403 and r.json()["reason"] == "revoked"
    world.grant()
    assert world.get(f"records/{rid(1)}").status_code == 200
    with db.session_scope() as s:
        app = s.scalars(select(App).where(App.key_hash == token_hash(world.key))).one()
        identity_service.revoke_app(session=s, actor=SYSTEM, app_id=app.id)
    r = world.get(f"records/{rid(1)}")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_a_change_by_hand_written_sql_is_seen_too(world, db, client):
    grant = world.grant()
    assert world.get(f"records/{rid(1)}").status_code == 200
    answered = lane(client)
    with db.session_scope() as s:
        s.execute(
            text("UPDATE share_grant SET expires_on = :d WHERE id = :g"),
            {"d": utcnow().date() - dt.timedelta(days=1), "g": grant},
        )
    r = world.get(f"records/{rid(1)}")
    assert r.status_code == 403 and r.json()["reason"] == "expired"
    assert lane(client) == answered


def test_a_record_under_objection_carries_its_flags(world, db, client):
    from hutong.objections.models import Objection

    world.grant()
    assert world.get(f"records/{rid(5)}").json()["flags"] == []
    with db.session_scope() as s:
        s.add(
            Objection(
                id="obj-1",
                resource_id=world.resource.id,
                record_key=rid(5),
                fields=["name"],
                status="open",
                filer_kind="organization",
                provider_org_id=world.provider,
                filer_org_id=world.org,
                filer=f"org:{world.org}",
                explanation="姓名有误",
                due_at=utcnow() + dt.timedelta(days=10),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    r = world.get(f"records/{rid(5)}")
    assert r.status_code == 200
    assert [f["field"] for f in r.json()["flags"]] == ["name"]
    assert world.get(f"records/{rid(6)}").json()["flags"] == []


def test_bad_input_goes_to_the_routes_and_gets_their_answer(world, db, client, tmp_path):
    world.grant()
    before = lane(client)
    for path, params, status in [
        (f"records/{rid(1)}", {"fields": "x" * 2001}, 422),
        (f"records/{rid(1)}", [("fields", "name"), ("fields", "mobile")], 403),
        (f"records/{rid(1)}' OR '1'='1", None, 404),
        ("records/%00", None, 422),  # NUL: PostgreSQL text cannot even compare it
    ]:
        r = world.get(path, params)
        assert r.status_code == status, (path, r.text)
    r = world.get(f"records/{rid(1)}", scenario="s" * 101)
    assert r.status_code == 422
    assert lane(client) == before + 1  # the injected key is a key like any other: 404
    # an integer key given text: a clear refusal naming the field
    resource = make_resource(
        db,
        provider_id=world.provider,
        code="101001-00077",
        fields=[
            {"name": "seq", "label": "序号", "type": "integer", "key": True},
            {"name": "label", "label": "名称"},
        ],
    )
    make_grant(
        db,
        consumer=world.org,
        scenario=world.scenario,
        resource=resource,
        fields={"seq": "clear", "label": "clear"},
    )
    r = world.client.get(URL.format(resource.id, "records/abc"), headers=world.headers())
    assert r.status_code in (404, 422), r.text
    source = tmp_path / "seq.csv"
    source.write_text("seq,label\n1,一\n9223372036854775807,最大\n", encoding="utf-8")
    with db.session_scope() as s:
        datastore_service.ingest_file(
            session=s, actor=SYSTEM, resource_ref=resource.id, path=source
        )
    # wider than any stored integer: refused naming the field, not a driver's overflow
    for key in ("9223372036854775808", "-9223372036854775809", "1" * 40):
        r = world.client.get(URL.format(resource.id, f"records/{key}"), headers=world.headers())
        assert r.status_code == 422, r.text
        assert "seq" in r.json()["detail"] and "64-bit" not in r.json()["detail"]
    r = world.client.get(
        URL.format(resource.id, "records/9223372036854775807"), headers=world.headers()
    )
    assert r.status_code == 200 and r.json()["record"]["label"] == "最大", r.text


def test_every_policy_table_bumps_the_generation(db):
    with db.session_scope() as s:
        if db.dialect == "sqlite":
            rows = s.execute(
                text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            have = {(t, n.rsplit("_", 1)[1]) for t, n in rows if n.startswith("gateway_policy_")}
            want = {(t, e) for t in POLICY_TABLES for e in ("insert", "update", "delete")}
        else:
            rows = s.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname LIKE 'gateway_policy_%'"
                )
            ).all()
            have = {r[0] for r in rows}
            want = set(POLICY_TABLES)
        assert want <= have
        before = s.execute(text("SELECT generation FROM gateway_policy")).scalar_one()
    with db.session_scope() as s:
        s.execute(text("UPDATE node SET name = name"))
    with db.session_scope() as s:
        after = s.execute(text("SELECT generation FROM gateway_policy")).scalar_one()
    assert after > before


def test_lookups_write_one_entry_each(world, db, client):
    world.grant()
    responses = [world.get(f"records/{rid(i)}") for i in range(10)]
    assert all(r.status_code == 200 for r in responses)
    with db.session_scope() as s:
        ids = {r.headers["x-request-id"] for r in responses}
        rows = s.scalars(select(AuditEntry).where(AuditEntry.request_id.in_(ids))).all()
    assert len(rows) == 10
    docs = [json.loads(r.payload) for r in rows]
    assert {d["action"] for d in docs} == {"data.lookup"}
    assert all(d["detail"]["record_refs"] and d["subjects"] for d in docs)
    assert FIELDS[0]["name"] in docs[0]["fields"]


def test_a_failed_audit_write_answers_500_and_delivers_nothing(world, db, client, monkeypatch):
    """The lane sits in front of the app's middleware: it answers an error as the app
    would (a plain 500, no record), and the request is still logged and counted."""
    world.grant()
    assert world.get(f"records/{rid(1)}").status_code == 200

    async def fails(events):
        raise TimeoutError("the audit entry is not durable yet")

    def failures() -> float:  # the metrics are the process's: other tests' 500s count too
        for line in client.get("/metrics").text.splitlines():
            total = line.startswith("hutong_http_requests_total")
            if total and "/records/{key}" in line and 'status="500"' in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    failed_before = failures()
    monkeypatch.setattr(client.app.state.audit, "append", fails)
    before = lane(client)
    with TestClient(client.app, raise_server_exceptions=False) as quiet:
        failed = quiet.get(
            URL.format(world.resource.id, f"records/{rid(2)}"), headers=world.headers()
        )
    assert failed.status_code == 500
    assert failed.text == "Internal Server Error"
    assert "张" not in failed.text and "x-request-id" in failed.headers
    assert lane(client) == before  # not counted as answered
    assert failures() == failed_before + 1


def test_a_call_the_lane_hands_to_the_route_costs_one_rate_token(settings, db):
    """The lane takes a rate-limit token before its read; a call it then leaves to the
    route (a used-up daily quota here) gives it back, so the route's is the only one."""
    limited = settings.model_copy(
        update={"gateway_rate_per_second": 0.001, "gateway_rate_burst": 5}
    )
    with TestClient(create_app(limited, database=db)) as client:
        world = World(client, db)
        grant = world.grant(daily_quota=2)
        answers = [world.get(f"records/{rid(n)}") for n in range(6)]
        buckets = client.app.state.gateway_limits.buckets
        left = buckets._buckets[grant].tokens
    # 2 answers, 3 quota refusals (one token each), then no token left: the rate limit
    assert [a.status_code for a in answers] == [200, 200, 429, 429, 429, 429]
    reasons = [a.json()["reason"] for a in answers[2:]]
    assert reasons == ["daily_quota"] * 3 + ["rate_limit"]
    assert 0 <= left < 0.1
