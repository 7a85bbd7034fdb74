"""Quality alerts: raise one (notifications hook in here), list, resolve."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.errors import NotFound
from hutong.core.security import Actor, Role
from hutong.notifications import service as notifications_service
from hutong.quality.models import QualityAlert
from hutong.quality.schemas import AlertRead
from hutong.quality.service.common import managed


def resolve_open(session: Session, resource_id: str, kind: str) -> None:
    """Close the open alert of this kind: the score recovered, or the data was loaded."""
    for alert in session.scalars(
        select(QualityAlert).where(
            QualityAlert.resource_id == resource_id,
            QualityAlert.kind == kind,
            QualityAlert.resolved_at.is_(None),
        )
    ):
        alert.resolved_at = utcnow()
    session.flush()


def emit_alert(
    *,
    session: Session,
    resource: Resource,
    kind: Literal["score_below", "update_missed"],
    message: str,
    score: float | None = None,
    threshold: float | None = None,
    evaluation_id: str | None = None,
) -> QualityAlert | None:
    """Raise a quality alert: the one place alerts are made (notifications hook in here).

    An alert of the same kind still open for the resource is not raised again.
    """
    open_alert = session.scalars(
        select(QualityAlert).where(
            QualityAlert.resource_id == resource.id,
            QualityAlert.kind == kind,
            QualityAlert.resolved_at.is_(None),
        )
    ).first()
    if open_alert is not None:
        return None
    alert = QualityAlert(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        provider_id=resource.provider_id,
        kind=kind,
        message=message,
        score=score,
        threshold=threshold,
        evaluation_id=evaluation_id,
        created_at=utcnow(),
    )
    session.add(alert)
    session.flush()
    notifications_service.notify(  # in-app, and a signed webhook after the commit
        session=session,
        organization_id=resource.provider_id,
        kind=f"quality.{kind}",
        title=message,
        body={
            "alert_id": alert.id,
            "resource_id": resource.id,
            "kind": kind,
            "score": score,
            "threshold": threshold,
            "evaluation_id": evaluation_id,
        },
    )
    return alert


def list_alerts(
    *, session: Session, actor: Actor, open_only: bool = True, limit: int = 100
) -> list[AlertRead]:
    """Alerts an actor may see: all for operators and auditors, their own org's otherwise."""
    stmt = select(QualityAlert).order_by(QualityAlert.created_at.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(QualityAlert.resolved_at.is_(None))
    if not actor.has(Role.operator, Role.auditor):
        stmt = stmt.where(QualityAlert.provider_id == (actor.organization_id or ""))
    return [AlertRead.model_validate(a, from_attributes=True) for a in session.scalars(stmt)]


def resolve_alert(*, session: Session, actor: Actor, alert_id: str) -> AlertRead:
    """Mark an alert resolved. Raises NotFound, Forbidden."""
    alert = session.get(QualityAlert, alert_id)
    if alert is None:
        raise NotFound(f"no alert '{alert_id}'", field="alert_id")
    resource = managed(session, actor, alert.resource_id)
    alert.resolved_at = utcnow()
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor, "quality.alert.resolve", resource=resource.id, provider_org=resource.provider_id
        ),
    )
    return AlertRead.model_validate(alert, from_attributes=True)
