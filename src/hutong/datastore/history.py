"""Record history (记录更正留痕): correct one hosted record and keep what it was.

A correction changes fields of one record and writes a ``record_history`` row (before,
after, objection, actor, time) in the same transaction, with the row locked, so the
history always chains: each row's ``before`` is the value the record had just before it.
``values_at`` rolls the current record back through the history to any earlier moment.
Loads (ingest) are not recorded here: they are batches with their own report.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.clock import utcnow
from hutong.core.errors import Invalid, NotFound
from hutong.core.security import Actor
from hutong.datastore import service as datastore_service
from hutong.datastore.models import RecordHistory

KEY_MAX = 500


def key_names(resource: Resource) -> list[str]:
    """The key fields of a resource, in order."""
    return [f.name for f in datastore_service.fields_of(resource) if f.key]


def parse_key(resource: Resource, record_key: str) -> dict[str, Any]:
    """The typed key values of ``record_key`` (composite keys: comma-joined). Raises Invalid."""
    fields = {f.name: f for f in datastore_service.fields_of(resource)}
    names = key_names(resource)
    if not names:
        raise Invalid(f"resource {resource.id} has no key fields", field="record_key")
    if not isinstance(record_key, str) or not record_key or len(record_key) > KEY_MAX:
        raise Invalid(f"a record key has 1 to {KEY_MAX} characters", field="record_key")
    if any(ord(c) < 32 for c in record_key):
        raise Invalid("a record key has no control characters", field="record_key")
    parts = record_key.split(",") if len(names) > 1 else [record_key]
    if len(parts) != len(names):
        raise Invalid(f"the key has {len(names)} parts: {', '.join(names)}", field="record_key")
    return {n: coerce(fields[n], p, field="record_key") for n, p in zip(names, parts, strict=True)}


def key_text(resource: Resource, record: Mapping[str, Any]) -> str:
    """The canonical key text of a record (as ``search_records`` gives it)."""
    return ",".join(str(record[n]) for n in key_names(resource))


def coerce(spec: FieldSpec, value: Any, *, field: str | None = None) -> Any:
    """A value as the field's type, strictly. Raises Invalid naming the field (not the value)."""
    if value is None:
        if spec.key:
            raise Invalid(f"'{spec.name}' is a key field and cannot be empty", field=field)
        return None
    wrong = Invalid(f"the value for '{spec.name}' is not a valid {spec.type.value}", field=field)
    try:
        if spec.type == FieldType.string:
            if not isinstance(value, str):
                raise wrong
            return value
        if spec.type == FieldType.integer:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise wrong
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if spec.type == FieldType.decimal:
            if isinstance(value, bool):
                raise wrong
            number = decimal.Decimal(str(value))
            if not number.is_finite():
                raise wrong
            return number
        if spec.type == FieldType.boolean:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "是"):
                return True
            if text in ("false", "0", "否"):
                return False
            raise wrong
        if spec.type == FieldType.date:
            return dt.date.fromisoformat(str(value))
        moment = dt.datetime.fromisoformat(str(value))
        return (
            moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
        )
    except (ValueError, TypeError, decimal.InvalidOperation):
        raise wrong from None


def json_value(value: Any) -> Any:
    """A stored value as JSON gives it (dates ISO, decimals as text)."""
    return datastore_service._json_value(value)


def read_record(
    *, session: Session, resource: Resource, record_key: str, lock: bool = False
) -> dict[str, Any] | None:
    """One hosted record as JSON values, or None. ``lock`` holds its row until the end of
    the transaction (PostgreSQL ``FOR UPDATE``; SQLite writers already hold the lock)."""
    if resource.table_name is None:
        return None
    table = datastore_service.table_of(resource)
    key = parse_key(resource, record_key)
    names = [f.name for f in datastore_service.fields_of(resource)]
    stmt = select(*[table.c[n] for n in names]).where(
        and_(*[table.c[n] == v for n, v in key.items()])
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        return None
    return {n: json_value(v) for n, v in zip(names, row, strict=True)}


def correct_record(
    *,
    session: Session,
    actor: Actor,
    resource: Resource,
    record_key: str,
    changes: Mapping[str, Any],
    objection_id: str | None = None,
) -> RecordHistory:
    """Change fields of one hosted record and keep its history, in the caller's transaction.

    Raises NotFound (no such record), Invalid (unknown or key field, wrong type).
    """
    fields = {f.name: f for f in datastore_service.fields_of(resource)}
    if not changes:
        raise Invalid("a correction changes at least one field", field="values")
    typed: dict[str, Any] = {}
    for name, value in changes.items():
        spec = fields.get(name)
        if spec is None:
            raise Invalid(f"resource {resource.id} has no field '{name}'", field=name)
        if spec.key:
            raise Invalid(f"'{name}' is a key field: a correction cannot change it", field=name)
        typed[name] = coerce(spec, value, field=name)
    before_record = read_record(
        session=session, resource=resource, record_key=record_key, lock=True
    )
    if before_record is None:
        raise NotFound("no record with this key", field="record_key")
    table = datastore_service.table_of(resource)
    key = parse_key(resource, record_key)
    session.execute(
        update(table).where(and_(*[table.c[n] == v for n, v in key.items()])).values(**typed)
    )
    now = utcnow()
    entry = RecordHistory(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        record_key=key_text(resource, before_record),
        before={n: before_record[n] for n in typed},
        after={n: json_value(v) for n, v in typed.items()},
        objection_id=objection_id,
        actor=actor.label,
        created_at=now,
    )
    session.add(entry)
    resource.data_updated_at = now
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            "data.correct",
            resource=resource.id,
            provider_org=resource.provider_id,
            fields=sorted(typed),
            records=1,
            detail={"history": entry.id, "objection": objection_id},
        ),
    )
    return entry


def history(*, session: Session, resource_id: str, record_key: str) -> list[RecordHistory]:
    """Every correction of one record, oldest first."""
    return list(
        session.scalars(
            select(RecordHistory)
            .where(RecordHistory.resource_id == resource_id, RecordHistory.record_key == record_key)
            .order_by(RecordHistory.created_at, RecordHistory.id)
        )
    )


def values_at(
    *,
    session: Session,
    resource: Resource,
    record_key: str,
    moment: dt.datetime,
    fields: Sequence[str] | None = None,
) -> dict[str, Any] | None:
    """The record as it was at ``moment``: today's values with later corrections undone."""
    current = read_record(session=session, resource=resource, record_key=record_key)
    if current is None:
        return None
    later = [h for h in history(session=session, resource_id=resource.id, record_key=record_key)]
    for change in reversed([h for h in later if h.created_at > moment]):
        current.update(change.before)
    if fields is not None:
        return {n: current.get(n) for n in fields}
    return current
