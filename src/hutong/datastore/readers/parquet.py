"""Parquet reader: pyarrow batches with the file's own column types (Parquet 读取)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hutong.core.errors import Invalid
from hutong.datastore.readers.common import RawBatch, Source, check_names, rechunk


class ParquetSource(Source):
    """A Parquet file, read by pyarrow batch by batch with its own column types."""

    format = "parquet"

    def __init__(
        self, path: Path, *, total_bytes: int, columns: list[str], parquet: pq.ParquetFile
    ) -> None:
        super().__init__(path, total_bytes=total_bytes, columns=columns, encoding=None)
        self._parquet = parquet

    def _batches(self, batch_rows: int) -> Iterator[RawBatch]:
        total_rows = max(1, self._parquet.metadata.num_rows)
        first_row = 1
        try:
            batches = self._parquet.iter_batches(batch_size=batch_rows)
            for table in rechunk(batches, batch_rows):
                done = first_row - 1 + table.num_rows
                self._bytes_read = int(self.total_bytes * min(1.0, done / total_rows))
                yield RawBatch(table=table, first_row=first_row)
                first_row += table.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise Invalid(f"the Parquet file cannot be read: {exc}") from exc
        self._bytes_read = self.total_bytes

    def close(self) -> None:
        self._parquet.close()


def open_parquet(path: Path, total_bytes: int, head: bytes) -> Source:
    if not head.startswith(b"PAR1"):
        raise Invalid("not a Parquet file: it does not start with PAR1")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise Invalid(f"not a readable Parquet file: {exc}") from exc
    try:
        columns = check_names(parquet.schema_arrow.names)
        if columns != parquet.schema_arrow.names:
            raise Invalid("column names of the Parquet file have leading or trailing spaces")
        if parquet.metadata.num_rows == 0:
            raise Invalid("no data rows: the Parquet file has a schema and no rows")
    except BaseException:
        parquet.close()
        raise
    return ParquetSource(path, total_bytes=total_bytes, columns=columns, parquet=parquet)
