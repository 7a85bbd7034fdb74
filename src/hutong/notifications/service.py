"""Notifications: in-app messages per organization, and signed webhooks through an outbox.

``notify`` writes the message and, for each of the organization's subscriptions, an
outbox row in the caller's transaction; the sender (``deliver_due``) sends only
committed rows, so a receiver never hears of work that was rolled back. Sending is
retried with exponential backoff; a request is signed per RFC 9421 (see ``signing``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.core.clock import utcnow
from hutong.core.database import Database
from hutong.core.errors import Forbidden, Invalid, NotFound
from hutong.core.keys import load_keys
from hutong.core.logging import get_logger
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.identity import service as identity_service
from hutong.identity.models import Organization
from hutong.notifications import signing
from hutong.notifications.events import WebhookQueued, after_commit
from hutong.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from hutong.notifications.schemas import (
    NotificationPage,
    NotificationRead,
    WebhookCreate,
    WebhookRead,
)

_log = get_logger("hutong.notifications")
KIND_MAX = 64


def notify(
    *,
    session: Session,
    organization_id: str | None,
    kind: str,
    title: str,
    body: dict[str, Any],
    user_id: str | None = None,
    webhook: bool = True,
) -> Notification:
    """Tell an organization (or one user, e.g. a citizen) something: an in-app message and,
    for an organization that subscribed, a signed webhook.

    Everything is written in the caller's transaction; webhooks leave after it commits.
    Raises NotFound for an unknown organization, Invalid when nobody is addressed.
    """
    if organization_id is None and user_id is None:
        raise Invalid("a notification is addressed to an organization or a user")
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise NotFound(f"no organization '{organization_id}'", field="organization")
    now = utcnow()
    note = Notification(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        user_id=user_id,
        kind=kind[:KIND_MAX],
        title=title[:300],
        body=body,
        created_at=now,
    )
    session.add(note)
    if webhook and organization_id is not None:
        subs = session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.organization_id == organization_id,
                WebhookSubscription.active.is_(True),
            )
        )
        for sub in subs:
            if sub.kinds and kind not in sub.kinds:
                continue
            payload = {
                "id": note.id,
                "kind": note.kind,
                "organization": organization_id,
                "title": note.title,
                "time": now.isoformat(),
                "body": body,
            }
            delivery = WebhookDelivery(
                id=str(uuid.uuid4()),
                subscription_id=sub.id,
                organization_id=organization_id,
                url=sub.url,
                kind=note.kind,
                payload=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            session.add(delivery)
            after_commit(session, WebhookQueued(delivery_id=delivery.id))
    session.flush()
    return note


def _mine(actor: Actor) -> Any:
    if not actor.organization_id:
        return (Notification.organization_id.is_(None), Notification.user_id == actor.id)
    return (
        Notification.organization_id == actor.organization_id,
        or_(Notification.user_id.is_(None), Notification.user_id == actor.id),
    )


def list_notifications(
    *, session: Session, actor: Actor, unread_only: bool = False, offset: int = 0, limit: int = 50
) -> NotificationPage:
    """The actor's organization's messages (and those to the actor), newest first."""
    conds = list(_mine(actor))
    base = select(Notification).where(*conds)
    if unread_only:
        base = base.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    unread = (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(*conds, Notification.read_at.is_(None))
        )
        or 0
    )
    rows = session.scalars(
        base.order_by(Notification.created_at.desc(), Notification.id).offset(offset).limit(limit)
    )
    return NotificationPage(
        items=[NotificationRead.model_validate(r) for r in rows],
        total=total,
        unread=unread,
        offset=offset,
        limit=limit,
    )


def mark_read(*, session: Session, actor: Actor, notification_id: str) -> NotificationRead:
    """Mark one message read. Raises NotFound (also for another organization's)."""
    note = session.scalars(
        select(Notification).where(Notification.id == notification_id, *_mine(actor))
    ).first()
    if note is None:
        raise NotFound(f"no notification '{notification_id}'")
    if note.read_at is None:
        note.read_at = utcnow()
        session.flush()
    return NotificationRead.model_validate(note)


def mark_all_read(*, session: Session, actor: Actor) -> int:
    """Mark every unread message of the actor read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(*_mine(actor), Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# subscriptions ---------------------------------------------------------------------------


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("a webhook URL is an absolute http or https URL", field="url", value=url)
    if parts.username or parts.password:
        raise Invalid("a webhook URL carries no credentials: we sign instead", field="url")
    if parts.fragment:
        raise Invalid("a webhook URL has no fragment", field="url", value=url)
    if not url.isascii() or any(c.isspace() for c in url):
        raise Invalid("a webhook URL is ASCII without spaces (percent-encode)", field="url")
    return url.strip()


def _manager(actor: Actor) -> str:
    if not actor.organization_id or not actor.has(Role.steward, Role.consumer, Role.operator):
        raise Forbidden("webhooks are registered by an organization's stewards or consumers")
    return actor.organization_id


def create_subscription(*, session: Session, actor: Actor, data: WebhookCreate) -> WebhookRead:
    """Register a webhook URL for the actor's organization. Raises Invalid, Forbidden."""
    org = _manager(actor)
    kinds = sorted({k.strip() for k in data.kinds if k.strip()})
    if any(len(k) > KIND_MAX for k in kinds):
        raise Invalid(f"a kind has at most {KIND_MAX} characters", field="kinds")
    sub = WebhookSubscription(
        id=str(uuid.uuid4()),
        organization_id=org,
        url=_check_url(data.url),
        kinds=kinds,
        active=True,
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(sub)
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor, "notifications.webhook_create", detail={"webhook": sub.id, "kinds": kinds}
        ),
    )
    return WebhookRead.model_validate(sub)


