"""The lane's reads, batched: the lookups of one event-loop turn read in one statement.

Under load a lookup's statement cost more CPU than its key's read: the policy
generation, the day's quota count and the statement itself were paid per lookup, with
cold caches between them. Here the lookups that reach their read in the same loop turn
join a batch per plan (:attr:`Ticket.group`), and one statement reads the generation,
the quota count and every batch member's record (decision 0018). Then each lookup, in
the order it joined, takes its rate-limit token and its unit of the day's quota exactly
as a lookup read alone did (``released_before`` read just before the statement, one
``admit`` per lookup with the statement's count), and gets its row. A failed read fails
every lookup of its batch, and the routes answer each, as they answer a failed single
read. SQLite reads in the loop itself (a callback of the turn); PostgreSQL in the thread
pool, one call per batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from starlette.concurrency import run_in_threadpool

from hutong.core.logging import get_logger
from hutong.gateway.lane.ticket import Ticket

# The most keys in one statement: larger turns read in several. PostgreSQL's planner
# and SQLite's parser see at most this many VALUES rows; 256 is far past where the
# statement's own cost stops mattering (a few microseconds a key at 64).
BATCH_MAX = 256
_log = get_logger("hutong.gateway")

Fetch = Callable[[str, Any], Sequence[Sequence[Any]]]


class _Lookup(NamedTuple):
    ticket: Ticket
    key: tuple[Any, ...]  # the key's bound values
    now: dt.datetime
    future: asyncio.Future[Sequence[Any]]


class Batches:
    """Collects the lookups of each loop turn and reads them a batch per plan."""

    def __init__(self, *, fetch: Fetch, limits: Callable[[], Any], inline: bool) -> None:
        self._fetch = fetch  # all rows of one statement, on this thread's connection
        self._limits = limits  # the process's GatewayLimits
        self.inline = inline  # read in the loop (SQLite), else in the thread pool
        self._pending: dict[asyncio.AbstractEventLoop, dict[Any, list[_Lookup]]] = {}
        self._reading: set[asyncio.Task[None]] = set()
        self.reads = 0  # statements run (tests and benchmarks compare it with lookups)

    async def read(self, ticket: Ticket, key: tuple[Any, ...], now: dt.datetime) -> Any:
        """The statement's row for this key, its rate token and quota unit taken.

        Raises RateLimited (the token or the quota: nothing is held then), or what the
        batch's read raised. The unit is given back with ``quota.release`` by the caller.
        """
        loop = asyncio.get_running_loop()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = {}
            loop.call_soon(self._run, loop)
        future: asyncio.Future[Sequence[Any]] = loop.create_future()
        lookup = _Lookup(ticket, key, now, future)
        batch = pending.get(ticket.group)
        if batch is None:
            pending[ticket.group] = [lookup]
        else:
            batch.append(lookup)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._limits().quota.release(ticket.quota_key)  # admitted, never answered
            raise

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read the turn's batches (a callback of the loop, after the turn's lookups)."""
        for lookups in self._pending.pop(loop).values():
            for start in range(0, len(lookups), BATCH_MAX):
                batch = lookups[start : start + BATCH_MAX]
                self.reads += 1
                if self.inline:
                    try:
                        released_before, rows = self._read(batch)
                    except Exception as exc:
                        self._fail(batch, exc)
                    else:
                        self._settle(batch, released_before, rows)
                else:
                    task = loop.create_task(self._read_in_thread(batch))
                    self._reading.add(task)  # the loop keeps only weak references
                    task.add_done_callback(self._reading.discard)

    async def _read_in_thread(self, batch: list[_Lookup]) -> None:
        try:
            released_before, rows = await run_in_threadpool(self._read, batch)
        except asyncio.CancelledError:
            for lookup in batch:
                lookup.future.cancel()
            raise
        except Exception as exc:
            self._fail(batch, exc)
        else:
            self._settle(batch, released_before, rows)

    def _read(self, batch: list[_Lookup]) -> tuple[int, Sequence[Sequence[Any]]]:
        """The quota's released count, then the batch's rows (one statement)."""
        ticket = batch[0].ticket
        statement = ticket.plan.statement(len(batch))
        params = statement.params(ticket.fixed, [lookup.key for lookup in batch])
        released_before = self._limits().quota.released(ticket.quota_key)
        return released_before, self._fetch(statement.sql, params)

    def _settle(
        self, batch: list[_Lookup], released_before: int, rows: Sequence[Sequence[Any]]
    ) -> None:
        """Each lookup in turn: its token, its quota unit, its row."""
        try:
            limits = self._limits()
            count = int(rows[0][2])  # the day's committed calls: the same in every row
            found: dict[int, Sequence[Any]] = {}
            for row in rows:
                found.setdefault(row[0], row)  # a key's first row, as LIMIT 1 read it
            for i, (ticket, _, now, future) in enumerate(batch):
                if future.done():  # its request was cancelled: it takes nothing
                    continue
                grant = ticket.auth.grant_id
                try:
                    row = found[i]
                    limits.buckets.take(grant)
                    try:
                        limits.quota.admit(
                            ticket.quota_key,
                            quota=ticket.auth.daily_quota,
                            count=count,
                            released_before=released_before,
                            now=now,
                        )
                    except BaseException:  # the route answers this call and takes its token
                        limits.buckets.give_back(grant)
                        raise
                except Exception as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(row)
        except Exception as exc:  # no lookup may wait for ever
            self._fail(batch, exc)

    def _fail(self, batch: list[_Lookup], exc: Exception) -> None:
        """The read failed: every lookup of the batch goes to the routes."""
        _log.warning("gateway lane read failed", error=type(exc).__name__, lookups=len(batch))
        for lookup in batch:
            if not lookup.future.done():
                lookup.future.set_exception(exc)
