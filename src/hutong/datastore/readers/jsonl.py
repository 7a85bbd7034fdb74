"""JSON Lines reader: one object per line, the first object's keys being the columns
(JSON Lines 读取)."""

from __future__ import annotations

import codecs
import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from hutong.core.errors import Invalid, ProblemList
from hutong.datastore.readers.common import (
    RawBatch,
    RowProblem,
    Source,
    cell_text,
    check_names,
    preview,
    reject_binary,
    row_problems_error,
    string_batch,
)
from hutong.datastore.readers.encoding import UTF8, UTF8_SIG


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
                yield string_batch(self.columns, values, lines, first_row)
                first_row += len(lines)
                values = {name: [] for name in self.columns}
                lines = []
        if problems:
            raise row_problems_error(problems, "are not JSON objects with the first row's keys")
        if lines:
            yield string_batch(self.columns, values, lines, first_row)
        self._bytes_read = self.total_bytes


def open_jsonl(path: Path, total_bytes: int, head: bytes) -> Source:
    reject_binary(head, "JSON Lines")
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
