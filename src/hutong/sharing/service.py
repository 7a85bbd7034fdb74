"""Sharing by application scenario: scenarios, applications, the review workflow, grants.

以共享为原则、不共享为例外: an ``unconditional`` resource is granted after the operator's
check; a ``conditional`` one needs its provider's approval of all or some fields; a
``none`` resource cannot be applied for, and the refusal cites its legal basis.
Every step is audited in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Forbidden, Invalid, NotFound
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.core.workdays import calendar_from_settings
from hutong.sharing.models import Application, Grant, Scenario
from hutong.sharing.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationStatus,
    Delivery,
    Dispute,
    GrantRead,
    OperatorCheck,
    ProviderDecision,
    Revoke,
    ScenarioCreate,
    ScenarioRead,
)

OPEN = (ApplicationStatus.submitted, ApplicationStatus.provider_review, ApplicationStatus.disputed)


def _audit(
    session: Session, actor: Actor, action: str, app: Application | None = None, **kw: Any
) -> None:
    if app is not None:
        kw.setdefault("resource", app.resource_id)
        kw.setdefault("provider_org", app.provider_org_id)
        kw.setdefault("scenario", app.scenario_id)
        kw.setdefault("detail", {"application": app.id, "status": app.status})
    audit_service.record(session=session, event=audit_service.event_for(actor, action, **kw))


# scenarios -------------------------------------------------------------------------------


def create_scenario(*, session: Session, actor: Actor, data: ScenarioCreate) -> ScenarioRead:
    """Register an application scenario for the actor's organization. Raises Forbidden."""
    if not actor.organization_id or not actor.has(Role.consumer):
        raise Forbidden("scenarios are registered by a consumer organization")
    scenario = Scenario(
        id=str(uuid.uuid4()),
        organization_id=actor.organization_id,
        created_at=utcnow(),
        **data.model_dump(),
    )
    session.add(scenario)
    session.flush()
    _audit(
        session,
        actor,
        "sharing.scenario_create",
        scenario=scenario.id,
        detail={"confidential": scenario.confidential},
    )
    return ScenarioRead.model_validate(scenario, from_attributes=True)


def list_scenarios(*, session: Session, actor: Actor) -> list[ScenarioRead]:
    """The organization's scenarios (all, for operators)."""
    stmt = select(Scenario).order_by(Scenario.created_at.desc())
    if not actor.has(Role.operator):
        stmt = stmt.where(Scenario.organization_id == actor.organization_id)
    return [ScenarioRead.model_validate(s, from_attributes=True) for s in session.scalars(stmt)]


# applications ----------------------------------------------------------------------------


def _read(session: Session, app: Application) -> ApplicationRead:
    grant_id = session.scalar(select(Grant.id).where(Grant.application_id == app.id))
    return ApplicationRead.model_validate(
        {
            **{c.key: getattr(app, c.key) for c in Application.__table__.columns},
            "grant_id": grant_id,
        }
    )


def _get(session: Session, actor: Actor, application_id: str) -> Application:
    app = session.get(Application, application_id)
    if app is None or not (
        actor.has(Role.operator)
        or actor.organization_id in (app.consumer_org_id, app.provider_org_id)
    ):
        raise NotFound(f"no application '{application_id}'")
    return app


def _fields(resource: Resource) -> dict[str, FieldSpec]:
    return {f["name"]: FieldSpec.model_validate(f) for f in resource.meta["fields"]}


