"""Who received a record (from the audit log), what they were given, and telling them of a fix.

A data call's audit entry names its data subjects by keyed HMAC (``audit_subject``) and, for
calls the gateway answers with records, keyed references of those records in its detail
(``record_refs``). A record was received by the organizations whose successful query,
lookup, export or bulk call matched its subject keys (narrowed by the record references
when the entry carries them) or, for a whole-table call whose subjects were not listed,
by every such call.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.audit import names as audit_names
from hutong.audit.entry import subject_keys
from hutong.audit.models import AuditEntry
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec, PICategory
from hutong.datastore import history
from hutong.datastore import service as datastore_service
from hutong.gateway.service.deliver import deliver_value, pseudonym_key
from hutong.notifications import service as notifications
from hutong.objections.flags import record_ref
from hutong.objections.models import Objection
from hutong.objections.schemas import Received
from hutong.sharing.models import Grant
from hutong.sharing.schemas import Delivery

RECEIVING = ("data.query", "data.lookup", "data.export", "data.bulk")
WHOLE_TABLE = ("data.export", "data.bulk")
SUBJECT_CATEGORIES = (PICategory.resident_id,)


@dataclass
class Delivered:
    """One call that delivered the record to an organization."""

    leaf_index: int
    time: dt.datetime
    organization_id: str
    action: str
    scenario_id: str | None
    fields: list[str] = field(default_factory=list)


def record_subject_keys(
    resource: Resource, record: dict[str, Any] | None, *, secret: bytes
) -> list[str]:
    """The subject keys of a record's data subjects (resident IDs)."""
    if record is None:
        return []
    names = [
        f.name for f in datastore_service.fields_of(resource) if f.pi_category in SUBJECT_CATEGORIES
    ]
    return subject_keys([str(record[n]) for n in names if record.get(n)], secret=secret)


def _doc(row: AuditEntry) -> dict[str, Any] | None:
    return json.loads(row.payload) if row.payload is not None else None


def deliveries(
    *,
    session: Session,
    resource: Resource,
    record_key: str,
    record: dict[str, Any] | None,
    secret: bytes,
    since: dt.datetime,
    until: dt.datetime | None = None,
    organization_id: str | None = None,
) -> list[Delivered]:
    """The successful calls that delivered this record, oldest first."""
    conds = [
        audit_names.by_resource(session, resource.id),
        AuditEntry.action.in_(RECEIVING),
        AuditEntry.outcome == "ok",
        AuditEntry.actor_org.is_not(None),
        AuditEntry.time >= since,
    ]
    if until is not None:
        conds.append(AuditEntry.time < until)
    if organization_id is not None:
        conds.append(audit_names.by_actor(session, organization_id))
    keys = record_subject_keys(resource, record, secret=secret)
    ref = record_ref(secret=secret, resource_id=resource.id, record_key=record_key)
    found: dict[int, AuditEntry] = {}
    if keys:
        by_subject = audit_names.subject_leaves(session, keys)
        for row in session.scalars(
            select(AuditEntry).where(*conds, AuditEntry.leaf_index.in_(by_subject))
        ):
            doc = _doc(row)
            refs = (doc or {}).get("detail", {}).get("record_refs")
            if refs is None or ref in refs:
                found[row.leaf_index] = row
        candidates = select(AuditEntry).where(*conds, AuditEntry.action.in_(WHOLE_TABLE))
    else:
        candidates = select(AuditEntry).where(*conds)
    for row in session.scalars(candidates):
        if row.leaf_index in found:
            continue
        doc = _doc(row)
        if doc is None:
            continue  # archived, and not matched by subject
        detail = doc.get("detail", {})
        whole = row.action in WHOLE_TABLE and (not keys or detail.get("subjects_listed") is False)
        if whole or ref in detail.get("record_refs", []):
            found[row.leaf_index] = row
    out = []
    for row in sorted(found.values(), key=lambda r: r.leaf_index):
        doc = _doc(row) or {}
        out.append(
            Delivered(
                leaf_index=row.leaf_index,
                time=row.time,
                organization_id=str(row.actor_org),
                action=row.action,
                scenario_id=row.scenario_id,
                fields=list(doc.get("fields", [])),
            )
        )
    return out


