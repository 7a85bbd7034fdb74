"""CSV reader: header found quote-aware in Python, rows streamed by pyarrow's CSV reader;
Python parses rows again only to name the file lines of bad rows (CSV 读取)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from hutong.core.errors import Invalid, ProblemList
from hutong.datastore.readers.common import (
    READ_CHUNK_BYTES,
    SNIFF_BYTES,
    RawBatch,
    RowProblem,
    Source,
    check_names,
    preview,
    rechunk,
    reject_binary,
)
from hutong.datastore.readers.encoding import (
    GB18030,
    UTF8,
    UTF8_SIG,
    Utf8Stream,
    detect_encoding,
)

CSV_BLOCK_BYTES = 4 << 20
MAX_HEADER_BYTES = 1 << 20

_BLANK = b"\r\n"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_QUOTE_OR_BREAK = re.compile(rb'["\r\n]')


@dataclass
class _Header:
    text: str
    consumed: int  # bytes of the UTF-8 stream up to and including the header's line break
    lines: int  # file lines up to and including the header
    has_data: bool


def _read_header(stream: Utf8Stream) -> _Header:
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

    def _stream(self) -> Utf8Stream:
        start = len(codecs.BOM_UTF8) if self.encoding == UTF8_SIG else 0
        stream = Utf8Stream(self.path, encoding=self.encoding or UTF8, start=start)
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
            for table in rechunk(reader, batch_rows):
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


def open_csv(path: Path, total_bytes: int, head: bytes) -> Source:
    reject_binary(head, "CSV")
    encoding, quotes = detect_encoding(path, head)
    start = len(codecs.BOM_UTF8) if encoding == UTF8_SIG else 0
    stream = Utf8Stream(path, encoding=encoding, start=start)
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
