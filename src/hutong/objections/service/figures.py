"""Objection figures per provider, for quality reports (confirmed objections count against
accuracy; counts, times to decision and overdue rates per provider)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.core.clock import utcnow
from hutong.objections.models import Objection
from hutong.objections.schemas import FLAGGED, ObjectionStatus, ProviderFigures

CONFIRMED = ("accepted", "partly_accepted")


def provider_figures(
    *,
    session: Session,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    provider_org_id: str | None = None,
    now: dt.datetime | None = None,
) -> list[ProviderFigures]:
    """Per provider, the objections filed in [since, until): counts, confirmed ones per
    resource, mean days to decision, and how many were (or are) overdue."""
    now = now or utcnow()
    stmt = select(Objection)
    if since is not None:
        stmt = stmt.where(Objection.created_at >= since)
    if until is not None:
        stmt = stmt.where(Objection.created_at < until)
    if provider_org_id is not None:
        stmt = stmt.where(Objection.provider_org_id == provider_org_id)
    by_provider: dict[str, list[Objection]] = {}
    for o in session.scalars(stmt):
        by_provider.setdefault(o.provider_org_id, []).append(o)
    out = []
    flagged = {s.value for s in FLAGGED}
    for provider, items in sorted(by_provider.items()):
        confirmed = [o for o in items if o.decision in CONFIRMED or o.appeal_decision == "upheld"]
        per_resource: dict[str, int] = {}
        for o in confirmed:
            per_resource[o.resource_id] = per_resource.get(o.resource_id, 0) + 1
        decided = [o for o in items if o.decided_at is not None]
        days = [(o.decided_at - o.created_at).total_seconds() / 86400 for o in decided]  # type: ignore[operator]
        overdue = [
            o
            for o in items
            if o.late or o.escalated_at is not None or (o.status == "open" and o.due_at < now)
        ]
        out.append(
            ProviderFigures(
                provider_org_id=provider,
                filed=len(items),
                open=sum(1 for o in items if o.status in flagged),
                confirmed=len(confirmed),
                rejected=sum(
                    1
                    for o in items
                    if o.status in (ObjectionStatus.rejected.value, ObjectionStatus.dismissed.value)
                ),
                overdue=len(overdue),
                overdue_rate=round(len(overdue) / len(items), 4),
                mean_days_to_decision=round(sum(days) / len(days), 3) if days else None,
                confirmed_by_resource=per_resource,
            )
        )
    return out


def confirmed_records(*, session: Session, resource_id: str, since: dt.datetime) -> int:
    """Distinct records of a resource with an objection confirmed (异议属实) since a time."""
    stmt = select(Objection.record_key).where(
        Objection.resource_id == resource_id,
        Objection.decided_at.is_not(None),
        Objection.decided_at >= since,
        (Objection.decision.in_(CONFIRMED)) | (Objection.appeal_decision == "upheld"),
    )
    return len(set(session.scalars(stmt)))
