"""异议标注: which fields of which records are under an open objection.

Read by the gateway for every response and export; kept light (only the objection table),
so the gateway can import it without the rest of the objections domain.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.objections.models import Objection
from hutong.objections.schemas import FLAGGED


@dataclass(frozen=True)
class Flag:
    """One field of one record under one open objection."""

    record_key: str
    field: str
    objection_id: str
    since: dt.datetime


def open_flags(
    *, session: Session, resource_id: str, record_keys: Iterable[str] | None = None
) -> dict[str, list[Flag]]:
    """Flags by record key; every flagged record of the resource when ``record_keys`` is None."""
    stmt = select(Objection.id, Objection.record_key, Objection.fields, Objection.created_at).where(
        Objection.resource_id == resource_id, Objection.status.in_([s.value for s in FLAGGED])
    )
    if record_keys is not None:
        keys = sorted(set(record_keys))
        if not keys:
            return {}
        stmt = stmt.where(Objection.record_key.in_(keys))
    out: dict[str, list[Flag]] = {}
    for oid, key, fields, created in session.execute(stmt.order_by(Objection.created_at)):
        for name in fields:
            out.setdefault(key, []).append(
                Flag(record_key=key, field=name, objection_id=oid, since=created)
            )
    return out


def flagged_fields(*, session: Session, resource_id: str) -> dict[str, set[str]]:
    """Every flagged record of a resource and its flagged field names."""
    flags = open_flags(session=session, resource_id=resource_id)
    return {key: {f.field for f in items} for key, items in flags.items()}


def record_ref(*, secret: bytes, resource_id: str, record_key: str) -> str:
    """A keyed reference to one record for the audit log (the key itself may be personal)."""
    message = f"record\x1f{resource_id}\x1f{record_key}".encode()
    return hmac.digest(secret, message, "sha256").hex()[:32]


def record_refs(*, secret: bytes, resource_id: str, record_keys: Iterable[str]) -> list[str]:
    """The distinct keyed references of records, sorted (an audit entry's ``record_refs``)."""
    return sorted(
        {record_ref(secret=secret, resource_id=resource_id, record_key=k) for k in record_keys}
    )


FLAG_COLUMN = "_flagged"  # bulk exports: the flagged fields of each row, comma-joined
