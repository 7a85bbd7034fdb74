"""The Merkle log's fast functions against the RFC 6962 definitions, and tamper detection."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hutong.audit import merkle, merkle_hashing
from hutong.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    consistency_proof_nodes,
    hash_of_span,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    needed_nodes,
    perfect_parts,
    root_from_leaf_hashes,
    span_hash,
    verify_consistency,
    verify_inclusion,
)
from hutong.audit.merkle_reference import mth, reference_consistency, reference_inclusion_path

# RFC 6962 test vectors (Certificate Transparency's reference implementation).
RFC6962_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def make_leaves(size: int, seed: bytes) -> list[bytes]:
    return [leaf_hash(seed + i.to_bytes(4, "big")) for i in range(size)]


def build(leaves: list[bytes]) -> tuple[Frontier, dict[tuple[int, int], bytes]]:
    """A frontier over the leaves and the store the log keeps: leaves and perfect nodes."""
    frontier = Frontier()
    store = {(0, i): h for i, h in enumerate(leaves)}
    store.update({(level, idx): h for level, idx, h in frontier.extend(leaves)})
    return frontier, store


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def inclusion_shape(index: int, size: int) -> list[str]:
    """Where each sibling of the audit path lies (L or R), from the top, by recursion."""
    shape = []
    while size > 1:
        k = 1
        while k * 2 < size:
            k *= 2
        if index < k:
            shape.append("R")
            size = k
        else:
            shape.append("L")
            index, size = index - k, size - k
    return shape


def consistency_shape(old: int, new: int) -> list[object]:
    """The branch taken at each step of RFC 6962's SUBPROOF, and whether old is whole."""

    def sub(m: int, n: int, whole: bool) -> list[object]:
        if m == n:
            return [whole]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return [*sub(m, k, whole), "R"]
        return [*sub(m - k, n - k, False), "L"]

    return sub(old, new, True)


seeds = st.binary(min_size=1, max_size=8)


# --- hashing and roots ------------------------------------------------------------------


def test_rfc6962_test_vectors():
    leaves = [leaf_hash(d) for d in RFC6962_INPUTS]
    for size, expected in enumerate(RFC6962_ROOTS):
        assert mth(leaves[:size]).hex() == expected
        assert root_from_leaf_hashes(leaves[:size]) == (size, bytes.fromhex(expected))


def test_hash_domains_are_separated():
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    left, right = b"a" * 32, b"b" * 32
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


@given(size=st.integers(0, 300), seed=seeds)
def test_streaming_root_equals_reference(size, seed):
    leaves = make_leaves(size, seed)
    assert root_from_leaf_hashes(iter(leaves)) == (size, mth(leaves))


def test_streaming_root_across_batches():
    leaves = make_leaves(3 * (1 << 14) + 5, b"big")
    expected = Frontier()
    for h in leaves:
        expected.append(h)
    assert root_from_leaf_hashes(x for x in leaves) == (len(leaves), mth(leaves))
    assert expected.root() == mth(leaves)


