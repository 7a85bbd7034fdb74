"""Hashes of the audit log's Merkle tree (RFC 6962 §2.1): leaves, interior nodes, the
perfect subtrees that make up a span, and the :class:`Frontier` that folds a stream of
leaves into its root and the perfect subtrees it completes. Import them from
:mod:`hutong.audit.merkle`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import islice, repeat

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) — the root hash of the empty tree."""

Span = tuple[int, int]
"""A leaf range ``(start, end)``, end exclusive, standing for MTH(D[start:end])."""

NodeKey = tuple[int, int]
"""``(level, idx)`` of a perfect subtree; level 0 is the leaf with index ``idx``."""

StoredNode = tuple[int, int, bytes]
"""``(level, idx, hash)`` of a perfect subtree with level >= 1, as the log stores it."""

GetNode = Callable[[int, int], bytes] | Mapping[NodeKey, bytes]
"""Where stored hashes come from: a callable ``get(level, idx)``, or a mapping keyed by
``(level, idx)`` such as the dict a caller prefetched with :func:`needed_nodes`.
Level 0 is the leaves: ``get(0, i)`` is leaf ``i``'s hash. A missing node raises
whatever the callable raises (KeyError for a mapping)."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# Leaves hashed per step when folding a stream: big enough that the level-by-level list
# comprehensions dominate, small enough (about 1 MB) to keep memory constant.
_BATCH = 1 << 14


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 leaf hash of one entry: SHA-256(0x00 || data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def split_width(width: int) -> int:
    """The largest power of two strictly below ``width`` (``width >= 2``)."""
    return 1 << ((width - 1).bit_length() - 1)


def node_getter(get: GetNode) -> Callable[[int, int], bytes]:
    if isinstance(get, Mapping):
        return lambda level, idx: get[(level, idx)]
    return get


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


def _check_batch(batch: list[bytes]) -> None:
    # Two passes in C over the lengths cost far less than a Python-level check per hash.
    lengths = list(map(len, batch))
    if min(lengths) != HASH_SIZE or max(lengths) != HASH_SIZE:
        raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")


class Frontier:
    """A compact range: the roots of the perfect subtrees that cover leaves ``[0, size)``.

    It holds one hash per set bit of ``size`` (highest level first), enough to append
    leaves and to compute the root. Appending reports the perfect subtrees each leaf
    completes, which is exactly what the log stores in ``audit_node``.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        """The number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The hashes of :func:`perfect_parts` ``(0, size)``, left to right."""
        return tuple(self._hashes)

    @property
    def nodes(self) -> list[StoredNode]:
        """``(level, idx, hash)`` of each covering perfect subtree, left to right.

        Level 0 appears when ``size`` is odd: it is the last leaf's hash.
        """
        keys = perfect_parts(0, self._size)
        return [(level, idx, h) for (level, idx), h in zip(keys, self._hashes, strict=True)]

    @classmethod
    def from_nodes(cls, size: int, get: GetNode) -> Frontier:
        """Rebuild the frontier of a tree of ``size`` leaves from stored hashes.

        ``get`` is asked for the keys ``perfect_parts(0, size)`` (prefetch them with
        ``needed_nodes([(0, size)])``). Raises ValueError for a negative size or a
        hash that is not 32 bytes.
        """
        frontier = cls()
        fetch = node_getter(get)
        hashes = [fetch(level, idx) for level, idx in perfect_parts(0, size)]
        for h in hashes:
            _check_hash(h, "a stored hash")
        frontier._size = size
        frontier._hashes = hashes
        return frontier

    def copy(self) -> Frontier:
        """An independent frontier with the same state."""
        other = Frontier()
        other._size = self._size
        other._hashes = list(self._hashes)
        return other

    def root(self) -> bytes:
        """The root hash MTH(D[0:size]) of the tree covered so far."""
        return hash_of_span(self._hashes)

    def append(self, leaf: bytes) -> list[StoredNode]:
        """Add one leaf hash; return the perfect subtrees (level >= 1) it completes.

        They come lowest level first. Raises ValueError if ``leaf`` is not 32 bytes.
        """
        _check_hash(leaf, "a leaf hash")
        hashes = self._hashes
        index = self._size
        completed: list[StoredNode] = []
        h = leaf
        level = 0
        # Each set low bit of the old size is a left sibling waiting for this leaf's subtree.
        while (index >> level) & 1:
            h = _sha256(NODE_PREFIX + hashes.pop() + h).digest()
            level += 1
            completed.append((level, index >> level, h))
        hashes.append(h)
        self._size = index + 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> list[StoredNode]:
        """Add many leaf hashes; return every perfect subtree (level >= 1) they complete.

        Same nodes as repeated :meth:`append`, grouped by batch and level. Raises
        ValueError if a leaf hash is not 32 bytes (the frontier then holds the batches
        before the faulty one).
        """
        completed: list[StoredNode] = []
        iterator = iter(leaves)
        while batch := list(islice(iterator, _BATCH)):
            _check_batch(batch)
            self._absorb(batch, completed)
        return completed

    def _absorb(self, batch: list[bytes], completed: list[StoredNode] | None) -> None:
        """Fold a batch of leaf hashes in level by level (the fast path of extend)."""
        size = self._size
        hashes = self._hashes
        leftovers: list[bytes] = []
        level = 0
        current = batch
        sha256 = _sha256
        prefix = NODE_PREFIX
        while current:
            before = size >> level  # perfect subtrees of this level before the batch
            if before & 1:
                # The frontier's lowest remaining hash is this level's waiting left sibling.
                current = [hashes.pop(), *current]
                before -= 1
            if len(current) & 1:
                leftovers.append(current[-1])
            pairs = iter(current)
            current = [sha256(prefix + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
            level += 1
            if completed is not None and current:
                first = before >> 1
                completed.extend(zip(repeat(level), range(first, first + len(current)), current))
        hashes.extend(reversed(leftovers))
        self._size = size + len(batch)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> tuple[int, bytes]:
    """Stream leaf hashes in order; return ``(size, MTH)``.

    Memory stays constant whatever the count: one batch plus one hash per level.
    Raises ValueError if a hash is not 32 bytes.
    """
    frontier = Frontier()
    iterator = iter(hashes)
    while batch := list(islice(iterator, _BATCH)):
        _check_batch(batch)
        frontier._absorb(batch, None)
    return frontier.size, frontier.root()


def perfect_parts(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees ``(level, idx)`` that make up span ``[start, end)``, left to right.

    A span of a proof is either perfect (one part) or on the right edge of a tree whose
    size is not a power of two; then its parts follow the binary digits of its width.
    Raises ValueError for a span that is no node of any tree (``start`` not aligned).
    """
    if not 0 <= start <= end:
        raise ValueError(f"bad span [{start}, {end})")
    parts: list[NodeKey] = []
    width = end - start
    position = start
    for level in range(width.bit_length() - 1, -1, -1):
        if (width >> level) & 1:
            if position & ((1 << level) - 1):
                raise ValueError(f"span [{start}, {end}) is not a node of a Merkle tree")
            parts.append((level, position >> level))
            position += 1 << level
    return parts


def hash_of_span(parts_hashes: Sequence[bytes]) -> bytes:
    """MTH of a span from the hashes of its :func:`perfect_parts`, folded right to left."""
    if not parts_hashes:
        return EMPTY_ROOT
    result = parts_hashes[-1]
    for h in reversed(parts_hashes[:-1]):
        result = _sha256(NODE_PREFIX + h + result).digest()
    return result
