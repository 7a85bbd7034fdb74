"""Verifying an objection (核实处理): decide, correct, extend, appeal, escalate when overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Forbidden, Invalid
from hutong.core.keys import load_keys
from hutong.core.security import SYSTEM, Actor, Role
from hutong.core.settings import Settings
from hutong.datastore import history
from hutong.notifications import service as notifications
from hutong.objections.models import Objection
from hutong.objections.schemas import (
    Appeal,
    AppealDecision,
    Decision,
    ExtensionDecision,
    ExtensionRequest,
    ObjectionRead,
    ObjectionStatus,
)
from hutong.objections.service import common, recipients
from hutong.objections.service.filing import is_filer

S = ObjectionStatus


def _tell_filer(session: Session, objection: Objection, kind: str, title: str) -> None:
    """The filer is told the result (DOMAIN.md): their organization, or the citizen."""
    notifications.notify(
        session=session,
        organization_id=objection.filer_org_id,
        user_id=objection.filer_user_id if objection.filer_kind == "citizen" else None,
        kind=kind,
        title=title,
        body={
            "objection": objection.id,
            "resource": objection.resource_id,
            "status": objection.status,
            "decision": objection.decision,
            "reasons": objection.decision_reasons,
        },
        webhook=objection.filer_kind == "organization",
    )


def _values(objection: Objection, given: dict[str, Any] | None, *, partial: bool) -> dict[str, Any]:
    values = dict(given) if given else dict(objection.proposed)
    if partial and not given:
        raise Invalid("a partial acceptance gives the corrected values", field="values")
    if not values:
        raise Invalid("give the corrected values (the filer proposed none)", field="values")
    outside = [n for n in values if n not in objection.fields]
    if outside:
        raise Invalid(
            f"'{outside[0]}' is not a field of this objection", field="values", value=outside[0]
        )
    return values


def _correct(
    session: Session,
    actor: Actor,
    settings: Settings,
    objection: Objection,
    values: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Correct the hosted record with its history and tell every recipient; or, for data
    served from the provider's system, ask the provider to correct at source."""
    resource = catalog_service.get_row(session=session, resource_ref=objection.resource_id)
    if not resource.hosted:
        recipients.request_correction_at_source(
            session=session, objection=objection, resource=resource, values=values
        )
        objection.corrected = values
        return
    change = history.correct_record(
        session=session,
        actor=actor,
        resource=resource,
        record_key=objection.record_key,
        changes=values,
        objection_id=objection.id,
    )
    record = history.read_record(session=session, resource=resource, record_key=change.record_key)
    assert record is not None
    told = recipients.notify_recipients(
        session=session,
        objection=objection,
        resource=resource,
        record=record,
        before=change.before,
        after=change.after,
        secret=load_keys(settings.keys_dir).subject_hmac,
        since=now - dt.timedelta(days=settings.objection_recipient_window_days),
        history_id=change.id,
    )
    objection.corrected = change.after
    objection.recipients = len(told)


def decide(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    objection_id: str,
    data: Decision,
    now: dt.datetime | None = None,
) -> ObjectionRead:
    """The provider's steward (or, once escalated, the operator) accepts and corrects, accepts
    in part, or rejects with reasons. Raises NotFound, Forbidden, Conflict, Invalid."""
    now = now or utcnow()
    objection = common.load(session, actor, objection_id, for_update=True)
    steward = actor.has(Role.steward) and actor.organization_id == objection.provider_org_id
    operator = actor.has(Role.operator) and objection.status == S.escalated.value
    if not (steward or operator):
        raise Forbidden("the provider's stewards decide (the operator, once escalated)")
    if objection.status not in (S.open.value, S.escalated.value):
        raise Conflict(f"the objection is {objection.status}, not awaiting a decision")
    objection.decision = {"accept": "accepted", "partly": "partly_accepted"}.get(
        data.decision, "rejected"
    )
    objection.decision_reasons = data.reasons
    objection.decided_by = actor.label
    objection.decided_at = now
    objection.late = now > objection.due_at
    objection.updated_at = now
    if data.decision == "reject":
        objection.status = S.rejected.value
        objection.appeal_due_at = common.deadline(settings, now, settings.objection_appeal_days)
    else:
        values = _values(objection, data.values, partial=data.decision == "partly")
        _correct(session, actor, settings, objection, values, now)
        objection.status = S.corrected.value
    session.flush()
    common.audit(session, actor, "objection.decide", objection, decision=objection.decision)
    _tell_filer(session, objection, "objection.decided", "异议处理结果 objection decided")
    return common.read(session, objection)


def request_extension(
    *, session: Session, actor: Actor, objection_id: str, data: ExtensionRequest
) -> ObjectionRead:
    """The provider asks the operator for more time, once. Raises Forbidden, Conflict."""
    objection = common.load(session, actor, objection_id, for_update=True)
    if not (actor.has(Role.steward) and actor.organization_id == objection.provider_org_id):
        raise Forbidden("the provider's stewards ask for an extension")
    if objection.status != S.open.value:
        raise Conflict(f"the objection is {objection.status}: no extension")
    if objection.extension_state:
        raise Conflict(f"an extension can be asked once (it was {objection.extension_state})")
    objection.extension_state = "requested"
    objection.extension_reason = data.reason
    objection.updated_at = utcnow()
    session.flush()
    common.audit(session, actor, "objection.extension_request", objection)
    for org in common.operator_orgs(session):
        notifications.notify(
            session=session,
            organization_id=org,
            kind="objection.extension_requested",
            title="延期申请 extension requested",
            body={"objection": objection.id, "reason": data.reason},
        )
    return common.read(session, objection)


