"""Signed checkpoints, the stored Merkle nodes, and inclusion and consistency proofs."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from hutong.audit import log
from hutong.audit.merkle import (
    Frontier,
    NodeKey,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    needed_nodes,
    root_from_leaf_hashes,
)
from hutong.audit.models import AuditCheckpoint, AuditEntry, AuditNode
from hutong.audit.note import format_checkpoint, sign_note, verifier_key
from hutong.audit.schemas import CheckpointRead, ConsistencyProof, InclusionProof
from hutong.core.clock import utcnow
from hutong.core.database import Database, wal_checkpoint
from hutong.core.errors import Invalid, NotFound
from hutong.core.keys import load_keys
from hutong.core.logging import get_logger
from hutong.core.settings import Settings
from hutong.identity import service as identity_service

CHECKPOINT_LOCK_KEY = 0x687574_6F6E68
STORED_LEVEL = 8
"""Perfect subtrees of this level (256 leaves) and above are stored in ``audit_node``;
lower ones are recomputed from the leaf hashes of their 256-leaf block when a proof needs
them. Storing every node cost a row per entry on the append path; this costs one per 256
entries and at most 255 hashes per proof (docs/decisions/0006)."""
_log = get_logger("hutong.audit")


def origin_of(node: str) -> str:
    """The log's origin line and key name, e.g. ``hutong.sh/audit``."""
    return f"hutong.{node}/audit"


def fetch_nodes(session: Session, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """Stored hashes of perfect subtrees (level 0: leaf hashes), in two queries at most."""
    keys = list(keys)
    leaves = [idx for level, idx in keys if level == 0]
    low = [(level, idx) for level, idx in keys if 0 < level < STORED_LEVEL]
    inner = [(level, idx) for level, idx in keys if level >= STORED_LEVEL]
    out: dict[NodeKey, bytes] = {}
    if leaves:
        rows = session.execute(
            select(AuditEntry.leaf_index, AuditEntry.leaf_hash).where(
                AuditEntry.leaf_index.in_(leaves)
            )
        )
        out.update({(0, int(i)): bytes(h) for i, h in rows})
    if low:
        out.update(_low_nodes(session, low))
    if inner:
        # OR of primary-key equalities (SQLite plans a row-value IN as a full scan), with
        # the integers written in: building a bound expression per node cost more than the
        # query itself
        match = " OR ".join(f"(level = {int(lv)} AND idx = {int(i)})" for lv, i in inner)
        found = session.execute(text(f"SELECT level, idx, hash FROM audit_node WHERE {match}"))
        out.update({(int(r[0]), int(r[1])): bytes(r[2]) for r in found})
    missing = set(keys) - out.keys()
    if missing:
        raise NotFound(f"the log lacks {len(missing)} stored hash(es), e.g. {min(missing)}")
    return out


def _low_nodes(session: Session, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
    """Hashes of unstored perfect subtrees (level below STORED_LEVEL), from their leaves."""
    spans = sorted({(idx << level, (idx + 1) << level) for level, idx in keys})
    match = " OR ".join(f"(leaf_index >= {a} AND leaf_index < {b})" for a, b in spans)
    rows = session.execute(
        text(f"SELECT leaf_index, leaf_hash FROM audit_entry WHERE {match}")
    ).all()
    leaf = {int(i): bytes(h) for i, h in rows}
    out: dict[NodeKey, bytes] = {}
    for level, idx in keys:
        start, end = idx << level, (idx + 1) << level
        hashes = [leaf.get(i) for i in range(start, end)]
        if any(h is None for h in hashes):
            continue  # reported as missing by the caller
        out[(level, idx)] = root_from_leaf_hashes(hashes)[1]  # type: ignore[arg-type]
    return out


def latest(session: Session) -> AuditCheckpoint | None:
    """The newest checkpoint."""
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).first()


@dataclass
class Plan:
    """A checkpoint computed from a snapshot of the log, to be stored by :func:`store_plan`."""

    old_size: int
    size: int
    frontier: Frontier
    nodes: list[tuple[int, int, bytes]]


def plan_checkpoint(session: Session, *, frontier: Frontier | None = None) -> Plan | None:
    """Extend the tree over the entries after the newest checkpoint (None if there are none).

    Reads only: the Checkpointer runs it outside the log's write lock, so appends go on
    while it hashes.
    """
    last = latest(session)
    old_size = last.tree_size if last else 0
    size = log.next_index(session)
    if size <= old_size:
        return None
    if frontier is None or frontier.size != old_size:
        frontier = Frontier.from_nodes(
            old_size, fetch_nodes(session, needed_nodes([(0, old_size)]))
        )
    frontier = frontier.copy()
    raw = session.connection().connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:  # the driver's cursor: the ORM's per-row work cost more than the hashing
        cursor.execute(
            "SELECT leaf_hash FROM audit_entry "
            f"WHERE leaf_index >= {int(old_size)} AND leaf_index < {int(size)} "
            "ORDER BY leaf_index"
        )
        hashes = [bytes(r[0]) for r in cursor.fetchall()]
    finally:
        cursor.close()
    if len(hashes) != size - old_size:
        raise RuntimeError("audit leaf indexes are not dense")  # pragma: no cover
    nodes = [n for n in frontier.extend(hashes) if n[0] >= STORED_LEVEL]
    return Plan(old_size=old_size, size=size, frontier=frontier, nodes=nodes)


def store_plan(session: Session, plan: Plan, *, keys_dir: object) -> AuditCheckpoint | None:
    """Store a plan's nodes and sign its checkpoint, unless another checkpoint came first."""
    if session.get_bind().dialect.name == "postgresql":
        got = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": CHECKPOINT_LOCK_KEY}
        ).scalar()
        if not got:
            return None
    last = latest(session)
    if (last.tree_size if last else 0) != plan.old_size:
        return None  # someone else signed meanwhile; the next tick starts from theirs
    node = identity_service.require_node(session=session)
    if plan.nodes:
        session.execute(
            insert(AuditNode), [{"level": lv, "idx": i, "hash": h} for lv, i, h in plan.nodes]
        )
    now = utcnow()
    key = load_keys(keys_dir).signing  # type: ignore[arg-type]
    origin = origin_of(node.code)
    root = plan.frontier.root()
    note = sign_note(format_checkpoint(origin, plan.size, root, time=now), origin, key)
    checkpoint = AuditCheckpoint(tree_size=plan.size, root_hash=root, time=now, note=note)
    session.add(checkpoint)
    session.flush()
    return checkpoint


