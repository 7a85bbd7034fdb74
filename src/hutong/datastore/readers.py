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
import csv
import datetime as dt
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from hutong.core.errors import Invalid, Problem, ProblemList, TooLarge

FORMATS = ("csv", "xlsx", "jsonl", "parquet")
DEFAULT_BATCH_ROWS = 131_072
SNIFF_BYTES = 64 * 1024
READ_CHUNK_BYTES = 1 << 20
CSV_BLOCK_BYTES = 4 << 20
MAX_HEADER_BYTES = 1 << 20
PREVIEW_CHARS = 100

UTF8 = "utf-8"
UTF8_SIG = "utf-8-sig"
GB18030 = "gb18030"

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
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC = (
    (_ZIP, "a ZIP archive (an XLSX workbook?)"),
    (_OLE2, "an Excel 97-2003 .xls workbook or other old Office file"),
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
_BLANK = b"\r\n"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_QUOTE_OR_BREAK = re.compile(rb'["\r\n]')


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
        "csv": _open_csv,
        "xlsx": _open_xlsx,
        "jsonl": _open_jsonl,
        "parquet": _open_parquet,
    }
    return opener[chosen](path, total_bytes, head)


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


def _detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xls" or head.startswith(_OLE2):
        raise Invalid("an Excel 97-2003 .xls workbook; save it as .xlsx or CSV and load that")
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(_ZIP):
        return "xlsx"
    if head.lstrip(codecs.BOM_UTF8).lstrip(b" \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


def _reject_binary(head: bytes, what: str) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Invalid(f"UTF-16 text, not {what}; save the file as UTF-8 and load that")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise Invalid(f"binary file, not {what} text: it looks like {kind}")
    if b"\x00" in head:
        raise Invalid(f"binary file, not {what} text: it contains NUL bytes")


# --- text encoding ------------------------------------------------------------------


@dataclass
class _Undecodable:
    offset: int
    byte: int
    line: int

    def describe(self) -> str:
        return f"byte 0x{self.byte:02X} at offset {self.offset:,} (line {self.line})"


def _first_undecodable(path: Path, encoding: str, start: int) -> tuple[_Undecodable | None, int]:
    """Where strict decoding first fails (None if the file decodes), streaming chunk by chunk;
    and how many double quotes the file holds (odd means a quote may never close)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = start
    quotes = 0
    with path.open("rb") as file:
        file.seek(start)
        while True:
            chunk = file.read(READ_CHUNK_BYTES)
            quotes += chunk.count(b'"')  # 0x22 is never part of a UTF-8/GB18030 multibyte char
            pending = decoder.getstate()[0]
            if chunk and not pending and chunk.isascii():
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk, not chunk)
            except UnicodeDecodeError as exc:
                # The decoder reports positions in its buffered bytes plus this chunk.
                where = offset - len(pending) + exc.start
                return _Undecodable(where, exc.object[exc.start], _line_at(path, where)), quotes
            if not chunk:
                return None, quotes
            offset += len(chunk)


def _line_at(path: Path, offset: int) -> int:
    line = 1
    with path.open("rb") as file:
        remaining = offset
        while remaining > 0:
            chunk = file.read(min(READ_CHUNK_BYTES, remaining))
            if not chunk:
                break
            line += chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def _detect_encoding(path: Path, head: bytes) -> tuple[str, int]:
    """The encoding (BOM, else strict UTF-8, else strict GB18030) and the file's quote count."""
    if head.startswith(codecs.BOM_UTF8):
        failure, quotes = _first_undecodable(path, UTF8, len(codecs.BOM_UTF8))
        if failure is None:
            return UTF8_SIG, quotes
        raise Invalid(
            "the file starts with a UTF-8 byte order mark but is not UTF-8 text: "
            f"{failure.describe()} is not UTF-8",
            extra={"offset": failure.offset, "line": failure.line},
        )
    utf8_failure, quotes = _first_undecodable(path, UTF8, 0)
    if utf8_failure is None:
        return UTF8, quotes
    gb_failure, quotes = _first_undecodable(path, GB18030, 0)
    if gb_failure is None:
        return GB18030, quotes
    raise Invalid(
        f"not UTF-8 or GB18030 text: {utf8_failure.describe()} is not UTF-8, and "
        f"{gb_failure.describe()} is not GB18030; save the file as UTF-8 and load it again",
        extra={"offset": utf8_failure.offset, "line": utf8_failure.line},
    )


class _Utf8Stream(io.RawIOBase):
    """A text file as a stream of UTF-8 bytes: UTF-8 passes through, GB18030 is transcoded.

    ``raw_position`` counts the file's bytes consumed, for progress.
    """

    def __init__(self, path: Path, *, encoding: str, start: int) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._file.seek(start)
        self.raw_position = start
        self._decoder = (
            codecs.getincrementaldecoder(GB18030)("strict") if encoding == GB18030 else None
        )
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._pending and self._decoder is None:
            count = self._file.readinto(view)
            self.raw_position += count
            return count
        while not self._pending and not self._eof:
            chunk = self._file.read(READ_CHUNK_BYTES)
            self.raw_position += len(chunk)
            self._eof = not chunk
            if self._decoder is not None:
                self._pending = self._decoder.decode(chunk, self._eof).encode(UTF8)
            else:
                self._pending = chunk
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def skip(self, count: int) -> None:
        while count > 0:
            data = self.read(min(count, READ_CHUNK_BYTES))
            if not data:
                return
            count -= len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


# --- CSV ----------------------------------------------------------------------------


@dataclass
class _Header:
    text: str
    consumed: int  # bytes of the UTF-8 stream up to and including the header's line break
    lines: int  # file lines up to and including the header
    has_data: bool


def _read_header(stream: _Utf8Stream) -> _Header:
    """The first non-blank record (quote-aware), and whether anything but blank lines follows."""
    buf = bytearray()

    def more() -> bool:
        chunk = stream.read(SNIFF_BYTES)
        buf.extend(chunk or b"")
        return bool(chunk)

    more()
    pos = 0
    while True:
        while pos < len(buf) and buf[pos] in _BLANK:
            pos += 1
        if pos < len(buf) or not more():
            break
    if pos >= len(buf):
        return _Header("", len(buf), 0, False)
    start = pos
    in_quote = False
    end = -1
    while end < 0:
        found = _QUOTE_OR_BREAK.search(buf, pos)
        if found is None:
            pos = len(buf)
            if pos - start > MAX_HEADER_BYTES:
                raise Invalid("the header line is longer than 1 MiB; is this a CSV file?")
            if not more():
                if in_quote:
                    raise Invalid('the header opens a quote (") that is never closed')
                end = len(buf)
            continue
        pos = found.end()
        if buf[found.start()] == ord('"'):
            in_quote = not in_quote
        elif not in_quote:
            end = found.start()
    after = end
    if after < len(buf):
        after += 1
        if buf[end] == ord("\r") and (after < len(buf) or more()) and buf[after] == ord("\n"):
            after += 1
    text = bytes(buf[start:end]).decode(UTF8)
    lines = len(_LINE_BREAK.findall(bytes(buf[:after])))
    pos = after
    while True:
        while pos < len(buf) and buf[pos] in _BLANK:
            pos += 1
        if pos < len(buf):
            return _Header(text, after, lines, True)
        if not more():
            return _Header(text, after, lines, False)


def _detect_delimiter(header: str) -> str:
    if "," in header:
        return ","
    for candidate in ("\t", ";"):
        if candidate in header:
            return candidate
    return ","


class _RowCounter:
    """pyarrow's invalid_row_handler: count ragged rows and skip them (the load will fail)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, row: Any) -> str:
        self.count += 1
        return "skip"


class CsvSource(Source):
    """A CSV file, read with pyarrow's streaming CSV reader."""

    format = "csv"

    def __init__(
        self,
        path: Path,
        *,
        total_bytes: int,
        columns: list[str],
        encoding: str,
        delimiter: str,
        header: _Header,
        odd_quotes: bool = False,
    ) -> None:
        super().__init__(path, total_bytes=total_bytes, columns=columns, encoding=encoding)
        self.delimiter = delimiter
        self._header = header
        self._odd_quotes = odd_quotes
        self._finder: _LineFinder | None = None

    def _stream(self) -> _Utf8Stream:
        start = len(codecs.BOM_UTF8) if self.encoding == UTF8_SIG else 0
        stream = _Utf8Stream(self.path, encoding=self.encoding or UTF8, start=start)
        stream.skip(self._header.consumed)
        return stream

    def _batches(self, batch_rows: int) -> Iterator[RawBatch]:
        stream = self._stream()
        ragged = _RowCounter()
        try:
            reader = pa_csv.open_csv(
                stream,
                read_options=pa_csv.ReadOptions(
                    column_names=self.columns, block_size=CSV_BLOCK_BYTES, use_threads=True
                ),
                parse_options=pa_csv.ParseOptions(
                    delimiter=self.delimiter,
                    quote_char='"',
                    double_quote=True,
                    newlines_in_values=True,
                    ignore_empty_lines=True,
                    invalid_row_handler=ragged,
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in self.columns},
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                    check_utf8=False,  # the whole file was checked by open_source
                ),
            )
            first_row = 1
            held: pa.Table | None = None  # one batch held back, to check the last one first
            for table in _rechunk(reader, batch_rows):
                if ragged.count:
                    held = None
                    break
                if held is not None:
                    self._bytes_read = min(stream.raw_position, self.total_bytes)
                    yield RawBatch(table=held, first_row=first_row, line_finder=self._lines)
                    first_row += held.num_rows
                held = table
            if held is not None and not ragged.count:
                if self._odd_quotes:
                    self._check_unclosed_quote(held, first_row)
                self._bytes_read = min(stream.raw_position, self.total_bytes)
                yield RawBatch(table=held, first_row=first_row, line_finder=self._lines)
            if ragged.count:
                for _ in reader:  # count every ragged row; pyarrow is fast at this
                    pass
                raise self._ragged_error(ragged.count)
        except pa.ArrowInvalid as exc:
            raise Invalid(f"the CSV file cannot be parsed: {exc}") from exc
        finally:
            stream.close()
        self._bytes_read = self.total_bytes

    def _check_unclosed_quote(self, last: pa.Table, first_row: int) -> None:
        """Raise Invalid if the last value opens a quote that never closes.

        pyarrow then reads the rest of the file into that one value. The file holds an
        odd number of quotes; confirm by finding the value, after an opening quote, at
        the very end of the file.
        """
        index = last.num_rows - 1
        value = last.column(len(self.columns) - 1)[index].as_py()
        if not value:
            return
        encoded = value.encode(GB18030 if self.encoding == GB18030 else UTF8)
        if len(encoded) + 1 > self.total_bytes:
            return
        with self.path.open("rb") as file:
            file.seek(self.total_bytes - len(encoded) - 1)
            tail = file.read()
        if tail != b'"' + encoded:
            return
        row = first_row + index
        line = self._lines([row]).get(row)
        where = f"row {row}" + (f" (line {line})" if line else "")
        reason = (
            f"{where} opens a quote in column '{self.columns[-1]}' that is never closed, "
            "so the rest of the file would be read as one value"
        )
        raise Invalid(
            reason,
            problems=[
                RowProblem(
                    reason=reason,
                    row=row,
                    column=self.columns[-1],
                    value=preview(value),
                    line=line,
                )
            ],
        )

    def _records(self) -> Iterator[tuple[int, int, list[str]]]:
        """(data row, file line, values) of each record, parsed in Python: for error reports."""
        buffered = io.BufferedReader(self._stream(), READ_CHUNK_BYTES)
        text = io.TextIOWrapper(buffered, encoding=UTF8, newline="")
        try:
            reader = csv.reader(text, delimiter=self.delimiter)
            row = 0
            previous_line = 0
            for values in reader:
                start_line = previous_line + 1
                previous_line = reader.line_num
                if not values:
                    continue
                row += 1
                yield row, self._header.lines + start_line, values
        except csv.Error:
            return
        finally:
            text.close()

    def _lines(self, rows: Sequence[int]) -> dict[int, int]:
        if self._finder is None:
            self._finder = _LineFinder(self._records)
        return self._finder.find(rows)

    def _ragged_error(self, count: int) -> Invalid:
        expected = len(self.columns)
        problems = ProblemList()
        for row, line, values in self._records():
            if len(values) != expected:
                got = f"{len(values)} value" + ("" if len(values) == 1 else "s")
                problems.add(
                    RowProblem(
                        reason=f"row {row} has {got}, the header has {expected}",
                        row=row,
                        line=line,
                        value=preview(self.delimiter.join(values)),
                    )
                )
                if len(problems.items) >= problems.limit:
                    break
        noun = "row does" if count == 1 else "rows do"
        return Invalid(
            f"{count:,} {noun} not have the header's {expected} values", problems=problems.items
        )

    def close(self) -> None:
        if self._finder is not None:
            self._finder.close()
            self._finder = None


