"""Audit events and their canonical form.

An entry is a JSON object of strings, integers, booleans, lists, objects and nulls only
(no floats: latency is whole microseconds). For such values, compact UTF-8 JSON with
member names sorted is exactly the RFC 8785 canonical form (JCS), which a third party can
recompute with any JCS library; a property test checks that equality. orjson writes it
(its escaping of strings is JCS's: only ``"``, ``\\`` and control characters, short forms
where JSON has them); names are sorted by UTF-16 code units, as JCS asks, when any is
not ASCII.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

ENTRY_VERSION = 1


@dataclass
class AuditEvent:
    """Something that must be audited: who did what to which data, for which scenario."""

    action: str
    outcome: str = "ok"
    actor_org: str | None = None
    actor_app: str | None = None
    actor_user: str | None = None
    end_user: str | None = None
    case_number: str | None = None
    resource: str | None = None
    provider_org: str | None = None
    fields: list[str] = field(default_factory=list)
    scenario: str | None = None
    call_type: str | None = None
    subjects: list[str] = field(default_factory=list)
    records: int = 0
    latency_us: int = 0
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    time: dt.datetime | None = None


def subject_key(value: str, *, secret: bytes) -> str:
    """Keyed HMAC-SHA256 of a subject identifier (e.g. a resident ID), never the value itself."""
    normal = value.strip().upper()
    return hmac.digest(secret, normal.encode("utf-8"), "sha256").hex()  # one-shot: cheaper


def subject_keys(values: Iterable[str | None], *, secret: bytes) -> list[str]:
    """Sorted, distinct subject keys of the non-empty values."""
    return sorted({subject_key(v, secret=secret) for v in values if v})


def _utc_text(moment: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffff`` in UTC, without the zone."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _time_text(moment: dt.datetime) -> str:
    return _utc_text(moment) + "Z"


def to_document(
    event: AuditEvent, *, node: str, time: dt.datetime, time_text: str | None = None
) -> dict[str, Any]:
    """The entry as a JSON object (absent values left out)."""
    actor = {
        k: v
        for k, v in (
            ("org", event.actor_org),
            ("app", event.actor_app),
            ("user", event.actor_user),
            ("end_user", event.end_user),
            ("case", event.case_number),
        )
        if v
    }
    doc: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "time": time_text or _time_text(time),
        "node": node,
        "action": event.action,
        "outcome": event.outcome,
        "actor": actor,
        "records": int(event.records),
        "latency_us": int(event.latency_us),
    }
    for key, value in (
        ("resource", event.resource),
        ("provider", event.provider_org),
        ("scenario", event.scenario),
        ("call_type", event.call_type),
        ("request_id", event.request_id),
    ):
        if value:
            doc[key] = value
    if event.fields:
        doc["fields"] = list(event.fields)
    if event.subjects:
        doc["subjects"] = list(event.subjects)
    if event.detail:
        doc["detail"] = event.detail
    return doc


def _ascii_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(k.isascii() and _ascii_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_ascii_keys(v) for v in value)
    return True


def _utf16_order(value: Any) -> Any:
    # RFC 8785 sorts member names by UTF-16 code units, which differs from code-point order
    # only beyond the Basic Multilingual Plane.
    if isinstance(value, dict):
        return {
            k: _utf16_order(value[k])
            for k in sorted(value, key=lambda name: name.encode("utf-16-be"))
        }
    if isinstance(value, list):
        return [_utf16_order(v) for v in value]
    return value


def canonical(doc: dict[str, Any], *, ascii_keys: bool | None = None) -> bytes:
    """RFC 8785 canonical bytes of a JSON object without floats (integers within 2^53).

    ``ascii_keys=True`` skips the key check for documents whose keys are known to be ASCII.
    """
    if ascii_keys or (ascii_keys is None and _ascii_keys(doc)):
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    return orjson.dumps(_utf16_order(doc))  # keeps the order _utf16_order made


@dataclass(slots=True)
class Prepared:
    """An event turned into its log row (all but the leaf index), ready to append."""

    time: dt.datetime
    time_text: str  # UTC, ``YYYY-MM-DDTHH:MM:SS.ffffff``: made once, for the entry and its row
    payload: bytes
    leaf_hash: bytes
    event: AuditEvent
    row: tuple[Any, ...] = ()  # the entry's columns after leaf_index, time as SQLite stores it
    stat_key: tuple[Any, ...] = ()  # (day as YYYY-MM-DD, node, org, resource, scenario, action)


def _flat(detail: dict[str, Any]) -> bool:
    """True if a detail's members are ASCII names of strings, integers, booleans, nulls or
    lists of them: sorting its own names is then all its canonical form needs."""
    for name, value in detail.items():
        if not name.isascii() or isinstance(value, dict | float):
            return False
        if isinstance(value, list) and any(isinstance(v, dict | list | float) for v in value):
            return False
    return True


def _payload(event: AuditEvent, node: str, time_text: str) -> bytes:
    """:func:`canonical` of :func:`to_document` for an event without ``detail``, or with a
    flat one (:func:`_flat`).

    The members are put in their sorted order as the object is made, so the encoder needs
    no sort and no key check: this runs once per audited request.
    """
    actor = {}
    if event.actor_app:
        actor["app"] = event.actor_app
    if event.case_number:
        actor["case"] = event.case_number
    if event.end_user:
        actor["end_user"] = event.end_user
    if event.actor_org:
        actor["org"] = event.actor_org
    if event.actor_user:
        actor["user"] = event.actor_user
    doc: dict[str, Any] = {"action": event.action, "actor": actor}
    if event.call_type:
        doc["call_type"] = event.call_type
    if event.detail:
        detail = event.detail
        doc["detail"] = {k: detail[k] for k in sorted(detail)} if len(detail) > 1 else detail
    if event.fields:
        doc["fields"] = event.fields  # written as they are: no copy
    doc["latency_us"] = int(event.latency_us)
    doc["node"] = node
    doc["outcome"] = event.outcome
    if event.provider_org:
        doc["provider"] = event.provider_org
    doc["records"] = int(event.records)
    if event.request_id:
        doc["request_id"] = event.request_id
    if event.resource:
        doc["resource"] = event.resource
    if event.scenario:
        doc["scenario"] = event.scenario
    if event.subjects:
        doc["subjects"] = event.subjects
    doc["time"] = time_text
    doc["v"] = ENTRY_VERSION
    return orjson.dumps(doc)


def prepare(event: AuditEvent, *, node: str, now: dt.datetime) -> Prepared:
    """Canonical bytes and leaf hash of an event (cheap enough for the request's thread)."""
    moment = event.time or now
    if moment.tzinfo is dt.UTC:  # utcnow()'s: isoformat is UTC already
        text = moment.isoformat(timespec="microseconds")[:26]
    else:
        text = _utc_text(moment)
    if event.detail and not _flat(event.detail):
        doc = to_document(event, node=node, time=moment, time_text=text + "Z")
        # every key of an entry is a fixed ASCII name except those of ``detail``
        keys_ascii = all(k.isascii() for k in event.detail) and _ascii_keys(event.detail)
        payload = canonical(doc, ascii_keys=keys_ascii)
    else:
        payload = _payload(event, node, text + "Z")
    leaf = hashlib.sha256(b"\x00" + payload).digest()
    # Made here, in the caller's thread, so the log's single writer only numbers and inserts.
    row = (
        text.replace("T", " ", 1),  # the text form SQLAlchemy's DateTime stores in SQLite
        event.action,
        event.actor_org,
        event.provider_org,
        event.resource,
        event.scenario,
        event.request_id,
        event.outcome,
        event.records,
        payload,
        leaf,
    )
    stat_key = (
        text[:10],  # the day, made a date once per statistics row by the writer
        node,
        event.actor_org or "",
        event.resource or "",
        event.scenario or "",
        event.action,
    )
    return Prepared(moment, text, payload, leaf, event, row, stat_key)
