"""Calls on provider-API resources: the data stays at the provider, the gateway fetches it.

The gateway calls the endpoint the provider registered (``hutong.upstream``) with the
contract of docs/sharing.md: ``GET {base}/records?{key field}={value}&offset=&limit=``
answering ``{"records": [...], "total": n}``. Around every call:

- the grant is checked first (``access.authorize``): no grant, no upstream call;
- a timeout (the endpoint's, capped by ``HUTONG_UPSTREAM_TIMEOUT_MAX_SECONDS``) over the
  whole exchange, and a cap on the answer's size, read as a stream;
- a circuit breaker per endpoint (pybreaker, decision 0010): after
  ``HUTONG_UPSTREAM_BREAKER_FAILURES`` failures in a row the gateway stops calling for
  ``HUTONG_UPSTREAM_BREAKER_RESET_SECONDS`` and answers 503 with ``Retry-After``
  (the HTTP side, breakers included, is ``upstream_client``);
- redirects are never followed (a provider API answers where it was registered);
- only the granted fields are kept, each value checked against its field's type, then
  delivered (masked, pseudonymized or clear) by ``deliver.deliver_value`` exactly as
  hosted data; everything else the upstream sends is dropped unread;
- a malformed answer is a 502 that names the problem; nothing of it is passed through.

Failures: timeout 504; open circuit or disabled endpoint 503; unreachable, 5xx, redirect,
4xx, wrong content type, oversized, invalid JSON or values 502. All are audited.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid
from hutong.gateway.service.access import Authorized, require_granted
from hutong.gateway.service.records import (
    LOCAL_OFFSET,
    Answer,
    _check,
    _claim,
    _deliver,
    _normal,
    _stored,
    _subjects,
    delivered_fields,
    key_filters,
)
from hutong.gateway.service.schemas import (
    GatewayPage,
    GatewayRecord,
    Operator,
    Outcome,
    Scalar,
    VerifyAnswer,
)
from hutong.gateway.service.upstream_client import (
    Fetched,
    UpstreamCaller,
    UpstreamError,
)
from hutong.upstream.service import UpstreamTarget

INT64 = 2**63
DECIMAL_DIGITS = 38  # the precision hosted decimals have (Arrow decimal128)


def typed_value(spec: FieldSpec, value: Any) -> Any:
    """An upstream JSON value as the gateway holds a hosted one (``search_records``' form).

    Raises ValueError without echoing the value.
    """
    if value is None:
        return None
    kind = spec.type
    if kind == FieldType.string:
        if not isinstance(value, str) or (spec.length is not None and len(value) > spec.length):
            raise ValueError
        return value
    if kind == FieldType.integer:
        if isinstance(value, bool) or not isinstance(value, int) or not -INT64 <= value < INT64:
            raise ValueError
        return value
    if kind == FieldType.decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise ValueError from None
        # finite and of a sane size: "1e999999999" would print a billion digits
        if not number.is_finite() or not -DECIMAL_DIGITS <= number.adjusted() < DECIMAL_DIGITS:
            raise ValueError
        return format(number.normalize(), "f")
    if kind == FieldType.boolean:
        if not isinstance(value, bool):
            raise ValueError
        return value
    if not isinstance(value, str):
        raise ValueError
    if kind == FieldType.date:
        return dt.date.fromisoformat(value).isoformat()
    moment = dt.datetime.fromisoformat(value)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_OFFSET)
    return moment.astimezone(dt.UTC).isoformat()


def _matches(spec: FieldSpec, value: Any, wanted: Sequence[str]) -> bool:
    if value is None:
        return False
    actual = _stored(spec, value)
    for text in wanted:
        claimed = _claim(spec, text)
        if spec.type == FieldType.string:
            if _normal(spec, str(actual)) == _normal(spec, claimed):
                return True
        elif actual == claimed:
            return True
    return False


def _kept(
    auth: Authorized,
    fetched: Fetched,
    names: Sequence[str],
    filters: Mapping[str, Sequence[str]],
    limit: int,
) -> list[dict[str, Any]]:
    """The upstream records reduced to ``names``, typed, and checked against the query.

    Raises UpstreamError naming the record and field (never the value).
    """
    if len(fetched.records) > limit:
        raise UpstreamError(
            f"the provider's API answered {len(fetched.records)} records where at most "
            f"{limit} were asked for",
            reason="upstream_shape",
        )
    kept = []
    for row, raw in enumerate(fetched.records, start=1):
        record = {}
        for name in names:
            spec = auth.spec(name)
            assert spec is not None
            try:
                record[name] = typed_value(spec, raw.get(name))
            except ValueError:
                raise UpstreamError(
                    f"record {row} from the provider's API: field '{name}' is not a valid "
                    f"{spec.type.value}",
                    reason="upstream_invalid_value",
                ) from None
        for name, wanted in filters.items():
            spec = auth.spec(name)
            assert spec is not None
            if not _matches(spec, record.get(name), wanted):
                raise UpstreamError(
                    f"record {row} from the provider's API does not match the query "
                    f"(field '{name}')",
                    reason="upstream_mismatch",
                )
        kept.append(record)
    return kept


def _read_names(
    auth: Authorized, specs: Sequence[FieldSpec], filters: Mapping[str, Sequence[str]]
) -> list[str]:
    """Delivered fields, then subject fields (for the audit) and filtered fields (checked)."""
    names = [f.name for f in specs]
    for name in [f.name for f in auth.subject_fields] + list(filters):
        if name not in names:
            names.append(name)
    return names


def _target(auth: Authorized) -> UpstreamTarget:
    assert auth.upstream is not None
    return auth.upstream


def _check_filters(auth: Authorized, filters: Mapping[str, Sequence[str]], max_values: int) -> None:
    allowed = _target(auth).key_fields
    for name, values in filters.items():
        spec = auth.spec(name)
        if spec is None:
            raise Invalid(f"resource {auth.resource_id} has no field '{name[:64]}'", field=name)
        if name not in allowed:
            raise Invalid(
                f"'{name}' is not a field the provider's API is queried by "
                f"(key fields: {', '.join(allowed)})",
                field=name,
            )
        if len(values) > max_values:
            raise Invalid(f"at most {max_values} values per filter", field=name)
        for value in values:
            _claim(spec, value)  # a malformed value is refused here, not sent upstream


def _params(
    filters: Mapping[str, Sequence[str]], names: Sequence[str], offset: int, limit: int
) -> list[tuple[str, str]]:
    params = [(name, value) for name, values in filters.items() for value in values]
    return [*params, ("offset", str(offset)), ("limit", str(limit)), ("fields", ",".join(names))]


def _headers(auth: Authorized, request_id: str | None) -> dict[str, str]:
    """Who is asking, so the provider can match its own records with our audit entry."""
    headers = {"X-Hutong-Consumer": auth.consumer_org_id}
    if request_id:
        headers["X-Hutong-Request-Id"] = request_id
    return headers


def query(
    *,
    caller: UpstreamCaller,
    auth: Authorized,
    fields: Sequence[FieldSpec],
    filters: Mapping[str, Sequence[str]],
    offset: int,
    limit: int,
    max_values: int,
    pseudonym_key: bytes,
    request_id: str | None,
) -> Answer:
    """Records from the provider's API by key fields, paged. Raises Invalid and the
    upstream errors (502, 503, 504)."""
    if not filters:
        keys = ", ".join(_target(auth).key_fields)
        raise Invalid(
            f"filter on a key field (key fields: {keys}); the provider's API is queried by key",
            field="filters",
        )
    _check_filters(auth, filters, max_values)
    names = _read_names(auth, fields, filters)
    fetched = caller.fetch(
        _target(auth), _params(filters, names, offset, limit), _headers(auth, request_id)
    )
    records = _kept(auth, fetched, names, filters, limit)
    body = GatewayPage(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        fields=delivered_fields(auth, fields),
        records=[_deliver(auth, fields, r, pseudonym_key) for r in records],
        total=fetched.total if fetched.total is not None else offset + len(records),
        offset=offset,
        limit=limit,
    )
    return Answer(
        body=body,
        fields=[f.name for f in fields],
        records=len(records),
        subjects=_subjects(auth, records),
        detail={"upstream": _target(auth).endpoint_id},
    )


def _fetch_one(
    caller: UpstreamCaller,
    auth: Authorized,
    specs: Sequence[FieldSpec],
    key: str | Mapping[str, Scalar],
    request_id: str | None,
) -> dict[str, Any] | None:
    filters = {name: [value] for name, value in key_filters(auth, key).items()}
    missing = [n for n in filters if n not in _target(auth).key_fields]
    if missing:
        raise Invalid(
            f"the provider's API is not queried by the key field(s) {', '.join(missing)}; "
            "use a query",
            field="key",
        )
    _check_filters(auth, filters, max_values=1)
    names = _read_names(auth, specs, filters)
    fetched = caller.fetch(_target(auth), _params(filters, names, 0, 1), _headers(auth, request_id))
    records = _kept(auth, fetched, names, filters, 1)
    return records[0] if records else None


def lookup(
    *,
    caller: UpstreamCaller,
    auth: Authorized,
    fields: Sequence[FieldSpec],
    key: str,
    pseudonym_key: bytes,
    request_id: str | None,
) -> Answer:
    """One record by its key from the provider's API (``body`` None when there is none)."""
    found = _fetch_one(caller, auth, fields, key, request_id)
    names = [f.name for f in fields]
    detail: dict[str, Any] = {"upstream": _target(auth).endpoint_id}
    if found is None:
        return Answer(body=None, fields=names, records=0, detail={**detail, "found": False})
    body = GatewayRecord(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        fields=delivered_fields(auth, fields),
        record=_deliver(auth, fields, found, pseudonym_key),
    )
    return Answer(
        body=body, fields=names, records=1, subjects=_subjects(auth, [found]), detail=detail
    )


def verify(
    *,
    caller: UpstreamCaller,
    auth: Authorized,
    key: str | Mapping[str, Scalar],
    checks: Mapping[str, Scalar | Mapping[Operator, Scalar]],
    request_id: str | None,
) -> Answer:
    """核验 against the provider's API: the gateway compares, no value leaves it."""
    names = list(checks)
    require_granted(auth, names, param="checks")
    specs = [s for s in (auth.spec(n) for n in names) if s is not None]
    key_filters(auth, key)
    for spec in specs:  # refuse a malformed check before calling anyone
        _check(spec, None, checks[spec.name])
    record = _fetch_one(caller, auth, specs, key, request_id)
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
    )
    return Answer(
        body=body,
        fields=names,
        records=0,
        subjects=_subjects(auth, [record] if record else []),
        detail={"upstream": _target(auth).endpoint_id, "found": record is not None},
    )


def refuse_bulk(auth: Authorized) -> None:
    """Bulk snapshots are not offered for provider-API resources. Raises Invalid."""
    if auth.upstream is not None:
        raise Invalid(
            f"resource {auth.resource_id} is served by its provider's API, which is queried "
            "by key: bulk snapshots are not offered; use query, lookup or verify",
            field="resource",
            extra={"reason": "provider_api"},
        )
