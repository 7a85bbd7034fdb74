"""JSON routes of sharing: scenarios, applications and their review, grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from hutong.core.deps import AppSettings, DbSession, requires
from hutong.core.security import Actor, Role
from hutong.sharing import service
from hutong.sharing.schemas import (
    ApplicationCreate,
    ApplicationRead,
    Dispute,
    GrantRead,
    OperatorCheck,
    ProviderDecision,
    Revoke,
    ScenarioCreate,
    ScenarioRead,
)

router = APIRouter(tags=["sharing"])
Consumer = Annotated[Actor, Depends(requires(Role.consumer))]
Operator = Annotated[Actor, Depends(requires(Role.operator))]
Steward = Annotated[Actor, Depends(requires(Role.steward))]
Party = Annotated[Actor, Depends(requires(Role.consumer, Role.steward, Role.operator))]
Revoker = Annotated[Actor, Depends(requires(Role.steward, Role.operator))]


@router.post("/scenarios", status_code=201)
def create_scenario(body: ScenarioCreate, session: DbSession, actor: Consumer) -> ScenarioRead:
    """Register an application scenario (应用场景) for your organization."""
    return service.create_scenario(session=session, actor=actor, data=body)


@router.get("/scenarios")
def list_scenarios(session: DbSession, actor: Party) -> list[ScenarioRead]:
    """Your organization's scenarios (all, for operators)."""
    return service.list_scenarios(session=session, actor=actor)


@router.post("/applications", status_code=201)
def submit(
    body: ApplicationCreate, session: DbSession, settings: AppSettings, actor: Consumer
) -> ApplicationRead:
    """Apply for fields of a resource under one of your scenarios (共享申请)."""
    return service.submit(session=session, actor=actor, data=body, settings=settings)


@router.get("/applications")
def list_applications(
    session: DbSession, actor: Party, status: str | None = None, overdue: bool = False
) -> list[ApplicationRead]:
    """Applications you filed or received (all, for operators); ``overdue=true`` for late ones."""
    return service.list_applications(session=session, actor=actor, status=status, overdue=overdue)


@router.get("/applications/{application_id}")
def get_application(application_id: str, session: DbSession, actor: Party) -> ApplicationRead:
    """One application you filed or received."""
    return service.get_application(session=session, actor=actor, application_id=application_id)


@router.post("/applications/{application_id}/operator-check")
def operator_check(
    application_id: str,
    body: OperatorCheck,
    session: DbSession,
    settings: AppSettings,
    actor: Operator,
) -> ApplicationRead:
    """The operator's check: refuse with reasons, or pass on (granted if unconditional)."""
    return service.operator_check(
        session=session, actor=actor, application_id=application_id, data=body, settings=settings
    )


@router.post("/applications/{application_id}/decision")
def provider_decision(
    application_id: str, body: ProviderDecision, session: DbSession, actor: Steward
) -> ApplicationRead:
    """The provider approves all or some fields, or refuses with reasons."""
    return service.provider_decide(
        session=session, actor=actor, application_id=application_id, data=body
    )


@router.post("/applications/{application_id}/dispute")
def dispute(
    application_id: str, body: Dispute, session: DbSession, actor: Consumer
) -> ApplicationRead:
    """Escalate a refusal or an overdue answer to the operator."""
    return service.dispute(session=session, actor=actor, application_id=application_id, data=body)


@router.get("/grants")
def list_grants(session: DbSession, actor: Party) -> list[GrantRead]:
    """Grants you hold or gave (all, for operators)."""
    return service.list_grants(session=session, actor=actor)


@router.post("/grants/{grant_id}/revoke")
def revoke(grant_id: str, body: Revoke, session: DbSession, actor: Revoker) -> GrantRead:
    """Revoke a grant at once."""
    return service.revoke_grant(session=session, actor=actor, grant_id=grant_id, data=body)