class _LineFinder:
    """Maps data rows to file lines by reading forward; restarts if asked for an earlier row."""

    def __init__(self, records: Callable[[], Iterator[tuple[int, int, list[str]]]]) -> None:
        self._records = records
        self._iter: Iterator[tuple[int, int, list[str]]] | None = None
        self._row = 0
        self._line = 0

    def find(self, rows: Sequence[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for row in sorted(rows):
            if self._iter is None or row < self._row:
                self.close()
                self._iter = self._records()
                self._row = 0
            while self._row < row:
                step = next(self._iter, None)
                if step is None:
                    return found
                self._row, self._line, _ = step
            if self._row == row:
                found[row] = self._line
        return found

    def close(self) -> None:
        if self._iter is not None and hasattr(self._iter, "close"):
            self._iter.close()
        self._iter = None


def _open_csv(path: Path, total_bytes: int, head: bytes) -> Source:
    _reject_binary(head, "CSV")
    encoding, quotes = _detect_encoding(path, head)
    start = len(codecs.BOM_UTF8) if encoding == UTF8_SIG else 0
    stream = _Utf8Stream(path, encoding=encoding, start=start)
    try:
        header = _read_header(stream)
    finally:
        stream.close()
    if not header.text.strip():
        raise Invalid("file is empty")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _detect_delimiter(header.text)
    try:
        names = next(csv.reader(io.StringIO(header.text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise Invalid(f"the header line cannot be parsed as CSV: {exc}") from exc
    columns = check_names(names)
    if not header.has_data:
        raise Invalid("no data rows: the file has a header line and nothing else")
    return CsvSource(
        path,
        total_bytes=total_bytes,
        columns=columns,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        odd_quotes=quotes % 2 == 1,
    )


def _rechunk(batches: Iterable[pa.RecordBatch], batch_rows: int) -> Iterator[pa.Table]:
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


# --- cell values as text (XLSX, JSON Lines) -------------------------------------------


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


def _row_problems_error(problems: ProblemList, what: str) -> Invalid:
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


# --- XLSX ---------------------------------------------------------------------------


class XlsxSource(Source):
    """The first sheet of an XLSX workbook (openpyxl, read-only); the first row is the header."""

    format = "xlsx"

    def __init__(
        self,
        path: Path,
        *,
        total_bytes: int,
        columns: list[str],
        workbook: Any,
        header_row: int,
        width: int,
        estimated_rows: int | None,
    ) -> None:
        super().__init__(path, total_bytes=total_bytes, columns=columns, encoding=None)
        self._workbook = workbook
        self._header_row = header_row
        self._width = width
        self._estimated_rows = estimated_rows

    def _sheet_rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        sheet = self._workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > self._header_row:
                yield number, tuple(values)

    def _batches(self, batch_rows: int) -> Iterator[RawBatch]:
        width = self._width
        problems = ProblemList()
        values: dict[str, list[str | None]] = {name: [] for name in self.columns}
        lines: list[int] = []
        empty_run: list[int] = []  # empty rows are kept only if a non-empty row follows
        row = 0
        first_row = 1
        for number, cells in self._sheet_rows():
            texts = [cell_text(cell) for cell in cells]
            if not any(texts):
                empty_run.append(number)
                continue
            for empty in empty_run:
                row += 1
                if not problems:
                    for name in self.columns:
                        values[name].append(None)
                    lines.append(empty)
            empty_run = []
            row += 1
            outside = [i for i, text in enumerate(texts[width:], start=width + 1) if text]
            if outside:
                problems.add(
                    RowProblem(
                        reason=f"row {row} has a value in column {outside[0]}, "
                        f"which has no header (the header has {width} columns)",
                        row=row,
                        line=number,
                        value=preview(texts[outside[0] - 1] or ""),
                    )
                )
            if problems:
                continue
            texts.extend([None] * (width - len(texts)))
            for name, text in zip(self.columns, texts, strict=False):
                values[name].append(text)
            lines.append(number)
            if len(lines) >= batch_rows:
                yield self._batch(values, lines, first_row)
                first_row += len(lines)
                values = {name: [] for name in self.columns}
                lines = []
        if problems:
            raise _row_problems_error(problems, "have values outside the header's columns")
        if lines:
            yield self._batch(values, lines, first_row)
        self._bytes_read = self.total_bytes

    def _batch(self, values: dict[str, list[str | None]], lines: list[int], first: int) -> RawBatch:
        if self._estimated_rows:
            done = min(1.0, lines[-1] / self._estimated_rows)
            self._bytes_read = int(self.total_bytes * done)
        first_line, finder = _lines_of(first, lines)
        return RawBatch(
            table=_string_table(self.columns, values),
            first_row=first,
            first_line=first_line,
            line_finder=finder,
        )

    def close(self) -> None:
        self._workbook.close()


def _open_xlsx(path: Path, total_bytes: int, head: bytes) -> Source:
    import openpyxl  # imported here: loading a workbook is the rare case
    from openpyxl.utils.exceptions import InvalidFileException

    if head.startswith(_OLE2):
        raise Invalid("an Excel 97-2003 .xls workbook; save it as .xlsx or CSV and load that")
    if not head.startswith(_ZIP):
        raise Invalid("not an XLSX workbook: an XLSX file is a ZIP archive, this one is not")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise Invalid(f"not a readable XLSX workbook: {exc}") from exc
    try:
        if not workbook.worksheets:
            raise Invalid("the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        estimated_rows = sheet.max_row
        # The stored dimension can be wrong (some writers set A1); read every cell instead.
        sheet.reset_dimensions()
        header_row = 0
        names: list[str | None] = []
        has_data = False
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            texts = [cell_text(cell) for cell in cells]
            if not header_row:
                if any(texts):
                    header_row, names = number, texts
                continue
            if any(texts):
                has_data = True
                break
        if not header_row:
            raise Invalid("file is empty: the first sheet has no cells")
        while names and names[-1] is None:
            names.pop()
        columns = check_names([name or "" for name in names])
        if not has_data:
            raise Invalid("no data rows: the first sheet has a header row and nothing else")
    except BaseException:
        workbook.close()
        raise
    return XlsxSource(
        path,
        total_bytes=total_bytes,
        columns=columns,
        workbook=workbook,
        header_row=header_row,
        width=len(columns),
        estimated_rows=estimated_rows,
    )


# --- JSON Lines ---------------------------------------------------------------------


def _json_object(raw: bytes) -> dict[str, Any] | str:
    """The object on one line, or the reason it is not one."""
    try:
        text = raw.decode(UTF8)
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte 0x{raw[exc.start]:02X} at character {exc.start + 1})"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} at character {exc.colno}"
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else f"a {type(value).__name__} value"
        return f"is {kind}, not a JSON object"
    return value


class JsonLinesSource(Source):
    """JSON Lines: one object per line; the first object's keys are the columns."""

    format = "jsonl"

    def _lines_raw(self) -> Generator[tuple[int, int, bytes], None, None]:
        """(line number, bytes consumed so far, line) of each non-blank line."""
        consumed = 0
        with self.path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                consumed += len(raw)
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                if raw.strip():
                    yield number, consumed, raw

    def _batches(self, batch_rows: int) -> Iterator[RawBatch]:
        known = set(self.columns)
        problems = ProblemList()
        values: dict[str, list[str | None]] = {name: [] for name in self.columns}
        lines: list[int] = []
        first_row = 1
        for row, (number, consumed, raw) in enumerate(self._lines_raw(), start=1):
            parsed = _json_object(raw)
            if isinstance(parsed, str):
                problems.add(
                    RowProblem(
                        reason=f"row {row}: {parsed}",
                        row=row,
                        line=number,
                        value=preview(raw.decode(UTF8, "replace").strip()),
                    )
                )
                continue
            unknown = [key for key in parsed if key not in known]
            if unknown:
                problems.add(
                    RowProblem(
                        reason=f"row {row} has keys the first row does not: "
                        + ", ".join(unknown[:10]),
                        row=row,
                        line=number,
                        column=unknown[0],
                    )
                )
                continue
            if problems:
                continue
            for name in self.columns:
                values[name].append(cell_text(parsed.get(name)))
            lines.append(number)
            if len(lines) >= batch_rows:
                self._bytes_read = consumed
                first_line, finder = _lines_of(first_row, lines)
                yield RawBatch(
                    table=_string_table(self.columns, values),
                    first_row=first_row,
                    first_line=first_line,
                    line_finder=finder,
                )
                first_row += len(lines)
                values = {name: [] for name in self.columns}
                lines = []
        if problems:
            raise _row_problems_error(problems, "are not JSON objects with the first row's keys")
        if lines:
            first_line, finder = _lines_of(first_row, lines)
            yield RawBatch(
                table=_string_table(self.columns, values),
                first_row=first_row,
                first_line=first_line,
                line_finder=finder,
            )
        self._bytes_read = self.total_bytes


def _open_jsonl(path: Path, total_bytes: int, head: bytes) -> Source:
    _reject_binary(head, "JSON Lines")
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip(b" \t\r\n")
    if not stripped:
        raise Invalid("file is empty")
    if stripped.startswith(b"["):
        raise Invalid("a JSON array, not JSON Lines: put one JSON object on each line")
    encoding = UTF8_SIG if head.startswith(codecs.BOM_UTF8) else UTF8
    source = JsonLinesSource(path, total_bytes=total_bytes, columns=[], encoding=encoding)
    lines = source._lines_raw()
    try:
        first = next(lines, None)
    finally:
        lines.close()
    if first is None:
        raise Invalid("file is empty")
    number, _, raw = first
    parsed = _json_object(raw)
    if isinstance(parsed, str):
        reason = f"row 1: {parsed}"
        raise Invalid(reason, problems=[RowProblem(reason=reason, row=1, line=number)])
    if not parsed:
        raise Invalid("the first object has no keys, so there are no columns")
    source.columns = check_names(list(parsed))
    if source.columns != list(parsed):
        raise Invalid("keys of the first object have leading or trailing spaces")
    return source


# --- Parquet ------------------------------------------------------------------------


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
            for table in _rechunk(batches, batch_rows):
                done = first_row - 1 + table.num_rows
                self._bytes_read = int(self.total_bytes * min(1.0, done / total_rows))
                yield RawBatch(table=table, first_row=first_row)
                first_row += table.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise Invalid(f"the Parquet file cannot be read: {exc}") from exc
        self._bytes_read = self.total_bytes

    def close(self) -> None:
        self._parquet.close()


def _open_parquet(path: Path, total_bytes: int, head: bytes) -> Source:
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
