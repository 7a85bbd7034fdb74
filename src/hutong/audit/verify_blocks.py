"""Verification of the log by blocks hashed in worker processes (``workers`` > 1).

Each worker reads a block of ``2**BLOCK_LEVEL`` entries, checks their leaf hashes and
folds them into the block's perfect-subtree hash (and the hashes at each checkpoint size
inside the block); this process folds the blocks in order and checks every checkpoint.
Reports are the same as the one-process :func:`hutong.audit.verify.verify_stream`.
"""

from __future__ import annotations

import bisect
import multiprocessing as mp
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.audit import log
from hutong.audit.archive import archived_payloads
from hutong.audit.merkle import EMPTY_ROOT, Frontier, hash_of_span
from hutong.audit.models import AuditEntry
from hutong.audit.verify import Progress, VerifyReport, _check_notes
from hutong.audit.verify_worker import BLOCK_LEVEL, BlockResult, fold_block, verify_block


def worker_target(session: Session) -> tuple[str, str] | None:
    """How a worker process reaches the same database (None: it cannot, e.g. in memory)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite":
        name = url.database
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return "sqlite", str(Path(name).resolve())
    if url.get_backend_name() == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def verify_blocks(
    session: Session,
    home: Path,
    target: tuple[str, str],
    checkpoints: Sequence[tuple[int, bytes | None, str]],
    vkey: str,
    workers: int,
    progress: Progress | None,
    *,
    block_level: int = BLOCK_LEVEL,
) -> VerifyReport:
    """Verify the log by blocks in ``workers`` processes; the report names the first problem."""
    started = time.perf_counter()
    report = VerifyReport()
    heads = _check_notes(checkpoints, vkey, report)
    if heads is None:
        return report
    report.checkpoints = len(heads)
    size = log.next_index(session)
    at = 0
    while at < len(heads) and heads[at][0] == 0:
        if heads[at][1] != EMPTY_ROOT:
            return report.fail("checkpoint 0 does not sign the empty tree", checkpoint=0)
        at += 1
    block = 1 << block_level
    starts = list(range(0, size, block))
    ends = [min(start + block, size) for start in starts]
    sizes = [h[0] for h in heads]
    cuts = [
        sizes[bisect.bisect_right(sizes, a) : bisect.bisect_right(sizes, b)]
        for a, b in zip(starts, ends, strict=True)
    ]
    top = Frontier()  # over whole blocks: the tree above their level
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        kinds, targets = repeat(target[0]), repeat(target[1])
        for result in pool.map(verify_block, kinds, targets, starts, ends, cuts):
            if result.archived:
                result = _archived_block(session, home, result, cuts[result.start >> block_level])
            if result.gap is not None:
                report.entries = result.gap
                return report.fail(
                    f"entry {result.gap} is missing: the log has a gap", entry=result.gap
                )
            if result.altered is not None:
                report.entries = result.altered
                return report.fail(
                    f"entry {result.altered} has been altered: its bytes no longer match its "
                    "leaf hash",
                    entry=result.altered,
                )
            for cut, parts in result.at_cut.items():
                if hash_of_span(top.hashes + parts) != heads[at][1]:
                    report.entries = cut
                    return report.fail(
                        f"the entries up to {cut} do not reproduce signed checkpoint {cut}: "
                        "an entry before it was altered, removed or inserted",
                        checkpoint=cut,
                    )
                at += 1
            if result.end - result.start == block:
                top.append(result.hashes[0])
            if progress:
                progress(result.end)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    report.entries = size
    if at < len(heads):
        return report.fail(
            f"checkpoint {heads[at][0]} covers entries that are not there (the log has {size})",
            checkpoint=heads[at][0],
        )
    report.seconds = time.perf_counter() - started
    return report


def _archived_block(
    session: Session, home: Path, result: BlockResult, cuts: list[int]
) -> BlockResult:
    """A block with archived entry bytes, verified here with the bytes from the archive."""
    rows: list[Any] = [
        (int(i), p, h)
        for i, p, h in session.execute(
            select(AuditEntry.leaf_index, AuditEntry.payload, AuditEntry.leaf_hash)
            .where(AuditEntry.leaf_index >= result.start, AuditEntry.leaf_index < result.end)
            .order_by(AuditEntry.leaf_index)
        )
    ]
    missing = [i for i, p, _ in rows if p is None]
    archived = archived_payloads(session, home, missing)
    rows = [(i, p if p is not None else archived[i], h) for i, p, h in rows]
    return fold_block(result.start, result.end, cuts, rows)
