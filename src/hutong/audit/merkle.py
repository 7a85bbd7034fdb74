"""Merkle tree hashing and proofs for the audit log (RFC 6962 / RFC 9162 §2.1).

Hashes: a leaf is ``SHA-256(0x00 || entry)``, an interior node ``SHA-256(0x01 || left ||
right)``, the empty tree ``SHA-256()``. The tree over ``n`` leaves splits at the largest
power of two below ``n``, so its root folds the roots of the perfect subtrees that cover
``[0, n)`` from right to left.

Storage model (see docs/decisions/0006-merkle-log-implementation.md): the log keeps every
leaf hash (level 0, index = leaf index) and the hash of every *perfect* subtree
``(level L >= 1, idx i)`` covering leaves ``[i * 2**L, (i + 1) * 2**L)``. Every node that
a proof needs is then either such a perfect subtree or a right-edge subtree made of at
most ``log2(n)`` of them, so a proof is planned from the sizes alone
(:func:`inclusion_proof_nodes`, :func:`consistency_proof_nodes`), its ``O(log n)``
stored hashes are fetched in one query (:func:`needed_nodes`), and assembled from that
prefetched dict or a ``get(level, idx)`` callable. Nothing here touches a database.

The slow recursive functions at the end (:func:`mth`, :func:`reference_inclusion_path`,
:func:`reference_consistency`) transcribe the RFC 6962 definitions; tests check the fast
ones against them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from hmac import compare_digest
from itertools import islice, repeat

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "GetNode",
    "NodeKey",
    "Span",
    "StoredNode",
    "consistency_proof",
    "consistency_proof_nodes",
    "hash_of_span",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "leaf_hash",
    "mth",
    "needed_nodes",
    "node_hash",
    "perfect_parts",
    "reference_consistency",
    "reference_inclusion_path",
    "root_from_leaf_hashes",
    "span_hash",
    "verify_consistency",
    "verify_inclusion",
]

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
_NODE_PREFIX = b"\x01"
# Leaves hashed per step when folding a stream: big enough that the level-by-level list
# comprehensions dominate, small enough (about 1 MB) to keep memory constant.
_BATCH = 1 << 14


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 leaf hash of one entry: SHA-256(0x00 || data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _split(width: int) -> int:
    """The largest power of two strictly below ``width`` (``width >= 2``)."""
    return 1 << ((width - 1).bit_length() - 1)


def _getter(get: GetNode) -> Callable[[int, int], bytes]:
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
        fetch = _getter(get)
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
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        result = hashes[-1]
        for h in reversed(hashes[:-1]):
            result = _sha256(_NODE_PREFIX + h + result).digest()
        return result

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
            h = _sha256(_NODE_PREFIX + hashes.pop() + h).digest()
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
        prefix = _NODE_PREFIX
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


# --- proof planning: which spans, and which stored nodes make each span ------------------


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
        result = _sha256(_NODE_PREFIX + h + result).digest()
    return result


def span_hash(start: int, end: int, get: GetNode) -> bytes:
    """MTH(D[start:end]) from stored hashes; ``span_hash(0, n, get)`` is the root at size n."""
    fetch = _getter(get)
    return hash_of_span([fetch(level, idx) for level, idx in perfect_parts(start, end)])


def needed_nodes(spans: Iterable[Span]) -> set[NodeKey]:
    """Every stored ``(level, idx)`` that the spans need, to fetch in one query.

    Level-0 keys are leaf hashes (from the entry table); the others are perfect subtrees.
    """
    return {key for start, end in spans for key in perfect_parts(start, end)}


def inclusion_proof_nodes(index: int, size: int) -> list[Span]:
    """The spans whose hashes form the audit path of leaf ``index`` in a tree of ``size``.

    In RFC 6962 PATH order (from the leaf's sibling up to the root's child). At most one
    span is not perfect. Raises ValueError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    spans: list[Span] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            spans.append((start + k, end))
            end = start + k
        else:
            spans.append((start, start + k))
            start += k
    spans.reverse()
    return spans


