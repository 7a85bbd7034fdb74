"""JSON routes of notifications: the inbox, read marks, webhook subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from hutong.core.deps import AUTHENTICATED, DbSession, requires
from hutong.core.security import Actor, Role
from hutong.notifications import service
from hutong.notifications.schemas import (
    DeliveryRead,
    NotificationPage,
    NotificationRead,
    WebhookCreate,
    WebhookRead,
)

router = APIRouter(tags=["notifications"])
Member = Annotated[Actor, Depends(requires(AUTHENTICATED))]
Manager = Annotated[Actor, Depends(requires(Role.steward, Role.consumer, Role.operator))]


@router.get("/notifications")
def list_notifications(
    session: DbSession,
    actor: Member,
    unread: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> NotificationPage:
    """Messages to your organization (and to you), newest first."""
    return service.list_notifications(
        session=session, actor=actor, unread_only=unread, offset=offset, limit=limit
    )


@router.post("/notifications/{notification_id}/read")
def mark_read(notification_id: str, session: DbSession, actor: Member) -> NotificationRead:
    """Mark one message read."""
    return service.mark_read(session=session, actor=actor, notification_id=notification_id)


@router.post("/notifications/read-all")
def mark_all_read(session: DbSession, actor: Member) -> dict[str, int]:
    """Mark every unread message read."""
    return {"marked": service.mark_all_read(session=session, actor=actor)}


@router.post("/webhooks", status_code=201)
def create_webhook(body: WebhookCreate, session: DbSession, actor: Manager) -> WebhookRead:
    """Register a URL that receives your organization's notifications, signed (RFC 9421)."""
    return service.create_subscription(session=session, actor=actor, data=body)


@router.get("/webhooks")
def list_webhooks(session: DbSession, actor: Manager) -> list[WebhookRead]:
    """Your organization's webhooks."""
    return service.list_subscriptions(session=session, actor=actor)


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, session: DbSession, actor: Manager) -> Response:
    """Stop a webhook."""
    service.delete_subscription(session=session, actor=actor, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/deliveries")
def list_deliveries(
    session: DbSession, actor: Manager, status: str | None = None
) -> list[DeliveryRead]:
    """Recent webhook requests to your organization and how they went."""
    rows = service.list_deliveries(session=session, actor=actor, status=status)
    return [DeliveryRead.model_validate(r) for r in rows]
