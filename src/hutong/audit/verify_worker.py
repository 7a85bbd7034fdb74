"""One block of the log verified in a worker process (see :func:`verify.verify_database`).

This module imports only the standard library and :mod:`hutong.audit.merkle`, so a
spawned worker starts in a few tens of milliseconds. A block is ``2**BLOCK_LEVEL``
entries starting at a multiple of that: the leaves of one perfect subtree, whose hash
the parent folds into the tree above.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from hutong.audit.merkle import Frontier

BLOCK_LEVEL = 14

_connection: Any = None


@dataclass
class BlockResult:
    """What a block's entries give: its covering hashes and the hashes at each cut inside it."""

    start: int
    end: int
    hashes: tuple[bytes, ...] = ()  # perfect parts of [start, end): one hash for a full block
    at_cut: dict[int, tuple[bytes, ...]] = field(default_factory=dict)
    gap: int | None = None  # first missing index
    altered: int | None = None  # first entry whose bytes do not match its leaf hash
    archived: bool = False  # some bytes are in the archive: the parent verifies this block


def _connect(kind: str, target: str) -> Any:
    global _connection
    if _connection is None:
        if kind == "sqlite":
            _connection = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        else:
            import psycopg

            _connection = psycopg.connect(target, autocommit=True)
    return _connection


def verify_block(kind: str, target: str, start: int, end: int, cuts: list[int]) -> BlockResult:
    """Read entries [start, end), check their leaf hashes, fold them, note the cut hashes."""
    conn = _connect(kind, target)
    cursor = conn.cursor()
    try:
        cursor.execute(
            "SELECT leaf_index, payload, leaf_hash FROM audit_entry "
            f"WHERE leaf_index >= {int(start)} AND leaf_index < {int(end)} ORDER BY leaf_index"
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return fold_block(start, end, cuts, rows)


def fold_block(start: int, end: int, cuts: list[int], rows: list[Any]) -> BlockResult:
    """The block's result from its rows (index, payload or None, stored leaf hash)."""
    result = BlockResult(start=start, end=end)
    if len(rows) != end - start or (rows and int(rows[-1][0]) != end - 1):
        for offset, row in enumerate(rows):
            if int(row[0]) != start + offset:
                result.gap = start + offset
                return result
        result.gap = start + len(rows)
        return result
    sha = hashlib.sha256
    try:
        computed = [sha(b"\x00" + row[1]).digest() for row in rows]
    except TypeError:  # a payload is NULL: archived
        result.archived = True
        return result
    stored = [row[2] for row in rows]
    if b"".join(computed) != b"".join(stored):  # compared in C; the scan only on a mismatch
        for offset, (a, b) in enumerate(zip(computed, stored, strict=True)):
            if a != b:
                result.altered = start + offset
                return result
    frontier = Frontier()
    pos = 0
    for cut in cuts:
        frontier.extend(computed[pos : cut - start])
        pos = cut - start
        result.at_cut[cut] = frontier.hashes
    frontier.extend(computed[pos:])
    result.hashes = frontier.hashes
    return result
