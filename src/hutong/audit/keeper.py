"""The audit keeper: one process that appends the audit entries of all of a node's workers.

Each worker process of a node (``uvicorn --workers N``) used to run its own writer
thread. That thread shared the worker's GIL with the event loop that serves requests, and
the writers of several workers took turns at the log's write lock, each with small
commits. The keeper is one process per database: the workers' event loops send it their
prepared entries (canonical bytes and leaf hash made in the worker, see
:mod:`hutong.audit.entry`) over a Unix socket, one frame per loop turn; it appends
everything that has arrived in one transaction and answers each frame with its first leaf
index once the commit is durable. A request is answered only after that reply, so the
durability contract is the writer thread's.

The socket is in Linux's abstract namespace, named after the database, so that every
worker of one node finds the same keeper and no file is left behind. Binding the name is
the election: a second keeper started at the same moment finds it taken and exits. Both
ends check that the other runs as the same user (``SO_PEERCRED``). The keeper exits when
no worker has been connected for ``idle`` seconds; a worker that loses it fails the
entries in flight (those requests get a 500), writes with its own thread meanwhile, and
starts a keeper again (:mod:`hutong.audit.keeper_link`).

Wire format, both ways: a 4-byte big-endian body length, a 4-byte frame number, then a
JSON body. Worker to keeper: a list of entries (:func:`encode`); the keeper checks each
entry's types and its leaf hash against its payload, and refuses a frame with a bad entry
whole. Keeper to worker: ``[first_leaf_index, commits, error]``; frame number 0 is the
keeper's greeting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # the keeper binds its name before it imports the rest
    from hutong.audit.entry import Prepared

HEADER = struct.Struct("!II")  # body length, frame number
READY = 0  # the frame number of the keeper's greeting (a worker numbers its frames from 1)
FRAME_MAX = 64 * 1024 * 1024  # a frame of more is a broken peer
_CRED = struct.Struct("3i")  # pid, uid, gid of SO_PEERCRED


def address(database_url: str) -> str:
    """The keeper's abstract socket name for a database (``\\0`` first: no file)."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:32]
    return f"\0hutong-audit-{digest}"


def supported(database_url: str) -> bool:
    """True where a keeper can serve this database: Linux, and a database file or server
    (an in-memory SQLite database lives in one process only)."""
    if not sys.platform.startswith("linux"):
        return False
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1] if "///" in database_url else ""
        return bool(path) and ":memory:" not in path and "mode=memory" not in path
    return database_url.startswith("postgresql")


def same_user(sock: socket.socket) -> bool:
    """True if the peer of a Unix socket runs as this process's user."""
    _, uid, _ = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    return uid == os.getuid()


def keeper_pid(database_url: str) -> int | None:
    """The process id of the database's keeper (None if none listens): for operators'
    tools, benchmarks and tests."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(address(database_url))
        pid, _, _ = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    except OSError:
        return None
    finally:
        sock.close()
    return int(pid)


def encode(prepared: Sequence[Prepared]) -> bytes:
    """The body of a worker's frame: JSON, the payload as text and the leaf hash in hex."""
    out = []
    for p in prepared:
        row = p.row
        out.append(
            [
                *row[:9],
                row[9].decode(),
                row[10].hex(),
                p.time_text,
                p.event.subjects or [],
                p.stat_key,
            ]
        )
    return orjson.dumps(out)


_TEXT = (str, type(None))


class Shipped:
    """An entry as the keeper receives it: what :func:`hutong.audit.log.append_rows` and
    :func:`~hutong.audit.log.stats_of` read of a :class:`Prepared` (it is its own event)."""

    __slots__ = ("row", "time_text", "subjects", "stat_key", "outcome", "records")

    def __init__(self, item: Any) -> None:
        if not isinstance(item, list) or len(item) != 14:
            raise ValueError("an entry is a list of 14 members")
        *head, records, payload, leaf, time_text, subjects, stat_key = item
        if not all(isinstance(v, _TEXT) for v in head) or not isinstance(head[0], str):
            raise ValueError("an entry's columns are texts")
        if not isinstance(records, int) or not isinstance(payload, str):
            raise ValueError("an entry's record count or payload has the wrong type")
        if not (isinstance(subjects, list) and all(isinstance(k, str) for k in subjects)):
            raise ValueError("an entry's subject keys are a list of texts")
        if not (isinstance(stat_key, list) and len(stat_key) == 6 and isinstance(time_text, str)):
            raise ValueError("an entry's statistics key or time is malformed")
        body = payload.encode()
        try:
            leaf_hash = bytes.fromhex(leaf)
        except (TypeError, ValueError) as exc:
            raise ValueError("an entry's leaf hash is not hex") from exc
        if hashlib.sha256(b"\x00" + body).digest() != leaf_hash:
            raise ValueError("an entry's leaf hash does not match its payload")
        self.row = (*head, records, body, leaf_hash)
        self.time_text = time_text
        self.subjects = subjects
        self.stat_key = tuple(stat_key)
        self.outcome = head[7]
        self.records = records

    @property
    def event(self) -> Shipped:
        return self

    @property
    def time(self) -> dt.datetime:  # PostgreSQL's rows carry the time as a datetime
        return dt.datetime.fromisoformat(self.time_text[:26]).replace(tzinfo=dt.UTC)


def decode(body: bytes) -> list[Shipped]:
    """The entries of a worker's frame. Raises ValueError (naming the entry) if it is not
    one: the frame is refused whole."""
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError("a frame of audit entries is not JSON") from exc
    if not isinstance(items, list):
        raise ValueError("a frame of audit entries is a list")
    out = []
    for n, item in enumerate(items):
        try:
            out.append(Shipped(item))
        except ValueError as exc:
            raise ValueError(f"entry {n} of the frame: {exc}") from None
    return out


