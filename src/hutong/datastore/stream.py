"""Export a stream of Arrow batches as CSV, Parquet or Arrow IPC bytes, chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hutong.datastore.export import neutralize_batch

ExportFormat = Literal["csv", "parquet", "arrow"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}
EXTENSIONS = {"csv": "csv", "parquet": "parquet", "arrow": "arrows"}


class _Sink:
    """A write-only file object whose written bytes are drained after each batch.

    ``keep``: hold the written objects as they are until drained, not copies of them; for
    the Arrow IPC writer, which writes bytes and the batch's own (immutable) buffers, so a
    batch's body is copied once (into the chunk) rather than twice.
    """

    def __init__(self, *, keep: bool = False) -> None:
        self.chunks: list[Any] = []
        self.closed = False
        self.position = 0
        self.keep = keep

    def write(self, data: Any) -> int:
        kept = self.keep and isinstance(data, bytes | pa.Buffer)
        self.chunks.append(data if kept else bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def drain(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def stream(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], fmt: ExportFormat, *, bom: bool = False
) -> Iterator[bytes]:
    """Yield the export's bytes; memory stays bounded by one batch."""
    sink = _Sink(keep=fmt == "arrow")
    writer: pacsv.CSVWriter | pq.ParquetWriter | pa.ipc.RecordBatchStreamWriter
    if fmt == "csv":
        if bom:
            sink.write(b"\xef\xbb\xbf")
        writer = pacsv.CSVWriter(pa.PythonFile(sink, mode="w"), schema)
    elif fmt == "parquet":
        writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    elif fmt == "arrow":
        writer = pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema)
    else:  # pragma: no cover - callers validate
        raise ValueError(fmt)
    for batch in batches:
        if fmt == "csv":
            batch = neutralize_batch(batch)
        writer.write_batch(batch)
        chunk = sink.drain()
        if chunk:
            yield chunk
    writer.close()
    tail = sink.drain()
    if tail:
        yield tail
