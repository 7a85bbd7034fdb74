"""Audit log: durable appends beside plain inserts, whole-log verification, inclusion proofs.

1. Appends. ``WRITER_COUNTS`` threads (8, 64, then 256), then ``ASYNC_WRITER_COUNTS``
   asyncio tasks in one event loop (256, 1024: how the gateway waits, with
   ``AuditWriter.append``), then ``PROCESS_WRITERS``: 2 and 4 worker processes sharing
   1,024 asyncio tasks, each process with its own writer and checkpointer as
   ``uvicorn --workers N`` runs a node, first with each process's writer thread, then
   with the node's audit keeper process (decision 0017; its CPU is counted). They send
   events to the group-commit :class:`~hutong.audit.writer.AuditWriter` as requests of 1
   to 10 events and wait for each to be durable, as request handlers do, while a
   :class:`~hutong.audit.checkpoints.Checkpointer` signs a checkpoint every second. They
   stop after ``ENTRIES`` entries or ``APPEND_SECONDS`` seconds, whichever comes first;
   the clock stops when every entry is durable *and* a last checkpoint covers them all.
   Baseline, in the same database (same file, engine and settings: WAL,
   ``synchronous=FULL``): the very rows the writer stored (read back, so the same
   canonical payloads, leaf hashes and every column) and their subject-index rows,
   inserted with the driver's ``executemany`` into plain copies of ``audit_entry`` and
   ``audit_subject`` (same columns, keys and indexes), in batches of the writer's mean
   commit size, one transaction each; no lock, numbering, JSON, hashing, statistics or
   Merkle work. Goals: at least 50,000 entries/s on SQLite, and at least 0.5x the plain
   rate.
2. Verification of the log the last append run built: ``verify_database`` (blocks read
   and hashed in one worker process per core), and
   ``verify_export`` over ``export_jsonl``'s file. Goal: at least 500,000 entries/s.
3. Inclusion proofs on a 10,000,000-entry SQLite log (``HUTONG_BENCH_QUICK=1``:
   1,000,000 entries, and 100,000 appends at most). SQLite itself makes the entries in
   bulk, with real canonical payloads and leaf hashes, and ``merkle.Frontier.extend``
   the stored Merkle nodes; the last ``PROOF_TAIL`` entries go through ``log.append``
   and the final checkpoint through ``checkpoint_now``. Then ``prove_inclusion`` for
   ``PROOFS`` random leaves, each proof checked with ``merkle.verify_inclusion``. Goal:
   at most 5 ms.

Parts 1 and 2 run on SQLite, and on PostgreSQL too when HUTONG_TEST_PG_URL is set;
part 3 on SQLite. The CPU time per entry of the appends (every thread of the writing
processes, from the start to the last checkpoint) is reported beside the rates: on a
shared machine it moves less than the wall clock. ``HUTONG_BENCH_AUDIT_PARTS=1`` and
``HUTONG_BENCH_AUDIT_BACKENDS=sqlite`` narrow a run for trying a change. Files live in
the caller's temporary directory and are deleted as each part ends. Nothing here asserts
a timing: the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import gc
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, func, select

from benchmarks.common import fresh_database, pg_admin_url
from hutong.audit import log, merkle
from hutong.audit.checkpoints import (
    Checkpointer,
    checkpoint_now,
    latest,
    origin_of,
    prove_inclusion,
)
from hutong.audit.entry import AuditEvent, canonical, subject_key, to_document
from hutong.audit.models import AuditCheckpoint, AuditEntry, AuditSubject
from hutong.audit.note import format_checkpoint, sign_note
from hutong.audit.verify import export_jsonl, node_vkey, verify_database, verify_export
from hutong.core.database import Database
from hutong.core.keys import load_keys
from hutong.core.settings import Settings

QUICK = os.environ.get("HUTONG_BENCH_QUICK", "") not in ("", "0")
ENTRIES = 100_000 if QUICK else 500_000
WRITER_COUNTS = (8, 64, 256)
ASYNC_WRITER_COUNTS = (256, 1024)  # request handlers as asyncio tasks, as the gateway waits
# (worker processes, asyncio tasks in all): a node run as ``uvicorn --workers N``
PROCESS_WRITERS = ((2, 1024), (4, 1024))
# HUTONG_BENCH_AUDIT_PARTS=1 runs the appends only; HUTONG_BENCH_AUDIT_BACKENDS=sqlite skips
# PostgreSQL (for trying a change; the doc's figures are written only by a whole run)
PARTS = os.environ.get("HUTONG_BENCH_AUDIT_PARTS", "1,2,3").replace(" ", "").split(",")
BACKENDS = os.environ.get("HUTONG_BENCH_AUDIT_BACKENDS", "sqlite,postgresql").split(",")
VERIFY_WORKERS = os.cpu_count() or 1
APPEND_SECONDS = 3.0 if QUICK else 10.0
RUNS = 2  # best of, as the ingest benchmark: the machine may be shared
CHANNELS = 24
REQUEST_SIZES = (1, 10)
CHECKPOINT_SECONDS = 1.0
PROOF_LOG = 1_000_000 if QUICK else 10_000_000
PROOF_TAIL = 1_000
PROOFS = 1_000
PROOF_ROUNDS = 3  # best of, by p99: each round is about 2 s
BUILD_CHUNK = 1 << 17
NODE = "sh"

GOAL_APPENDS = 50_000
GOAL_RATIO = 0.5
GOAL_VERIFY = 500_000
GOAL_PROOF_MS = 5.0

_ORGS = [f"{NODE}:1131000{n:04d}MB2F1A0{n % 10}" for n in range(20)]
_FIELDS = ["person_id", "name", "birth_date", "district", "children", "income", "address"]
_ACTIONS = [("data.lookup", 5), ("data.query", 4), ("data.export", 1)]


# --- events -------------------------------------------------------------------------------


def as_started() -> None:
    """Freeze what is alive for the garbage collector, as a served worker does once its
    app has started (decision 0019): the runs then pay for the collection of what they
    make, not for walking the benchmark's own objects (its request lists among them)."""
    gc.collect()
    gc.freeze()


