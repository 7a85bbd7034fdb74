"""Appending to the log: leaf indexes in commit order, subject index, statistics.

Every writer takes the log's write lock before it numbers entries: SQLite's write
transaction (BEGIN IMMEDIATE) or a PostgreSQL transaction-level advisory lock. So leaf
indexes are dense and in commit order, and a rolled-back append leaves no gap.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hutong.audit.entry import AuditEvent, canonical, to_document
from hutong.audit.models import AuditEntry, AuditStat, AuditSubject
from hutong.core.clock import utcnow

LOG_LOCK_KEY = 0x687574_6F6E67  # "hutong": the advisory lock that orders appends on PostgreSQL


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOG_LOCK_KEY})


def next_index(session: Session) -> int:
    """The next leaf index (call with the log lock held)."""
    current = session.scalar(select(func.max(AuditEntry.leaf_index)))
    return 0 if current is None else int(current) + 1


def append(session: Session, events: Sequence[AuditEvent], *, node: str) -> list[int]:
    """Append events in the session's transaction; return their leaf indexes."""
    if not events:
        return []
    _lock(session)
    first = next_index(session)
    now = utcnow()
    entries: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    stats: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for offset, event in enumerate(events):
        index = first + offset
        moment = event.time or now
        payload = canonical(to_document(event, node=node, time=moment))
        entries.append(
            {
                "leaf_index": index,
                "time": moment,
                "action": event.action,
                "actor_org": event.actor_org,
                "provider_org": event.provider_org,
                "resource_id": event.resource,
                "scenario_id": event.scenario,
                "request_id": event.request_id,
                "outcome": event.outcome,
                "record_count": event.records,
                "payload": payload,
                "leaf_hash": hashlib.sha256(b"\x00" + payload).digest(),
            }
        )
        subjects.extend({"subject_key": s, "leaf_index": index} for s in event.subjects)
        key = (
            moment.date(),
            node,
            event.actor_org or "",
            event.resource or "",
            event.scenario or "",
            event.action,
        )
        stats[key][0] += 1
        stats[key][1] += event.records if event.outcome == "ok" else 0
    session.execute(insert(AuditEntry), entries)
    if subjects:
        session.execute(insert(AuditSubject), subjects)
    _add_stats(session, stats)
    return [first + i for i in range(len(events))]


def _add_stats(session: Session, stats: dict[tuple[Any, ...], list[int]]) -> None:
    dialect = session.get_bind().dialect.name
    rows = [
        {
            "day": k[0],
            "node": k[1],
            "actor_org": k[2],
            "resource_id": k[3],
            "scenario_id": k[4],
            "action": k[5],
            "calls": v[0],
            "records": v[1],
        }
        for k, v in stats.items()
    ]
    if dialect in ("sqlite", "postgresql"):
        make = sqlite_insert if dialect == "sqlite" else pg_insert
        stmt = make(AuditStat)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "node", "actor_org", "resource_id", "scenario_id", "action"],
            set_={
                "calls": AuditStat.calls + stmt.excluded.calls,
                "records": AuditStat.records + stmt.excluded.records,
            },
        )
        session.execute(stmt, rows)
        return
    for row in rows:  # pragma: no cover - other engines
        done = session.execute(
            update(AuditStat)
            .where(
                *[
                    getattr(AuditStat, c) == row[c]
                    for c in ("day", "node", "actor_org", "resource_id", "scenario_id", "action")
                ]
            )
            .values(
                calls=AuditStat.calls + row["calls"], records=AuditStat.records + row["records"]
            )
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            session.execute(insert(AuditStat), [row])
