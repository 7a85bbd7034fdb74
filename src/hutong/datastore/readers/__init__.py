"""Readers: open a steward's file as batches of Arrow tables (读取上传文件).

Formats: CSV (UTF-8, UTF-8 with BOM, or GB18030), XLSX (first sheet), JSON Lines and
Parquet. ``open_source`` checks what can be checked up front (size, format, binary
content, encoding, header) and raises ``TooLarge`` or ``Invalid`` naming the reason;
``Source.iter_batches`` then streams ``RawBatch`` es.

Rows are counted the way a report names them: "row N" is data row N, row 1 being the
first row after the header (for JSON Lines, the first object). Blank lines are not rows.
``RawBatch.lines`` gives the file line (CSV, JSON Lines) or sheet row (XLSX) of data
rows, so a report can say both.

CSV, XLSX and JSON Lines batches hold every column as strings, empty cells as null;
Parquet batches keep the file's own types. ``hutong.datastore.convert`` casts them.

The CSV hot path is pyarrow's streaming reader. Python handles the bytes only in the
encoding check (a strict incremental decode that skips ASCII chunks) and, for GB18030,
in transcoding to UTF-8 as pyarrow reads; it parses rows itself only to say where a
vectorized check failed (the file line of a bad row, the rows of a ragged file).

When some rows are malformed (ragged CSV rows, a quote that never closes, bad JSON
lines, XLSX values outside the header), ``iter_batches`` yields no batch from the first
bad one on, reads on to count them, and raises ``Invalid`` whose ``problems`` name up
to 100 of them.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

from hutong.core.errors import Invalid, TooLarge
from hutong.datastore.readers.common import FORMATS, OLE2, SNIFF_BYTES, ZIP
from hutong.datastore.readers.common import RawBatch as RawBatch
from hutong.datastore.readers.common import RowProblem as RowProblem
from hutong.datastore.readers.common import Source as Source
from hutong.datastore.readers.common import preview as preview
from hutong.datastore.readers.csv import open_csv
from hutong.datastore.readers.jsonl import open_jsonl
from hutong.datastore.readers.parquet import open_parquet
from hutong.datastore.readers.xlsx import open_xlsx

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def open_source(path: Path, *, format: str | None = None, max_bytes: int | None = None) -> Source:
    """Open a file to load, detecting its format from the extension or, failing that, content.

    Raises TooLarge when the file is larger than ``max_bytes``; Invalid when it is empty,
    binary, not UTF-8/GB18030 text, or its header is unusable.
    """
    path = Path(path)
    total_bytes = path.stat().st_size
    if max_bytes is not None and total_bytes > max_bytes:
        raise TooLarge(
            f"the file has {total_bytes:,} bytes, more than the limit of {max_bytes:,}",
            extra={"limit": max_bytes, "size": total_bytes},
        )
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    chosen = format.lower() if format else _detect_format(path, head)
    if chosen not in FORMATS:
        raise Invalid(
            f"unknown format '{chosen}'; expected one of {', '.join(FORMATS)}",
            field="format",
            value=chosen,
        )
    if total_bytes == 0:
        raise Invalid("file is empty")
    opener: dict[str, Callable[[Path, int, bytes], Source]] = {
        "csv": open_csv,
        "xlsx": open_xlsx,
        "jsonl": open_jsonl,
        "parquet": open_parquet,
    }
    return opener[chosen](path, total_bytes, head)


def _detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xls" or head.startswith(OLE2):
        raise Invalid("an Excel 97-2003 .xls workbook; save it as .xlsx or CSV and load that")
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(ZIP):
        return "xlsx"
    if head.lstrip(codecs.BOM_UTF8).lstrip(b" \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"