def event_pool(secret: bytes, *, size: int = 4096, seed: int = 7) -> list[AuditEvent]:
    """Data-call events as the gateway writes them: lookups with a subject, queries, exports.

    Each comes from one of ``CHANNELS`` apps, each of an organization calling one resource
    for one scenario, so statistics rows repeat as they do in production.
    """
    rng = random.Random(seed)
    actions = [a for a, weight in _ACTIONS for _ in range(weight)]
    channels = [
        (
            rng.choice(_ORGS),
            f"{rng.randrange(1 << 64):016x}-app",
            rng.randrange(50),
            rng.choice(_ORGS[:6]),
            f"sc-{n:03d}" if n % 4 else None,
            rng.sample(_FIELDS, rng.randint(3, 6)),
        )
        for n in range(CHANNELS)
    ]
    pool = []
    for n in range(size):
        org, app, resource, provider, scenario, fields = rng.choice(channels)
        action = rng.choice(actions)
        lookup = action == "data.lookup"
        pool.append(
            AuditEvent(
                action=action,
                actor_org=org,
                actor_app=app,
                end_user=f"u{rng.randrange(10_000):05d}" if rng.random() < 0.5 else None,
                case_number=f"沪案{rng.randrange(10**6):06d}" if rng.random() < 0.2 else None,
                resource=f"{provider}:101001-{resource:05d}",
                provider_org=provider,
                fields=fields,
                scenario=scenario,
                call_type="csv" if action == "data.export" else "api",
                subjects=[subject_key(f"3101{n:014d}", secret=secret)] if lookup else [],
                records=1 if lookup else rng.randrange(1000 if action == "data.query" else 10**6),
                latency_us=rng.randrange(200, 20_000),
                request_id=f"{rng.randrange(1 << 128):032x}",
            )
        )
    return pool


def requests_per_writer(
    pool: Sequence[AuditEvent], *, total: int, writers: int, seed: int = 11
) -> list[list[list[AuditEvent]]]:
    """``total`` events cut into requests of 1 to 10 events, dealt round-robin to writers."""
    rng = random.Random(seed)
    out: list[list[list[AuditEvent]]] = [[] for _ in range(writers)]
    made = turn = 0
    while made < total:
        size = min(rng.randint(*REQUEST_SIZES), total - made)
        out[turn % writers].append([pool[(made + i) % len(pool)] for i in range(size)])
        made += size
        turn += 1
    return out


# --- 1. appends beside plain inserts ------------------------------------------------------


def _settings(workdir: Path, name: str) -> Settings:
    """Settings of a node home whose keys are those fresh_database made."""
    home = workdir / f"home-{name}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(workdir / f"keys-{name}", home / "keys")
    load_keys.cache_clear()  # each run makes new keys at the same path; the cache keeps the old
    return Settings(home=home, audit_checkpoint_seconds=CHECKPOINT_SECONDS)