def submit(
    *, session: Session, actor: Actor, data: ApplicationCreate, settings: Settings
) -> ApplicationRead:
    """Apply for fields of a resource under one of the organization's scenarios.

    Raises Forbidden (not a consumer, or sharing 'none' with its legal basis), NotFound,
    Invalid (unknown field, scenario expired), Conflict (an open application exists).
    """
    if not actor.organization_id or not actor.has(Role.consumer):
        raise Forbidden("applications are filed by a consumer organization")
    scenario = session.get(Scenario, data.scenario_id)
    if scenario is None or scenario.organization_id != actor.organization_id:
        raise NotFound(
            f"your organization has no scenario '{data.scenario_id}'", field="scenario_id"
        )
    today = utcnow().date()
    if scenario.valid_until < today:
        raise Invalid(
            f"scenario '{scenario.name}' ended on {scenario.valid_until}", field="scenario_id"
        )
    resource = catalog_service.get_row(session=session, resource_ref=data.resource)
    if resource.sharing_type == "none":
        sharing = resource.meta["sharing"]
        raise Forbidden(
            f"'{resource.name}' is not shared (不予共享): {sharing.get('reason', '')}; "
            f"legal basis: {sharing.get('legal_basis', '')}",
            extra={"legal_basis": sharing.get("legal_basis", "")},
        )
    known = _fields(resource)
    unknown = [f.name for f in data.fields if f.name not in known]
    if unknown:
        raise Invalid(f"'{resource.name}' has no field(s) {', '.join(unknown)}", field="fields")
    duplicate = session.scalar(
        select(Application.id).where(
            Application.consumer_org_id == actor.organization_id,
            Application.scenario_id == scenario.id,
            Application.resource_id == resource.id,
            Application.status.in_([s.value for s in OPEN]),
        )
    )
    if duplicate:
        raise Conflict(f"application {duplicate} for this resource and scenario is still open")
    now = utcnow()
    calendar = calendar_from_settings(settings.extra_holidays, settings.extra_workdays)
    app = Application(
        id=str(uuid.uuid4()),
        scenario_id=scenario.id,
        consumer_org_id=actor.organization_id,
        resource_id=resource.id,
        provider_org_id=resource.provider_id,
        fields=[f.model_dump() for f in data.fields],
        call_types=sorted({c.value for c in data.call_types}),
        daily_quota=data.daily_quota,
        status=ApplicationStatus.submitted.value,
        operator_due=calendar.deadline(now, settings.application_operator_days),
        applicant=actor.label,
        created_at=now,
        updated_at=now,
    )
    session.add(app)
    session.flush()
    _audit(session, actor, "sharing.apply", app)
    return _read(session, app)


def _grant(session: Session, actor: Actor, app: Application, fields: dict[str, str]) -> Grant:
    scenario = session.get(Scenario, app.scenario_id)
    assert scenario is not None
    grant = Grant(
        id=str(uuid.uuid4()),
        application_id=app.id,
        consumer_org_id=app.consumer_org_id,
        scenario_id=app.scenario_id,
        resource_id=app.resource_id,
        provider_org_id=app.provider_org_id,
        fields=fields,
        call_types=app.call_types,
        daily_quota=app.daily_quota,
        expires_on=scenario.valid_until,
        created_at=utcnow(),
    )
    session.add(grant)
    app.status = ApplicationStatus.granted.value
    app.updated_at = utcnow()
    session.flush()
    _audit(
        session,
        actor,
        "sharing.grant",
        app,
        fields=sorted(fields),
        detail={"application": app.id, "grant": grant.id, "delivery": fields},
    )
    return grant


def _default_delivery(resource: Resource, names: list[str]) -> dict[str, str]:
    """Personal-information fields are masked unless the provider grants them clear."""
    known = _fields(resource)
    return {
        n: (Delivery.masked.value if known[n].pi_category else Delivery.clear.value) for n in names
    }


def _refuse(
    session: Session, actor: Actor, app: Application, reasons: str, action: str
) -> ApplicationRead:
    """Refuse an application; a refusal must give its reasons (Invalid otherwise)."""
    if not reasons.strip():
        raise Invalid("a refusal must give its reasons", field="reasons")
    app.status = ApplicationStatus.refused.value
    app.decision_reasons = reasons
    app.updated_at = utcnow()
    session.flush()
    _audit(session, actor, action, app)
    return _read(session, app)


def operator_check(
    *, session: Session, actor: Actor, application_id: str, data: OperatorCheck, settings: Settings
) -> ApplicationRead:
    """The operator's check: refuse with reasons, or pass on (grant if unconditional)."""
    if not actor.has(Role.operator):
        raise Forbidden("the operator checks applications")
    app = _get(session, actor, application_id)
    if app.status not in (ApplicationStatus.submitted.value, ApplicationStatus.disputed.value):
        raise Conflict(f"the application is '{app.status}', not waiting for the operator")
    resource = catalog_service.get_row(session=session, resource_ref=app.resource_id)
    if not data.accept:
        return _refuse(session, actor, app, data.reasons, "sharing.operator_check")
    names = [f["name"] for f in app.fields]
    if resource.sharing_type == "unconditional" or app.status == ApplicationStatus.disputed.value:
        _audit(session, actor, "sharing.operator_check", app)
        _grant(session, actor, app, _default_delivery(resource, names))
        return _read(session, app)
    calendar = calendar_from_settings(settings.extra_holidays, settings.extra_workdays)
    days = (
        (
            settings.application_provider_days
            if resource.row_count
            else settings.application_provider_days_offline
        )
        if resource.hosted
        else settings.application_provider_days
    )
    app.status = ApplicationStatus.provider_review.value
    app.provider_due = calendar.deadline(utcnow(), days)
    app.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "sharing.operator_check", app)
    return _read(session, app)