def decide_extension(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    objection_id: str,
    data: ExtensionDecision,
) -> ObjectionRead:
    """The operator approves (the deadline moves to the extended one) or refuses."""
    if not actor.has(Role.operator):
        raise Forbidden("the operator decides extensions")
    objection = common.load(session, actor, objection_id, for_update=True)
    if objection.extension_state != "requested":
        raise Conflict("no extension is waiting for a decision")
    if data.approve:
        objection.extension_state = "approved"
        objection.due_at = common.deadline(
            settings, objection.created_at, settings.objection_verify_days_extended
        )
        if objection.status == S.escalated.value and objection.due_at > utcnow():
            objection.status = S.open.value
    else:
        objection.extension_state = "refused"
    objection.updated_at = utcnow()
    session.flush()
    common.audit(session, actor, "objection.extension_decide", objection, approve=data.approve)
    notifications.notify(
        session=session,
        organization_id=objection.provider_org_id,
        kind="objection.extension_decided",
        title="延期申请结果 extension decided",
        body={
            "objection": objection.id,
            "approved": data.approve,
            "due_at": objection.due_at.isoformat(),
            "reasons": data.reasons,
        },
    )
    return common.read(session, objection)


def appeal(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    objection_id: str,
    data: Appeal,
    now: dt.datetime | None = None,
) -> ObjectionRead:
    """The filer appeals a rejection to the operator, within the appeal period."""
    now = now or utcnow()
    objection = common.load(session, actor, objection_id, for_update=True)
    if not is_filer(actor, objection):
        raise Forbidden("only the filer appeals")
    if objection.status != S.rejected.value:
        raise Conflict(f"the objection is {objection.status}: only a rejection is appealed")
    if objection.appeal_due_at is not None and now > objection.appeal_due_at:
        raise Conflict(f"the appeal period ended at {objection.appeal_due_at.isoformat()}")
    objection.status = S.appealed.value
    objection.appeal_reason = data.reason
    objection.operator_due_at = common.deadline(settings, now, settings.objection_operator_days)
    objection.updated_at = now
    session.flush()
    common.audit(session, actor, "objection.appeal", objection)
    for org in common.operator_orgs(session):
        notifications.notify(
            session=session,
            organization_id=org,
            kind="objection.appealed",
            title="异议申诉 appeal",
            body={"objection": objection.id, "due_at": objection.operator_due_at.isoformat()},
        )
    return common.read(session, objection)


def decide_appeal(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    objection_id: str,
    data: AppealDecision,
    now: dt.datetime | None = None,
) -> ObjectionRead:
    """The operator upholds an appeal (the record is corrected) or dismisses it (final)."""
    now = now or utcnow()
    if not actor.has(Role.operator):
        raise Forbidden("the operator decides appeals")
    objection = common.load(session, actor, objection_id, for_update=True)
    if objection.status != S.appealed.value:
        raise Conflict(f"the objection is {objection.status}, not appealed")
    objection.appeal_decision = "upheld" if data.decision == "uphold" else "dismissed"
    objection.appeal_reasons = data.reasons
    objection.updated_at = now
    if data.decision == "uphold":
        _correct(
            session, actor, settings, objection, _values(objection, data.values, partial=False), now
        )
        objection.status = S.corrected.value
    else:
        objection.status = S.dismissed.value
    session.flush()
    common.audit(
        session, actor, "objection.appeal_decide", objection, decision=objection.appeal_decision
    )
    _tell_filer(session, objection, "objection.appeal_decided", "申诉结果 appeal decided")
    notifications.notify(
        session=session,
        organization_id=objection.provider_org_id,
        kind="objection.appeal_decided",
        title="申诉结果 appeal decided",
        body={"objection": objection.id, "decision": objection.appeal_decision},
    )
    return common.read(session, objection)


def escalate_overdue(
    *, session: Session, now: dt.datetime, settings: Settings | None = None
) -> list[str]:
    """Escalate every open objection past its deadline to the operator; returns their ids.

    Idempotent: an escalated objection is not escalated again. Meant for a scheduler
    (``hutong objections escalate``, or the worker).
    """
    from hutong.core.settings import get_settings

    settings = settings or get_settings()
    rows = session.scalars(
        select(Objection)
        .where(Objection.status == S.open.value, Objection.due_at < now)
        .order_by(Objection.due_at)
        .with_for_update()
    ).all()
    operators = common.operator_orgs(session) if rows else []
    for objection in rows:
        objection.status = S.escalated.value
        objection.escalated_at = now
        objection.operator_due_at = common.deadline(settings, now, settings.objection_operator_days)
        objection.updated_at = now
        session.flush()
        common.audit(session, SYSTEM, "objection.escalate", objection)
        body = {
            "objection": objection.id,
            "resource": objection.resource_id,
            "due_at": objection.due_at.isoformat(),
        }
        for org in {objection.provider_org_id, *operators}:
            notifications.notify(
                session=session,
                organization_id=org,
                kind="objection.escalated",
                title="异议逾期 objection overdue, escalated to the operator",
                body=body,
            )
    return [o.id for o in rows]