def test_leaf_hashes_must_be_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        root_from_leaf_hashes([b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier().append(b"x" * 33)
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier().extend([b"x" * 32, b"y" * 31])


# --- the frontier (compact range) -------------------------------------------------------


@given(size=st.integers(0, 300), seed=seeds)
def test_append_reports_exactly_the_completed_perfect_nodes(size, seed):
    leaves = make_leaves(size, seed)
    frontier = Frontier()
    for n, h in enumerate(leaves, 1):
        expected = []
        level = 1
        while n % (1 << level) == 0:
            idx = n // (1 << level) - 1
            expected.append((level, idx, mth(leaves[idx << level : (idx + 1) << level])))
            level += 1
        assert frontier.append(h) == expected
        assert frontier.size == n
    assert frontier.root() == mth(leaves)


@given(size=st.integers(0, 300), seed=seeds, cuts=st.lists(st.integers(0, 300), max_size=12))
def test_extend_in_any_chunks_equals_appends(size, seed, cuts):
    leaves = make_leaves(size, seed)
    one_by_one = Frontier()
    expected = [node for h in leaves for node in one_by_one.append(h)]
    chunked = Frontier()
    got = []
    bounds = sorted({0, size, *(c for c in cuts if c < size)})
    for start, end in zip(bounds, bounds[1:], strict=False):
        got += chunked.extend(leaves[start:end])
    assert chunked == one_by_one
    assert sorted(got) == sorted(expected)


@pytest.mark.parametrize("batch", [1, 2, 3, 5, 8])
def test_extend_batches_internally(monkeypatch, batch):
    leaves = make_leaves(77, b"batch")
    expected = Frontier()
    nodes = [node for h in leaves for node in expected.append(h)]
    monkeypatch.setattr(merkle_hashing, "_BATCH", batch)
    frontier = Frontier()
    assert sorted(frontier.extend(iter(leaves))) == sorted(nodes)
    assert frontier == expected
    assert root_from_leaf_hashes(iter(leaves)) == (77, mth(leaves))


@given(size=st.integers(0, 300), seed=seeds)
def test_from_nodes_rebuilds_the_frontier(size, seed):
    leaves = make_leaves(size, seed)
    frontier, store = build(leaves)
    asked = []

    def get(level, idx):
        asked.append((level, idx))
        return store[(level, idx)]

    rebuilt = Frontier.from_nodes(size, get)
    assert rebuilt == frontier
    assert rebuilt.root() == mth(leaves)
    assert set(asked) == needed_nodes([(0, size)])
    assert len(asked) == bin(size).count("1")
    # the rebuilt frontier carries on exactly like the original
    more = make_leaves(9, seed + b"more")
    assert rebuilt.extend(more) == frontier.copy().extend(more)
    assert rebuilt.root() == mth(leaves + more)


def test_frontier_nodes_name_the_covering_subtrees():
    leaves = make_leaves(13, b"n")
    frontier, _ = build(leaves)
    assert [(level, idx) for level, idx, _ in frontier.nodes] == [(3, 0), (2, 2), (0, 12)]
    assert [h for *_, h in frontier.nodes] == [mth(leaves[:8]), mth(leaves[8:12]), leaves[12]]


# --- proof planning ---------------------------------------------------------------------


@given(start_level=st.integers(0, 20), idx=st.integers(0, 1000), width=st.integers(0, 1 << 20))
def test_perfect_parts_of_a_right_edge_span(start_level, idx, width):
    start = idx << max(start_level, width.bit_length())
    parts = perfect_parts(start, start + width)
    assert sum(1 << level for level, _ in parts) == width
    position = start
    for level, i in parts:
        assert i << level == position
        position += 1 << level
    assert [level for level, _ in parts] == sorted((level for level, _ in parts), reverse=True)


def test_perfect_parts_reject_spans_that_are_no_node():
    with pytest.raises(ValueError, match="not a node"):
        perfect_parts(1, 3)
    with pytest.raises(ValueError, match="bad span"):
        perfect_parts(5, 4)
    assert perfect_parts(0, 0) == []
    assert hash_of_span([]) == EMPTY_ROOT


def test_out_of_range_proofs_are_refused():
    with pytest.raises(ValueError):
        inclusion_proof_nodes(5, 5)
    with pytest.raises(ValueError):
        inclusion_proof_nodes(-1, 5)
    with pytest.raises(ValueError):
        consistency_proof_nodes(6, 5)
    with pytest.raises(ValueError):
        reference_inclusion_path(0, [])


def test_proofs_fetch_logarithmically_many_nodes_of_a_huge_log():
    size = 10_000_000
    for index in (0, 1, 4_999_999, 8_388_607, 8_388_608, size - 2, size - 1):
        keys = needed_nodes(inclusion_proof_nodes(index, size))
        assert len(keys) <= 2 * size.bit_length()
    for old in (1, 3, 8_388_608, 9_999_999):
        assert len(needed_nodes(consistency_proof_nodes(old, size))) <= 2 * size.bit_length()


# --- inclusion proofs -------------------------------------------------------------------


def check_inclusion(leaves, frontier, store, index):
    size = len(leaves)
    spans = inclusion_proof_nodes(index, size)
    fetched = {key: store[key] for key in needed_nodes(spans)}
    proof = inclusion_proof(index, size, fetched)
    assert proof == reference_inclusion_path(index, leaves)
    assert [span_hash(s, e, store) for s, e in spans] == proof
    assert [mth(leaves[s:e]) for s, e in spans] == proof
    assert verify_inclusion(leaves[index], index, size, proof, frontier.root())
    return proof


def test_every_inclusion_proof_of_small_trees():
    for size in range(1, 100):
        leaves = make_leaves(size, b"inc")
        frontier, store = build(leaves)
        for index in range(size):
            check_inclusion(leaves, frontier, store, index)


@settings(max_examples=60)
@given(size=st.integers(1, 300), seed=seeds, data=st.data())
def test_inclusion_proofs_of_random_trees(size, seed, data):
    leaves = make_leaves(size, seed)
    frontier, store = build(leaves)
    for index in data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=10)):
        check_inclusion(leaves, frontier, store, index)


