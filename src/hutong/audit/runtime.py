"""The audit log's moving parts in a running node: the group-commit writer and checkpointer."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from starlette.requests import Request

from hutong.audit.entry import AuditEvent
from hutong.audit.writer import AuditWriter
from hutong.core.database import Database
from hutong.core.security import Actor
from hutong.core.settings import Settings


class AuditRuntime:
    """Owns the writer thread (and the checkpointer, when the node signs checkpoints)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.writer = AuditWriter(
            db,
            node=None,
            max_batch=settings.audit_max_batch,
            commit_delay=settings.audit_commit_delay_ms / 1000,
        )
        self.checkpointer: Any = None
        self._connecting: asyncio.Task[None] | None = None

    def start(self) -> None:
        from hutong.audit.checkpoints import Checkpointer

        self.writer.start()
        if self.settings.audit_keeper and self.writer.keeper is None:
            self._start_keeper()
        if self.settings.audit_checkpoint_seconds > 0 and self.checkpointer is None:
            self.checkpointer = Checkpointer(self.db, self.settings)
            self.checkpointer.start()

    def _start_keeper(self) -> None:
        """Start the node's keeper (decision 0017) and, in a server's lifespan, connect to
        it now: the keeper stays while a worker is connected."""
        from hutong.audit import keeper
        from hutong.audit.keeper_link import KeeperLink

        url = self.db.url
        if not keeper.supported(url):
            return
        env = {
            **os.environ,
            "HUTONG_HOME": str(self.settings.home),
            "HUTONG_DATABASE_URL": url,
            "HUTONG_AUDIT_MAX_BATCH": str(self.settings.audit_max_batch),
            "HUTONG_AUDIT_COMMIT_DELAY_MS": str(self.settings.audit_commit_delay_ms),
            "HUTONG_AUDIT_KEEPER_IDLE_SECONDS": str(self.settings.audit_keeper_idle_seconds),
        }
        self.writer.keeper = KeeperLink(url, env=env)
        self.writer.keeper.start_keeper()
        try:  # in the server's lifespan: its threadpool's appends go through the loop
            loop = self.writer.home_loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._connecting = loop.create_task(self._connect_keeper())

    async def _connect_keeper(self, seconds: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + seconds
        while self.writer.keeper.channel(loop) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        self.writer.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None

    def write(self, events: Sequence[AuditEvent]) -> list[int]:
        """Append and wait until the entries are durable."""
        return self.writer.write(events, timeout=self.settings.audit_write_timeout_seconds)

    def submit(self, events: Sequence[AuditEvent]) -> Future[list[int]]:
        """Queue events for the next group commit (their entries are made in this thread)."""
        return self.writer.submit(events)

    async def append(self, events: Sequence[AuditEvent]) -> list[int]:
        """Append from the event loop and wait, holding no thread, until durable.

        The fastest way for a request handler: its entries are made in the loop's thread,
        and the writer wakes the loop once per group commit, not once per request. Raises
        TimeoutError after ``audit_write_timeout_seconds``, or what the append raised.
        """
        return await self.writer.append(events, self.settings.audit_write_timeout_seconds)

    async def wait(self, durable: Future[list[int]]) -> list[int]:
        """Wait in the event loop, holding no thread, until submitted entries are durable."""
        timeout = self.settings.audit_write_timeout_seconds
        return await asyncio.wait_for(asyncio.wrap_future(durable), timeout)


def request_event(request: Request, actor: Actor | None, action: str, **kw: Any) -> AuditEvent:
    """An event for a data call: actor, request id, X-Road style end user and case headers."""
    started = getattr(request.state, "started", None)
    latency = int((time.perf_counter() - started) * 1e6) if started else 0
    return AuditEvent(
        action=action,
        actor_org=actor.organization_id if actor else None,
        actor_app=actor.id if actor and actor.kind == "app" else None,
        actor_user=actor.id if actor and actor.kind == "user" else None,
        end_user=(request.headers.get("x-hutong-end-user") or "")[:64] or None,
        case_number=(request.headers.get("x-hutong-case") or "")[:64] or None,
        request_id=getattr(request.state, "request_id", None),
        latency_us=latency,
        **kw,
    )
