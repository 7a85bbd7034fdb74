"""The group-commit writer: event-loop appends, several worker processes, one signer at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing
import time
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hutong.audit import checkpoints, log, names, verify
from hutong.audit.checkpoints import Checkpointer
from hutong.audit.entry import AuditEvent, prepare, to_document
from hutong.audit.models import AuditCheckpoint, AuditEntry, AuditStat, AuditSubject
from hutong.audit.runtime import AuditRuntime
from hutong.audit.writer import AuditWriter
from hutong.core.database import Database
from hutong.core.settings import Settings


def _events(tag: str, n: int, size: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            action="data.lookup",
            actor_org="sh:org-a",
            resource="sh:org-b:r1",
            provider_org="sh:org-b",
            request_id=f"{tag}-{n}-{i}",
            subjects=[f"{n:02d}{i:062d}"],
            records=1,
        )
        for i in range(size)
    ]


def _dense_and_verified(db: Database, settings: Settings, count: int) -> list[str]:
    with db.session_scope() as s:
        indexes = list(s.scalars(select(AuditEntry.leaf_index).order_by(AuditEntry.leaf_index)))
        assert indexes == list(range(count))
        assert s.scalar(select(func.count()).select_from(AuditSubject)) == count
        assert s.scalar(select(func.sum(AuditStat.calls))) == count
        checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    with db.session_scope(readonly=True) as s:
        report = verify.verify_database(session=s, keys_dir=settings.keys_dir)
        assert report.ok, report.problem
        return list(s.scalars(select(AuditEntry.request_id)))


def test_append_from_an_event_loop_is_durable_dense_and_in_order(db, settings):
    runtime = AuditRuntime(db, settings)
    runtime.start()

    async def handler(n: int) -> list[int]:
        got = []
        for r in range(5):
            got += await runtime.append(_events(f"t{n}", r, 1 + (n + r) % 4))
        return got

    async def main() -> list[list[int]]:
        return await asyncio.gather(*(handler(n) for n in range(40)))

    try:
        results = asyncio.run(main())
    finally:
        runtime.stop()
    flat = sorted(i for got in results for i in got)
    assert flat == list(range(len(flat)))  # each request got its own indexes, none twice
    ids = _dense_and_verified(db, settings, len(flat))
    with db.session_scope(readonly=True) as s:
        by_index = dict(s.execute(select(AuditEntry.leaf_index, AuditEntry.request_id)).all())
    for n, got in enumerate(results):  # a request's indexes are its own entries, in order
        assert [by_index[i].split("-")[0] for i in got] == [f"t{n}"] * len(got)
    assert len(set(ids)) == len(ids)


def test_append_fails_every_waiter_of_a_failed_batch(db, settings):
    """A failed group commit fails each of its requests; none of its entries is written."""
    from sqlalchemy import text

    with db.session_scope() as s:
        s.execute(text("DROP TABLE audit_subject"))  # the batch's subject rows cannot go in
    writer = AuditWriter(db, node=None)

    async def main() -> list[object]:
        return await asyncio.gather(
            *(writer.append(_events("f", n, 2)) for n in range(5)), return_exceptions=True
        )

    try:
        results = asyncio.run(main())
    finally:
        writer.stop()
    assert len(results) == 5 and all(isinstance(r, Exception) for r in results)
    with db.session_scope(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_append_times_out_while_the_log_is_locked_and_writes_later(db, settings):
    """A request stops waiting after its timeout; the entry is written once the lock frees."""
    from sqlalchemy import text

    writer = AuditWriter(db, node=None)
    writer._node()

    async def main() -> list[object]:
        first = writer.append(_events("late", 0, 1), timeout=0.3)
        second = writer.append(_events("late", 1, 2), timeout=0.3)
        return await asyncio.gather(first, second, return_exceptions=True)

    try:
        with db.session_scope() as s:  # another writer holds the log's lock meanwhile
            if db.dialect == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": log.LOG_LOCK_KEY})
            else:
                s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: SQLite's write lock
            results = asyncio.run(main())
    finally:
        writer.stop()
    assert [type(r) for r in results] == [TimeoutError, TimeoutError]
    with db.session_scope(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 3


def test_a_cancelled_request_does_not_disturb_its_batch(db, settings):
    writer = AuditWriter(db, node=None)

    async def main() -> tuple[list[int], bool]:
        other = asyncio.ensure_future(writer.append(_events("c", 1, 1)))
        kept = asyncio.ensure_future(writer.append(_events("k", 2, 2)))
        await asyncio.sleep(0)
        other.cancel()
        got = await kept
        return got, other.cancelled()

    try:
        got, cancelled = asyncio.run(main())
    finally:
        writer.stop()
    assert cancelled and len(got) == 2
    with db.session_scope(readonly=True) as s:
        # the cancelled request's entry was already queued: it is written all the same
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 3


def _worker(url: str, home: str, tag: str, requests: int, ready: object) -> None:
    db = Database(url)
    settings = Settings(home=Path(home), database_url=url, audit_checkpoint_seconds=0.05)
    runtime = AuditRuntime(db, settings)
    runtime.start()
    ready.wait()  # type: ignore[attr-defined]

    async def handler(n: int) -> None:
        for r in range(requests):
            await runtime.append(_events(f"{tag}{n}", r, 1 + r % 3))

    async def main() -> None:
        await asyncio.gather(*(handler(n) for n in range(8)))

    asyncio.run(main())
    runtime.stop()
    db.dispose()


@pytest.mark.live
def test_several_worker_processes_append_to_one_log(db, settings, database_url):
    """Worker processes, each with its writer and checkpointer, as uvicorn --workers runs
    them: every entry is there once, indexes are dense, checkpoints are consistent."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(3)
    procs = [
        ctx.Process(target=_worker, args=(database_url, str(settings.home), tag, 30, ready))
        for tag in ("p", "q", "r")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    expected = 3 * 8 * sum(1 + r % 3 for r in range(30))
    ids = _dense_and_verified(db, settings, expected)
    assert len(set(ids)) == expected
    with db.session_scope(readonly=True) as s:
        sizes = list(s.scalars(select(AuditCheckpoint.tree_size)))
        assert max(sizes) == expected
        assert checkpoints.latest(s).tree_size == expected


def test_checkpointers_of_two_processes_take_turns(db, settings):
    """Two checkpointers (as in two processes): each tick signs or finds nothing new; the
    checkpoints chain and the last covers the log."""
    first, second = Checkpointer(db, settings), Checkpointer(db, settings)
    made = 0
    for n in range(6):
        with db.session_scope() as s:
            log.append(s, _events("x", n, 3), node="sh")
        made += 3
        signer = first if n % 2 else second
        assert signer.tick(wait=True) is not None
    assert first.tick(wait=True) is None  # nothing new since the other's checkpoint
    with db.session_scope(readonly=True) as s:
        assert checkpoints.latest(s).tree_size == made
        sizes = sorted(s.scalars(select(AuditCheckpoint.tree_size)))
        assert sizes == list(range(3, made + 1, 3))
    first.stop()
    second.stop()


texts = st.one_of(st.none(), st.text(max_size=12))
scalars = st.one_of(texts, st.integers(-(2**53) + 1, 2**53 - 1), st.booleans())
detail_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), scalars, max_size=2),
    st.lists(st.dictionaries(st.text(max_size=4), scalars, max_size=2), max_size=2),
)


