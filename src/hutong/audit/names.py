"""Small numbers for the organizations and resources of the log's indexes, and the subject index.

An entry's secondary indexes hold integers (``audit_org``, ``audit_resource``) instead of
the names, whose text made every index key several times longer (decision 0016). The
names stay in the entry's columns and payload; readers filter through the helpers here,
which turn a name into the numbers it goes by.

Numbers are assigned under the log's write lock (by :func:`hutong.audit.log.append_prepared`)
and never change or get reused, so each process keeps the numbers it has seen committed.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, event, false, func, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from hutong.audit.models import (
    SUBJECT_BUCKET_BITS,
    SUBJECT_KEY_BYTES,
    AuditEntry,
    AuditOrg,
    AuditResource,
    AuditSubject,
)


class Numbers:
    """The committed numbers of one database's names, as this process has seen them."""

    __slots__ = ("orgs", "resources")

    def __init__(self) -> None:
        self.orgs: dict[str, int] = {}
        self.resources: dict[tuple[str, int], int] = {}

    def add(self, other: Numbers) -> None:
        """Take the numbers of a committed transaction."""
        self.orgs.update(other.orgs)
        self.resources.update(other.resources)


_known: weakref.WeakKeyDictionary[Engine, Numbers] = weakref.WeakKeyDictionary()
_PENDING = "hutong.audit.names"  # session.info key: numbers seen in an open transaction


def known_numbers(engine: Engine) -> Numbers:
    """The numbers this process has seen committed in an engine's database."""
    found = _known.get(engine)
    if found is None:
        found = _known[engine] = Numbers()
    return found


def _numbers(session: Session) -> Numbers:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return known_numbers(engine)


def pending_numbers(session: Session) -> Numbers:
    """The numbers a session's open transaction assigned or found (known at its commit)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = Numbers()
    return pending  # type: ignore[no-any-return]


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        _numbers(session).add(pending)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:
    # a number assigned in a rolled-back transaction does not exist
    session.info.pop(_PENDING, None)


def subject_bytes(key: str) -> bytes:
    """The stored form of a subject key: its first 128 bits."""
    return bytes.fromhex(key[: 2 * SUBJECT_KEY_BYTES])


def bucket_of(leaf_index: int) -> int:
    return leaf_index >> SUBJECT_BUCKET_BITS


class Numbering:
    """Turns an append's names into numbers, assigning new ones (under the log's lock)."""

    def __init__(self, known: Numbers, pending: Numbers, cursor: Any, mark: str) -> None:
        self.known = known  # committed: safe to use in any transaction
        self.pending = pending  # this transaction's: kept only if it commits
        self.cursor = cursor
        self.mark = mark

    def org(self, org_id: str | None) -> int:
        if not org_id:
            return 0
        no = self.known.orgs.get(org_id) or self.pending.orgs.get(org_id)
        if no is None:
            no = self._find_or_add("audit_org", "org_id = {m}", (org_id,), "org_id", (org_id,))
            self.pending.orgs[org_id] = no
        return no

    def resource(self, resource_id: str | None, provider_no: int) -> int:
        if not resource_id:
            return 0
        key = (resource_id, provider_no)
        no = self.known.resources.get(key) or self.pending.resources.get(key)
        if no is None:
            no = self._find_or_add(
                "audit_resource",
                "resource_id = {m} AND provider_no = {m}",
                key,
                "resource_id, provider_no",
                key,
            )
            self.pending.resources[key] = no
        return no

    def _find_or_add(
        self, table: str, where: str, args: tuple[Any, ...], columns: str, values: tuple[Any, ...]
    ) -> int:
        m = self.mark
        self.cursor.execute(f"SELECT no FROM {table} WHERE {where.format(m=m)}", args)
        row = self.cursor.fetchone()
        if row is not None:
            return int(row[0])
        self.cursor.execute(f"SELECT coalesce(max(no), 0) + 1 FROM {table}")
        no = int(self.cursor.fetchone()[0])
        marks = ", ".join([m] * (len(values) + 1))
        self.cursor.execute(f"INSERT INTO {table} (no, {columns}) VALUES ({marks})", (no, *values))
        return no


def _org_no(session: Session, org_id: str) -> int | None:
    no = _numbers(session).orgs.get(org_id)
    if no is None:
        no = session.scalar(select(AuditOrg.no).where(AuditOrg.org_id == org_id))
    return no


def by_actor(session: Session, org_id: str) -> ColumnElement[bool]:
    """Entries whose caller was the organization."""
    no = _org_no(session, org_id)
    return false() if no is None else AuditEntry.actor_no == no


def by_provider(session: Session, org_id: str) -> ColumnElement[bool]:
    """Entries about a resource (or provider) of the organization."""
    no = _org_no(session, org_id)
    return false() if no is None else AuditEntry.provider_no == no


def by_resource(session: Session, resource_id: str) -> ColumnElement[bool]:
    """Entries about the resource, whichever provider they named (through the provider index).

    A resource's number stands for one (resource, provider) pair, so the product of the
    two lists matches no entry of another resource.
    """
    pairs = session.execute(
        select(AuditResource.no, AuditResource.provider_no).where(
            AuditResource.resource_id == resource_id
        )
    ).all()
    if not pairs:
        return false()
    return and_(
        AuditEntry.provider_no.in_(sorted({p for _, p in pairs})),
        AuditEntry.resource_no.in_(sorted(n for n, _ in pairs)),
    )


def subject_leaves(session: Session, keys: Iterable[str]) -> Select[int]:
    """The leaf indexes of the entries that name any of the subject keys: one probe of the
    subject index per bucket and key."""
    stored = sorted({subject_bytes(k) for k in keys})
    last = session.scalar(select(func.max(AuditEntry.leaf_index)))
    if not stored or last is None:
        return select(AuditSubject.leaf_index).where(false())
    buckets = select(literal(0).label("n")).cte("audit_buckets", recursive=True)
    buckets = buckets.union_all(
        select((buckets.c.n + 1).label("n")).where(buckets.c.n < bucket_of(int(last)))
    )
    return select(AuditSubject.leaf_index).where(
        AuditSubject.bucket.in_(select(buckets.c.n)), AuditSubject.subject_key.in_(stored)
    )


def is_subject_of(session: Session, key: str, leaf_index: int) -> bool:
    """Whether the entry names the subject key."""
    row = (bucket_of(leaf_index), subject_bytes(key), leaf_index)
    return session.get(AuditSubject, row) is not None


def subject_rows(first: int, subjects: Sequence[Sequence[str]]) -> list[tuple[int, bytes, int]]:
    """The subject index rows of entries numbered from ``first``."""
    shift = SUBJECT_BUCKET_BITS
    return [
        ((first + n) >> shift, bytes.fromhex(key[: 2 * SUBJECT_KEY_BYTES]), first + n)
        for n, keys in enumerate(subjects)
        for key in keys
    ]