class _Client:
    __slots__ = ("sock", "buffer")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def frames(self) -> list[tuple[int, bytes]]:
        """Whole frames received so far. Raises ValueError for an oversized frame."""
        out = []
        buf = self.buffer
        while len(buf) >= HEADER.size:
            length, number = HEADER.unpack_from(buf)
            if length > FRAME_MAX:
                raise ValueError("frame too large")
            if len(buf) < HEADER.size + length:
                break
            out.append((number, bytes(buf[HEADER.size : HEADER.size + length])))
            del buf[: HEADER.size + length]
        return out


class Keeper:
    """The keeper's loop: accept workers, read their frames, commit, answer."""

    def __init__(self, writer: Any, *, idle: float = 5.0, commit_delay: float = 0.0) -> None:
        self.writer = writer  # an AuditWriter whose thread is not started: its commit()
        self.idle = idle
        self.commit_delay = commit_delay
        self.stopping = False

    def serve(self, listener: socket.socket) -> None:
        """Run until no worker has been connected for ``idle`` seconds, or SIGTERM."""
        sel = selectors.DefaultSelector()
        listener.setblocking(False)
        sel.register(listener, selectors.EVENT_READ, None)
        clients: dict[socket.socket, _Client] = {}
        alone_since = time.monotonic()
        busy = False
        try:
            while not self.stopping:
                pending: list[tuple[_Client, int, list[Shipped]]] = []
                # what has arrived, and once more what arrived meanwhile: one commit
                for timeout in (1.0, 0.0):
                    if timeout == 0 and busy and self.commit_delay > 0:
                        time.sleep(self.commit_delay)  # others are writing: gather more
                    for key, _ in sel.select(timeout):
                        if key.data is None:
                            self._accept(listener, sel, clients)
                        else:
                            self._read(key.data, sel, clients, pending)
                    if not pending:
                        break
                if pending:
                    busy = len(pending) > 1
                    self._commit(pending, sel, clients)
                if clients:
                    alone_since = time.monotonic()
                elif time.monotonic() - alone_since > self.idle:
                    return
        finally:
            for sock in list(clients):
                sock.close()
            sel.close()

    def _accept(
        self, listener: socket.socket, sel: selectors.BaseSelector, clients: dict[Any, _Client]
    ) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        if not same_user(sock):
            sock.close()
            return
        sock.setblocking(True)
        sock.settimeout(10.0)  # a reply the worker does not read for this long: drop it
        client = clients[sock] = _Client(sock)
        sel.register(sock, selectors.EVENT_READ, client)
        self._reply(client, READY, 0, None, sel, clients)  # the worker may send now

    def _drop(
        self, client: _Client, sel: selectors.BaseSelector, clients: dict[Any, _Client]
    ) -> None:
        if client.sock in clients:
            del clients[client.sock]
            sel.unregister(client.sock)
            client.sock.close()

    def _read(
        self,
        client: _Client,
        sel: selectors.BaseSelector,
        clients: dict[Any, _Client],
        pending: list[tuple[_Client, int, list[Shipped]]],
    ) -> None:
        try:
            data = client.sock.recv(1 << 20)
        except OSError:
            data = b""
        if not data:  # the worker went away: its frames in flight are not answered
            self._drop(client, sel, clients)
            return
        client.buffer += data
        try:
            for number, body in client.frames():
                try:
                    pending.append((client, number, decode(body)))
                except ValueError as exc:
                    self._reply(client, number, 0, str(exc), sel, clients)
        except ValueError:  # a frame too large: the stream cannot be trusted any more
            self._drop(client, sel, clients)

    def _commit(
        self,
        pending: list[tuple[_Client, int, list[Shipped]]],
        sel: selectors.BaseSelector,
        clients: dict[Any, _Client],
    ) -> None:
        events: list[Any] = [e for _, _, entries in pending for e in entries]
        error = None
        first = 0
        try:
            indexes = self.writer.commit(events)
            first = indexes[0] if indexes else 0
        except Exception as exc:  # every frame of the batch fails; nothing half-written
            error = f"the audit append failed: {type(exc).__name__}"
        for client, number, entries in pending:
            self._reply(client, number, first, error, sel, clients)
            first += len(entries)

    def _reply(
        self,
        client: _Client,
        number: int,
        first: int,
        error: str | None,
        sel: selectors.BaseSelector,
        clients: dict[Any, _Client],
    ) -> None:
        if client.sock not in clients:
            return
        body = orjson.dumps([first, self.writer.commits, error])
        try:
            client.sock.sendall(HEADER.pack(len(body), number) + body)
        except OSError:
            self._drop(client, sel, clients)


def main() -> None:  # pragma: no cover - run as a process (tests start it so)
    """``python -m hutong.audit.keeper``: take the database's name, then load and serve.

    The name is bound before the heavy imports, so that a worker that starts a second
    keeper meanwhile sees this one's exit at once; workers use the keeper once it greets
    them (``READY``), after its imports.
    """
    url = os.environ["HUTONG_DATABASE_URL"]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address(url))
    except OSError:  # another keeper has it
        return
    listener.listen(64)
    from hutong.audit.writer import AuditWriter
    from hutong.core.database import Database
    from hutong.core.settings import get_settings

    settings = get_settings()
    db = Database(url, pool_size=1, max_overflow=1)
    writer = AuditWriter(db, node=None, max_batch=settings.audit_max_batch)
    keeper = Keeper(
        writer,
        idle=settings.audit_keeper_idle_seconds,
        commit_delay=settings.audit_commit_delay_ms / 1000,
    )

    def stop(*_: object) -> None:
        keeper.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the server: the workers go first
    try:
        keeper.serve(listener)
    finally:
        listener.close()
        db.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
