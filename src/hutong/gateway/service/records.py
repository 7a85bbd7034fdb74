"""Record calls: query by key fields, lookup by key, and verification (核验)."""

from __future__ import annotations

import datetime as dt
import decimal
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid
from hutong.datastore import service as datastore_service
from hutong.gateway.service.access import Authorized, require_granted
from hutong.gateway.service.deliver import category_of, deliver_value
from hutong.gateway.service.schemas import (
    DeliveredField,
    FieldFlag,
    GatewayPage,
    GatewayRecord,
    Operator,
    Outcome,
    Scalar,
    VerifyAnswer,
)
from hutong.objections import flags
from hutong.privacy import masking

LOCAL_OFFSET = dt.timezone(dt.timedelta(hours=8))  # a time without offset is Beijing time
ORDERED = (FieldType.integer, FieldType.decimal, FieldType.date, FieldType.datetime)
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "equals": operator.eq,
    "after": operator.gt,
    "before": operator.lt,
    "at_least": operator.ge,
    "at_most": operator.le,
}


@dataclass
class Answer:
    """What a call answers, and what its audit entry records about it."""

    body: Any  # what the route renders (None: nothing found)
    fields: list[str]
    records: int
    subjects: list[str] = field(default_factory=list)  # raw identifiers: hash before logging
    detail: dict[str, Any] = field(default_factory=dict)
    record_keys: list[str] = field(default_factory=list)  # raw keys: hash before logging


def delivered_fields(auth: Authorized, specs: Sequence[FieldSpec]) -> list[DeliveredField]:
    return [
        DeliveredField(
            name=f.name,
            label=f.label,
            type=f.type,
            pi_category=f.pi_category,
            delivery=auth.deliveries[f.name],
        )
        for f in specs
    ]


def _deliver(
    auth: Authorized, specs: Sequence[FieldSpec], record: Mapping[str, Any], pseudonym_key: bytes
) -> dict[str, Any]:
    return {
        f.name: deliver_value(record.get(f.name), f, auth.deliveries[f.name], key=pseudonym_key)
        for f in specs
    }


def _subjects(auth: Authorized, records: Sequence[Mapping[str, Any]]) -> list[str]:
    names = [f.name for f in auth.subject_fields]
    return [str(r[n]) for r in records for n in names if r.get(n)]


def _read_fields(auth: Authorized, specs: Sequence[FieldSpec]) -> list[str]:
    """The delivered fields plus the subject and key fields (read for the audit and the
    objection flags, not delivered)."""
    names = [f.name for f in specs]
    extra = [*auth.subject_fields, *auth.key_fields]
    return names + list(dict.fromkeys(f.name for f in extra if f.name not in names))


def _record_keys(auth: Authorized, records: Sequence[Mapping[str, Any]]) -> list[str]:
    names = [f.name for f in auth.key_fields]
    return [",".join(str(r[n]) for n in names) for r in records] if names else []


def _flags(
    session: Session,
    auth: Authorized,
    keys: Sequence[str],
    delivered: Sequence[str],
    *,
    indexed: bool,
) -> list[FieldFlag]:
    """异议标注 of the delivered fields of these records (by position in a page)."""
    found = flags.open_flags(session=session, resource_id=auth.resource_id, record_keys=keys)
    if not found:
        return []
    return [
        FieldFlag(
            field=f.field,
            objection_id=f.objection_id,
            since=f.since,
            record=i if indexed else None,
        )
        for i, key in enumerate(keys)
        for f in found.get(key, [])
        if f.field in delivered
    ]


def query(
    *,
    session: Session,
    auth: Authorized,
    fields: Sequence[FieldSpec],
    filters: Mapping[str, Sequence[str]],
    offset: int,
    limit: int,
    max_values: int,
    pseudonym_key: bytes,
) -> Answer:
    """Records matching equality filters on key (indexed) fields, paged. Raises Invalid.

    At least one filter is needed: reading a whole table is a bulk call.
    """
    if not filters:
        keys = ", ".join(f.name for f in auth.key_fields) or "none"
        raise Invalid(
            f"filter on a key field (key fields: {keys}); a whole table is a bulk call",
            field="filters",
        )
    for name, values in filters.items():
        spec = auth.spec(name)
        if spec is None:
            raise Invalid(f"resource {auth.resource_id} has no field '{name}'", field=name)
        if not spec.key:
            raise Invalid(
                f"'{name}' is not a key field: queries filter on key (indexed) fields only",
                field=name,
            )
        if len(values) > max_values:
            raise Invalid(f"at most {max_values} values per filter", field=name)
    page = datastore_service.search_records(
        session=session,
        resource_ref=auth.resource_id,
        filters={k: list(v) if len(v) > 1 else v[0] for k, v in filters.items()},
        offset=offset,
        limit=limit,
        fields=_read_fields(auth, fields),
    )
    found = _record_keys(auth, page.records)
    body = GatewayPage(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        fields=delivered_fields(auth, fields),
        records=[_deliver(auth, fields, r, pseudonym_key) for r in page.records],
        total=page.total or 0,
        offset=offset,
        limit=limit,
        flags=_flags(session, auth, found, [f.name for f in fields], indexed=True),
    )
    return Answer(
        body=body,
        fields=[f.name for f in fields],
        records=len(page.records),
        subjects=_subjects(auth, page.records),
        record_keys=found,
    )