def checkpoint_now(
    session: Session, *, keys_dir: object, frontier: Frontier | None = None
) -> tuple[AuditCheckpoint | None, Frontier | None]:
    """Extend the tree over new entries, store its nodes and sign a checkpoint, in one session.

    Returns the new checkpoint (None if nothing new) and the frontier to reuse next time.
    """
    plan = plan_checkpoint(session, frontier=frontier)
    if plan is None:
        return None, frontier
    checkpoint = store_plan(session, plan, keys_dir=keys_dir)
    return checkpoint, (plan.frontier if checkpoint is not None else frontier)


class Checkpointer:
    """A thread that signs a checkpoint every few seconds while entries arrive.

    Every process of a node runs one. On a SQLite file they take turns through a lock
    file (a checkpointer that finds it taken skips its tick: another process is signing
    now); on PostgreSQL through an advisory lock in :func:`store_plan`. A checkpointer
    whose plan lost the race to another process's checkpoint plans again from that one.
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.frontier: Frontier | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpointer", daemon=True)
        self._process_lock = log.ProcessLock.for_database(db, "audit-checkpoint-lock")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
        self.tick(wait=True)  # a last checkpoint over everything written before the stop
        if self._process_lock is not None:
            self._process_lock.close()

    def tick(self, *, wait: bool = False) -> AuditCheckpoint | None:
        """Sign a checkpoint now if there are new entries.

        ``wait``: wait for another process that is signing now, rather than skip.
        """
        lock = self._process_lock
        if lock is not None and not lock.acquire(blocking=wait):
            return None
        try:
            for _ in range(3):  # another process may sign between our plan and our store
                checkpoint, again = self._tick()
                if not again:
                    return checkpoint
            return None
        finally:
            if lock is not None:
                lock.release()

    def _tick(self) -> tuple[AuditCheckpoint | None, bool]:
        try:
            with self.db.session_scope(readonly=True) as session:
                plan = plan_checkpoint(session, frontier=self.frontier)
            if plan is None:
                return None, False
            with self.db.session_scope() as session:  # the write lock, only to store
                checkpoint = store_plan(session, plan, keys_dir=self.settings.keys_dir)
            if checkpoint is None:
                return None, True
            self.frontier = plan.frontier
            wal_checkpoint(self.db.engine)  # SQLite: off the writers' commits
            return checkpoint, False
        except NotFound:
            return None, False  # node not initialized yet
        except Exception as exc:
            self.frontier = None
            _log.error("checkpoint failed", error=type(exc).__name__, detail=str(exc)[:200])
            return None, False

    def _run(self) -> None:
        # On a fixed cadence, not a fixed pause: a tick that waits for the write lock or
        # copies a long WAL must not stretch the time between checkpoints past the interval.
        interval = self.settings.audit_checkpoint_seconds
        due = time.monotonic() + interval
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            due = max(due + interval, time.monotonic())  # behind: tick now, no burst after
            self.tick()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checkpoint_read(row: AuditCheckpoint) -> CheckpointRead:
    return CheckpointRead(
        tree_size=row.tree_size, root_hash=_b64(row.root_hash), time=row.time, note=row.note
    )


def get_checkpoint(*, session: Session, tree_size: int | None = None) -> CheckpointRead:
    """The checkpoint of a size (default the newest). Raises NotFound."""
    row = latest(session) if tree_size is None else session.get(AuditCheckpoint, tree_size)
    if row is None:
        raise NotFound("no checkpoint" + (f" of size {tree_size}" if tree_size else " yet"))
    return checkpoint_read(row)


def public_verifier_key(*, session: Session, keys_dir: object) -> str:
    """The note verifier key (C2SP vkey) that checks this node's checkpoints."""
    node = identity_service.require_node(session=session)
    key = load_keys(keys_dir).signing  # type: ignore[arg-type]
    return verifier_key(origin_of(node.code), key.public_key())