@hsettings(max_examples=200, deadline=None)
@given(
    action=st.text(min_size=1, max_size=12),
    outcome=st.text(min_size=1, max_size=8),
    actor=st.tuples(texts, texts, texts, texts, texts),
    resource=st.tuples(texts, texts, texts, texts, texts),
    fields=st.lists(st.text(max_size=8), max_size=4),
    subjects=st.lists(st.text(max_size=8), max_size=3),
    numbers=st.tuples(st.integers(0, 2**53 - 1), st.integers(0, 2**53 - 1)),
    detail=st.one_of(
        st.just({}),
        st.dictionaries(st.text(max_size=6), texts, max_size=3),
        # flat details (sorted in place) and nested ones (the generic canonical form)
        st.dictionaries(st.text(max_size=6), detail_values, max_size=4),
    ),
    moment=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), timezones=st.sampled_from([dt.UTC, None])
    ),
)
def test_prepared_payload_is_the_rfc8785_form_of_the_document(
    action, outcome, actor, resource, fields, subjects, numbers, detail, moment
):
    """prepare() builds the payload without to_document's dict where it can; the bytes
    are still exactly the RFC 8785 canonical JSON of the entry's document."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    event = AuditEvent(
        action=action,
        outcome=outcome,
        actor_org=actor[0],
        actor_app=actor[1],
        actor_user=actor[2],
        end_user=actor[3],
        case_number=actor[4],
        resource=resource[0],
        provider_org=resource[1],
        scenario=resource[2],
        call_type=resource[3],
        request_id=resource[4],
        fields=fields,
        subjects=subjects,
        records=numbers[0],
        latency_us=numbers[1],
        detail=detail,
        time=moment,
    )
    prepared = prepare(event, node="sh", now=dt.datetime.now(dt.UTC))
    document = to_document(event, node="sh", time=moment)
    assert prepared.payload == rfc8785.dumps(document)
    assert json.loads(prepared.payload)["time"] == prepared.time_text + "Z"
    assert prepared.leaf_hash == hashlib.sha256(b"\x00" + prepared.payload).digest()


def test_a_commit_delay_gathers_more_requests_into_one_commit(db):
    """After a shared commit the writer waits ``commit_delay`` before the next one, so the
    requests that arrive meanwhile share its WAL sync; every entry is still written once."""
    writer = AuditWriter(db, node="sh", commit_delay=0.4)
    sizes: list[int] = []
    append = writer._append

    def counted(events, stats):
        sizes.append(len(events))
        return append(events, stats)

    writer._append = counted  # type: ignore[method-assign]
    writer.write(_events("a", 0, 2))  # two entries: a shared commit
    first = writer.submit(_events("b", 0, 1))
    time.sleep(0.05)  # the writer has taken "b" and waits
    rest = [writer.submit(_events("c", n, 1)) for n in range(3)]
    indexes = [first.result(10), *(f.result(10) for f in rest)]
    writer.stop()
    assert sizes == [2, 4] and writer.commits == 2
    assert sorted(i for found in indexes for i in found) == [2, 3, 4, 5]
    with db.session_scope(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 6


def test_the_writer_replaces_its_connection_after_a_failed_commit(db, monkeypatch):
    """A failed append fails its requests, rolls back, and the next one works on a fresh
    connection: nothing half-written."""
    writer = AuditWriter(db, node="sh")
    writer.write(_events("a", 0, 1))
    broken = writer._fairy
    real = log.append_rows

    def fails_once(raw, dialect, prepared, stats, *, numbers):
        monkeypatch.setattr(log, "append_rows", real)
        real(raw, dialect, prepared, stats, numbers=numbers)  # rows inserted, then the failure
        raise RuntimeError("disk full")

    def newcomer(tag: str, size: int) -> list[AuditEvent]:
        events = _events(tag, 0, size)
        for e in events:
            e.actor_org = "sh:org-new"  # numbered in the failed transaction first
        return events

    monkeypatch.setattr(log, "append_rows", fails_once)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.write(newcomer("b", 3))
    assert writer.write(newcomer("c", 2)) == [1, 2]
    assert writer._fairy is not broken
    writer.stop()
    with db.session_scope(readonly=True) as s:
        ids = s.scalars(select(AuditEntry.request_id).order_by(AuditEntry.leaf_index)).all()
        new = s.scalars(select(AuditEntry.request_id).where(names.by_actor(s, "sh:org-new"))).all()
    assert ids == ["a-0-0", "c-0-0", "c-0-1"]
    assert sorted(new) == ["c-0-0", "c-0-1"]