def timed_appends(
    db: Database,
    settings: Settings,
    requests: list[list[list[AuditEvent]]],
    *,
    seconds_at_most: float = APPEND_SECONDS,
) -> dict[str, Any]:
    """Run the writers and the checkpointer; time until all is durable and checkpointed.

    Each writer stops early when ``seconds_at_most`` have passed, so a slow build still
    finishes in time; the entries counted are those written.
    """
    from hutong.audit.writer import AuditWriter

    writer = AuditWriter(db, node=None, max_batch=settings.audit_max_batch)
    writer.start()
    checkpointer = Checkpointer(db, settings)
    ready = threading.Barrier(len(requests) + 1)
    failures: list[BaseException] = []
    timeout = settings.audit_write_timeout_seconds
    written = [0] * len(requests)

    def handler(n: int) -> None:
        ready.wait()
        try:
            for events in requests[n]:
                if time.perf_counter() > deadline:
                    break
                writer.submit(events).result(timeout=timeout)
                written[n] += len(events)
        except BaseException as exc:  # reported after the run
            failures.append(exc)

    threads = [threading.Thread(target=handler, args=(n,)) for n in range(len(requests))]
    for t in threads:
        t.start()
    deadline = float("inf")
    as_started()
    ready.wait()
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds_at_most
    checkpointer.start()
    for t in threads:
        t.join()
    durable = time.perf_counter() - start
    checkpointer.stop()  # joins the thread, then signs a last checkpoint over everything
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    gc.unfreeze()
    writer.stop()
    if failures:
        raise RuntimeError(f"{len(failures)} writer(s) failed") from failures[0]
    entries = sum(written)
    with db.session_scope(readonly=True) as s:
        head = latest(s)
        signed = s.scalar(select(func.count()).select_from(AuditCheckpoint))
    if head is None or head.tree_size != entries:
        raise RuntimeError(f"the last checkpoint covers {head and head.tree_size}, not {entries}")
    return {
        "entries": entries,
        "seconds": seconds,
        "durable_seconds": durable,
        "commits": writer.commits,
        "batch": entries / max(writer.commits, 1),
        "checkpoints": signed,
        "cpu_s": cpu,
    }


def timed_appends_async(
    db: Database,
    settings: Settings,
    requests: list[list[list[AuditEvent]]],
    *,
    seconds_at_most: float = APPEND_SECONDS,
    via_submit: bool = False,
) -> dict[str, Any]:
    """:func:`timed_appends` with the handlers as asyncio tasks in one event loop.

    This is how the gateway waits for its entries (``AuditRuntime.wait``): the request's
    work is done, the entry submitted, and the event loop awaits the group commit, so
    thousands of calls can wait at once without a thread each.
    """
    from hutong.audit.writer import AuditWriter

    writer = AuditWriter(db, node=None, max_batch=settings.audit_max_batch)
    writer.start()
    checkpointer = Checkpointer(db, settings)
    written = [0] * len(requests)
    timeout = settings.audit_write_timeout_seconds

    async def handler(n: int, deadline: float) -> None:
        for events in requests[n]:
            if time.perf_counter() > deadline:
                break
            if via_submit:
                await asyncio.wrap_future(writer.submit(events))
            else:
                await writer.append(events, timeout)
            written[n] += len(events)

    async def main() -> tuple[float, float]:
        start = time.perf_counter()
        checkpointer.start()
        await asyncio.gather(*(handler(n, start + seconds_at_most) for n in range(len(requests))))
        return start, time.perf_counter()

    as_started()
    cpu = time.process_time()
    start, durable_at = asyncio.run(main())
    checkpointer.stop()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    gc.unfreeze()
    writer.stop()
    entries = sum(written)
    with db.session_scope(readonly=True) as s:
        head = latest(s)
        signed = s.scalar(select(func.count()).select_from(AuditCheckpoint))
    if head is None or head.tree_size != entries:
        raise RuntimeError(f"the last checkpoint covers {head and head.tree_size}, not {entries}")
    return {
        "entries": entries,
        "seconds": seconds,
        "durable_seconds": durable_at - start,
        "commits": writer.commits,
        "batch": entries / max(writer.commits, 1),
        "checkpoints": signed,
        "cpu_s": cpu,
    }


