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

The hashes themselves (leaves, nodes, spans, the :class:`Frontier`) are computed in
:mod:`hutong.audit.merkle_hashing`; this module plans, assembles and verifies proofs
and is the one to import. The slow recursive RFC 6962 definitions that tests check
the fast functions against are in :mod:`hutong.audit.merkle_reference`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from hmac import compare_digest

from hutong.audit.merkle_hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    NODE_PREFIX,
    Frontier,
    GetNode,
    NodeKey,
    Span,
    StoredNode,
    hash_of_span,
    leaf_hash,
    node_getter,
    node_hash,
    perfect_parts,
    root_from_leaf_hashes,
    split_width,
)

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
    "needed_nodes",
    "node_hash",
    "perfect_parts",
    "root_from_leaf_hashes",
    "span_hash",
    "verify_consistency",
    "verify_inclusion",
]

_sha256 = hashlib.sha256


# --- proof planning: which spans, and which stored nodes make each span ------------------


def span_hash(start: int, end: int, get: GetNode) -> bytes:
    """MTH(D[start:end]) from stored hashes; ``span_hash(0, n, get)`` is the root at size n."""
    fetch = node_getter(get)
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
        k = split_width(end - start)
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
        k = split_width(end - start)
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
    fetch = node_getter(get)
    return [span_hash(start, end, fetch) for start, end in inclusion_proof_nodes(index, size)]


def consistency_proof(old: int, new: int, get: GetNode) -> list[bytes]:
    """The RFC 9162 consistency proof from size ``old`` to size ``new``.

    ``get`` as for :func:`inclusion_proof`. Raises ValueError unless ``0 <= old <= new``.
    """
    fetch = node_getter(get)
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
            result = _sha256(NODE_PREFIX + p + result).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = _sha256(NODE_PREFIX + result + p).digest()
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
            old_result = _sha256(NODE_PREFIX + c + old_result).digest()
            new_result = _sha256(NODE_PREFIX + c + new_result).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_result = _sha256(NODE_PREFIX + new_result + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and compare_digest(old_result, old_root) and compare_digest(new_result, new_root)
