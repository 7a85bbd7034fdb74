"""What the objection services share: loading by role, reading out, auditing, the calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.core.errors import NotFound
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.core.workdays import WorkCalendar, calendar_from_settings
from hutong.identity.models import User
from hutong.objections.models import Evidence, Objection
from hutong.objections.schemas import EvidenceRead, ObjectionRead


def calendar(settings: Settings) -> WorkCalendar:
    return calendar_from_settings(settings.extra_holidays, settings.extra_workdays)


def deadline(settings: Settings, start: dt.datetime, days: int) -> dt.datetime:
    """The end of the ``days``-th working day after ``start`` (China time), in UTC."""
    return calendar(settings).deadline(start, days)


def visible(actor: Actor) -> Any:
    """The objections an actor may read (None: all)."""
    if actor.has(Role.operator, Role.auditor):
        return None
    conds = []
    if actor.kind == "user" and actor.has(Role.citizen):
        conds.append(Objection.filer_user_id == actor.id)
    if actor.organization_id and actor.has(Role.steward):
        conds.append(Objection.provider_org_id == actor.organization_id)
    if actor.organization_id and actor.has(Role.consumer, Role.steward):
        conds.append(Objection.filer_org_id == actor.organization_id)
    if not conds:
        return Objection.id.is_(None)  # nothing
    return or_(*conds)


def load(
    session: Session, actor: Actor, objection_id: str, *, for_update: bool = False
) -> Objection:
    """An objection the actor may see, optionally locked. Raises NotFound (also when not theirs)."""
    stmt = select(Objection).where(Objection.id == objection_id)
    cond = visible(actor)
    if cond is not None:
        stmt = stmt.where(cond)
    if for_update:
        stmt = stmt.with_for_update()
    objection = session.scalars(stmt).first()
    if objection is None:
        raise NotFound(f"no objection '{objection_id}'")
    if for_update:
        session.refresh(objection)  # another writer may have changed it before our lock
    return objection


def read(session: Session, objection: Objection) -> ObjectionRead:
    files = session.scalars(
        select(Evidence).where(Evidence.objection_id == objection.id).order_by(Evidence.created_at)
    )
    data = ObjectionRead.model_validate(objection)
    data.evidence = [EvidenceRead.model_validate(f) for f in files]
    return data


def audit(session: Session, actor: Actor, action: str, objection: Objection, **detail: Any) -> None:
    """An audit entry for a step of an objection (never the values, which may be personal)."""
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            action,
            resource=objection.resource_id,
            provider_org=objection.provider_org_id,
            fields=list(objection.fields),
            detail={"objection": objection.id, "status": objection.status, **detail},
        ),
    )


def citizen_key(session: Session, actor: Actor) -> str | None:
    """The verified subject key of a citizen user (None: not a citizen, or not verified)."""
    if actor.kind != "user" or not actor.has(Role.citizen):
        return None
    user = session.get(User, actor.id)
    return user.subject_key if user else None


def operator_orgs(session: Session) -> list[str]:
    """The organizations of the node's operators (where escalations are announced)."""
    orgs = set()
    for roles, org in session.execute(select(User.roles, User.organization_id)):
        if org and Role.operator.value in (roles or []):
            orgs.add(org)
    return sorted(orgs)