def _process_writer(
    url: str,
    home: str,
    requests: list[list[list[AuditEvent]]],
    ready: Any,
    out: Any,
    seconds_at_most: float,
    keeper: bool = False,
) -> None:
    """One worker process of a node (as ``uvicorn --workers N`` runs them): its own
    engine, writer and checkpointer; its request handlers are asyncio tasks that call
    ``AuditWriter.append``. With ``keeper`` the writers send their entries to the node's
    keeper process (started by the first, as a server's workers do; its CPU is counted).
    Puts (entries, commits, start, durable, end, CPU s, keeper CPU s) on ``out``.
    """
    from hutong.audit.keeper_link import KeeperLink
    from hutong.audit.writer import AuditWriter

    db = Database(url)
    settings = Settings(home=Path(home), audit_checkpoint_seconds=CHECKPOINT_SECONDS)
    writer = AuditWriter(db, node=None, max_batch=settings.audit_max_batch)
    writer.start()
    writer._node()  # the node's code read before the clock starts, as a warm worker has it
    loop = asyncio.new_event_loop()
    if keeper:  # connected before the clock starts, as a running node's workers are
        env = {**os.environ, "HUTONG_DATABASE_URL": url, "HUTONG_HOME": home}
        env["HUTONG_AUDIT_KEEPER_IDLE_SECONDS"] = "1"
        writer.keeper = KeeperLink(url, env=env, retry=0.05)

        async def connected() -> None:
            while writer.keeper.channel(asyncio.get_running_loop()) is None:
                await asyncio.sleep(0.05)

        loop.run_until_complete(asyncio.wait_for(connected(), 60))
    checkpointer = Checkpointer(db, settings)
    written = [0] * len(requests)
    timeout = settings.audit_write_timeout_seconds

    async def handler(n: int, deadline: float) -> None:
        for events in requests[n]:
            if time.perf_counter() > deadline:
                break
            await writer.append(events, timeout)
            written[n] += len(events)

    async def main(start: float) -> float:
        checkpointer.start()
        await asyncio.gather(*(handler(n, start + seconds_at_most) for n in range(len(requests))))
        return time.perf_counter()

    as_started()
    ready.wait()
    cpu = time.process_time()
    start = time.perf_counter()  # CLOCK_MONOTONIC: one clock for every process
    durable = loop.run_until_complete(main(start))
    checkpointer.stop()
    end = time.perf_counter()
    commits = writer.commits + (writer.keeper.commits if keeper else 0)
    writer.stop()
    loop.close()
    out.put((sum(written), commits, start, durable, end, time.process_time() - cpu))
    db.dispose()


def timed_appends_processes(
    db: Database,
    settings: Settings,
    requests: list[list[list[AuditEvent]]],
    *,
    processes: int,
    seconds_at_most: float = APPEND_SECONDS,
    keeper: bool = False,
) -> dict[str, Any]:
    """:func:`timed_appends_async` in ``processes`` worker processes sharing the database;
    the handlers (asyncio tasks) are dealt to the processes round-robin.

    The clock runs from the common start until the last process has its entries durable
    and its last checkpoint signed.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(processes + 1)
    out = ctx.Queue()
    url = db.engine.url.render_as_string(hide_password=False)
    workers = [
        ctx.Process(
            target=_process_writer,
            args=(
                url,
                str(settings.home),
                requests[p::processes],
                ready,
                out,
                seconds_at_most,
                keeper,
            ),
        )
        for p in range(processes)
    ]
    for w in workers:
        w.start()
    ready.wait()
    before = keeper_cpu(url) if keeper else 0.0
    results = [out.get(timeout=seconds_at_most + 120) for _ in workers]
    spent = keeper_cpu(url) - before if keeper else 0.0
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise RuntimeError(f"a writer process failed ({w.exitcode})")
    entries = sum(r[0] for r in results)
    # the keeper's count is of its commits for all processes: each reports it
    commits = max(r[1] for r in results) if keeper else sum(r[1] for r in results)
    start = min(r[2] for r in results)
    with db.session_scope(readonly=True) as s:
        head = latest(s)
        signed = s.scalar(select(func.count()).select_from(AuditCheckpoint))
    if head is None or head.tree_size != entries:
        raise RuntimeError(f"the last checkpoint covers {head and head.tree_size}, not {entries}")
    return {
        "entries": entries,
        "seconds": max(r[4] for r in results) - start,
        "durable_seconds": max(r[3] for r in results) - start,
        "commits": commits,
        "batch": entries / max(commits, 1),
        "checkpoints": signed,
        "cpu_s": sum(r[5] for r in results) + spent,
        "keeper_cpu_s": spent,
    }


def keeper_cpu(url: str) -> float:
    """CPU seconds used so far by the database's keeper process (0 if none runs)."""
    from hutong.audit.keeper import keeper_pid

    pid = keeper_pid(url)
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _plain_copy(metadata: MetaData, source: Table) -> Table:
    """A table named plain_<source> with the same columns, primary key and indexes."""
    name = f"plain_{source.name}"
    copy = Table(
        name,
        metadata,
        *[
            Column(
                c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False
            )
            for c in source.columns
        ],
        **source.dialect_kwargs,  # e.g. WITHOUT ROWID on SQLite
    )
    for index in source.indexes:
        Index(str(index.name).replace(source.name, name), *[copy.c[c.name] for c in index.columns])
    return copy


