"""JSON routes of objections (异议): filing and evidence, decisions, extension, appeal,
record history and what a recipient received, and figures for quality reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import FileResponse

from hutong.core.clock import utcnow
from hutong.core.deps import AppSettings, DbSession, requires
from hutong.core.security import Actor, Role
from hutong.objections import service
from hutong.objections.schemas import (
    Appeal,
    AppealDecision,
    Decision,
    ExtensionDecision,
    ExtensionRequest,
    HistoryRead,
    ObjectionCreate,
    ObjectionPage,
    ObjectionRead,
    ProviderFigures,
    Received,
)

router = APIRouter(tags=["objections"])
Filer = Annotated[Actor, Depends(requires(Role.consumer, Role.citizen))]
Party = Annotated[
    Actor,
    Depends(requires(Role.consumer, Role.citizen, Role.steward, Role.operator, Role.auditor)),
]
Steward = Annotated[Actor, Depends(requires(Role.steward, Role.operator))]
Operator = Annotated[Actor, Depends(requires(Role.operator))]
Auditor = Annotated[Actor, Depends(requires(Role.auditor, Role.operator, Role.steward))]
Supervisor = Annotated[Actor, Depends(requires(Role.operator, Role.auditor))]


@router.post("/objections", status_code=201)
def file_objection(
    body: ObjectionCreate, session: DbSession, settings: AppSettings, actor: Filer
) -> ObjectionRead:
    """File an objection (异议) about a record you received, or (citizens) about yourself."""
    return service.file_objection(session=session, actor=actor, settings=settings, data=body)


@router.get("/objections")
def list_objections(
    session: DbSession,
    actor: Party,
    status: Annotated[str | None, Query(max_length=24)] = None,
    resource: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ObjectionPage:
    """Objections you may see: your own; your organization's; all, for the operator."""
    return service.list_objections(
        session=session,
        actor=actor,
        status=status,
        resource=resource,
        overdue=overdue,
        offset=offset,
        limit=limit,
    )


@router.get("/objections/figures")
def figures(
    session: DbSession,
    actor: Supervisor,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[ProviderFigures]:
    """Per provider: objections filed, confirmed (per resource), time to decision, overdue rate."""
    return service.provider_figures(
        session=session,
        since=dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC) if since else None,
        until=dt.datetime.combine(until, dt.time.min, tzinfo=dt.UTC) if until else None,
        now=utcnow(),
    )


@router.get("/objections/{objection_id}")
def get_objection(objection_id: str, session: DbSession, actor: Party) -> ObjectionRead:
    """One objection, with its evidence files."""
    return service.get_objection(session=session, actor=actor, objection_id=objection_id)


@router.post("/objections/{objection_id}/evidence", status_code=201)
def add_evidence(
    objection_id: str,
    session: DbSession,
    settings: AppSettings,
    actor: Filer,
    file: Annotated[UploadFile, File(description="PDF, PNG or JPEG")],
) -> ObjectionRead:
    """Attach an evidence file (PDF, PNG or JPEG, checked by content) to your objection."""
    return service.add_evidence(
        session=session,
        actor=actor,
        settings=settings,
        objection_id=objection_id,
        source=file.file,
        filename=file.filename,
    )


@router.get("/objections/{objection_id}/evidence/{evidence_id}")
def get_evidence(
    objection_id: str, evidence_id: str, session: DbSession, settings: AppSettings, actor: Party
) -> FileResponse:
    """An evidence file, for those who may see the objection."""
    path, item = service.evidence_file(
        session=session,
        actor=actor,
        settings=settings,
        objection_id=objection_id,
        evidence_id=evidence_id,
    )
    return FileResponse(
        path,
        media_type=item.media_type,
        headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"},
    )


@router.post("/objections/{objection_id}/decision")
def decide(
    objection_id: str, body: Decision, session: DbSession, settings: AppSettings, actor: Steward
) -> ObjectionRead:
    """The provider decides: accept and correct, accept in part, or reject with reasons."""
    return service.decide(
        session=session, actor=actor, settings=settings, objection_id=objection_id, data=body
    )


@router.post("/objections/{objection_id}/extension")
def request_extension(
    objection_id: str, body: ExtensionRequest, session: DbSession, actor: Steward
) -> ObjectionRead:
    """The provider asks the operator for more time (once)."""
    return service.request_extension(
        session=session, actor=actor, objection_id=objection_id, data=body
    )


@router.post("/objections/{objection_id}/extension/decision")
def decide_extension(
    objection_id: str,
    body: ExtensionDecision,
    session: DbSession,
    settings: AppSettings,
    actor: Operator,
) -> ObjectionRead:
    """The operator approves or refuses an extension."""
    return service.decide_extension(
        session=session, actor=actor, settings=settings, objection_id=objection_id, data=body
    )


@router.post("/objections/{objection_id}/appeal")
def appeal(
    objection_id: str, body: Appeal, session: DbSession, settings: AppSettings, actor: Filer
) -> ObjectionRead:
    """The filer appeals a rejection to the operator."""
    return service.appeal(
        session=session, actor=actor, settings=settings, objection_id=objection_id, data=body
    )


@router.post("/objections/{objection_id}/appeal/decision")
def decide_appeal(
    objection_id: str,
    body: AppealDecision,
    session: DbSession,
    settings: AppSettings,
    actor: Operator,
) -> ObjectionRead:
    """The operator upholds (and corrects) or dismisses an appeal."""
    return service.decide_appeal(
        session=session, actor=actor, settings=settings, objection_id=objection_id, data=body
    )


@router.get("/records/history")
def record_history(
    session: DbSession,
    actor: Auditor,
    resource: Annotated[str, Query(max_length=200)],
    key: Annotated[str, Query(max_length=500)],
) -> list[HistoryRead]:
    """Every correction of one record (before, after, objection, actor, time)."""
    return service.record_history(
        session=session, actor=actor, resource_ref=resource, record_key=key
    )


@router.get("/records/received")
def what_was_received(
    session: DbSession,
    settings: AppSettings,
    actor: Auditor,
    resource: Annotated[str, Query(max_length=200)],
    key: Annotated[str, Query(max_length=500)],
    organization: Annotated[str, Query(max_length=100)],
    on: dt.date,
) -> list[Received]:
    """What an organization received of one record on a day, as it was delivered then."""
    return service.what_was_received(
        session=session,
        actor=actor,
        settings=settings,
        resource_ref=resource,
        record_key=key,
        organization=organization,
        day=on,
    )
