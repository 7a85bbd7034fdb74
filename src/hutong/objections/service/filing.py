"""Filing an objection (提出, 受理) and its evidence; listing and reading objections."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Forbidden, Invalid, NotFound
from hutong.core.keys import load_keys
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.datastore import history
from hutong.datastore import service as datastore_service
from hutong.notifications import service as notifications
from hutong.objections import evidence as evidence_files
from hutong.objections.models import Evidence, Objection
from hutong.objections.schemas import (
    FLAGGED,
    OWN_REMEDY,
    Matter,
    ObjectionCreate,
    ObjectionPage,
    ObjectionRead,
    ObjectionStatus,
)
from hutong.objections.service import common, recipients


def _check_fields(resource: Resource, data: ObjectionCreate) -> tuple[list[str], dict[str, object]]:
    specs = {f.name: f for f in datastore_service.fields_of(resource)}
    names = list(dict.fromkeys(data.fields))
    for name in names:
        spec = specs.get(name)
        if spec is None:
            raise Invalid(
                f"resource {resource.id} has no field '{name}'", field="fields", value=name
            )
        if spec.key:
            raise Invalid(
                f"'{name}' is a key field: a wrong key is a different record; tell the provider",
                field="fields",
                value=name,
            )
    proposed: dict[str, object] = {}
    for name, value in data.proposed.items():
        if name not in names:
            raise Invalid(
                f"a proposed value for '{name}', which is not objected to", field="proposed"
            )
        proposed[name] = history.coerce(specs[name], value, field=name)
    return names, {n: _plain(v) for n, v in proposed.items()}


def _plain(value: object) -> object:
    return history.json_value(value)


def file_objection(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    data: ObjectionCreate,
    now: dt.datetime | None = None,
) -> ObjectionRead:
    """File an objection about one record; it is accepted and flagged at once.

    A consumer organization objects to records it received (the audit log says so); a
    citizen to records about themselves (their verified subject key). Raises Invalid
    (out of scope, with the remedy; unknown or key field; bad key), NotFound, Forbidden,
    Conflict (the same filer already has an open objection to this record).
    """
    if data.matter != Matter.record_error:
        remedy = OWN_REMEDY[data.matter]
        raise Invalid(
            f"out of scope: this matter has its own legal remedy: {remedy}",
            field="matter",
            extra={"reason": "own_legal_remedy", "remedy": remedy},
        )
    citizen = common.citizen_key(session, actor)
    is_org = bool(actor.organization_id and actor.has(Role.consumer))
    if citizen is None and not is_org:
        if actor.has(Role.citizen):
            raise Forbidden("verify your identity before objecting to your records")
        raise Forbidden("objections are filed by a consumer organization or a citizen")
    resource = catalog_service.get_row(session=session, resource_ref=data.resource)
    fields, proposed = _check_fields(resource, data)
    history.parse_key(resource, data.record_key)
    secret = load_keys(settings.keys_dir).subject_hmac
    record = history.read_record(session=session, resource=resource, record_key=data.record_key)
    if resource.hosted and record is None:
        raise NotFound("no record with this key", field="record_key")
    key = history.key_text(resource, record) if record is not None else data.record_key
    now = now or utcnow()
    if citizen is not None and not is_org:
        if citizen not in recipients.record_subject_keys(resource, record, secret=secret):
            # the same answer as for a missing record: a citizen cannot probe others' records
            raise NotFound("no record with this key", field="record_key")
        filer_kind, filer_org = "citizen", None
    else:
        assert actor.organization_id is not None
        got = recipients.deliveries(
            session=session,
            resource=resource,
            record_key=key,
            record=record,
            secret=secret,
            since=now - dt.timedelta(days=settings.objection_recipient_window_days),
            organization_id=actor.organization_id,
        )
        if not got:
            raise Forbidden(
                "your organization has not received this record: object to records you received",
                field="record_key",
            )
        filer_kind, filer_org = "organization", actor.organization_id
    same = (
        select(func.count())
        .select_from(Objection)
        .where(
            Objection.resource_id == resource.id,
            Objection.record_key == key,
            Objection.status.in_([s.value for s in FLAGGED]),
            Objection.filer_user_id == actor.id
            if filer_kind == "citizen"
            else Objection.filer_org_id == filer_org,
        )
    )
    if session.scalar(same):
        raise Conflict("you already have an open objection to this record", field="record_key")
    objection = Objection(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        provider_org_id=resource.provider_id,
        record_key=key,
        fields=fields,
        proposed=proposed,
        explanation=data.explanation,
        filer_kind=filer_kind,
        filer_org_id=filer_org,
        filer_user_id=actor.id if actor.kind == "user" else None,
        filer=actor.label,
        status=ObjectionStatus.open.value,
        due_at=common.deadline(settings, now, settings.objection_verify_days),
        created_at=now,
        updated_at=now,
    )
    session.add(objection)
    session.flush()
    common.audit(session, actor, "objection.file", objection, filer=filer_kind)
    notifications.notify(
        session=session,
        organization_id=objection.provider_org_id,
        kind="objection.filed",
        title=f"新异议 new objection: {resource.name}",
        body={
            "objection": objection.id,
            "resource": resource.id,
            "fields": fields,
            "due_at": objection.due_at.isoformat(),
        },
    )
    return common.read(session, objection)


def add_evidence(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    objection_id: str,
    source: BinaryIO,
    filename: str | None,
) -> ObjectionRead:
    """Attach a PDF, PNG or JPEG (told by content) to one's own open objection.

    Raises NotFound, Forbidden (not the filer), Conflict (closed; too many files),
    TooLarge, Invalid (wrong type, empty).
    """
    objection = common.load(session, actor, objection_id, for_update=True)
    if not _is_filer(actor, objection):
        raise Forbidden("only the filer adds evidence")
    if objection.status not in [s.value for s in FLAGGED]:
        raise Conflict(f"the objection is {objection.status}: no more evidence")
    count = session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.objection_id == objection.id)
    )
    if (count or 0) >= settings.objection_evidence_max_files:
        raise Conflict(f"an objection has at most {settings.objection_evidence_max_files} files")
    stored = evidence_files.store(
        source=source,
        filename=filename,
        uploads_dir=settings.uploads_dir,
        max_bytes=settings.objection_evidence_max_bytes,
    )
    session.add(
        Evidence(
            id=str(uuid.uuid4()),
            objection_id=objection.id,
            filename=stored.filename,
            media_type=stored.media_type,
            size=stored.size,
            sha256=stored.sha256,
            created_at=utcnow(),
        )
    )
    objection.updated_at = utcnow()
    session.flush()
    common.audit(session, actor, "objection.evidence", objection, sha256=stored.sha256)
    return common.read(session, objection)


def evidence_file(
    *, session: Session, actor: Actor, settings: Settings, objection_id: str, evidence_id: str
) -> tuple[Path, Evidence]:
    """The stored file of one evidence item, for those who may see the objection."""
    objection = common.load(session, actor, objection_id)
    item = session.get(Evidence, evidence_id)
    if item is None or item.objection_id != objection.id:
        raise NotFound(f"no evidence '{evidence_id}'")
    return evidence_files.path_of(settings.uploads_dir, item.sha256), item


def _is_filer(actor: Actor, objection: Objection) -> bool:
    if objection.filer_kind == "citizen":
        return actor.id == objection.filer_user_id
    return actor.organization_id is not None and actor.organization_id == objection.filer_org_id


def get_objection(*, session: Session, actor: Actor, objection_id: str) -> ObjectionRead:
    """One objection the actor may see. Raises NotFound."""
    return common.read(session, common.load(session, actor, objection_id))


def list_objections(
    *,
    session: Session,
    actor: Actor,
    status: str | None = None,
    resource: str | None = None,
    overdue: bool = False,
    offset: int = 0,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> ObjectionPage:
    """Objections the actor may see, newest first: a citizen their own, an organization
    those it filed or (stewards) received, operators and auditors all."""
    stmt = select(Objection)
    cond = common.visible(actor)
    if cond is not None:
        stmt = stmt.where(cond)
    if status:
        stmt = stmt.where(Objection.status == status)
    if resource:
        stmt = stmt.where(Objection.resource_id == resource)
    if overdue:
        stmt = stmt.where(
            Objection.status == ObjectionStatus.open.value, Objection.due_at < (now or utcnow())
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Objection.created_at.desc(), Objection.id).offset(offset).limit(limit)
    )
    return ObjectionPage(
        items=[common.read(session, r) for r in rows], total=total, offset=offset, limit=limit
    )


def is_filer(actor: Actor, objection: Objection) -> bool:
    """Whether the actor filed the objection (the citizen, or a member of the organization)."""
    return _is_filer(actor, objection)
