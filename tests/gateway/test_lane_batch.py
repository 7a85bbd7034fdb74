"""The fast lane's batched reads: lookups that arrive in one event-loop turn are read in
one statement per plan, and each still gets the answer, the audit entry, the rate token
and the quota unit it got when read alone (decision 0018)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from hutong.app import create_app
from hutong.audit.models import AuditEntry
from hutong.catalog import service as catalog_service
from hutong.core.clock import utcnow
from hutong.core.security import SYSTEM
from hutong.datastore import service as datastore_service
from hutong.gateway.lane.batch import BATCH_MAX
from hutong.sharing.models import Grant
from tests.factories import make_resource
from tests.gateway.test_gateway import URL, World, entry, make_grant, rid
from tests.gateway.test_lane import ALL_KINDS, steady

PARTS = [  # a composite key of three types
    {"name": "region", "label": "区划", "key": True},
    {"name": "seq", "label": "序号", "type": "integer", "key": True},
    {"name": "day", "label": "日期", "type": "date", "key": True},
    {"name": "label", "label": "名称"},
]


@dataclass
class Answer:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict:
        return json.loads(self.content)


def make_client(settings, db, **update):
    update = {"gateway_rate_per_second": 0, **update}  # no rate limit unless a test sets one
    return TestClient(create_app(settings.model_copy(update=update), database=db))


@pytest.fixture
def client(settings, db):
    with make_client(settings, db) as c:
        yield c


@pytest.fixture
def routes_client(settings, db):
    """A second app on the same database with the fast lane off: the routes answer."""
    with make_client(settings, db, gateway_fast_lane=False) as c:
        yield c


@pytest.fixture
def world(client, db):
    return World(client, db)


async def call(app, path: str, headers: dict[str, str], query: str = "") -> Answer:
    """One request straight into the ASGI app (no await before the lane's read)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception:  # an error the app answered with a 500 first
        if not sent:
            raise
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers_out = {k.decode(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], body, headers_out)


def together(client, requests) -> list[Answer]:
    """The requests started in one event-loop turn of the app's loop: (path, headers, query)."""

    async def main():
        return await asyncio.gather(*(call(client.app, *r) for r in requests))

    return client.portal.call(main)


def lookup(world, key: str, resource=None, query: str = "", **headers):
    return (
        URL.format((resource or world.resource).id, f"records/{key}"),
        world.headers(**headers),
        query,
    )


def by_route(routes_client, request) -> Answer:
    path, headers, query = request
    r = routes_client.get(path + (f"?{query}" if query else ""), headers=headers)
    return Answer(r.status_code, r.content, dict(r.headers))


def lane(client):
    return client.app.state.gateway_lane


def in_flight(client, world) -> int:
    quota = client.app.state.gateway_limits.quota
    return sum(quota.in_flight(k) for k in list(quota._in_flight))


def test_a_turn_of_lookups_is_one_read_and_each_gets_its_own_answer(
    world, db, client, routes_client
):
    world.grant(fields=ALL_KINDS)
    assert world.get(f"records/{rid(0)}").status_code == 200  # the ticket is cached now
    seqs = [*range(30), *range(90, 100)]  # 90-99: no such record
    requests = [
        lookup(world, rid(s), **({"X-Hutong-Case": f"c-{s}"} if s % 3 else {}))
        for s in seqs * 8  # 320: more than one statement holds
    ]
    reads, answered = lane(client).batches.reads, lane(client).answered
    answers = together(client, requests)
    assert lane(client).batches.reads == reads + 2  # 256 + 64 keys
    assert len(requests) > BATCH_MAX
    assert lane(client).answered == answered + len(requests)
    expected = {}
    for request, answer in zip(requests, answers, strict=True):
        key = request[0]
        if key not in expected:
            expected[key] = by_route(routes_client, request)
        assert answer.status_code == expected[key].status_code
        assert answer.content == expected[key].content  # byte for byte
    for request, answer in list(zip(requests, answers, strict=True))[:40]:
        slow = by_route(routes_client, request)
        assert steady(entry(db, answer)) == steady(entry(db, slow))
    with db.session_scope() as s:
        ids = {a.headers["x-request-id"] for a in answers}
        assert len(
            s.scalars(select(AuditEntry).where(AuditEntry.request_id.in_(ids))).all()
        ) == len(ids)
    assert in_flight(client, world) == 0


def test_two_resources_and_two_field_sets_in_one_turn(world, db, client, routes_client, tmp_path):
    world.grant()
    other = make_resource(db, provider_id=world.provider, code="101001-00078", fields=PARTS)
    source = tmp_path / "parts.csv"
    source.write_text(
        "region,seq,day,label\n310101,1,2024-02-29,甲\n310101,2,2024-02-29,乙\n310104,1,2024-03-01,丙\n"
    )
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=other.id, path=source)
    clear = {f["name"]: "clear" for f in PARTS}
    make_grant(db, consumer=world.org, scenario=world.scenario, resource=other, fields=clear)
    composite = [
        "310101,1,2024-02-29",
        "310104,1,2024-03-01",
        "310101,3,2024-02-29",
        "310101,2,2024-02-29",
    ]
    requests = [lookup(world, rid(1)), lookup(world, rid(2), query="fields=name")]
    requests += [lookup(world, k, resource=other) for k in composite]
    together(client, requests)  # the tickets are cached now
    requests += [lookup(world, rid(99)), lookup(world, rid(3), query="fields=name")]
    requests += [lookup(world, "310101,x,2024-02-29", resource=other)]  # a part of the wrong type
    reads, answered = lane(client).batches.reads, lane(client).answered
    answers = together(client, requests)
    assert lane(client).batches.reads == reads + 3  # one statement per plan
    assert lane(client).answered == answered + len(requests) - 1
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 200, 200, 404, 200, 404, 200, 422]
    assert answers[2].json()["record"] == {
        "region": "310101",
        "seq": 1,
        "day": "2024-02-29",
        "label": "甲",
    }
    assert answers[5].json()["record"]["label"] == "乙"
    for request, answer in zip(requests, answers, strict=True):
        slow = by_route(routes_client, request)
        assert (answer.status_code, answer.content) == (slow.status_code, slow.content)
        assert steady(entry(db, answer)) == steady(entry(db, slow))