def plain_inserts(db: Database, *, batch: int) -> dict[str, Any]:
    """Insert the stored entry and subject rows again into plain copies; time it."""
    metadata = MetaData()
    tables = [_plain_copy(metadata, t) for t in (AuditEntry.__table__, AuditSubject.__table__)]
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    mark = "?" if db.dialect == "sqlite" else "%s"
    sources = [AuditEntry.__table__, AuditSubject.__table__]
    statements = []
    rows: list[list[tuple[Any, ...]]] = []
    with db.engine.connect() as conn:
        for source, copy in zip(sources, tables, strict=True):
            names = [c.name for c in source.columns]
            cols = ", ".join(names)
            rows.append(
                [
                    tuple(r)
                    for r in conn.exec_driver_sql(
                        f"SELECT {cols} FROM {source.name} ORDER BY leaf_index"
                    )
                ]
            )
            statements.append(
                f"INSERT INTO {copy.name} ({cols}) VALUES ({', '.join([mark] * len(names))})"
            )
    entries, subjects = rows
    leaf = [c.name for c in AuditSubject.__table__.columns].index("leaf_index")
    subject_pos = 0
    as_started()
    start = time.perf_counter()
    for lo in range(0, len(entries), batch):
        chunk = entries[lo : lo + batch]
        last = chunk[-1][0]
        end = subject_pos
        while end < len(subjects) and subjects[end][leaf] <= last:
            end += 1
        with db.engine.begin() as conn:
            conn.exec_driver_sql(statements[0], chunk)
            if end > subject_pos:
                conn.exec_driver_sql(statements[1], subjects[subject_pos:end])
        subject_pos = end
    seconds = time.perf_counter() - start
    gc.unfreeze()
    metadata.drop_all(db.engine)
    return {"entries": len(entries), "subjects": len(subjects), "seconds": seconds}


# --- 2. verification ----------------------------------------------------------------------


def timed_verify(db: Database, keys_dir: Path, workdir: Path) -> dict[str, Any]:
    """verify_database over the stored log, then export_jsonl and verify_export; best of RUNS."""
    path = workdir / "audit-export.jsonl"
    stored = exported = offline_s = float("inf")
    for _ in range(RUNS):
        with db.session_scope(readonly=True) as s:
            start = time.perf_counter()
            report = verify_database(session=s, keys_dir=keys_dir, workers=VERIFY_WORKERS)
            stored = min(stored, time.perf_counter() - start)
            vkey = node_vkey(session=s, keys_dir=keys_dir)
        if not report.ok:
            raise RuntimeError(f"verify_database failed: {report.problem}")
        with db.session_scope(readonly=True) as s, path.open("w", encoding="utf-8") as out:
            start = time.perf_counter()
            export_jsonl(session=s, keys_dir=keys_dir, out=out)
            exported = min(exported, time.perf_counter() - start)
        start = time.perf_counter()
        offline = verify_export(path, vkey)
        offline_s = min(offline_s, time.perf_counter() - start)
        path.unlink()
        if not offline.ok or offline.entries != report.entries:
            raise RuntimeError(f"verify_export failed: {offline.problem}")
    return {
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "workers": VERIFY_WORKERS,
        "verify_s": stored,
        "export_s": exported,
        "verify_export_s": offline_s,
    }


