"""A worker's side of the audit keeper (:mod:`hutong.audit.keeper`).

Each event loop of a worker has its own connection to the keeper, watched by the loop
itself (``add_reader``): the entries that the loop's requests gave the writer during one
turn of the loop go out as one frame, and the keeper's reply resolves their futures in
the loop, with no thread in between. Until a keeper answers (at start, or after it went
away), the worker's own writer thread writes, and the link tries again at most every
``retry`` seconds, starting a keeper when none is there.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from hutong.audit.keeper import HEADER, READY, address, encode, same_user
from hutong.core.logging import get_logger

_log = get_logger("hutong.audit")


class KeeperGone(ConnectionError):
    """The keeper closed the connection with entries in flight: they may or may not be
    durable, so their requests fail."""


class Channel:
    """One event loop's connection to the keeper."""

    def __init__(self, link: KeeperLink, loop: asyncio.AbstractEventLoop, sock: socket.socket):
        self.link = link
        self.loop = loop
        self.sock = sock
        self.alive = True
        self.ready = False  # the keeper greeted: it serves
        self._inbox = bytearray()
        self._outbox = bytearray()
        self._waiting: dict[int, Any] = {}  # frame number -> _LoopBatch
        self._number = 0
        loop.add_reader(sock.fileno(), self._readable)

    def ship(self, batch: Any) -> None:
        """Send a batch's entries (in the loop); its waiters are resolved by the reply."""
        if not self.alive:
            batch._fail(KeeperGone("the audit keeper went away"))
            return
        self._number = (self._number + 1) & 0xFFFFFFFF
        body = encode(batch.events)
        self._waiting[self._number] = batch
        self._send(HEADER.pack(len(body), self._number) + body)

    def _send(self, data: bytes) -> None:
        if self._outbox:
            self._outbox += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self._outbox += data[sent:]
            self.loop.add_writer(self.sock.fileno(), self._writable)

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._outbox)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        del self._outbox[:sent]
        if not self._outbox:
            self.loop.remove_writer(self.sock.fileno())

    def _readable(self) -> None:
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        inbox = self._inbox
        inbox += data
        while len(inbox) >= HEADER.size:
            length, number = HEADER.unpack_from(inbox)
            if len(inbox) < HEADER.size + length:
                break
            body = bytes(inbox[HEADER.size : HEADER.size + length])
            del inbox[: HEADER.size + length]
            first, commits, error = orjson.loads(body)
            self.link.commits = commits
            if number == READY:
                self.ready = True
                continue
            batch = self._waiting.pop(number, None)
            if batch is None:
                continue
            if error:
                batch._fail(RuntimeError(error))
            else:
                batch._resolve(first)

    def close(self) -> None:
        """Stop using the connection; entries in flight fail (:class:`KeeperGone`)."""
        if not self.alive:
            return
        self.alive = False
        fd = self.sock.fileno()
        if fd >= 0:
            self.loop.remove_reader(fd)
            self.loop.remove_writer(fd)
        self.sock.close()
        waiting, self._waiting = self._waiting, {}
        for batch in waiting.values():
            batch._fail(KeeperGone("the audit keeper went away before it answered"))
        if waiting:
            _log.warning("audit keeper lost", batches=len(waiting))


class KeeperLink:
    """A worker's way to its node's keeper: a channel per event loop; starts the keeper."""

    def __init__(
        self,
        database_url: str,
        *,
        env: Mapping[str, str],
        retry: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = address(database_url)
        self.env = dict(env)
        self.retry = retry
        self.clock = clock
        self.commits = 0  # the keeper's group commits, as its last reply said
        self._channels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Channel] = (
            weakref.WeakKeyDictionary()
        )
        self._next_try = 0.0
        self._next_start = 0.0
        self.start_wait = 10.0  # seconds before another start, if the keeper did not listen
        self._lock = threading.Lock()

    def channel(self, loop: asyncio.AbstractEventLoop) -> Channel | None:
        """The loop's open channel, or None (the writer thread writes meanwhile)."""
        found = self._channels.get(loop)
        if found is not None and found.alive:
            return found if found.ready else None
        now = self.clock()
        if now < self._next_try:
            return None
        self._next_try = now + self.retry
        sock = self.connect()
        if sock is None:
            if now >= self._next_start:  # one keeper start at a time: its imports take a while
                self._next_start = now + self.start_wait
                self.start_keeper()
            return None
        self._channels[loop] = Channel(self, loop, sock)
        return None  # used once the keeper greets it

    def connect(self) -> socket.socket | None:
        """A connection to the keeper (None if none listens, or it is another user's)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.name)
            if not same_user(sock):
                raise PermissionError("the keeper's socket belongs to another user")
        except OSError:
            sock.close()
            return None
        sock.setblocking(False)
        return sock

    def start_keeper(self) -> None:
        """Start a keeper process (it exits at once if another has the name)."""
        with self._lock:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hutong.audit.keeper"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                close_fds=True,
                cwd=os.getcwd(),
            )
        # reaped when it exits, by a thread that waits for it (not the loop)
        threading.Thread(target=proc.wait, name="audit-keeper-reaper", daemon=True).start()

    def close(self) -> None:
        """Close every loop's channel (at shutdown; the keeper exits when left alone)."""
        for channel in list(self._channels.values()):
            if channel.loop.is_closed():
                channel.alive = False
                channel.sock.close()
            else:
                channel.close()
        self._channels.clear()