def _deliveries_of_grant(
    session: Session, resource: Resource, organization_id: str, scenario_id: str | None
) -> dict[str, Delivery]:
    """How the organization's grant delivers each field (newest grant of that scenario)."""
    stmt = select(Grant).where(
        Grant.consumer_org_id == organization_id, Grant.resource_id == resource.id
    )
    if scenario_id:
        stmt = stmt.where(Grant.scenario_id == scenario_id)
    grant = session.scalars(stmt.order_by(Grant.created_at.desc())).first()
    if grant is None:
        return {}
    out = {}
    for name, how in grant.fields.items():
        try:
            out[name] = Delivery(how)
        except ValueError:
            out[name] = Delivery.masked
    return out


def _as_delivered(
    values: dict[str, Any],
    specs: dict[str, FieldSpec],
    deliveries_: dict[str, Delivery],
    *,
    key: bytes,
) -> dict[str, Any]:
    """Values as a grant delivers them; a field the grant does not cover is left out."""
    return {
        name: deliver_value(value, specs[name], deliveries_[name], key=key)
        for name, value in values.items()
        if name in deliveries_ and name in specs
    }


def received(
    *,
    session: Session,
    resource: Resource,
    record_key: str,
    organization_id: str,
    since: dt.datetime,
    until: dt.datetime,
    secret: bytes,
) -> list[Received]:
    """What an organization received of one record between two times, value by value."""
    record = history.read_record(session=session, resource=resource, record_key=record_key)
    specs = {f.name: f for f in datastore_service.fields_of(resource)}
    key = pseudonym_key(subject_secret=secret, consumer_org_id=organization_id)
    out = []
    for d in deliveries(
        session=session,
        resource=resource,
        record_key=record_key,
        record=record,
        secret=secret,
        since=since,
        until=until,
        organization_id=organization_id,
    ):
        then = history.values_at(
            session=session, resource=resource, record_key=record_key, moment=d.time
        )
        grant = _deliveries_of_grant(session, resource, organization_id, d.scenario_id)
        values = None
        if then is not None:
            values = _as_delivered({n: then.get(n) for n in d.fields}, specs, grant, key=key)
        out.append(
            Received(
                leaf_index=d.leaf_index,
                time=d.time,
                action=d.action,
                scenario_id=d.scenario_id,
                fields=d.fields,
                values=values,
            )
        )
    return out


def notify_recipients(
    *,
    session: Session,
    objection: Objection,
    resource: Resource,
    record: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
    secret: bytes,
    since: dt.datetime,
    history_id: str,
) -> list[str]:
    """Tell every organization that received the changed fields: old and new values as its
    grant let it see them. Returns the organizations told."""
    specs = {f.name: f for f in datastore_service.fields_of(resource)}
    key_names = [f.name for f in specs.values() if f.key]
    by_org: dict[str, list[Delivered]] = {}
    for d in deliveries(
        session=session,
        resource=resource,
        record_key=objection.record_key,
        record=record,
        secret=secret,
        since=since,
    ):
        by_org.setdefault(d.organization_id, []).append(d)
    told = []
    for org, calls in sorted(by_org.items()):
        got = {n for c in calls for n in c.fields}
        changed = [n for n in after if n in got]
        if not changed:
            continue  # the wrong value never reached them
        grant = _deliveries_of_grant(session, resource, org, calls[-1].scenario_id)
        pkey = pseudonym_key(subject_secret=secret, consumer_org_id=org)
        old = _as_delivered({n: before[n] for n in changed}, specs, grant, key=pkey)
        new = _as_delivered({n: after[n] for n in changed}, specs, grant, key=pkey)
        if not old:
            continue
        shown_key = _as_delivered({n: record[n] for n in key_names}, specs, grant, key=pkey)
        notifications.notify(
            session=session,
            organization_id=org,
            kind="record.corrected",
            title=f"更正通知 correction: {resource.name}",
            body={
                "objection": objection.id,
                "resource": resource.id,
                "record": shown_key,
                "record_ref": record_ref(
                    secret=secret, resource_id=resource.id, record_key=objection.record_key
                ),
                "changes": {n: {"old": old[n], "new": new[n]} for n in old},
                "history": history_id,
                "received": [c.leaf_index for c in calls],
            },
        )
        told.append(org)
    return told


def request_correction_at_source(
    *, session: Session, objection: Objection, resource: Resource, values: dict[str, Any]
) -> None:
    """For a resource served from the provider's own system (not hosted here): record the
    decision and ask the provider, by notification and signed webhook, to correct at source."""
    notifications.notify(
        session=session,
        organization_id=objection.provider_org_id,
        kind="objection.correct_at_source",
        title=f"请在源头更正 correct at source: {resource.name}",
        body={
            "objection": objection.id,
            "resource": resource.id,
            "record_key": objection.record_key,
            "values": values,
        },
    )