def bench_appends(
    kind: str, workdir: Path, *, writers: int, mode: str = "threads"
) -> dict[str, Any]:
    """Appends by ``writers`` threads (or asyncio tasks, ``mode="asyncio"``) beside plain
    inserts of the same rows; one fresh node.

    Returns the figures and leaves the database open for verification (``"db"``, with
    its ``"keys_dir"``).
    """
    name = "bench_audit"
    if kind == "sqlite":
        _remove_sqlite(workdir / f"{name}.db")
    shutil.rmtree(workdir / f"keys-{name}", ignore_errors=True)
    db = fresh_database(kind, workdir, name)
    settings = _settings(workdir, name)
    pool = event_pool(load_keys(settings.keys_dir).subject_hmac)
    requests = requests_per_writer(pool, total=ENTRIES, writers=writers)
    if mode == "threads":
        ours = timed_appends(db, settings, requests)
    elif mode.startswith("processes"):
        ours = timed_appends_processes(db, settings, requests, processes=int(mode[9:]))
    elif mode.startswith("keeper"):
        ours = timed_appends_processes(db, settings, requests, processes=int(mode[6:]), keeper=True)
        time.sleep(1.5)  # the keeper, left alone, exits before the file is replaced
    else:
        ours = timed_appends_async(db, settings, requests, via_submit=mode == "submit")
    plain = plain_inserts(db, batch=max(1, round(ours["batch"])))
    return {
        "backend": "SQLite" if kind == "sqlite" else "PostgreSQL",
        "writers": writers,
        "mode": mode,
        **ours,
        "rate": ours["entries"] / ours["seconds"],
        "cpu_us": ours["cpu_s"] / max(ours["entries"], 1) * 1e6,
        "subjects": plain["subjects"],
        "plain_s": plain["seconds"],
        "plain_rate": plain["entries"] / plain["seconds"],
        "ratio": plain["seconds"] / ours["seconds"],
        "db": db,
        "keys_dir": settings.keys_dir,
    }