def provider_decide(
    *, session: Session, actor: Actor, application_id: str, data: ProviderDecision
) -> ApplicationRead:
    """The provider approves all or some fields (choosing clear or masked) or refuses."""
    app = _get(session, actor, application_id)
    if not (actor.has(Role.steward) and actor.organization_id == app.provider_org_id):
        raise Forbidden("only the provider's stewards decide on this application")
    if app.status != ApplicationStatus.provider_review.value:
        raise Conflict(f"the application is '{app.status}', not waiting for the provider")
    resource = catalog_service.get_row(session=session, resource_ref=app.resource_id)
    if not data.approve:
        return _refuse(session, actor, app, data.reasons, "sharing.provider_decision")
    requested = [f["name"] for f in app.fields]
    if data.fields:
        extra = [f.name for f in data.fields if f.name not in requested]
        if extra:
            raise Invalid(f"field(s) {', '.join(extra)} were not requested", field="fields")
        fields = {f.name: f.delivery.value for f in data.fields}
    else:
        fields = _default_delivery(resource, requested)
    app.decision_reasons = data.reasons
    _audit(
        session,
        actor,
        "sharing.provider_decision",
        app,
        detail={
            "application": app.id,
            "approved": sorted(fields),
            "refused": sorted(set(requested) - set(fields)),
        },
    )
    _grant(session, actor, app, fields)
    return _read(session, app)


def dispute(
    *, session: Session, actor: Actor, application_id: str, data: Dispute
) -> ApplicationRead:
    """The consumer escalates a refusal or an overdue answer to the operator."""
    app = _get(session, actor, application_id)
    if actor.organization_id != app.consumer_org_id:
        raise Forbidden("only the applying organization disputes its application")
    overdue = app.status == ApplicationStatus.provider_review.value and (
        app.provider_due is not None and app.provider_due < utcnow()
    )
    if app.status != ApplicationStatus.refused.value and not overdue:
        raise Conflict("only a refused or overdue application can be disputed")
    app.status = ApplicationStatus.disputed.value
    app.dispute_reason = data.reason
    app.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "sharing.dispute", app)
    return _read(session, app)


def list_applications(
    *, session: Session, actor: Actor, status: str | None = None, overdue: bool = False
) -> list[ApplicationRead]:
    """Applications the actor may see; ``overdue`` lists those past their deadline."""
    stmt = select(Application).order_by(Application.created_at.desc())
    if not actor.has(Role.operator):
        stmt = stmt.where(
            or_(
                Application.consumer_org_id == actor.organization_id,
                Application.provider_org_id == actor.organization_id,
            )
        )
    if status:
        stmt = stmt.where(Application.status == status)
    if overdue:
        now = utcnow()
        stmt = stmt.where(
            or_(
                (Application.status == ApplicationStatus.submitted.value)
                & (Application.operator_due < now),
                (Application.status == ApplicationStatus.provider_review.value)
                & (Application.provider_due < now),
            )
        )
    return [_read(session, a) for a in session.scalars(stmt)]


def get_application(*, session: Session, actor: Actor, application_id: str) -> ApplicationRead:
    """One application the actor may see. Raises NotFound."""
    return _read(session, _get(session, actor, application_id))


# grants ----------------------------------------------------------------------------------


def list_grants(*, session: Session, actor: Actor) -> list[GrantRead]:
    """Grants visible to the consumer, the provider and the operator."""
    stmt = select(Grant).order_by(Grant.created_at.desc())
    if not actor.has(Role.operator):
        stmt = stmt.where(
            or_(
                Grant.consumer_org_id == actor.organization_id,
                Grant.provider_org_id == actor.organization_id,
            )
        )
    return [GrantRead.model_validate(g, from_attributes=True) for g in session.scalars(stmt)]


def revoke_grant(*, session: Session, actor: Actor, grant_id: str, data: Revoke) -> GrantRead:
    """Revoke a grant at once (the provider's stewards or the operator)."""
    grant = session.get(Grant, grant_id)
    if grant is None or not (
        actor.has(Role.operator)
        or actor.organization_id in (grant.consumer_org_id, grant.provider_org_id)
    ):
        raise NotFound(f"no grant '{grant_id}'")
    if not (
        actor.has(Role.operator)
        or (actor.has(Role.steward) and actor.organization_id == grant.provider_org_id)
    ):
        raise Forbidden("only the provider's stewards or the operator revoke a grant")
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        grant.revoked_reason = data.reason
        session.flush()
        _audit(
            session,
            actor,
            "sharing.revoke",
            resource=grant.resource_id,
            provider_org=grant.provider_org_id,
            scenario=grant.scenario_id,
            detail={"grant": grant.id},
        )
    return GrantRead.model_validate(grant, from_attributes=True)