def consistency_proof_nodes(old: int, new: int) -> list[Span]:
    """The spans whose hashes form the consistency proof from size ``old`` to ``new``.

    In RFC 6962 PROOF order; empty when ``old`` is 0 or equals ``new``. Raises
    ValueError unless ``0 <= old <= new``.
    """
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    spans: list[Span] = []
    start, end = 0, new
    old_is_whole_subtree = True  # RFC 6962's flag b: no step to the right yet
    while old != end:
        k = _split(end - start)
        if old - start <= k:
            spans.append((start + k, end))
            end = start + k
        else:
            spans.append((start, start + k))
            start += k
            old_is_whole_subtree = False
    if not old_is_whole_subtree:
        spans.append((start, end))
    spans.reverse()
    return spans


def inclusion_proof(index: int, size: int, get: GetNode) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    ``get`` serves :func:`needed_nodes` of :func:`inclusion_proof_nodes` (pass the dict
    prefetched with one query). Raises ValueError for an index outside the tree.
    """
    fetch = _getter(get)
    return [span_hash(start, end, fetch) for start, end in inclusion_proof_nodes(index, size)]


def consistency_proof(old: int, new: int, get: GetNode) -> list[bytes]:
    """The RFC 9162 consistency proof from size ``old`` to size ``new``.

    ``get`` as for :func:`inclusion_proof`. Raises ValueError unless ``0 <= old <= new``.
    """
    fetch = _getter(get)
    return [span_hash(start, end, fetch) for start, end in consistency_proof_nodes(old, new)]


# --- verification, as RFC 9162 §2.1.3.2 and §2.1.4.2 write it ---------------------------


def _all_hashes(values: Sequence[bytes]) -> bool:
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf_hash`` at ``index`` in the tree ``root``.

    RFC 9162 §2.1.3.2. The size matters only through the shape of the path, so a proof
    can also pass for another size with the same shape: trust a (size, root) pair only
    from a signed checkpoint.
    """
    if not 0 <= index < size or not _all_hashes([leaf_hash, root, *proof]):
        return False
    fn, sn = index, size - 1
    result = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = _sha256(_NODE_PREFIX + p + result).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = _sha256(_NODE_PREFIX + result + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and compare_digest(result, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``new_root`` extends the tree ``old_root``.

    RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``. Equal sizes need an empty proof
    and equal roots; from size 0 the proof is empty and ``old_root`` must be the empty
    tree's hash (every tree extends the empty one).
    """
    if not 0 <= old_size <= new_size or not _all_hashes([old_root, new_root, *proof]):
        return False
    if old_size == new_size:
        return not proof and compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof and compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a perfect subtree: its root leads
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_result = _sha256(_NODE_PREFIX + c + old_result).digest()
            new_result = _sha256(_NODE_PREFIX + c + new_result).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_result = _sha256(_NODE_PREFIX + new_result + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and compare_digest(old_result, old_root) and compare_digest(new_result, new_root)


# --- reference definitions (RFC 6962 §2.1, §2.1.1, §2.1.2), slow and obviously right --------


def _reference_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the recursive definition, over already hashed leaves."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _reference_split(n)
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


def reference_inclusion_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) by the recursive definition (RFC 6962 §2.1.1)."""
    n = len(leaves)
    if not 0 <= m < n:
        raise ValueError(f"leaf index {m} is not in a tree of size {n}")
    if n == 1:
        return []
    k = _reference_split(n)
    if m < k:
        return [*reference_inclusion_path(m, leaves[:k]), mth(leaves[k:])]
    return [*reference_inclusion_path(m - k, leaves[k:]), mth(leaves[:k])]


def reference_consistency(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) by the recursive definition (RFC 6962 §2.1.2); empty for m 0 or n."""
    if not 0 <= m <= len(leaves):
        raise ValueError(f"no consistency proof from size {m} to size {len(leaves)}")
    if m == 0:
        return []
    return _reference_subproof(m, leaves, True)


def _reference_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = _reference_split(n)
    if m <= k:
        return [*_reference_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*_reference_subproof(m - k, leaves[k:], False), mth(leaves[:k])]