def key_filters(auth: Authorized, key: str | Mapping[str, Scalar]) -> dict[str, str]:
    """Filters of one record's key (composite keys: comma-joined, or by name). Raises Invalid."""
    names = [f.name for f in auth.key_fields]
    if not names:
        raise Invalid("this resource has no key fields; use a query with filters", field="key")
    if isinstance(key, Mapping):
        if sorted(key) != sorted(names):
            raise Invalid(f"the key is made of: {', '.join(names)}", field="key")
        return {n: str(key[n]) for n in names}
    values = key.split(",") if len(names) > 1 else [key]
    if len(values) != len(names):
        raise Invalid(f"the key has {len(names)} parts: {', '.join(names)}", field="key")
    return dict(zip(names, values, strict=True))


def lookup(
    *,
    session: Session,
    auth: Authorized,
    fields: Sequence[FieldSpec],
    key: str,
    pseudonym_key: bytes,
) -> Answer:
    """One record by its key (``body`` None when there is none). Raises Invalid."""
    page = datastore_service.search_records(
        session=session,
        resource_ref=auth.resource_id,
        filters=key_filters(auth, key),
        limit=1,
        fields=_read_fields(auth, fields),
        include_total=False,
    )
    if not page.records:
        return Answer(
            body=None, fields=[f.name for f in fields], records=0, detail={"found": False}
        )
    keys = _record_keys(auth, page.records)
    body = GatewayRecord(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        fields=delivered_fields(auth, fields),
        record=_deliver(auth, fields, page.records[0], pseudonym_key),
        flags=_flags(session, auth, keys, [f.name for f in fields], indexed=False),
    )
    return Answer(
        body=body,
        fields=[f.name for f in fields],
        records=1,
        subjects=_subjects(auth, page.records),
        record_keys=keys,
    )


def _claim(spec: FieldSpec, value: Scalar) -> Any:
    """A claimed value as the field's type. Raises Invalid (without echoing the value)."""
    wrong = Invalid(
        f"the value for '{spec.name}' is not a valid {spec.type.value}", field=spec.name
    )
    try:
        if spec.type == FieldType.string:
            return str(value)
        if spec.type == FieldType.integer:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise wrong
            return int(value)
        if spec.type == FieldType.decimal:
            if isinstance(value, bool):
                raise wrong
            return decimal.Decimal(str(value))
        if spec.type == FieldType.boolean:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "是", "y", "yes"):
                return True
            if text in ("false", "0", "否", "n", "no"):
                return False
            raise wrong
        if spec.type == FieldType.date:
            return dt.date.fromisoformat(str(value))
        moment = dt.datetime.fromisoformat(str(value))
        return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_OFFSET)
    except (ValueError, decimal.InvalidOperation):
        raise wrong from None


def _stored(spec: FieldSpec, value: Any) -> Any:
    """A stored value (as ``search_records`` gives it) in the type claims are compared with."""
    if value is None:
        return None
    if spec.type == FieldType.decimal:
        return decimal.Decimal(str(value))
    if spec.type == FieldType.date:
        return dt.date.fromisoformat(str(value))
    if spec.type == FieldType.datetime:
        moment = dt.datetime.fromisoformat(str(value))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return value


def _normal(spec: FieldSpec, text: str) -> str:
    category = category_of(spec)
    return masking.normalize(text, category) if category else text.strip()


def _check(spec: FieldSpec, stored: Any, check: Scalar | Mapping[Operator, Scalar]) -> Outcome:
    if isinstance(check, Mapping):
        if len(check) != 1:
            raise Invalid(f"give one comparison for '{spec.name}'", field=spec.name)
        op, claimed = next(iter(check.items()))
    else:
        op, claimed = "equals", check
    if op != "equals" and spec.type not in ORDERED:
        raise Invalid(
            f"'{op}' compares integer, decimal, date and datetime fields, not '{spec.name}'",
            field=spec.name,
        )
    value = _claim(spec, claimed)
    actual = _stored(spec, stored)
    if actual is None:
        return "no_match"
    if spec.type == FieldType.string:
        actual, value = _normal(spec, str(actual)), _normal(spec, value)
    return "match" if COMPARE[op](actual, value) else "no_match"


def verify(
    *,
    session: Session,
    auth: Authorized,
    key: str | Mapping[str, Scalar],
    checks: Mapping[str, Scalar | Mapping[Operator, Scalar]],
) -> Answer:
    """Match or no match per claimed field of one record; no value leaves. Raises Invalid,
    Forbidden (a checked field not granted)."""
    names = list(checks)
    require_granted(auth, names, param="checks")
    specs = [s for s in (auth.spec(n) for n in names) if s is not None]
    filters = key_filters(auth, key)
    for spec in specs:  # refuse a malformed check whether or not the record exists
        _check(spec, None, checks[spec.name])
    page = datastore_service.search_records(
        session=session,
        resource_ref=auth.resource_id,
        filters=filters,
        limit=1,
        fields=_read_fields(auth, specs),
        include_total=False,
    )
    record = page.records[0] if page.records else None
    results: dict[str, Outcome] = {
        s.name: _check(s, record.get(s.name), checks[s.name]) if record else "no_match"
        for s in specs
    }
    body = VerifyAnswer(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        found=record is not None,
        match=record is not None and all(r == "match" for r in results.values()),
        results=results,
        flags=_flags(session, auth, _record_keys(auth, page.records), names, indexed=False),
    )
    return Answer(
        body=body,
        fields=names,
        records=0,  # nothing is delivered
        subjects=_subjects(auth, page.records),
        detail={"found": record is not None},
    )
