"""Appending to the log: leaf indexes in commit order, subject index, statistics.

Every writer takes the log's write lock before it numbers entries: SQLite's write
transaction (BEGIN IMMEDIATE) or a PostgreSQL transaction-level advisory lock. So leaf
indexes are dense and in commit order, and a rolled-back append leaves no gap.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hutong.audit import names
from hutong.audit.entry import AuditEvent, Prepared, prepare
from hutong.audit.models import AuditEntry, AuditStat
from hutong.core.clock import utcnow
from hutong.core.database import Database

LOG_LOCK_KEY = 0x687574_6F6E67  # "hutong": the advisory lock that orders appends on PostgreSQL


class ProcessLock:
    """An exclusive ``flock`` on a file beside a SQLite database, shared by its processes.

    The audit writers hold ``<database>.audit-lock`` around their append transaction, and
    always take it before SQLite's write lock, so it cannot deadlock with other writers
    (which wait on SQLite's busy handler as before). The kernel wakes the next writer as
    soon as the lock is free, where SQLite's busy handler sleeps and polls (1, 2, 5, 10 ...
    ms). The checkpointers try ``<database>.audit-checkpoint-lock`` so that one process at
    a time signs.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def for_database(cls, db: Database, suffix: str) -> ProcessLock | None:
        """The lock of a SQLite database file (None for memory databases and PostgreSQL,
        whose advisory locks queue their waiters)."""
        if db.dialect != "sqlite":
            return None
        name = db.engine.url.database
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return cls(Path(f"{name}.{suffix}"))

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock (waiting in the kernel, without the GIL); False if busy and not
        ``blocking``."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOG_LOCK_KEY})


def next_index(session: Session) -> int:
    """The next leaf index (call with the log lock held)."""
    current = session.scalar(select(func.max(AuditEntry.leaf_index)))
    return 0 if current is None else int(current) + 1


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
    "actor_no",
    "provider_no",
    "resource_no",
)
_SQLITE_INSERT = (
    f"INSERT INTO audit_entry ({', '.join(ENTRY_COLUMNS[1:])}) "
    f"VALUES ({_placeholders('sqlite', len(ENTRY_COLUMNS) - 1)})"
)
_INSERT = (
    f"INSERT INTO audit_entry ({', '.join(ENTRY_COLUMNS)}) "
    f"VALUES ({_placeholders('postgresql', len(ENTRY_COLUMNS))})"
)
Stats = dict[tuple[Any, ...], list[int]]


def stats_of(prepared: Sequence[Prepared]) -> Stats:
    """Calls and delivered records per statistics key (see :class:`AuditStat`)."""
    stats: Stats = defaultdict(lambda: [0, 0])
    for item in prepared:
        counts = stats[item.stat_key]
        counts[0] += 1
        if item.event.outcome == "ok":
            counts[1] += item.event.records
    return stats


def append(session: Session, events: Sequence[AuditEvent | Prepared], *, node: str) -> list[int]:
    """Append events in the session's transaction; return their leaf indexes."""
    if not events:
        return []
    now = utcnow()
    prepared = [e if isinstance(e, Prepared) else prepare(e, node=node, now=now) for e in events]
    return append_prepared(session, prepared, stats_of(prepared))


def append_prepared(session: Session, prepared: Sequence[Prepared], stats: Stats) -> list[int]:
    """Insert prepared entries under the log's write lock; return their leaf indexes.

    Rows go through the driver's executemany: at tens of thousands of entries a second,
    the ORM's per-row bookkeeping would cost more than the database. On SQLite the leaf
    index is the rowid, which SQLite numbers max + 1 by itself (we never delete entries);
    the count is checked after the insert.
    """
    if not prepared:
        return []
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - other engines
        _lock(session)
    raw = session.connection().connection.driver_connection  # begun: SQLite's write lock
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    numbers = (names.known_numbers(engine), names.pending_numbers(session))
    indexes = append_rows(raw, dialect, prepared, stats, numbers=numbers)
    if dialect not in _STATS_UPSERT:  # pragma: no cover - other engines
        _add_stats(session, stats)
    return indexes


