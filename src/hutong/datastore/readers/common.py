"""What every reader shares: the batch and problem types, the ``Source`` base class,
header and cell checks, binary sniffing and batch regrouping (读取器公用部分)."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from hutong.core.errors import Invalid, Problem, ProblemList

FORMATS = ("csv", "xlsx", "jsonl", "parquet")
DEFAULT_BATCH_ROWS = 131_072
SNIFF_BYTES = 64 * 1024
READ_CHUNK_BYTES = 1 << 20
PREVIEW_CHARS = 100

ZIP = b"PK\x03\x04"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC = (
    (ZIP, "a ZIP archive (an XLSX workbook?)"),
    (OLE2, "an Excel 97-2003 .xls workbook or other old Office file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


@dataclass
class RowProblem(Problem):
    """A problem in one data row, with its file line (CSV, JSON Lines) or sheet row (XLSX)."""

    line: int | None = None


@dataclass
class RawBatch:
    """Consecutive data rows of a file, as read: strings (CSV, XLSX, JSON Lines) or Parquet types.

    ``first_row`` is the data row number of the first row (row 1 follows the header);
    ``first_line`` its file line or sheet row when the batch's rows sit on consecutive
    lines, else None; ``lines()`` finds the line of any row.
    """

    table: pa.Table
    first_row: int
    first_line: int | None = None
    line_finder: Callable[[Sequence[int]], dict[int, int]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    def lines(self, rows: Iterable[int]) -> dict[int, int]:
        """File line (or sheet row) of each given data row, for the rows where it is known."""
        wanted = sorted(set(rows))
        if self.first_line is not None:
            return {row: self.first_line + row - self.first_row for row in wanted}
        if self.line_finder is not None:
            return self.line_finder(wanted)
        return {}


class Source:
    """An opened input file: its format, encoding and header, read in batches."""

    format = ""

    def __init__(
        self, path: Path, *, total_bytes: int, columns: list[str], encoding: str | None
    ) -> None:
        self.path = path
        self.total_bytes = total_bytes
        self.columns = columns
        self.encoding = encoding
        self._bytes_read = 0

    @property
    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for a progress bar; read-ahead may lead)."""
        return self._bytes_read

    def iter_batches(self, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[RawBatch]:
        """Batches of up to ``batch_rows`` rows, in file order.

        Raises Invalid when rows of the file are malformed (see the module docstring).
        """
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self._bytes_read = 0
        return self._batches(batch_rows)

    def _batches(self, batch_rows: int) -> Iterator[RawBatch]:
        raise NotImplementedError

    def close(self) -> None:
        """Release open files."""

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The text cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_names(names: Sequence[str]) -> list[str]:
    """Header names trimmed; raises Invalid naming the position of empty or repeated names."""
    cleaned = [name.strip().lstrip("\ufeff").strip() for name in names]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(cleaned, start=1):
        if not name:
            problems.append(Problem(reason=f"column {position} of the header is empty"))
        elif name in seen:
            problems.append(
                Problem(
                    reason=f"column {position} '{name}' repeats column {seen[name]}",
                    column=name,
                )
            )
        else:
            seen[name] = position
    if problems:
        detail = "; ".join(p.reason for p in problems[:5])
        if len(problems) > 5:
            detail += f"; and {len(problems) - 5} more"
        raise Invalid(f"the header has empty or repeated column names: {detail}", problems=problems)
    return cleaned


def reject_binary(head: bytes, what: str) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Invalid(f"UTF-16 text, not {what}; save the file as UTF-8 and load that")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise Invalid(f"binary file, not {what} text: it looks like {kind}")
    if b"\x00" in head:
        raise Invalid(f"binary file, not {what} text: it contains NUL bytes")


def rechunk(batches: Iterable[pa.RecordBatch], batch_rows: int) -> Iterator[pa.Table]:
    """Regroup record batches into tables of exactly ``batch_rows`` rows (the last: fewer)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= batch_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, batch_rows)
            rest = table.slice(batch_rows)
            pending = [b for b in rest.to_batches() if b.num_rows]
            count = rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _number_text(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def cell_text(value: Any) -> str | None:
    """A spreadsheet or JSON value as the text a CSV would hold: ISO dates, ints without .0."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _string_table(columns: list[str], values: dict[str, list[str | None]]) -> pa.Table:
    return pa.table({name: pa.array(values[name], type=pa.string()) for name in columns})


def row_problems_error(problems: ProblemList, what: str) -> Invalid:
    noun = "row" if problems.total == 1 else "rows"
    return Invalid(f"{problems.total:,} {noun} {what}", problems=problems.items)


def _lines_of(
    first_row: int, lines: list[int]
) -> tuple[int | None, Callable[[Sequence[int]], dict[int, int]] | None]:
    if lines and lines[-1] - lines[0] == len(lines) - 1:
        return lines[0], None
    frozen = list(lines)

    def finder(rows: Sequence[int]) -> dict[int, int]:
        return {r: frozen[r - first_row] for r in rows if 0 <= r - first_row < len(frozen)}

    return None, finder


def string_batch(
    columns: list[str], values: dict[str, list[str | None]], lines: list[int], first_row: int
) -> RawBatch:
    """A batch of string columns whose rows sit on the given file lines (or sheet rows)."""
    first_line, finder = _lines_of(first_row, lines)
    return RawBatch(
        table=_string_table(columns, values),
        first_row=first_row,
        first_line=first_line,
        line_finder=finder,
    )
