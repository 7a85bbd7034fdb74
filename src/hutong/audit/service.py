"""The audit log's logic: record, read by role, data-use views, statistics."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from hutong.audit import log, names
from hutong.audit.entry import AuditEvent, subject_key, subject_keys
from hutong.audit.models import AuditEntry, AuditStat
from hutong.audit.schemas import DataUse, EntryRead, StatRow, StatSeries, UsePage
from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.errors import Forbidden, Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.identity import service as identity_service
from hutong.identity.models import Organization, User
from hutong.sharing.models import Scenario

__all__ = ["AuditEvent", "record", "subject_key", "subject_keys"]

DATA_ACTIONS = ("data.query", "data.lookup", "data.export", "data.verify", "data.bulk")


def record(*, session: Session, event: AuditEvent) -> int:
    """Append one entry in the caller's unit of work (it commits or rolls back with it)."""
    node = identity_service.require_node(session=session)
    return log.append(session, [event], node=node.code)[0]


def record_many(*, session: Session, events: Sequence[AuditEvent]) -> list[int]:
    """Append several entries in the caller's unit of work."""
    node = identity_service.require_node(session=session)
    return log.append(session, events, node=node.code)


def event_for(actor: Actor | None, action: str, **kw: Any) -> AuditEvent:
    """An event with the actor's organization, app or user filled in."""
    return AuditEvent(
        action=action,
        actor_org=actor.organization_id if actor else None,
        actor_app=actor.id if actor and actor.kind == "app" else None,
        actor_user=actor.id if actor and actor.kind == "user" else None,
        **kw,
    )


def _documents(
    session: Session, rows: Sequence[AuditEntry], home: Path | None
) -> dict[int, dict[str, Any]]:
    """Entry documents, from the database or, for archived entries, their archive files."""
    docs = {r.leaf_index: json.loads(r.payload) for r in rows if r.payload is not None}
    archived = [r.leaf_index for r in rows if r.payload is None]
    if archived and home is not None:
        from hutong.audit.archive import archived_payloads

        for i, payload in archived_payloads(session, home, archived).items():
            docs[i] = json.loads(payload)
    for i in archived:
        docs.setdefault(i, {"archived": True})
    return docs


def _entry_read(row: AuditEntry, doc: dict[str, Any]) -> EntryRead:
    return EntryRead(
        leaf_index=row.leaf_index,
        time=row.time,
        action=row.action,
        outcome=row.outcome,
        actor_org=row.actor_org,
        resource_id=row.resource_id,
        scenario_id=row.scenario_id,
        record_count=row.record_count,
        entry=doc,
        leaf_hash=row.leaf_hash.hex(),
    )


def _visible(session: Session, actor: Actor) -> Any:
    """The entries an actor may read: all (operators, auditors), else their organization's."""
    if actor.has(Role.operator, Role.auditor):
        return None
    if actor.organization_id and actor.has(Role.steward, Role.consumer):
        return or_(
            names.by_actor(session, actor.organization_id),
            names.by_provider(session, actor.organization_id),
        )
    return AuditEntry.leaf_index < 0  # nothing


def get_entry(
    *, session: Session, actor: Actor, leaf_index: int, home: Path | None = None
) -> EntryRead:
    """One entry, if the actor may see it. Raises NotFound (also for entries not theirs)."""
    row = session.get(AuditEntry, leaf_index)
    if row is None:
        raise NotFound(f"no audit entry {leaf_index}")
    cond = _visible(session, actor)
    if cond is not None:
        allowed = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.leaf_index == leaf_index, cond)
        )
        if not allowed and not _is_subject_of(session, actor, leaf_index):
            raise NotFound(f"no audit entry {leaf_index}")
    return _entry_read(row, _documents(session, [row], home)[row.leaf_index])


def _is_subject_of(session: Session, actor: Actor, leaf_index: int) -> bool:
    key = _citizen_key(session, actor)
    if key is None:
        return False
    return names.is_subject_of(session, key, leaf_index)


def _citizen_key(session: Session, actor: Actor) -> str | None:
    if actor.kind != "user" or not actor.has(Role.citizen):
        return None
    user = session.get(User, actor.id)
    return user.subject_key if user else None


def list_entries(
    *,
    session: Session,
    actor: Actor,
    action: str | None = None,
    resource: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: int = 0,
    limit: int = 100,
    home: Path | None = None,
) -> list[EntryRead]:
    """Entries the actor may read, newest first, filtered. Raises Forbidden for citizens."""
    if actor.has(Role.citizen) and not actor.has(
        Role.operator, Role.auditor, Role.steward, Role.consumer
    ):
        raise Forbidden("citizens see their data uses at /api/v1/audit/my-uses")
    stmt = select(AuditEntry)
    cond = _visible(session, actor)
    if cond is not None:
        stmt = stmt.where(cond)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if resource:
        stmt = stmt.where(names.by_resource(session, resource))
    if since:
        stmt = stmt.where(AuditEntry.time >= since)
    if until:
        stmt = stmt.where(AuditEntry.time < until)
    rows = list(
        session.scalars(stmt.order_by(AuditEntry.leaf_index.desc()).offset(offset).limit(limit))
    )
    docs = _documents(session, rows, home)
    return [_entry_read(r, docs[r.leaf_index]) for r in rows]


