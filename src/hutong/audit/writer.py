"""Group commit: many concurrent requests share one durable write of their audit entries.

A request hands its events to the writer and waits; the writer thread takes everything
waiting (up to ``max_batch`` events), appends it in one transaction, commits, and only
then releases the waiting requests. So no audited response is sent before its entry is
durable, and the cost of a commit is shared by every request in the batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from hutong.audit import log
from hutong.audit.entry import AuditEvent, Prepared, prepare
from hutong.core.clock import utcnow
from hutong.core.database import Database
from hutong.core.logging import get_logger

_log = get_logger("hutong.audit")
_STOP = object()


class AuditWriter:
    """The log's group-commit writer thread."""

    def __init__(self, db: Database, *, node: str | None, max_batch: int = 5000) -> None:
        self.db = db
        self.node = node
        self.max_batch = max_batch
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._started = False
        self._lock = threading.Lock()

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

    def submit(self, events: Sequence[AuditEvent]) -> Future[list[int]]:
        """Queue events; the future resolves to their leaf indexes once they are durable.

        The canonical bytes and leaf hashes are made here, in the caller's thread, so the
        writer thread only numbers, inserts and commits.
        """
        self.start()
        node = self._node()
        now = utcnow()
        prepared = [prepare(e, node=node, now=now) for e in events]
        future: Future[list[int]] = Future()
        self._queue.put((prepared, log.stats_of(prepared), future))
        return future

    def write(self, events: Sequence[AuditEvent], timeout: float | None = 30.0) -> list[int]:
        """Append and wait until durable (for synchronous callers)."""
        return self.submit(events).result(timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        if self._started:
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            count = len(item[0])  # type: ignore[index]
            stop = False
            while count < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
                count += len(more[0])  # type: ignore[index]
            self._flush(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _flush(self, batch: list[tuple[list[Prepared], log.Stats, Future[list[int]]]]) -> None:
        events: list[Prepared] = []
        stats: log.Stats = {}
        for evs, counts, _ in batch:
            events.extend(evs)
            for key, (calls, records) in counts.items():
                if key in stats:
                    stats[key][0] += calls
                    stats[key][1] += records
                else:
                    stats[key] = [calls, records]
        try:
            with self.db.session_scope() as session:
                indexes = log.append_prepared(session, events, stats)
        except Exception as exc:  # the requests fail; nothing half-written
            _log.error("audit append failed", error=type(exc).__name__, events=len(events))
            for _, _, future in batch:
                future.set_exception(exc)
            return
        pos = 0
        for evs, _, future in batch:
            future.set_result(indexes[pos : pos + len(evs)])
            pos += len(evs)
