"""Appending to the log: leaf indexes in commit order, subject index, statistics.

Every writer takes the log's write lock before it numbers entries: SQLite's write
transaction (BEGIN IMMEDIATE) or a PostgreSQL transaction-level advisory lock. So leaf
indexes are dense and in commit order, and a rolled-back append leaves no gap.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hutong.audit.entry import AuditEvent, Prepared, prepare
from hutong.audit.models import AuditEntry, AuditStat
from hutong.core.clock import utcnow

LOG_LOCK_KEY = 0x687574_6F6E67  # "hutong": the advisory lock that orders appends on PostgreSQL


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOG_LOCK_KEY})


def next_index(session: Session) -> int:
    """The next leaf index (call with the log lock held)."""
    current = session.scalar(select(func.max(AuditEntry.leaf_index)))
    return 0 if current is None else int(current) + 1


def _time_param(item: Prepared, dialect: str) -> Any:
    if dialect == "sqlite":  # the text form SQLAlchemy's DateTime stores in SQLite
        return item.time_text.replace("T", " ", 1)
    return item.time


def _placeholders(dialect: str, count: int) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    return ", ".join([mark] * count)


ENTRY_COLUMNS = (
    "leaf_index",
    "time",
    "action",
    "actor_org",
    "provider_org",
    "resource_id",
    "scenario_id",
    "request_id",
    "outcome",
    "record_count",
    "payload",
    "leaf_hash",
)


def append(session: Session, events: Sequence[AuditEvent | Prepared], *, node: str) -> list[int]:
    """Append events in the session's transaction; return their leaf indexes.

    Rows go through the driver's executemany: at tens of thousands of entries a second,
    the ORM's per-row bookkeeping would cost more than the database.
    """
    if not events:
        return []
    now = utcnow()
    prepared = [e if isinstance(e, Prepared) else prepare(e, node=node, now=now) for e in events]
    _lock(session)
    first = next_index(session)
    dialect = session.get_bind().dialect.name
    rows = []
    subjects: list[tuple[str, int]] = []
    stats: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for offset, item in enumerate(prepared):
        index = first + offset
        event = item.event
        rows.append(
            (
                index,
                _time_param(item, dialect),
                event.action,
                event.actor_org,
                event.provider_org,
                event.resource,
                event.scenario,
                event.request_id,
                event.outcome,
                event.records,
                item.payload,
                item.leaf_hash,
            )
        )
        subjects.extend((s, index) for s in event.subjects)
        key = (
            item.time.astimezone(dt.UTC).date(),
            node,
            event.actor_org or "",
            event.resource or "",
            event.scenario or "",
            event.action,
        )
        stats[key][0] += 1
        stats[key][1] += event.records if event.outcome == "ok" else 0
    raw = session.connection().connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f"INSERT INTO audit_entry ({', '.join(ENTRY_COLUMNS)}) "
            f"VALUES ({_placeholders(dialect, len(ENTRY_COLUMNS))})",
            rows,
        )
        if subjects:
            cursor.executemany(
                "INSERT INTO audit_subject (subject_key, leaf_index) "
                f"VALUES ({_placeholders(dialect, 2)})",
                subjects,
            )
    finally:
        cursor.close()
    _add_stats(session, stats)
    return [first + i for i in range(len(prepared))]


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