def my_uses(
    *,
    session: Session,
    actor: Actor,
    offset: int = 0,
    limit: int = 50,
    today: dt.date | None = None,
    home: Path | None = None,
) -> UsePage:
    """Every use of the citizen's data: when, who, which resource and fields, why.

    Uses under a confidential scenario stay hidden until the scenario's disclosure date.
    Raises Forbidden for anyone but a citizen with a verified identity.
    """
    key = _citizen_key(session, actor)
    if key is None:
        raise Forbidden("only a citizen with a verified identity sees their data uses")
    today = today or utcnow().date()
    hidden = and_(
        Scenario.confidential.is_(True),
        or_(Scenario.disclose_on.is_(None), Scenario.disclose_on > today),
    )
    base = (
        select(AuditEntry, Scenario, Organization, Resource)
        .outerjoin(Scenario, Scenario.id == AuditEntry.scenario_id)
        .outerjoin(Organization, Organization.id == AuditEntry.actor_org)
        .outerjoin(Resource, Resource.id == AuditEntry.resource_id)
        .where(
            AuditEntry.leaf_index.in_(names.subject_leaves(session, [key])),
            AuditEntry.action.in_(DATA_ACTIONS),
            AuditEntry.outcome == "ok",
        )
        .where(or_(Scenario.id.is_(None), ~hidden))
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(AuditEntry.leaf_index.desc()).offset(offset).limit(limit)
    ).all()
    docs = _documents(session, [r[0] for r in rows], home)
    items = []
    for entry, scenario, org, resource in rows:
        doc = docs[entry.leaf_index]
        items.append(
            DataUse(
                time=entry.time,
                organization_id=entry.actor_org,
                organization_name=org.name if org else (entry.actor_org or ""),
                resource_id=entry.resource_id,
                resource_name=resource.name if resource else "",
                fields=doc.get("fields", []),
                scenario_id=entry.scenario_id,
                scenario_name=scenario.name if scenario else "",
                purpose=scenario.purpose if scenario else "",
                action=entry.action,
                leaf_index=entry.leaf_index,
            )
        )
    return UsePage(items=items, total=total, offset=offset, limit=limit)


GROUPS = {
    "organization": AuditStat.actor_org,
    "resource": AuditStat.resource_id,
    "scenario": AuditStat.scenario_id,
    "node": AuditStat.node,
    "day": AuditStat.day,
    "action": AuditStat.action,
}


def statistics(
    *,
    session: Session,
    actor: Actor,
    group_by: str = "organization",
    since: dt.date | None = None,
    until: dt.date | None = None,
    action: str | None = None,
    data_only: bool = True,
) -> StatSeries:
    """Totals and a daily series of calls and records, from the aggregate table.

    Operators and auditors see the node; others see their organization's calls and the
    uses of their organization's resources.
    """
    if group_by not in GROUPS:
        raise Invalid(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
    conds: list[Any] = []
    if since:
        conds.append(AuditStat.day >= since)
    if until:
        conds.append(AuditStat.day <= until)
    if action:
        conds.append(AuditStat.action == action)
    elif data_only:
        conds.append(AuditStat.action.in_(DATA_ACTIONS))
    if not actor.has(Role.operator, Role.auditor):
        if not actor.organization_id:
            raise Forbidden("statistics are for organizations, operators and auditors")
        own = select(Resource.id).where(Resource.provider_id == actor.organization_id)
        conds.append(
            or_(AuditStat.actor_org == actor.organization_id, AuditStat.resource_id.in_(own))
        )
    column = GROUPS[group_by]
    rows = session.execute(
        select(column, func.sum(AuditStat.calls), func.sum(AuditStat.records))
        .where(*conds)
        .group_by(column)
        .order_by(func.sum(AuditStat.calls).desc())
    ).all()
    labels = _labels(session, group_by, [str(r[0]) for r in rows])
    days = session.execute(
        select(AuditStat.day, func.sum(AuditStat.calls), func.sum(AuditStat.records))
        .where(*conds)
        .group_by(AuditStat.day)
        .order_by(AuditStat.day)
    ).all()
    out_rows = [
        StatRow(
            key=str(k), label=labels.get(str(k), str(k)), calls=int(c or 0), records=int(r or 0)
        )
        for k, c, r in rows
    ]
    return StatSeries(
        group_by=group_by,
        rows=out_rows,
        days=[
            {"day": d.isoformat(), "calls": int(c or 0), "records": int(r or 0)} for d, c, r in days
        ],
        total_calls=sum(r.calls for r in out_rows),
        total_records=sum(r.records for r in out_rows),
    )


def _labels(session: Session, group_by: str, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    if group_by == "organization":
        return dict(
            session.execute(
                select(Organization.id, Organization.name).where(Organization.id.in_(keys))
            ).all()
        )
    if group_by == "resource":
        return dict(
            session.execute(select(Resource.id, Resource.name).where(Resource.id.in_(keys))).all()
        )
    if group_by == "scenario":
        return dict(
            session.execute(select(Scenario.id, Scenario.name).where(Scenario.id.in_(keys))).all()
        )
    return {}
