"""Group commit: many concurrent requests share one durable write of their audit entries.

A request hands its events to the writer and waits; the writer thread takes everything
waiting (up to about ``max_batch`` events), appends it in one transaction, commits, and
only then releases the waiting requests. So no audited response is sent before its entry
is durable, and the cost of a commit is shared by every request in the batch.

Two ways to wait. A thread submits a request with its own :class:`Future`. Requests
of an event loop (:meth:`AuditWriter.append`) join that loop's open batch: the writer
takes the whole batch at once and wakes its loop once after the commit, which then
releases each request's asyncio future; a thread wake-up per request cost more than the
insert of its entry.

Several processes of one node (``uvicorn --workers N``) each run a writer. On a SQLite
file the writers hand the log's write lock over through an ``flock`` on a file beside
the database (:class:`~hutong.audit.log.ProcessLock`): the kernel wakes the next writer
as soon as the lock is free, where SQLite's busy handler would sleep and poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from hutong.audit import log, names
from hutong.audit.entry import AuditEvent, Prepared, prepare
from hutong.core.clock import utcnow
from hutong.core.database import Database
from hutong.core.logging import get_logger

_log = get_logger("hutong.audit")
_STOP = object()


class _Request:
    """Events of one synchronous caller and the future its thread waits on."""

    __slots__ = ("events", "future")

    def __init__(self, events: list[Prepared]) -> None:
        self.events = events
        self.future: Future[list[int]] = Future()

    def take(self) -> list[Prepared]:
        return self.events

    def done(self, first: int) -> None:
        self.future.set_result(list(range(first, first + len(self.events))))

    def failed(self, exc: BaseException) -> None:
        self.future.set_exception(exc)


class _LoopBatch:
    """The requests of one event loop that the writer has not taken yet.

    Requests join it until the writer takes it (under the writer's lock); then the next
    request of that loop opens a new one. After the commit the writer calls into the loop
    once; the loop resolves each request's future with its slice of the leaf indexes.
    """

    __slots__ = ("loop", "events", "waiters", "taken", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.events: list[Prepared] = []
        self.waiters: list[tuple[asyncio.Future[list[int]], int, int]] = []
        self.taken = False
        self.timer: asyncio.TimerHandle | None = None

    def take(self) -> list[Prepared]:
        return self.events  # marked taken by the writer, under its lock

    def done(self, first: int) -> None:
        self._call(self._resolve, first)

    def failed(self, exc: BaseException) -> None:
        self._call(self._fail, exc)

    def _call(self, fn: object, arg: object) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(fn, arg)  # type: ignore[arg-type]

    def _resolve(self, first: int) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for future, start, end in self.waiters:
            if not future.done():
                future.set_result(list(range(first + start, first + end)))

    def _fail(self, exc: BaseException) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for future, _, _ in self.waiters:
            if not future.done():
                future.set_exception(exc)


class AuditWriter:
    """The log's group-commit writer thread."""

    def __init__(
        self,
        db: Database,
        *,
        node: str | None,
        max_batch: int = 5000,
        commit_delay: float = 0.0,
    ) -> None:
        self.db = db
        self.node = node
        self.max_batch = max_batch
        self.commit_delay = commit_delay  # seconds to gather more entries, when busy
        self._busy = False  # the last commit held entries of more than one request
        self._fairy: Any = None  # the writer thread's own pooled connection
        self.commits = 0  # group commits done (for metrics and benchmarks)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._started = False
        self._lock = threading.Lock()
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBatch] = (
            weakref.WeakKeyDictionary()
        )
        self._process_lock = log.ProcessLock.for_database(db, "audit-lock")
        self.keeper: Any = None  # a KeeperLink: the loops' entries go to the keeper process
        # the server's event loop: with a keeper, the appends of its threadpool go through it
        self.home_loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True

    def _node(self) -> str:
        if self.node is None:
            from hutong.identity import service as identity_service

            with self.db.session_scope(readonly=True) as session:
                self.node = identity_service.require_node(session=session).code
        return self.node

    def _prepare(self, events: Sequence[AuditEvent]) -> list[Prepared]:
        if not self._started:
            self.start()
        node = self.node or self._node()
        now = utcnow()
        return [prepare(e, node=node, now=now) for e in events]

    def submit(self, events: Sequence[AuditEvent]) -> Future[list[int]]:
        """Queue events; the future resolves to their leaf indexes once they are durable.

        The canonical bytes and leaf hashes are made here, in the caller's thread, so the
        writer thread only numbers, inserts and commits.
        """
        loop = self.home_loop
        if self.keeper is not None and loop is not None and not loop.is_closed():
            try:
                here = asyncio.get_running_loop()
            except RuntimeError:
                here = None
            if here is not loop:  # a thread of the server's pool: the keeper writes
                future = asyncio.run_coroutine_threadsafe(self.append(events), loop)
                return future  # type: ignore[return-value]
        request = _Request(self._prepare(events))
        self._queue.put(request)
        return request.future

    def write(self, events: Sequence[AuditEvent], timeout: float | None = 30.0) -> list[int]:
        """Append and wait until durable (for synchronous callers)."""
        return self.submit(events).result(timeout=timeout)

    async def append(self, events: Sequence[AuditEvent], timeout: float = 30.0) -> list[int]:
        """Append from an event loop and wait, holding no thread, until durable.

        Raises TimeoutError if the entries are not durable within ``timeout`` seconds (they
        may still be written afterwards), or what the append raised.
        """
        prepared = self._prepare(events)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[int]] = loop.create_future()
        channel = self.keeper.channel(loop) if self.keeper is not None else None
        with self._lock:
            batch = self._batches.get(loop)
            opened = batch is None or batch.taken
            if opened:
                batch = self._batches[loop] = _LoopBatch(loop)
            assert batch is not None
            start = len(batch.events)
            batch.events.extend(prepared)
            batch.waiters.append((future, start, start + len(prepared)))
        if opened:
            if channel is not None:  # the keeper process writes: one frame per loop turn
                loop.call_soon(self._ship, channel, batch)
            else:
                self._queue.put(batch)
            # one timer per batch, not per request
            batch.timer = loop.call_later(timeout, self._expire, batch)
        return await future

    def _ship(self, channel: Any, batch: _LoopBatch) -> None:
        with self._lock:
            batch.taken = True
        channel.ship(batch)

    def _append(self, events: list[Prepared], stats: log.Stats) -> list[int]:
        """One transaction on the writer's own driver connection.

        A session per commit (begin, connection events, commit, close) cost about 0.25 ms
        of CPU, as much as the entries of a small batch; the writer keeps one pooled
        connection and drives its transaction itself. A failed transaction is rolled back
        and the connection replaced.
        """
        dialect = self.db.dialect
        if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - other engines
            with self.db.session_scope() as session:
                return log.append_prepared(session, events, stats)
        if self._fairy is None:
            self._fairy = self.db.engine.raw_connection()
        raw = self._fairy.driver_connection
        known, pending = names.known_numbers(self.db.engine), names.Numbers()
        try:
            if dialect == "sqlite":
                raw.execute("BEGIN IMMEDIATE")  # the write lock, as session_scope takes it
                indexes = log.append_rows(raw, dialect, events, stats, numbers=(known, pending))
                raw.execute("COMMIT")
            else:
                indexes = log.append_rows(raw, dialect, events, stats, numbers=(known, pending))
                raw.commit()
            known.add(pending)  # numbers of a rolled-back transaction do not exist
        except BaseException:
            with contextlib.suppress(Exception):
                raw.rollback() if dialect == "postgresql" else raw.execute("ROLLBACK")
            self._fairy.invalidate()
            self._fairy = None
            raise
        return indexes

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        if self.keeper is not None:
            self.keeper.close()
        if self._started:
            self._queue.put(_STOP)
            self._thread.join(timeout)
        if self._fairy is not None and not self._thread.is_alive():
            self._fairy.close()
            self._fairy = None
        if self._process_lock is not None:
            self._process_lock.close()

    def _expire(self, batch: _LoopBatch) -> None:
        """A batch's deadline passed (in its loop): its requests stop waiting, and the
        loop's next request opens a new batch with a deadline of its own."""
        with self._lock:
            if self._batches.get(batch.loop) is batch:
                del self._batches[batch.loop]
        for future, _, _ in batch.waiters:
            if not future.done():
                future.set_exception(TimeoutError("the audit entry is not durable yet"))

    def _take(self, item: _Request | _LoopBatch) -> list[Prepared]:
        if isinstance(item, _LoopBatch):
            with self._lock:
                item.taken = True
        return item.take()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._busy and self.commit_delay > 0:
                # others are writing: wait a moment, so that this commit (and its WAL
                # sync) is shared by more of them (PostgreSQL's commit_delay)
                time.sleep(self.commit_delay)
            batch: list[_Request | _LoopBatch] = [item]  # type: ignore[list-item]
            events = list(self._take(item))  # type: ignore[arg-type]
            stop = False
            while len(events) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)  # type: ignore[arg-type]
                events.extend(self._take(more))  # type: ignore[arg-type]
            self._flush(batch, events)
            if stop:
                return

    def commit(self, events: Sequence[Prepared]) -> list[int]:
        """Append prepared entries in one transaction, under the log's locks; their leaf
        indexes once durable (the writer thread's and the keeper's one way to write)."""
        stats = log.stats_of(events)
        if self._process_lock is not None:
            with self._process_lock:
                indexes = self._append(list(events), stats)
        else:
            indexes = self._append(list(events), stats)
        self.commits += 1
        return indexes

    def _flush(self, batch: list[_Request | _LoopBatch], events: list[Prepared]) -> None:
        self._busy = len(events) > 1
        try:
            indexes = self.commit(events)
        except Exception as exc:  # the requests fail; nothing half-written
            _log.error("audit append failed", error=type(exc).__name__, events=len(events))
            for item in batch:
                item.failed(exc)
            return
        first = indexes[0] if indexes else 0
        for item in batch:
            item.done(first)
            first += len(item.events)