def test_a_quota_that_runs_out_in_the_middle_of_a_batch(world, db, client):
    world.grant(daily_quota=5)
    assert world.get(f"records/{rid(0)}").status_code == 200
    answered = lane(client).answered
    answers = together(client, [lookup(world, rid(n)) for n in range(1, 9)])
    assert [a.status_code for a in answers] == [200] * 4 + [429] * 4  # in arrival order
    assert {a.json()["reason"] for a in answers[4:]} == {"daily_quota"}
    assert lane(client).answered == answered + 4
    assert in_flight(client, world) == 0
    assert world.get(f"records/{rid(1)}").status_code == 429


def test_a_rate_limit_that_runs_out_in_the_middle_of_a_batch(settings, db):
    """Tokens are taken in arrival order after the read; a lookup left without one goes
    to the route, which takes its own (none left either): one token a call."""
    with make_client(settings, db, gateway_rate_per_second=0.001, gateway_rate_burst=6) as client:
        world = World(client, db)
        grant = world.grant()
        assert world.get(f"records/{rid(0)}").status_code == 200
        answers = together(client, [lookup(world, rid(n)) for n in range(1, 9)])
        left = client.app.state.gateway_limits.buckets._buckets[grant].tokens
        assert in_flight(client, world) == 0
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert {a.json()["reason"] for a in answers[5:]} == {"rate_limit"}
    assert 0 <= left < 0.1


def test_a_policy_change_between_batches(world, db, client):
    grant = world.grant()
    first = together(client, [lookup(world, rid(n)) for n in range(10)])
    assert {a.status_code for a in first} == {200}
    with db.session_scope() as s:
        s.execute(text("UPDATE node SET name = name"))  # a new generation, the same policy
    answered = lane(client).answered
    again = together(client, [lookup(world, rid(n)) for n in range(10)])
    assert {a.status_code for a in again} == {200}
    assert lane(client).answered == answered + 10
    with db.session_scope() as s:
        s.get(Grant, grant).revoked_at = utcnow()
        s.get(Grant, grant).revoked_reason = "场景已结束"
    revoked = together(client, [lookup(world, rid(n)) for n in range(10)])
    assert {a.status_code for a in revoked} == {403}
    assert {a.json()["reason"] for a in revoked} == {"revoked"}
    assert lane(client).answered == answered + 10
    assert in_flight(client, world) == 0
    with db.session_scope() as s:
        ids = {a.headers["x-request-id"] for a in [*first, *again, *revoked]}
        rows = s.scalars(select(AuditEntry).where(AuditEntry.request_id.in_(ids))).all()
    assert len(rows) == 30  # one entry a call, whichever answered it


