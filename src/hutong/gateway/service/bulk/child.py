"""SQLite snapshots read through ADBC in a process of their own (decision 0014, addendum 2).

ADBC's SQLite driver links a SQLite of its own. In the server's process the two SQLite
copies cannot see each other's POSIX locks (a process's own locks never conflict): the
driver's open rebuilds the WAL index under the app's connections, and the app's
checkpoints ignore the driver's read lock, so a snapshot could mix old and new rows or
read a page the WAL had reused ("database disk image is malformed"); SQLite's
documentation names two copies in one process as a way to corrupt a database. In
another process the locks work as between any two processes.

So the read runs in a child made by a fork server (started once per process, with this
module's imports loaded, so a child costs a fork, not an interpreter). The child reads
the database only (``mode=ro``). A snapshot (``stream_in_child``) is made there whole:
read, masked and encoded, its bytes passed through a pipe that the parent copies to the
client; ``read_in_child`` streams the driver's batches to the parent as Arrow IPC for
the parent's own use. A child that fails sends its error on a second pipe, and the
parent raises it; a parent that stops reading (a client hanging up) closes the pipe, and
the child ends at its next write.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from hutong.catalog.schemas import FieldSpec

if TYPE_CHECKING:
    from hutong.gateway.service.bulk.encode import Encoding

PIPE_BYTES = 1 << 20  # the pipe's buffer: fewer wake-ups per batch (Linux's default is 64 KiB)
JOIN_SECONDS = 10.0
_DONE = "done"
_context: Any = None
_context_lock = threading.Lock()


def _fork_server() -> Any:
    """The fork server's context, its children preloaded with this module's imports."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(
                ["hutong.gateway.service.bulk.adbc", "hutong.gateway.service.bulk.encode"]
            )
            _context = context
        return _context


