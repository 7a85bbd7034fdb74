"""SQLite snapshots read through ADBC in a process of their own (decision 0014, addendum 2).

ADBC's SQLite driver links a SQLite of its own. In the server's process the two SQLite
copies cannot see each other's POSIX locks (a process's own locks never conflict): the
driver's open rebuilds the WAL index under the app's connections, and the app's
checkpoints ignore the driver's read lock, so a snapshot could mix old and new rows or
read a page the WAL had reused ("database disk image is malformed"); SQLite's
documentation names two copies in one process as a way to corrupt a database. In
another process the locks work as between any two processes.

So the read runs in a child made by a fork server (started once per process, with this
module's imports loaded, so a child costs a fork, not an interpreter), which streams the
driver's batches to the parent as Arrow IPC over a pipe. The child reads the database
only (``mode=ro``); the parent masks and encodes as before. A child that fails sends its
error on a second pipe, and the parent raises it; a parent that stops reading (a client
hanging up) closes the pipe, and the child ends at its next write.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

import pyarrow as pa

from hutong.catalog.schemas import FieldSpec

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
            context.set_forkserver_preload(["hutong.gateway.service.bulk.adbc"])
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
    context = _fork_server()
    data_in, data_out = context.Pipe(duplex=False)
    errors_in, errors_out = context.Pipe(duplex=False)
    with contextlib.suppress(OSError):  # a smaller pipe only costs wake-ups
        fcntl.fcntl(data_out.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    specs = [f.model_dump(mode="json") for f in fields]
    child = context.Process(
        target=_child,
        args=(uri, table_name, specs, first_batch, batch_rows, data_out, errors_out),
        name="hutong-bulk-read",
        daemon=True,  # never outlives the server
    )
    child.start()
    data_out.close()
    errors_out.close()
    finished = False
    try:
        with os.fdopen(os.dup(data_in.fileno()), "rb") as stream:
            try:
                reader = pa.ipc.open_stream(stream)
                yield from reader
            except (pa.ArrowInvalid, OSError) as exc:
                message = _error(errors_in, exc)
                raise RuntimeError(f"the snapshot's reader failed: {message}") from exc
        finished = True
    finally:
        data_in.close()  # a child still writing ends at its next write
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


def _error(errors: Connection, exc: BaseException) -> str:
    """The child's error, if it sent one before it ended; else the parent's."""
    with contextlib.suppress(EOFError, OSError):
        if errors.poll(JOIN_SECONDS):
            message = errors.recv()
            if message != _DONE:
                return str(message)
    return f"{type(exc).__name__}: {exc}"


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

    try:
        source = adbc.AdbcSource("sqlite", adbc._driver("adbc_driver_sqlite"), uri)
        fields = [FieldSpec.model_validate(s) for s in specs]
        with os.fdopen(os.dup(data.fileno()), "wb") as stream:
            data.close()
            writer = None
            for batch in adbc.read_here(source, table_name, fields, first_batch, batch_rows):
                if writer is None:
                    writer = pa.ipc.new_stream(stream, batch.schema)
                writer.write_batch(batch)
            if writer is None:  # no rows: a stream of no batches
                writer = pa.ipc.new_stream(stream, pa.schema([]))
            writer.close()
        errors.send(_DONE)
    except BrokenPipeError:  # the parent stopped reading: nothing to say
        pass
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
        with contextlib.suppress(OSError):
            errors.send(f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from None
    finally:
        errors.close()
