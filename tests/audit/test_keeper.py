"""The audit keeper: one process appends the entries of every worker of a node."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time

import orjson
import pytest
from sqlalchemy import func, select

from hutong.audit import keeper as keeper_mod
from hutong.audit.entry import AuditEvent, prepare
from hutong.audit.keeper import HEADER, READY, Keeper, address, decode, encode, keeper_pid
from hutong.audit.keeper_link import KeeperGone, KeeperLink
from hutong.audit.models import AuditEntry
from hutong.audit.writer import AuditWriter
from hutong.core.clock import utcnow
from tests.audit.test_writer import _dense_and_verified, _events


def _link(db, settings) -> KeeperLink:
    env = {
        **os.environ,
        "HUTONG_HOME": str(settings.home),
        "HUTONG_DATABASE_URL": db.url,
        "HUTONG_AUDIT_KEEPER_IDLE_SECONDS": "1",
    }
    link = KeeperLink(db.url, env=env, retry=0.05)
    link.start_wait = 1.0
    return link


async def _until_connected(writer: AuditWriter, seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + seconds
    while writer.keeper.channel(loop) is None:
        assert time.monotonic() < deadline, "the keeper did not answer"
        await asyncio.sleep(0.05)


def _stop_keeper(url: str) -> None:
    """End the keeper this test started (by its PID), and wait until it is gone."""
    pid = keeper_pid(url)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while keeper_pid(url) is not None and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def writer(db, settings):
    w = AuditWriter(db, node="sh")
    w.keeper = _link(db, settings)
    w.start()
    yield w
    w.stop()
    _stop_keeper(db.url)


def test_loops_of_several_threads_append_through_one_keeper(db, settings, writer):
    """Each thread's loop has its channel; every entry is there once, dense, verified,
    and the keeper made them all (the worker's own thread wrote none)."""
    results: dict[int, list[list[int]]] = {}

    def worker(t: int) -> None:
        async def handler(n: int) -> list[int]:
            got = []
            for r in range(6):
                got += await writer.append(_events(f"t{t}x{n}", r, 1 + (n + r) % 3))
            return got

        async def main() -> list[list[int]]:
            await _until_connected(writer)
            return await asyncio.gather(*(handler(n) for n in range(20)))

        results[t] = asyncio.run(main())

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    flat = sorted(i for got in results.values() for g in got for i in g)
    assert flat == list(range(len(flat)))
    assert writer.commits == 0 and writer.keeper.commits > 0
    ids = _dense_and_verified(db, settings, len(flat))
    assert len(set(ids)) == len(ids)
    with db.session_scope(readonly=True) as s:
        by_index = dict(s.execute(select(AuditEntry.leaf_index, AuditEntry.request_id)).all())
    for t, got in results.items():  # a request's indexes are its own entries
        for n, g in enumerate(got):
            assert {by_index[i].split("-")[0] for i in g} == {f"t{t}x{n}"}


def test_a_lost_keeper_fails_the_entries_in_flight_and_the_writer_goes_on(db, settings, writer):
    """SIGKILL of the keeper: requests waiting get KeeperGone (their entries may or may not
    be durable); the next appends are written by the worker's thread, then by a new
    keeper; every acknowledged entry is in the log and the log verifies."""
    acknowledged: list[str] = []
    failed = 0

    async def main() -> None:
        nonlocal failed
        await _until_connected(writer)
        os.kill(keeper_pid(db.url), signal.SIGSTOP)  # hold it while requests queue up
        events = [_events("k", n, 1) for n in range(50)]
        pending = [asyncio.ensure_future(writer.append(e)) for e in events]
        await asyncio.sleep(0.2)
        os.kill(keeper_pid(db.url), signal.SIGKILL)
        for e, p in zip(events, pending, strict=True):
            try:
                await p
                acknowledged.append(e[0].request_id)
            except KeeperGone:
                failed += 1
        for n in range(20):  # the thread writer meanwhile, and a new keeper soon
            e = _events("after", n, 1)
            await writer.append(e)
            acknowledged.append(e[0].request_id)
            await asyncio.sleep(0.01)
        await _until_connected(writer)
        e = _events("later", 0, 1)
        await writer.append(e)
        acknowledged.append(e[0].request_id)

    asyncio.run(main())
    assert failed == 50  # the stopped keeper read nothing: all 50 were in flight
    assert writer.commits >= 1  # the worker's own thread wrote while no keeper answered
    with db.session_scope(readonly=True) as s:
        count = s.scalar(select(func.count()).select_from(AuditEntry))
    ids = _dense_and_verified(db, settings, count)
    assert set(acknowledged) <= set(ids)


def _frame(body: bytes, number: int = 1) -> bytes:
    return HEADER.pack(len(body), number) + body


def _read_frame(sock: socket.socket) -> tuple[int, list]:
    data = b""
    while len(data) < HEADER.size:
        data += sock.recv(4096)
    length, number = HEADER.unpack_from(data)
    while len(data) < HEADER.size + length:
        data += sock.recv(4096)
    return number, orjson.loads(data[HEADER.size : HEADER.size + length])


@pytest.fixture
def keeper_here(db):
    """A keeper serving in a thread of the test (on a name of its own)."""
    writer = AuditWriter(db, node="sh")
    keeper = Keeper(writer, idle=30)
    name = address(db.url + "#test")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(name)
    listener.listen(8)
    thread = threading.Thread(target=keeper.serve, args=(listener,), daemon=True)
    thread.start()
    yield keeper, name
    keeper.stopping = True
    thread.join(10)
    listener.close()


def _connect(name: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(name)
    assert _read_frame(sock) == (READY, [0, 0, None])
    return sock


def test_bad_frames_are_refused_whole_with_the_reason(db, keeper_here):
    _, name = keeper_here
    good = prepare(_events("g", 0, 1)[0], node="sh", now=utcnow())
    bad_hash = orjson.loads(encode([good]))
    bad_hash[0][10] = "00" * 32
    bad_type = orjson.loads(encode([good, good]))
    bad_type[1][8] = "1"  # the record count as text
    cases = {
        b"not json": "not JSON",
        b'{"a": 1}': "is a list",
        orjson.dumps([[1, 2]]): "entry 0 of the frame: an entry is a list of 14 members",
        orjson.dumps(bad_hash): "entry 0 of the frame: an entry's leaf hash does not match",
        orjson.dumps(bad_type): "entry 1 of the frame: an entry's record count",
    }
    sock = _connect(name)
    try:
        for n, (body, reason) in enumerate(cases.items(), start=1):
            sock.sendall(_frame(body, n))
            number, (first, _, error) = _read_frame(sock)
            assert number == n and reason in error
        with db.session_scope(readonly=True) as s:  # nothing of a refused frame was written
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
        sock.sendall(_frame(encode([good]), 99))  # the connection still serves
        assert _read_frame(sock) == (99, [0, 1, None])
    finally:
        sock.close()


def test_an_oversized_frame_closes_only_that_connection(db, keeper_here):
    _, name = keeper_here
    rude, polite = _connect(name), _connect(name)
    try:
        rude.sendall(HEADER.pack(keeper_mod.FRAME_MAX + 1, 1))
        assert rude.recv(10) == b""  # dropped
        good = prepare(_events("p", 0, 1)[0], node="sh", now=utcnow())
        polite.sendall(_frame(encode([good]), 7))
        assert _read_frame(polite) == (7, [0, 1, None])
    finally:
        rude.close()
        polite.close()


def test_a_connection_of_another_user_is_refused(db, keeper_here, monkeypatch):
    _, name = keeper_here
    monkeypatch.setattr(keeper_mod, "same_user", lambda sock: False)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(name)
        assert sock.recv(10) == b""  # closed without a greeting
    finally:
        sock.close()


def test_a_failed_commit_fails_each_frame_and_writes_nothing(db, keeper_here, monkeypatch):
    keeper, name = keeper_here

    def broken(events):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keeper.writer, "commit", broken)
    sock = _connect(name)
    try:
        good = prepare(_events("f", 0, 1)[0], node="sh", now=utcnow())
        sock.sendall(_frame(encode([good]), 3))
        number, (_, _, error) = _read_frame(sock)
        assert number == 3 and error == "the audit append failed: RuntimeError"
    finally:
        sock.close()


def test_the_keeper_leaves_when_left_alone(db, settings):
    link = _link(db, settings)
    link.start_keeper()
    deadline = time.monotonic() + 60
    while keeper_pid(db.url) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sock = link.connect()
    assert sock is not None
    sock.close()
    deadline = time.monotonic() + 30  # idle for 1 s: it exits by itself
    while keeper_pid(db.url) is not None:
        assert time.monotonic() < deadline, "the keeper did not leave"
        time.sleep(0.1)


def test_a_second_keeper_for_the_same_database_exits_at_once(db, settings, writer):
    async def main() -> None:
        await _until_connected(writer)

    asyncio.run(main())
    first = keeper_pid(db.url)
    writer.keeper.start_keeper()  # finds the name taken
    time.sleep(1.0)
    assert keeper_pid(db.url) == first


def test_wire_form_round_trips_every_column(db):
    event = AuditEvent(
        action="data.lookup",
        actor_org="sh:org-a",
        resource="sh:org-b:r1",
        provider_org="sh:org-b",
        scenario="s1",
        request_id="r-1",
        subjects=["ab" * 32],
        records=3,
        detail={"名": "值"},
    )
    p = prepare(event, node="sh", now=utcnow())
    (back,) = decode(encode([p]))
    assert back.row == p.row and back.stat_key == p.stat_key
    assert back.subjects == p.event.subjects and back.time == p.time
    assert back.outcome == p.event.outcome and back.records == p.event.records


def test_a_server_connects_at_start_and_keeps_its_keeper_while_idle(db, settings):
    """In a server's lifespan the runtime connects at once; an idle server keeps its keeper
    (no churn of keeper starts); after the server stops, the keeper leaves by itself."""
    from hutong.audit.runtime import AuditRuntime

    live = settings.model_copy(update={"audit_keeper": True, "audit_keeper_idle_seconds": 1.0})
    runtime = AuditRuntime(db, live)

    async def main() -> int:
        runtime.start()
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + 60
        while runtime.writer.keeper.channel(loop) is None:
            assert time.monotonic() < deadline, "not connected"
            await asyncio.sleep(0.05)
        pid = keeper_pid(db.url)
        await asyncio.sleep(2.5)  # longer than the keeper's idle time, with no append
        assert keeper_pid(db.url) == pid
        indexes = await runtime.append(_events("idle", 0, 1))
        runtime.stop()
        return indexes[0]

    assert asyncio.run(main()) == 0
    assert runtime.writer.commits == 0  # the keeper wrote it
    deadline = time.monotonic() + 30
    while keeper_pid(db.url) is not None:
        assert time.monotonic() < deadline, "the keeper did not leave"
        time.sleep(0.1)