def test_a_failed_read_hands_the_whole_batch_to_the_routes(settings, db, routes_client):
    with make_client(settings, db, gateway_rate_per_second=0.001, gateway_rate_burst=20) as client:
        world = World(client, db)
        grant = world.grant()
        assert world.get(f"records/{rid(0)}").status_code == 200
        batches = lane(client).batches
        fetch = batches._fetch
        calls = []

        def fails_once(sql, params):
            calls.append(sql)
            if len(calls) == 1:
                raise OSError("connection reset")
            return fetch(sql, params)

        batches._fetch = fails_once
        requests = [lookup(world, rid(n)) for n in (1, 2, 99, 3)]
        answered = lane(client).answered
        failed = together(client, requests)
        assert lane(client).answered == answered  # the routes answered every one
        left = client.app.state.gateway_limits.buckets._buckets[grant].tokens
        assert 20 - 1 - 4 <= left < 20 - 4  # one token each, the routes'
        again = together(client, requests)
        assert lane(client).answered == answered + 4
        assert len(calls) == 2
        assert in_flight(client, world) == 0
    assert [a.status_code for a in failed] == [200, 200, 404, 200]
    for request, a, b in zip(requests, failed, again, strict=True):
        assert (a.status_code, a.content) == (b.status_code, b.content)
        slow = by_route(routes_client, request)
        assert steady(entry(db, a)) == steady(entry(db, slow)) == steady(entry(db, b))


def test_a_batch_whose_read_fails_goes_to_the_routes_not_the_other_batches(
    world, db, client, settings, tmp_path
):
    """A batch whose read fails (here the database lost its hosted table under the cached
    plan) costs the other batches of the turn nothing, and the routes answer each of its
    lookups as they answer them alone. (An integer key past 64 bits, which once made the
    read fail, is now refused before it: tests/gateway/test_lane.py.)"""
    world.grant()
    other = make_resource(
        db,
        provider_id=world.provider,
        code="101001-00079",
        fields=[{"name": "seq", "label": "序号", "type": "integer", "key": True}],
    )
    source = tmp_path / "seq.csv"
    source.write_text("seq\n1\n2\n")
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=other.id, path=source)
        table_name = catalog_service.get_row(session=s, resource_ref=other.id).table_name
    make_grant(
        db, consumer=world.org, scenario=world.scenario, resource=other, fields={"seq": "clear"}
    )
    together(client, [lookup(world, rid(1)), lookup(world, "1", resource=other)])
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP TABLE "{table_name}"')
    requests = [
        lookup(world, rid(1)),
        lookup(world, "2", resource=other),
        lookup(world, "3", resource=other),
    ]
    answered = lane(client).answered
    answers = together(client, requests)
    assert lane(client).answered == answered + 1  # the first resource's batch
    assert answers[0].status_code == 200
    with make_client(settings, db, gateway_fast_lane=False) as routes:
        routes = TestClient(routes.app, raise_server_exceptions=False)
        for request, answer in zip(requests, answers, strict=True):
            slow = by_route(routes, request)
            assert answer.status_code == slow.status_code
            if answer.status_code < 500:
                assert answer.content == slow.content
    assert {a.status_code for a in answers[1:]} == {500}  # no table: the routes' own answer
    assert in_flight(client, world) == 0


def test_a_lookup_cancelled_after_its_read_gives_its_quota_unit_back(world, db, client):
    world.grant(daily_quota=10)
    assert world.get(f"records/{rid(0)}").status_code == 200
    quota = client.app.state.gateway_limits.quota

    async def main():
        task = asyncio.ensure_future(call(client.app, *lookup(world, rid(1))))
        for _ in range(1000):  # until its batch admitted it, before it resumes (SQLite)
            await asyncio.sleep(0)
            if quota._in_flight or task.done():
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    client.portal.call(main)
    assert in_flight(client, world) == 0
    answers = together(client, [lookup(world, rid(n)) for n in (2, 3, 4)])
    assert [a.status_code for a in answers] == [200, 200, 200]