def warm_up() -> None:
    """Start this process's fork server now (about a second: an interpreter and the
    driver's imports), so that the first snapshot does not wait for it."""
    _fork_server()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def warm_up_for(database_url: str) -> threading.Thread | None:
    """:func:`warm_up` in a thread, if snapshots of this database are read in children
    (a SQLite file and ADBC's driver installed); a server calls it as it starts."""
    from hutong.gateway.service.bulk import adbc

    path = database_url.partition(":///")[2] if database_url.startswith("sqlite") else ""
    if not path or path.startswith((":memory:", "file:")) or adbc._MANAGER is None:
        return None
    if adbc._driver("adbc_driver_sqlite") is None:  # pragma: no cover - driver not installed
        return None
    thread = threading.Thread(target=warm_up, name="hutong-bulk-warm-up", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _child_pipe(target: Any, args: tuple[Any, ...]) -> Iterator[Connection]:
    """A child running ``target(*args, data, errors)``; yields the data pipe's read end.

    On leaving, the pipe is closed (a child still writing ends at its next write) and
    the child joined; if the body ran to its end, a child that did not say done raises
    RuntimeError with its error.
    """
    context = _fork_server()
    data_in, data_out = context.Pipe(duplex=False)
    errors_in, errors_out = context.Pipe(duplex=False)
    with contextlib.suppress(OSError):  # a smaller pipe only costs wake-ups
        fcntl.fcntl(data_out.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    child = context.Process(
        target=target,
        args=(*args, data_out, errors_out),
        name="hutong-bulk-read",
        daemon=True,  # never outlives the server
    )
    child.start()
    data_out.close()
    errors_out.close()
    finished = False
    try:
        try:
            yield data_in
        except (pa.ArrowInvalid, OSError) as exc:
            message = _error(errors_in, exc)
            raise RuntimeError(f"the snapshot's reader failed: {message}") from exc
        finished = True
    finally:
        data_in.close()
        child.join(JOIN_SECONDS)
        if child.is_alive():  # pragma: no cover - a child stuck in the driver
            child.kill()
            child.join()
        if finished:
            outcome = errors_in.recv() if errors_in.poll(0) else None
            if outcome != _DONE or child.exitcode != 0:
                errors_in.close()
                raise RuntimeError(f"the snapshot's reader failed: {outcome or child.exitcode}")
        errors_in.close()


def read_in_child(
    uri: str,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """``adbc.read_adbc`` of a SQLite database, run in a child process (see above).

    Raises RuntimeError with the child's error if the read failed, before or after some
    batches were given.
    """
    specs = [f.model_dump(mode="json") for f in fields]
    args = (uri, table_name, specs, first_batch, batch_rows)
    with (
        _child_pipe(_child, args) as data,
        os.fdopen(os.dup(data.fileno()), "rb") as stream,
    ):
        yield from pa.ipc.open_stream(stream)


def stream_in_child(
    uri: str,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
    read_ahead_batches: int,
    encoding: Encoding,
) -> Iterator[bytes]:
    """A whole SQLite snapshot made in a child: read, masked and encoded there.

    This process only passes the bytes on, so the read, the masking and the encoding use
    a core of their own, beside the server's event loop (and the batches are not encoded
    twice, once for the pipe and once for the client). The chunks are the pipe's reads,
    at most ``PIPE_BYTES`` each. Raises RuntimeError as :func:`read_in_child`.
    """
    specs = [f.model_dump(mode="json") for f in fields]
    args = (uri, table_name, specs, first_batch, batch_rows, read_ahead_batches, encoding)
    with _child_pipe(_child_stream, args) as data:
        descriptor = data.fileno()
        while chunk := os.read(descriptor, PIPE_BYTES):
            yield chunk


def _error(errors: Connection, exc: BaseException) -> str:
    """The child's error, if it sent one before it ended; else the parent's."""
    with contextlib.suppress(EOFError, OSError):
        if errors.poll(JOIN_SECONDS):
            message = errors.recv()
            if message != _DONE:
                return str(message)
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _reporting(data: Connection, errors: Connection) -> Iterator[Any]:
    """In the child: the data pipe as a binary file; says done, or the error, at the end."""
    try:
        with os.fdopen(os.dup(data.fileno()), "wb") as stream:
            data.close()
            yield stream
        errors.send(_DONE)
    except BrokenPipeError:  # the parent stopped reading: nothing to say
        pass
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
        with contextlib.suppress(OSError):
            errors.send(f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from None
    finally:
        errors.close()


def _source(uri: str, specs: list[dict[str, Any]]) -> tuple[Any, list[FieldSpec]]:
    from hutong.gateway.service.bulk import adbc

    source = adbc.AdbcSource("sqlite", adbc._driver("adbc_driver_sqlite"), uri)
    return source, [FieldSpec.model_validate(s) for s in specs]


def _child(
    uri: str,
    table_name: str,
    specs: list[dict[str, Any]],
    first_batch: int | None,
    batch_rows: int,
    data: Connection,
    errors: Connection,
) -> None:
    """The child's work: read, write each batch to the pipe, say done (or the error)."""
    from hutong.gateway.service.bulk import adbc

    with _reporting(data, errors) as stream:
        source, fields = _source(uri, specs)
        writer = None
        for batch in adbc.read_here(source, table_name, fields, first_batch, batch_rows):
            if writer is None:
                writer = pa.ipc.new_stream(stream, batch.schema)
            writer.write_batch(batch)
        if writer is None:  # no rows: a stream of no batches
            writer = pa.ipc.new_stream(stream, pa.schema([]))
        writer.close()


def _child_stream(
    uri: str,
    table_name: str,
    specs: list[dict[str, Any]],
    first_batch: int | None,
    batch_rows: int,
    read_ahead_batches: int,
    encoding: Encoding,
    data: Connection,
    errors: Connection,
) -> None:
    """The child's work for :func:`stream_in_child`: the read on a thread of its own
    (``read_ahead_batches`` ahead), the masking and encoding on this one."""
    from hutong.gateway.service.bulk import adbc
    from hutong.gateway.service.bulk.ahead import read_ahead

    with _reporting(data, errors) as stream:
        source, fields = _source(uri, specs)
        batches = adbc.read_here(source, table_name, fields, first_batch, batch_rows)
        if read_ahead_batches > 0:
            batches = read_ahead(batches, depth=read_ahead_batches, name="bulk-read")
        for chunk in encoding.encode(adbc.conform_batches(batches, fields, batch_rows)):
            stream.write(chunk)