@settings(max_examples=150)
@given(size=st.integers(1, 300), seed=seeds, data=st.data())
def test_tampered_inclusion_fails(size, seed, data):
    leaves = make_leaves(size, seed)
    frontier, store = build(leaves)
    root = frontier.root()
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, store)
    leaf = leaves[index]
    bit = data.draw(st.integers(0, 255))

    for k in range(len(proof)):
        bad = [*proof[:k], flip(proof[k], bit), *proof[k + 1 :]]
        assert not verify_inclusion(leaf, index, size, bad, root)
    assert not verify_inclusion(flip(leaf, bit), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, flip(root, bit))
    assert not verify_inclusion(leaf, index, size, [*proof, leaf], root)
    if proof:
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)
    for b in range(size.bit_length() + 1):
        assert not verify_inclusion(leaf, index ^ (1 << b), size, proof, root)
        # A proof binds the size only through its shape (the signed checkpoint binds the
        # size to the root): it passes for another size exactly when the shape is the same.
        other = size ^ (1 << b)
        same_shape = index < other and inclusion_shape(index, other) == inclusion_shape(index, size)
        assert verify_inclusion(leaf, index, other, proof, root) == same_shape


def test_inclusion_verifier_rejects_malformed_input():
    leaves = make_leaves(5, b"m")
    frontier, store = build(leaves)
    proof = inclusion_proof(2, 5, store)
    root = frontier.root()
    assert verify_inclusion(leaves[2], 2, 5, proof, root)
    assert not verify_inclusion(leaves[2], 2, 5, [*proof[:-1], proof[-1][:31]], root)
    assert not verify_inclusion(leaves[2], 2, 5, proof, root[:31])
    assert not verify_inclusion(leaves[2], -1, 5, proof, root)
    assert not verify_inclusion(leaves[2], 5, 5, proof, root)


# --- consistency proofs -----------------------------------------------------------------


def check_consistency(leaves, store, old):
    new = len(leaves)
    spans = consistency_proof_nodes(old, new)
    fetched = {key: store[key] for key in needed_nodes(spans)}
    proof = consistency_proof(old, new, fetched)
    assert proof == reference_consistency(old, leaves)
    old_root = Frontier.from_nodes(old, store).root()
    assert old_root == mth(leaves[:old])
    assert verify_consistency(old, new, old_root, mth(leaves), proof)
    return proof, old_root


def test_every_consistency_proof_of_small_trees():
    for new in range(0, 48):
        leaves = make_leaves(new, b"con")
        _, store = build(leaves)
        for old in range(0, new + 1):
            check_consistency(leaves, store, old)


@settings(max_examples=80)
@given(new=st.integers(0, 300), seed=seeds, data=st.data())
def test_consistency_proofs_of_random_trees(new, seed, data):
    leaves = make_leaves(new, seed)
    _, store = build(leaves)
    for old in data.draw(st.lists(st.integers(0, new), min_size=1, max_size=10)):
        check_consistency(leaves, store, old)


@settings(max_examples=150)
@given(new=st.integers(2, 300), seed=seeds, data=st.data())
def test_tampered_consistency_fails(new, seed, data):
    leaves = make_leaves(new, seed)
    _, store = build(leaves)
    old = data.draw(st.integers(1, new - 1))
    proof, old_root = check_consistency(leaves, store, old)
    new_root = mth(leaves)
    bit = data.draw(st.integers(0, 255))

    for k in range(len(proof)):
        bad = [*proof[:k], flip(proof[k], bit), *proof[k + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, bad)
    assert not verify_consistency(old, new, flip(old_root, bit), new_root, proof)
    assert not verify_consistency(old, new, old_root, flip(new_root, bit), proof)
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    assert not verify_consistency(old, new, old_root, new_root, [])
    shape = consistency_shape(old, new)
    for b in range(new.bit_length() + 1):
        # Sizes bind only through the proof's shape, as for inclusion proofs.
        other_old, other_new = old ^ (1 << b), new ^ (1 << b)
        same = 0 < other_old < new and consistency_shape(other_old, new) == shape
        assert verify_consistency(other_old, new, old_root, new_root, proof) == same
        same = old < other_new and consistency_shape(old, other_new) == shape
        assert verify_consistency(old, other_new, old_root, new_root, proof) == same


def test_consistency_edge_cases():
    leaves = make_leaves(6, b"edge")
    root = mth(leaves)
    assert verify_consistency(6, 6, root, root, [])
    assert not verify_consistency(6, 6, root, flip(root, 3), [])
    assert not verify_consistency(6, 6, root, root, [root])
    assert verify_consistency(0, 6, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 6, flip(EMPTY_ROOT, 0), root, [])
    assert not verify_consistency(0, 6, EMPTY_ROOT, root, [root])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(7, 6, root, root, [])
    assert not verify_consistency(-1, 6, root, root, [])
    assert consistency_proof_nodes(0, 6) == [] == consistency_proof_nodes(6, 6)
    assert reference_consistency(0, leaves) == [] == reference_consistency(6, leaves)


def test_missing_stored_node_raises_key_error():
    leaves = make_leaves(10, b"gone")
    _, store = build(leaves)
    del store[(2, 1)], store[(3, 0)]
    with pytest.raises(KeyError):
        inclusion_proof(0, 10, store)
    with pytest.raises(KeyError):
        Frontier.from_nodes(10, lambda level, idx: store[(level, idx)])
