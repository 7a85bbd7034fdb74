"""Measure hutong.audit.merkle and compare it with pymerkle 7 (docs/decisions/0006).

Run: ``python -m benchmarks.pymerkle_compare`` (about three minutes; pymerkle parts are
skipped when it is not installed: ``uv pip install pymerkle``), or under
``scripts/with-postgres.sh`` to add the PostgreSQL query check. Prints figures only;
nothing here asserts a timing.

1. Whole-log verification: leaf hash + streaming root over 1,000,000 entries of ~300
   bytes, and Frontier.extend (the checkpointer's pass, emitting every perfect node).
2. Inclusion proofs on a 10,000,000-leaf tree: planning + assembly from a dict of the
   needed nodes, and from SQLite tables (one query per table) holding every leaf hash
   and every perfect node, as the log stores them.
3. pymerkle 7, in-memory and SQLite backends: append rate, root, inclusion proofs with a
   cold and a warm subroot cache; its roots and paths are checked against ours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hutong.audit import merkle


def machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores {cpu}, Python {platform.python_version()}"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def entries(count: int) -> list[bytes]:
    """Canonical-JSON-like audit entries of about 300 bytes."""
    rng = random.Random(6962)
    out = []
    for i in range(count):
        doc = {
            "action": "data.call",
            "actor_org": f"sh:11310000MB2F{rng.randrange(10**5):05d}X",
            "index": i,
            "outcome": "ok",
            "provider_org": "sh:11310000MB2F12345X",
            "records": rng.randrange(100),
            "request_id": f"{rng.getrandbits(128):032x}",
            "resource": f"sh:11310000MB2F12345X:{rng.randrange(10**8):08d}",
            "scenario": f"sh:scn-{rng.randrange(10**6):06d}",
            "time": "2026-11-25T17:00:00.000000Z",
        }
        out.append(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
    return out


def synthetic_leaves(count: int, start: int = 0) -> Iterator[bytes]:
    leaf_hash = merkle.leaf_hash
    for i in range(start, start + count):
        yield leaf_hash(i.to_bytes(8, "big"))


def micro(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1e6:,.0f} us, p99 {p99 * 1e6:,.0f} us"


# --- 1. whole-log verification ------------------------------------------------------------


def bench_stream(count: int) -> None:
    data = entries(count)
    size = sum(map(len, data)) / len(data)
    print(f"\n## 1. Streaming root over {count:,} entries (mean {size:.0f} bytes)")

    def root() -> None:
        merkle.root_from_leaf_hashes(map(merkle.leaf_hash, data))

    elapsed = best_of(2, root)
    print(f"leaf_hash + root_from_leaf_hashes: {count / elapsed:,.0f} entries/s ({elapsed:.2f} s)")

    hashes = [merkle.leaf_hash(d) for d in data]
    elapsed = best_of(2, lambda: merkle.root_from_leaf_hashes(hashes))
    print(f"root_from_leaf_hashes over stored leaf hashes: {count / elapsed:,.0f} leaves/s")

    elapsed = best_of(2, lambda: merkle.Frontier().extend(hashes))
    print(f"Frontier.extend emitting every perfect node: {count / elapsed:,.0f} leaves/s")

    def one_by_one() -> None:
        frontier = merkle.Frontier()
        for h in hashes:
            frontier.append(h)

    elapsed = best_of(2, one_by_one)
    print(f"Frontier.append one leaf at a time: {count / elapsed:,.0f} leaves/s")


# --- 2. proofs on a 10M-leaf tree ---------------------------------------------------------


def build_store(size: int, wanted: set[tuple[int, int]] | None, db: sqlite3.Connection | None):
    """Stream a tree of ``size`` synthetic leaves; keep wanted nodes and/or fill SQLite."""
    store: dict[tuple[int, int], bytes] = {}
    frontier = merkle.Frontier()
    chunk = 1 << 16
    for first in range(0, size, chunk):
        leaves = list(synthetic_leaves(min(chunk, size - first), first))
        nodes = frontier.extend(leaves)
        if wanted is not None:
            for i, h in enumerate(leaves, first):
                if (0, i) in wanted:
                    store[(0, i)] = h
            for level, idx, h in nodes:
                if (level, idx) in wanted:
                    store[(level, idx)] = h
        if db is not None:
            db.executemany(
                "INSERT INTO audit_leaf VALUES (?, ?)",
                zip(range(first, first + len(leaves)), leaves, strict=True),
            )
            db.executemany("INSERT INTO audit_node VALUES (?, ?, ?)", nodes)
    return store, frontier.root()


def bench_big_tree(size: int, samples: int, with_sqlite: bool) -> None:
    print(f"\n## 2. Inclusion proofs on a {size:,}-leaf tree ({samples} random leaves)")
    rng = random.Random(9162)
    indexes = [rng.randrange(size) for _ in range(samples)]
    wanted: set[tuple[int, int]] = set()
    for i in indexes:
        wanted |= merkle.needed_nodes(merkle.inclusion_proof_nodes(i, size)) | {(0, i)}
    old = size // 3
    wanted |= merkle.needed_nodes(merkle.consistency_proof_nodes(old, size))
    wanted |= merkle.needed_nodes([(0, old)])

    start = time.perf_counter()
    store, root = build_store(size, wanted, None)
    print(f"(building the tree in memory took {time.perf_counter() - start:.1f} s)")

    plan, total = [], []
    fetched_counts = []
    for i in indexes:
        t0 = time.perf_counter()
        keys = merkle.needed_nodes(merkle.inclusion_proof_nodes(i, size))
        t1 = time.perf_counter()
        fetched = {k: store[k] for k in keys}  # stands for the caller's one query
        proof = merkle.inclusion_proof(i, size, fetched)
        t2 = time.perf_counter()
        assert merkle.verify_inclusion(store[(0, i)], i, size, proof, root)
        plan.append(t1 - t0)
        total.append(t2 - t0)
        fetched_counts.append(len(keys))
    print(f"planning (spans + needed keys): {micro(plan)}")
    print(f"planning + dict fetch + assembly: {micro(total)}")
    mean = statistics.mean(fetched_counts)
    print(f"stored hashes per proof: max {max(fetched_counts)}, mean {mean:.1f}")

    verify = []
    for i in indexes:
        proof = merkle.inclusion_proof(i, size, store)
        t0 = time.perf_counter()
        merkle.verify_inclusion(store[(0, i)], i, size, proof, root)
        verify.append(time.perf_counter() - t0)
    print(f"verify_inclusion: {micro(verify)}")

    t0 = time.perf_counter()
    old_root = merkle.Frontier.from_nodes(old, store).root()
    cproof = merkle.consistency_proof(old, size, store)
    elapsed = time.perf_counter() - t0
    assert merkle.verify_consistency(old, size, old_root, root, cproof)
    print(f"consistency {old:,} -> {size:,}: {len(cproof)} hashes, {elapsed * 1e6:,.0f} us")

    if not with_sqlite:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.db"
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE audit_leaf (leaf_index INTEGER PRIMARY KEY, leaf_hash BLOB)")
        db.execute(
            "CREATE TABLE audit_node (level INTEGER, idx INTEGER, hash BLOB,"
            " PRIMARY KEY (level, idx)) WITHOUT ROWID"
        )
        t0 = time.perf_counter()
        with db:
            _, sql_root = build_store(size, None, db)
        assert sql_root == root
        nodes = db.execute("SELECT count(*) FROM audit_node").fetchone()[0]
        print(
            f"(SQLite: {size:,} leaf hashes + {nodes:,} perfect nodes written in"
            f" {time.perf_counter() - t0:.0f} s, {path.stat().st_size / 2**20:,.0f} MiB)"
        )
        db.close()
        db = sqlite3.connect(path)

        def fetch(keys: set[tuple[int, int]], row_values: bool) -> dict[tuple[int, int], bytes]:
            leaves = [i for level, i in keys if level == 0]
            inner = [k for k in keys if k[0] > 0]
            got: dict[tuple[int, int], bytes] = {}
            if leaves:
                marks = ",".join("?" * len(leaves))
                sql = f"SELECT leaf_index, leaf_hash FROM audit_leaf WHERE leaf_index IN ({marks})"
                got.update(((0, i), h) for i, h in db.execute(sql, leaves))
            if inner:
                if row_values:  # what SQLAlchemy's tuple_().in_() renders on SQLite
                    where = "(level, idx) IN (VALUES " + ",".join(["(?,?)"] * len(inner)) + ")"
                else:
                    where = " OR ".join(["(level = ? AND idx = ?)"] * len(inner))
                sql = f"SELECT level, idx, hash FROM audit_node WHERE {where}"
                params = [v for k in inner for v in k]
                got.update(((lv, i), h) for lv, i, h in db.execute(sql, params))
            return got

        for row_values, count in ((False, samples), (True, 3)):
            timings = []
            for i in rng.sample(range(size), count):
                t0 = time.perf_counter()
                keys = merkle.needed_nodes(merkle.inclusion_proof_nodes(i, size)) | {(0, i)}
                fetched = fetch(keys, row_values)  # the proved leaf's hash comes along
                proof = merkle.inclusion_proof(i, size, fetched)
                timings.append(time.perf_counter() - t0)
                assert merkle.verify_inclusion(fetched[(0, i)], i, size, proof, root)
            form = "(level, idx) IN (VALUES ...)" if row_values else "OR of (level = ? AND idx = ?)"
            print(f"SQLite, plan + 2 queries + assembly, {form}: {micro(timings)}")
        db.close()


def bench_postgres(size: int, samples: int) -> None:
    """The node query on PostgreSQL, both forms (run under scripts/with-postgres.sh)."""
    url = os.environ.get("HUTONG_TEST_PG_URL")
    if not url:
        print("\n## 2b. PostgreSQL: HUTONG_TEST_PG_URL not set, skipped")
        return
    import psycopg

    print(f"\n## 2b. PostgreSQL: the node query of an inclusion proof, {size:,} leaves")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS bench_audit_node")
        c.execute(
            "CREATE TABLE bench_audit_node (level smallint, idx bigint, hash bytea,"
            " PRIMARY KEY (level, idx))"
        )
        for level in range(1, size.bit_length()):
            c.execute(
                "INSERT INTO bench_audit_node SELECT %s, g, sha256(int8send(g))"
                " FROM generate_series(0, %s) g",
                (level, (size >> level) - 1),
            )
        c.execute("ANALYZE bench_audit_node")
        rng = random.Random(15)
        for form in ("(level, idx) IN ((?,?), ...)", "OR of (level = ? AND idx = ?)"):
            timings = []
            for _ in range(samples):
                i = rng.randrange(size)
                keys = [
                    k for k in merkle.needed_nodes(merkle.inclusion_proof_nodes(i, size)) if k[0]
                ]
                if form.startswith("OR"):
                    where = " OR ".join(["(level = %s AND idx = %s)"] * len(keys))
                else:
                    where = "(level, idx) IN (" + ",".join(["(%s,%s)"] * len(keys)) + ")"
                sql = f"SELECT level, idx, hash FROM bench_audit_node WHERE {where}"
                params = [v for k in keys for v in k]
                t0 = time.perf_counter()
                rows = c.execute(sql, params).fetchall()
                timings.append(time.perf_counter() - t0)
                assert len(rows) == len(keys)
            plan = c.execute(f"EXPLAIN {sql}", params).fetchall()
            print(f"{form}: {micro(timings)}; plan: {plan[0][0].split('  ')[0]}")
        c.execute("DROP TABLE bench_audit_node")


# --- 3. pymerkle --------------------------------------------------------------------------


def bench_pymerkle(sizes: list[int]) -> None:
    try:
        import pymerkle
    except ImportError:
        print("\n## 3. pymerkle not installed: skipped")
        return
    print(f"\n## 3. pymerkle {pymerkle.__version__}")
    for count in sizes:
        data = entries(count)
        ours = [merkle.leaf_hash(d) for d in data]
        size, our_root = merkle.root_from_leaf_hashes(ours)
        store: dict[tuple[int, int], bytes] = {(0, i): h for i, h in enumerate(ours)}
        store.update({(lv, i): h for lv, i, h in merkle.Frontier().extend(ours)})
        rng = random.Random(count)
        picks = [rng.randrange(count) for _ in range(50)]

        def check(tree: Any, root: bytes, picks: list[int], store: dict[Any, bytes]) -> None:
            assert tree.get_root() == root, "pymerkle root differs"
            for i in picks[:5]:
                path = tree.prove_inclusion(i + 1).path[1:]  # its path starts with the leaf
                assert path == merkle.inclusion_proof(i, tree.get_size(), store)

        # in-memory backend
        before = rss_mib()
        t0 = time.perf_counter()
        tree = pymerkle.InmemoryTree()
        tree.append_entries(data)
        append = time.perf_counter() - t0
        grown = rss_mib() - before
        t0 = time.perf_counter()
        tree.get_root(count - 1)  # a size other than the current one: computed from nodes
        root_s = time.perf_counter() - t0
        proofs = []
        for i in picks:
            t0 = time.perf_counter()
            tree.prove_inclusion(i + 1)
            proofs.append(time.perf_counter() - t0)
        check(tree, our_root, picks, store)
        print(
            f"InmemoryTree {count:,}: append {count / append:,.0f} entries/s, +{grown:,.0f} MiB;"
            f" root at size-1 {root_s * 1e3:,.1f} ms; inclusion proof {micro(proofs)}"
        )
        del tree

        # SQLite backend: its own database file and connection
        with tempfile.TemporaryDirectory() as tmp:
            dbfile = str(Path(tmp) / "pymerkle.db")
            tree = pymerkle.SqliteTree(dbfile)
            t0 = time.perf_counter()
            tree.append_entries(data)
            append = time.perf_counter() - t0
            tree.close()
            one = pymerkle.SqliteTree(dbfile)
            t0 = time.perf_counter()
            for d in data[:2000]:
                one.append_entry(d)
            single = 2000 / (time.perf_counter() - t0)
            one.close()

            tree = pymerkle.SqliteTree(dbfile)  # fresh process state: empty subroot cache
            t0 = time.perf_counter()
            tree.prove_inclusion(picks[0] + 1, count)
            cold = time.perf_counter() - t0
            warm = []
            for i in picks:
                t0 = time.perf_counter()
                tree.prove_inclusion(i + 1, count)
                warm.append(time.perf_counter() - t0)
            tree.close()
            tree = pymerkle.SqliteTree(dbfile)
            t0 = time.perf_counter()
            tree.get_root(count)
            cold_root = time.perf_counter() - t0
            assert tree.get_root(count) == our_root
            for i in picks[:5]:
                assert tree.prove_inclusion(i + 1, count).path[1:] == merkle.inclusion_proof(
                    i, size, store
                )
            tree.close()
        print(
            f"SqliteTree {count:,}: append_entries {count / append:,.0f} entries/s,"
            f" append_entry {single:,.0f}/s (a commit each); root cold {cold_root:.2f} s;"
            f" first inclusion proof (cold cache) {cold * 1e3:,.0f} ms; warm {micro(warm)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-sqlite", action="store_true", help="skip the 10M SQLite tables")
    parser.add_argument("--pymerkle-sizes", default="100000,1000000")
    args = parser.parse_args()
    print(f"# hutong.audit.merkle vs pymerkle — {machine()}")
    bench_stream(args.entries)
    bench_big_tree(args.big, args.samples, not args.no_sqlite)
    bench_postgres(args.big, args.samples)
    bench_pymerkle([int(s) for s in args.pymerkle_sizes.split(",") if s])


if __name__ == "__main__":
    main()
