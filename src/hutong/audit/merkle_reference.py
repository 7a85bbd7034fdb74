"""Reference definitions of RFC 6962 §2.1, §2.1.1 and §2.1.2: MTH, PATH and PROOF by
their recursive definitions, slow and obviously right. Tests check the fast functions of
:mod:`hutong.audit.merkle` against them."""

from __future__ import annotations

from collections.abc import Sequence

from hutong.audit.merkle import EMPTY_ROOT, node_hash


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
