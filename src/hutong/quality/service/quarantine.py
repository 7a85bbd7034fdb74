"""Quarantine: rows the ingest gate held back, for the steward to fix or clear."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.core.security import Actor
from hutong.quality.models import QuarantinedRow
from hutong.quality.schemas import QuarantinedRowRead
from hutong.quality.service.common import managed


def quarantine(
    *, session: Session, actor: Actor, resource_ref: str, limit: int = 1000
) -> list[QuarantinedRowRead]:
    """Rows held back by the gate, for the steward to fix. Raises NotFound, Forbidden."""
    resource = managed(session, actor, resource_ref)
    stmt = (
        select(QuarantinedRow)
        .where(QuarantinedRow.resource_id == resource.id)
        .order_by(QuarantinedRow.id)
        .limit(limit)
    )
    return [
        QuarantinedRowRead.model_validate(r, from_attributes=True) for r in session.scalars(stmt)
    ]


def clear_quarantine(*, session: Session, actor: Actor, resource_ref: str) -> int:
    """Drop the quarantined rows (after the fixed rows were loaded again). Returns how many."""
    resource = managed(session, actor, resource_ref)
    rows = list(
        session.scalars(select(QuarantinedRow).where(QuarantinedRow.resource_id == resource.id))
    )
    for row in rows:
        session.delete(row)
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            "quality.quarantine.clear",
            resource=resource.id,
            provider_org=resource.provider_id,
            records=len(rows),
        ),
    )
    return len(rows)