def bench_backend(kind: str, workdir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Appends with each of ``WRITER_COUNTS``, best of ``RUNS``; then verification."""
    results = []
    checked: dict[str, Any] = {}
    configs = [(w, "threads") for w in WRITER_COUNTS]
    configs += [(w, "asyncio") for w in ASYNC_WRITER_COUNTS]
    configs += [(w, f"processes{p}") for p, w in PROCESS_WRITERS]
    configs += [(w, f"keeper{p}") for p, w in PROCESS_WRITERS]
    for writers, mode in configs:
        runs = []
        for attempt in range(RUNS):
            run = bench_appends(kind, workdir, writers=writers, mode=mode)
            db, keys_dir = run.pop("db"), run.pop("keys_dir")
            if (writers, mode) == configs[-1] and attempt == RUNS - 1 and "2" in PARTS:
                checked = timed_verify(db, keys_dir, workdir)
            db.dispose()
            runs.append(run)
        ours = max(runs, key=lambda r: r["rate"])
        plain = max(r["plain_rate"] for r in runs)
        results.append({**ours, "plain_rate": plain, "ratio": ours["rate"] / plain})
    if kind == "sqlite":
        _remove_sqlite(workdir / "bench_audit.db")
    if not checked:
        return results, {}
    checked["backend"] = results[0]["backend"]
    checked["verify_rate"] = checked["entries"] / checked["verify_s"]
    checked["verify_export_rate"] = checked["entries"] / checked["verify_export_s"]
    return results, checked


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- 3. inclusion proofs on a large log ---------------------------------------------------


def payload_formats(node: str) -> list[tuple[str, str]]:
    """(action, SQLite printf format) of the canonical payloads of a lookup, query, export.

    The format's arguments, in the order of the sorted keys: latency_us, request_id, the
    subject (lookups only) and time.
    """
    out = []
    for action in ("data.lookup", "data.query", "data.export"):
        probe = AuditEvent(
            action=action,
            actor_org=_ORGS[3],
            actor_app="0123456789abcdef-app",
            resource=f"{_ORGS[1]}:101001-00007",
            provider_org=_ORGS[1],
            fields=_FIELDS[:4],
            scenario="sc-004",
            call_type="api",
            subjects=["@S@"] if action == "data.lookup" else [],
            records=1,
        )
        doc = to_document(probe, node=node, time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        doc.update(time="@T@", latency_us="@L@", request_id="@R@")
        text = canonical(doc).decode("utf-8").replace("%", "%%")
        markers = [('"@L@"', "%d"), ('"@R@"', '"%s"'), ('"@S@"', '"%s"'), ('"@T@"', '"%s"')]
        places = [text.find(m) for m, _ in markers if m in text]
        assert places == sorted(places), "payload_formats: arguments out of key order"
        for marker, spec in markers:
            text = text.replace(marker, spec)
        out.append((action, text))
    return out


# One chunk of entries [lo, hi), one every millisecond from :base (Unix seconds): columns
# and canonical payloads made by SQLite itself, the leaf hash by leaf_hash() (Python).
_BULK_SQL = """
INSERT INTO audit_entry (leaf_index, time, action, actor_org, provider_org, resource_id,
                         scenario_id, request_id, outcome, record_count, payload, leaf_hash)
SELECT i, day || printf('.%03d000', i % 1000),
       CASE i % 3 WHEN 0 THEN :a0 WHEN 1 THEN :a1 ELSE :a2 END,
       :org, :provider, :resource, 'sc-004', rid, 'ok', 1, payload, leaf_hash(payload)
FROM (
  SELECT i, day, rid, CAST(CASE i % 3
      WHEN 0 THEN printf(:f0, lat, rid, printf('%016x%016x%016x%016x',
                          i * 7919, i * 104729, i * 1299709, i * 15485863), iso)
      WHEN 1 THEN printf(:f1, lat, rid, iso)
      ELSE printf(:f2, lat, rid, iso) END AS BLOB) AS payload
  FROM (
    SELECT i, 200 + i % 9973 AS lat, printf('%032x', i) AS rid,
           strftime('%Y-%m-%d %H:%M:%S', :base + i / 1000, 'unixepoch') AS day,
           strftime('%Y-%m-%dT%H:%M:%S', :base + i / 1000, 'unixepoch')
             || printf('.%03d000Z', i % 1000) AS iso
    FROM (WITH RECURSIVE n(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :hi)
          SELECT i FROM n)))
"""


def _bulk_entries(path: Path, count: int) -> merkle.Frontier:
    """Entries [0, count) and every perfect node over them, straight into the SQLite file.

    The secondary indexes of audit_entry, which proofs do not read, are dropped to keep
    the build short; the primary keys of both tables are there.
    """
    formats = payload_formats(NODE)
    params: dict[str, Any] = {
        "org": _ORGS[3],
        "provider": _ORGS[1],
        "resource": f"{_ORGS[1]}:101001-00007",
        "base": int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()),
    }
    for n, (action, fmt) in enumerate(formats):
        params[f"a{n}"] = action
        params[f"f{n}"] = fmt
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function(
        "leaf_hash", 1, lambda p: hashlib.sha256(b"\x00" + p).digest(), deterministic=True
    )
    conn.execute("PRAGMA journal_mode=OFF")  # a throw-away file: no WAL copy of every page
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    for index in AuditEntry.__table__.indexes:
        conn.execute(f"DROP INDEX {index.name}")
    frontier = merkle.Frontier()
    for lo in range(0, count, BUILD_CHUNK):
        hi = min(count, lo + BUILD_CHUNK)
        conn.execute("BEGIN")
        conn.execute(_BULK_SQL, {**params, "lo": lo, "hi": hi})
        hashes = conn.execute(
            "SELECT leaf_hash FROM audit_entry"
            " WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
            (lo, hi),
        )
        nodes = frontier.extend(h for (h,) in hashes)
        conn.executemany("INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)", nodes)
        conn.execute("COMMIT")
    for (payload,) in conn.execute(
        "SELECT payload FROM audit_entry WHERE leaf_index IN (0, 1, 2, ?)", (count - 1,)
    ):
        if canonical(json.loads(payload)) != payload:
            raise RuntimeError(f"a bulk payload is not in canonical form: {payload!r}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    # Flush the build's gigabytes now: proofs are timed on a settled log, not beside the
    # kernel writing it back.
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())
    return frontier


def build_log(db: Database, path: Path, keys_dir: Path, size: int) -> dict[str, Any]:
    """A log of ``size`` entries: bulk entries and nodes, then log.append and checkpoint_now.

    The bulk part gets a checkpoint signed as checkpoint_now signs one; the last
    ``PROOF_TAIL`` entries are appended with log.append and the final checkpoint made by
    checkpoint_now, which rebuilds its frontier from the stored nodes.
    """
    bulk = size - PROOF_TAIL
    started = time.perf_counter()
    db.dispose()  # the build has the file to itself
    frontier = _bulk_entries(path, bulk)
    key = load_keys(keys_dir).signing
    origin = origin_of(NODE)
    now = dt.datetime.now(dt.UTC)
    root = frontier.root()
    note = sign_note(format_checkpoint(origin, bulk, root, time=now), origin, key)
    with db.session_scope() as s:
        s.add(AuditCheckpoint(tree_size=bulk, root_hash=root, time=now, note=note))
    with db.session_scope() as s:
        log.append(s, event_pool(load_keys(keys_dir).subject_hmac, size=PROOF_TAIL), node=NODE)
    with db.session_scope() as s:
        checkpoint, _ = checkpoint_now(s, keys_dir=keys_dir)
        if checkpoint is None or checkpoint.tree_size != size:
            raise RuntimeError("checkpoint_now did not cover the whole log")
        final_root = checkpoint.root_hash
    return {
        "size": size,
        "build_s": time.perf_counter() - started,
        "root": final_root,
        "db_bytes": _size_of(path),
    }


def _size_of(path: Path) -> int:
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def timed_proofs(
    db: Database, *, size: int, root: bytes, count: int = PROOFS, seed: int = 3
) -> dict[str, Any]:
    """prove_inclusion for ``count`` random leaves of the newest checkpoint; each checked.

    Wall time decides the goal; the thread's CPU time is reported beside it, because on
    a shared 2-core machine the tail of the wall time is mostly waiting for a core.
    """
    rng = random.Random(seed)
    leaves = [rng.randrange(size) for _ in range(count)]
    times: list[float] = []
    cpu: list[float] = []
    proofs = []
    with db.session_scope(readonly=True) as s:
        prove_inclusion(session=s, leaf_index=0)  # statements compiled and cached once
        for leaf in leaves:
            start, start_cpu = time.perf_counter(), time.thread_time()
            proof = prove_inclusion(session=s, leaf_index=leaf, tree_size=None)
            cpu.append(time.thread_time() - start_cpu)
            times.append(time.perf_counter() - start)
            proofs.append(proof)
    for proof in proofs:
        ok = merkle.verify_inclusion(
            base64.b64decode(proof.leaf_hash),
            proof.leaf_index,
            proof.tree_size,
            [base64.b64decode(p) for p in proof.proof],
            root,
        )
        if not ok or proof.tree_size != size:
            raise RuntimeError(f"the proof of leaf {proof.leaf_index} does not verify")
    times.sort()
    cpu.sort()
    p99 = int(0.99 * (len(times) - 1))
    return {
        "proofs": count,
        "median_ms": statistics.median(times) * 1e3,
        "p99_ms": times[p99] * 1e3,
        "max_ms": times[-1] * 1e3,
        "cpu_median_ms": statistics.median(cpu) * 1e3,
        "cpu_p99_ms": cpu[p99] * 1e3,
        "hashes": max(len(p.proof) for p in proofs),
    }


def bench_proofs(workdir: Path, *, size: int = PROOF_LOG) -> dict[str, Any]:
    """Build the large SQLite log, time the proofs (best of PROOF_ROUNDS), delete the file."""
    name = "bench_audit_proofs"
    path = workdir / f"{name}.db"
    _remove_sqlite(path)
    shutil.rmtree(workdir / f"keys-{name}", ignore_errors=True)
    db = fresh_database("sqlite", workdir, name)
    try:
        built = build_log(db, path, workdir / f"keys-{name}", size)
        root = built.pop("root")
        rounds = [timed_proofs(db, size=size, root=root, seed=n) for n in range(PROOF_ROUNDS)]
        proofs = min(rounds, key=lambda r: r["p99_ms"])
    finally:
        db.dispose()
        _remove_sqlite(path)
    return {**built, **proofs}


def bench(workdir: Path) -> dict[str, Any]:
    """Every part: appends and verification on SQLite (and PostgreSQL), then proofs.

    ``HUTONG_BENCH_AUDIT_PARTS`` and ``HUTONG_BENCH_AUDIT_BACKENDS`` narrow it (see above).
    """
    kinds = ["sqlite"] if "sqlite" in BACKENDS else []
    if pg_admin_url() and "postgresql" in BACKENDS:
        kinds.append("postgresql")
    appends: list[dict[str, Any]] = []
    verifies = []
    if "1" in PARTS or "2" in PARTS:
        for kind in kinds:
            more, verify = bench_backend(kind, workdir)
            appends += more
            if verify:
                verifies.append(verify)
    proofs = bench_proofs(workdir) if "3" in PARTS else None
    partial = {"sqlite", "postgresql"} - set(BACKENDS) or {"1", "2", "3"} - set(PARTS)
    return {"appends": appends, "verify": verifies, "proofs": proofs, "partial": bool(partial)}