def list_subscriptions(*, session: Session, actor: Actor) -> list[WebhookRead]:
    """The organization's webhooks (every one, for operators)."""
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.created_at)
    if not actor.has(Role.operator):
        stmt = stmt.where(WebhookSubscription.organization_id == _manager(actor))
    return [WebhookRead.model_validate(s) for s in session.scalars(stmt)]


def delete_subscription(*, session: Session, actor: Actor, webhook_id: str) -> None:
    """Stop a webhook (pending deliveries to it are dropped). Raises NotFound."""
    sub = session.get(WebhookSubscription, webhook_id)
    if sub is None or (not actor.has(Role.operator) and sub.organization_id != _manager(actor)):
        raise NotFound(f"no webhook '{webhook_id}'")
    sub.active = False
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "pending")
        .values(status="failed", last_error="subscription removed")
    )
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor, "notifications.webhook_delete", detail={"webhook": sub.id}
        ),
    )


# delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    """What one pass of the sender did."""

    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def backoff(attempts: int, *, settings: Settings) -> dt.timedelta:
    """The wait after ``attempts`` failed attempts: doubling from the base, capped."""
    seconds = settings.webhook_backoff_seconds * (2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=min(seconds, settings.webhook_backoff_max_seconds))


def _claim(
    db: Database, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[WebhookDelivery]:
    """Lease due deliveries so that two senders never send the same one at once."""
    free = or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
    due = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, free)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    # look first without the write lock: most polls find nothing to send
    with db.session_scope(readonly=True) as session:
        if session.scalars(due).first() is None:
            return []
    claimed = []
    with db.session_scope() as session:
        rows = session.scalars(due).all()
        for row in rows:
            result = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == row.id, WebhookDelivery.status == "pending", free)
                .values(lease_until=now + lease)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append(row)
    return claimed


def build_request(delivery: WebhookDelivery, *, settings: Settings, node: str) -> httpx.Request:
    """The signed HTTP request of an outbox row."""
    request = httpx.Request(
        "POST",
        delivery.url,
        content=delivery.payload.encode("utf-8"),
        headers={
            "Content-Type": "application/json",
            signing.EVENT_HEADER: delivery.kind,
            signing.DELIVERY_HEADER: delivery.id,
            "User-Agent": "hutong-webhook",
        },
    )
    signing.sign_request(request, key=load_keys(settings.keys_dir).signing, node=node)
    return request


def deliver_due(
    *,
    db: Database,
    settings: Settings,
    now: dt.datetime | None = None,
    client: httpx.Client | None = None,
    limit: int = 100,
) -> DeliveryRun:
    """Send the outbox rows that are due, each in its own short transaction; retry failures."""
    now = now or utcnow()
    lease = dt.timedelta(seconds=settings.webhook_timeout_seconds * 2 + 30)
    claimed = _claim(db, now, lease, limit)
    run = DeliveryRun()
    if not claimed:
        return run
    with db.session_scope(readonly=True) as session:
        node = identity_service.require_node(session=session).code
    own = client is None
    http = client or httpx.Client(timeout=settings.webhook_timeout_seconds)
    try:
        for delivery in claimed:
            error = ""
            try:
                response = http.send(build_request(delivery, settings=settings, node=node))
                if not 200 <= response.status_code < 300:
                    error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            _settle(db, delivery.id, error=error, now=now, settings=settings, run=run)
    finally:
        if own:
            http.close()
    return run


def _settle(
    db: Database,
    delivery_id: str,
    *,
    error: str,
    now: dt.datetime,
    settings: Settings,
    run: DeliveryRun,
) -> None:
    with db.session_scope() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:  # pragma: no cover - rows are never deleted
            return
        row.attempts += 1
        row.lease_until = None
        if not error:
            row.status, row.delivered_at, row.last_error = "delivered", utcnow(), ""
            run.delivered.append(row.id)
        elif row.attempts >= settings.webhook_max_attempts:
            row.status, row.last_error = "failed", error
            run.failed.append(row.id)
            _log.warning("webhook failed for good", delivery=row.id, attempts=row.attempts)
        else:
            row.last_error = error
            row.next_attempt_at = now + backoff(row.attempts, settings=settings)
            run.retrying.append(row.id)


def list_deliveries(
    *, session: Session, actor: Actor, status: str | None = None, limit: int = 100
) -> Sequence[WebhookDelivery]:
    """The organization's outbox rows, newest first (every organization's, for operators)."""
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc()).limit(limit)
    if not actor.has(Role.operator):
        stmt = stmt.where(WebhookDelivery.organization_id == _manager(actor))
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return session.scalars(stmt).all()