def append_rows(
    raw: Any,
    dialect: str,
    prepared: Sequence[Prepared],
    stats: Stats,
    *,
    numbers: tuple[names.Numbers, names.Numbers],
) -> list[int]:
    """:func:`append_prepared` on a driver connection in a begun transaction (on SQLite, a
    ``BEGIN IMMEDIATE`` one: it holds the write lock).

    ``numbers``: the organization and resource numbers known committed, and those of this
    transaction (``names.known_numbers``, ``names.pending_numbers``); the caller adds the
    second to the first once the transaction commits.
    """
    if not prepared:
        return []
    cursor = raw.cursor()
    try:
        if dialect == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (LOG_LOCK_KEY,))
        mark = "?" if dialect == "sqlite" else "%s"
        cursor.execute("SELECT max(leaf_index) FROM audit_entry")
        current = cursor.fetchone()[0]
        first = 0 if current is None else int(current) + 1
        count = len(prepared)
        rows = _numbered_rows(names.Numbering(*numbers, cursor, mark), prepared)
        if dialect == "sqlite":
            # the first row numbered explicitly (SQLite would start an empty table at 1)
            cursor.execute(_INSERT.replace("%s", "?"), (first, *rows[0]))
            cursor.executemany(_SQLITE_INSERT, rows[1:])
            cursor.execute("SELECT max(leaf_index) FROM audit_entry")
            if cursor.fetchone()[0] != first + count - 1:  # pragma: no cover - a broken table
                raise RuntimeError("audit leaf indexes would not be dense")
        else:
            cursor.executemany(
                _INSERT,
                [
                    (first + n, item.time, *row[1:])
                    for n, (item, row) in enumerate(zip(prepared, rows, strict=True))
                ],
            )
        subjects = names.subject_rows(first, [item.event.subjects for item in prepared])
        if subjects:
            cursor.executemany(
                "INSERT INTO audit_subject (bucket, subject_key, leaf_index) "
                f"VALUES ({_placeholders(dialect, 3)})",
                subjects,
            )
        if stats and dialect in _STATS_UPSERT:
            # the driver's executemany: building the ORM's upsert statement cost about a
            # millisecond of CPU per commit
            convert = dialect == "postgresql"
            cursor.executemany(
                _STATS_UPSERT[dialect],
                [
                    (dt.date.fromisoformat(k[0]) if convert else k[0], *k[1:], v[0], v[1])
                    for k, v in stats.items()
                ],
            )
    finally:
        cursor.close()
    return list(range(first, first + count))


def _numbered_rows(
    numbering: names.Numbering, prepared: Sequence[Prepared]
) -> list[tuple[Any, ...]]:
    """Each entry's row with the numbers of its organizations and resource appended."""
    orgs, resources = numbering.known.orgs, numbering.known.resources
    out = []
    for item in prepared:
        row = item.row  # (time, action, actor_org, provider_org, resource_id, ...)
        actor, provider, resource = row[2], row[3], row[4]
        a = orgs.get(actor, 0) if actor else 0
        if actor and not a:
            a = numbering.org(actor)
        p = orgs.get(provider, 0) if provider else 0
        if provider and not p:
            p = numbering.org(provider)
        r = resources.get((resource, p), 0) if resource else 0
        if resource and not r:
            r = numbering.resource(resource, p)
        out.append((*row, a, p, r))
    return out


_STATS_SQL = (
    "INSERT INTO audit_stat (day, node, actor_org, resource_id, scenario_id, action, calls, "
    "records) VALUES ({}) ON CONFLICT (day, node, actor_org, resource_id, scenario_id, action) "
    "DO UPDATE SET calls = audit_stat.calls + excluded.calls, "
    "records = audit_stat.records + excluded.records"
)
_STATS_UPSERT = {d: _STATS_SQL.format(_placeholders(d, 8)) for d in ("sqlite", "postgresql")}


def _add_stats(session: Session, stats: dict[tuple[Any, ...], list[int]]) -> None:
    dialect = session.get_bind().dialect.name
    rows = [
        {
            "day": dt.date.fromisoformat(k[0]) if isinstance(k[0], str) else k[0],
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
