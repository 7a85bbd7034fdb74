"""Notifications: in-app messages per organization, signed webhooks sent after commit with
retries, verified by a real receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from hutong.core.clock import utcnow
from hutong.core.keys import load_keys
from hutong.core.security import Role
from hutong.identity.models import Node
from hutong.notifications import service as notifications
from hutong.notifications.models import WebhookDelivery
from hutong.notifications.schemas import WebhookCreate
from hutong.notifications.signing import BadSignature, sign_request, verify_webhook
from tests.factories import PASSWORD, make_org, make_user
from tests.notifications.receiver import Receiver


def public_key(db) -> str:
    with db.session_scope() as s:
        return s.scalars(select(Node)).one().public_key


def login(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def subscribe(db, org: str, url: str, kinds: list[str] | None = None) -> None:
    steward = make_user(db, roles=[Role.steward], org_id=org)
    with db.session_scope() as s:
        notifications.create_subscription(
            session=s, actor=steward, data=WebhookCreate(url=url, kinds=kinds or [])
        )


def test_a_webhook_leaves_only_after_commit_and_is_signed(db, settings):
    org = make_org(db)
    with Receiver(public_key_b64=public_key(db)) as receiver:
        subscribe(db, org, receiver.url + "/hooks/hutong?x=1")
        with pytest.raises(RuntimeError), db.session_scope() as s:
            notifications.notify(
                session=s, organization_id=org, kind="test.rolled_back", title="t", body={}
            )
            raise RuntimeError("the work failed")
        assert notifications.deliver_due(db=db, settings=settings).delivered == []

        with db.session_scope() as s:
            notifications.notify(
                session=s,
                organization_id=org,
                kind="objection.corrected",
                title="更正通知",
                body={"fields": {"name": {"old": "张*", "new": "李*"}}},
            )
            # not committed yet: a sender looking now finds nothing
            with db.session_scope(readonly=True) as other:
                assert other.scalars(select(WebhookDelivery)).all() == []
        run = notifications.deliver_due(db=db, settings=settings)
        assert len(run.delivered) == 1
        assert receiver.rejected == []
        got = receiver.received[0]
        assert (
            got["kind"] == "objection.corrected" and got["body"]["fields"]["name"]["new"] == "李*"
        )
        assert got["path"] == "/hooks/hutong?x=1"
        headers = {k.lower(): v for k, v in got["headers"].items()}
        assert headers["content-digest"].startswith("sha-256=")
        assert 'keyid="hutong-node:sh"' in headers["signature-input"]
        # delivered once: the next pass sends nothing again
        assert notifications.deliver_due(db=db, settings=settings).delivered == []


def test_failed_deliveries_are_retried_with_backoff_then_given_up(db, settings):
    org = make_org(db)
    settings.webhook_max_attempts = 3
    with Receiver(public_key_b64=public_key(db)) as receiver:
        subscribe(db, org, receiver.url + "/h")
        receiver.fail_next = 1
        with db.session_scope() as s:
            notifications.notify(session=s, organization_id=org, kind="k", title="t", body={})
        now = utcnow()
        first = notifications.deliver_due(db=db, settings=settings, now=now)
        assert len(first.retrying) == 1 and not first.delivered
        # not due yet: the backoff is respected
        assert not notifications.deliver_due(db=db, settings=settings, now=now).retrying
        later = now + dt.timedelta(seconds=settings.webhook_backoff_seconds + 1)
        assert len(notifications.deliver_due(db=db, settings=settings, now=later).delivered) == 1
        assert len(receiver.received) == 1

        receiver.fail_next = 10
        with db.session_scope() as s:
            notifications.notify(session=s, organization_id=org, kind="k", title="t2", body={})
        moment = utcnow()
        outcomes = []
        for _ in range(3):
            run = notifications.deliver_due(db=db, settings=settings, now=moment)
            outcomes.append((len(run.retrying), len(run.failed)))
            moment += dt.timedelta(seconds=settings.webhook_backoff_max_seconds + 1)
        assert outcomes == [(1, 0), (1, 0), (0, 1)]
        with db.session_scope() as s:
            failed = s.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "failed"))
            row = failed.one()
            assert row.attempts == 3 and row.last_error == "HTTP 503"


def test_backoff_doubles_and_is_capped(settings):
    waits = [notifications.backoff(n, settings=settings).total_seconds() for n in (1, 2, 3, 20)]
    assert waits == [30, 60, 120, settings.webhook_backoff_max_seconds]


def test_an_unreachable_receiver_is_retried(db, settings):
    org = make_org(db)
    with Receiver(public_key_b64=public_key(db)) as receiver:
        dead = receiver.url
    subscribe(db, org, dead + "/gone")
    with db.session_scope() as s:
        notifications.notify(session=s, organization_id=org, kind="k", title="t", body={})
    run = notifications.deliver_due(db=db, settings=settings)
    assert len(run.retrying) == 1


def test_verification_refuses_tampering_and_other_keys(db, settings):
    key = load_keys(settings.keys_dir).signing
    raw = key.public_key()
    body = b'{"kind":"x"}'
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:9/h",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Hutong-Event": "x",
            "X-Hutong-Delivery": "1",
        },
    )
    sign_request(request, key=key, node="sh")
    args = {"method": "POST", "url": "http://127.0.0.1:9/h", "headers": dict(request.headers)}
    verify_webhook(**args, body=body, public_key=raw, node="sh")
    with pytest.raises(BadSignature):
        verify_webhook(**args, body=b'{"kind":"y"}', public_key=raw, node="sh")
    with pytest.raises(BadSignature):
        verify_webhook(
            **{**args, "url": "http://127.0.0.1:9/other"}, body=body, public_key=raw, node="sh"
        )
    with pytest.raises(BadSignature):
        other = Ed25519PrivateKey.generate().public_key()
        verify_webhook(**args, body=body, public_key=other, node="sh")
    with pytest.raises(BadSignature):
        verify_webhook(**args, body=body, public_key=raw, node="js")
    headers = {k: v for k, v in request.headers.items() if k != "signature"}
    with pytest.raises(BadSignature):
        verify_webhook(**{**args, "headers": headers}, body=body, public_key=raw, node="sh")
    assert base64.b64encode(raw.public_bytes(Encoding.Raw, PublicFormat.Raw))


def test_inbox_is_per_organization_and_read_marks(client, db):
    org, other = make_org(db), make_org(db)
    user = make_user(db, roles=[Role.consumer], org_id=org)
    outsider = make_user(db, roles=[Role.consumer], org_id=other)
    with db.session_scope() as s:
        ids = [
            notifications.notify(
                session=s, organization_id=org, kind="k", title=f"t{i}", body={"i": i}
            ).id
            for i in range(3)
        ]
        notifications.notify(session=s, organization_id=other, kind="k", title="x", body={})
    h = login(client, user.name)
    page = client.get("/api/v1/notifications", headers=h).json()
    assert page["total"] == 3 and page["unread"] == 3
    assert {n["title"] for n in page["items"]} == {"t0", "t1", "t2"}
    assert client.post(f"/api/v1/notifications/{ids[0]}/read", headers=h).json()["read_at"]
    assert client.get("/api/v1/notifications?unread=true", headers=h).json()["total"] == 2
    ho = login(client, outsider.name)
    r = client.post(f"/api/v1/notifications/{ids[1]}/read", headers=ho)
    assert r.status_code == 404
    assert client.get("/api/v1/notifications", headers=ho).json()["total"] == 1
    assert client.post("/api/v1/notifications/read-all", headers=h).json() == {"marked": 2}
    client.cookies.clear()  # the client keeps the login cookie
    assert client.get("/api/v1/notifications", headers={}).status_code == 401
    r = client.post("/api/v1/notifications/1%27%20OR%20%271%27=%271/read", headers=h)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/h",
        "http://user:secret@127.0.0.1/h",
        "http:///nohost",
        "http://127.0.0.1/a b",
        "http://127.0.0.1/回调",
        "http://127.0.0.1/h#frag",
        "javascript:alert(1)//",
        "http://" + "a" * 2000 + ".cn/",
    ],
)
def test_bad_webhook_urls_are_refused(client, db, url):
    org = make_org(db)
    steward = make_user(db, roles=[Role.steward], org_id=org)
    r = client.post("/api/v1/webhooks", json={"url": url}, headers=login(client, steward.name))
    assert r.status_code == 422, r.text


def test_webhooks_belong_to_their_organization(client, db):
    org, other = make_org(db), make_org(db)
    a = login(client, make_user(db, roles=[Role.steward], org_id=org).name)
    b = login(client, make_user(db, roles=[Role.consumer], org_id=other).name)
    citizen = login(client, make_user(db, roles=[Role.citizen]).name)
    r = client.post("/api/v1/webhooks", json={"url": "https://hooks.example.cn/x"}, headers=a)
    assert r.status_code == 201
    hook = r.json()["id"]
    assert [w["id"] for w in client.get("/api/v1/webhooks", headers=a).json()] == [hook]
    assert client.get("/api/v1/webhooks", headers=b).json() == []
    assert client.delete(f"/api/v1/webhooks/{hook}", headers=b).status_code == 404
    assert (
        client.post("/api/v1/webhooks", json={"url": "https://x.cn/"}, headers=citizen).status_code
        == 403
    )
    assert client.delete(f"/api/v1/webhooks/{hook}", headers=a).status_code == 204
    assert client.get("/api/v1/webhooks", headers=a).json()[0]["active"] is False


def test_the_background_sender_delivers_after_commit(db, settings):
    from fastapi.testclient import TestClient

    from hutong.app import create_app

    settings.webhook_sender_interval_seconds = 600  # woken by the commit, not by the poll
    org = make_org(db)
    with Receiver(public_key_b64=public_key(db)) as receiver:
        subscribe(db, org, receiver.url + "/bg")
        with TestClient(create_app(settings, database=db)):
            with db.session_scope() as s:
                notifications.notify(session=s, organization_id=org, kind="bg", title="t", body={})
            assert receiver.arrived.wait(30)
        assert receiver.kinds() == ["bg"]
