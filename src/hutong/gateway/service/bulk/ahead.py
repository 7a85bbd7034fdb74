"""Run an iterator on a thread of its own, a bounded number of items ahead of its reader.

A snapshot is a pipeline: the database read, the masking, the format's writer, the
HTTP send. pyarrow and the ADBC drivers let go of the GIL while they work, so with a
stage on each side of a bounded queue the next batch is read while this one is masked
and sent, and both cores of a small machine do the work (decision 0014). Memory stays
bounded: at most ``depth`` items wait in the queue, plus the one each side holds.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_PUT_WAIT_S = 0.1  # how often a blocked producer looks whether its reader has gone


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(source: Iterator[T], *, depth: int, name: str = "read-ahead") -> Generator[T]:
    """The items of ``source``, produced on another thread up to ``depth`` ahead.

    ``source`` runs only on that thread, start to end, and is closed there when the
    returned generator is closed early (a client hanging up), so a database read it
    holds is released at once. Its errors are raised here, in order.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=_PUT_WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item) or stop.is_set():
                    break
            else:
                put(_DONE)
        except BaseException as error:  # handed to the reader, raised there
            put(_Failed(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while True:  # make room, so that a producer waiting to put sees the stop at once
            try:
                items.get_nowait()
            except queue.Empty:
                break
        worker.join()