def prove_inclusion(
    *, session: Session, leaf_index: int, tree_size: int | None = None
) -> InclusionProof:
    """An entry's inclusion proof in a checkpointed tree. Raises NotFound, Invalid."""
    checkpoint = get_checkpoint(session=session, tree_size=tree_size)
    size = checkpoint.tree_size
    if not 0 <= leaf_index < size:
        raise Invalid(
            f"entry {leaf_index} is not in the tree of size {size}; wait for the next checkpoint",
            field="leaf_index",
        )
    spans = inclusion_proof_nodes(leaf_index, size)
    nodes = fetch_nodes(session, needed_nodes(spans) | {(0, leaf_index)})
    proof = inclusion_proof(leaf_index, size, nodes)
    return InclusionProof(
        leaf_index=leaf_index,
        tree_size=size,
        leaf_hash=_b64(nodes[(0, leaf_index)]),
        proof=[_b64(p) for p in proof],
        checkpoint=checkpoint.note,
    )


def prove_consistency(
    *, session: Session, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """A consistency proof between two checkpoints. Raises NotFound, Invalid."""
    new = get_checkpoint(session=session, tree_size=new_size)
    old = get_checkpoint(session=session, tree_size=old_size)
    if old.tree_size > new.tree_size:
        raise Invalid("the old checkpoint must not be newer than the new one", field="old")
    spans = consistency_proof_nodes(old.tree_size, new.tree_size)
    nodes = fetch_nodes(session, needed_nodes(spans))
    proof = consistency_proof(old.tree_size, new.tree_size, nodes)
    return ConsistencyProof(
        old_size=old.tree_size,
        new_size=new.tree_size,
        proof=[_b64(p) for p in proof],
        old_checkpoint=old.note,
        new_checkpoint=new.note,
    )
