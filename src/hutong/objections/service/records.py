"""For auditors: a record's correction history, and what an organization received on a day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.core.errors import Forbidden
from hutong.core.keys import load_keys
from hutong.core.security import Actor, Role
from hutong.core.settings import Settings
from hutong.datastore import history
from hutong.identity import service as identity_service
from hutong.objections.schemas import HistoryRead, Received
from hutong.objections.service import recipients


def _may_audit(actor: Actor, resource: Resource) -> None:
    if actor.has(Role.operator, Role.auditor):
        return
    if actor.has(Role.steward) and actor.organization_id == resource.provider_id:
        return
    raise Forbidden("record history is for auditors, operators and the provider's stewards")


def record_history(
    *, session: Session, actor: Actor, resource_ref: str, record_key: str
) -> list[HistoryRead]:
    """Every correction of one record, oldest first. Raises NotFound, Forbidden, Invalid."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    _may_audit(actor, resource)
    history.parse_key(resource, record_key)
    rows = history.history(session=session, resource_id=resource.id, record_key=record_key)
    return [HistoryRead.model_validate(r) for r in rows]


def what_was_received(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_ref: str,
    record_key: str,
    organization: str,
    day: dt.date,
) -> list[Received]:
    """What organization X received of one record on day D (China time), as delivered to it:
    the values of that moment, masked as its grant said. Raises NotFound, Forbidden, Invalid."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    _may_audit(actor, resource)
    history.parse_key(resource, record_key)
    org = identity_service.resolve_organization(session=session, ref=organization)
    zone = dt.timezone(dt.timedelta(hours=8))  # China time: UTC+8 all year
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    return recipients.received(
        session=session,
        resource=resource,
        record_key=record_key,
        organization_id=org.id,
        since=start,
        until=start + dt.timedelta(days=1),
        secret=load_keys(settings.keys_dir).subject_hmac,
    )
