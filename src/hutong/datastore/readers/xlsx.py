"""XLSX reader: the first sheet of a workbook, read with openpyxl (Excel 读取)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hutong.core.errors import Invalid, ProblemList
from hutong.datastore.readers.common import (
    OLE2,
    ZIP,
    RawBatch,
    RowProblem,
    Source,
    cell_text,
    check_names,
    preview,
    row_problems_error,
    string_batch,
)


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
            raise row_problems_error(problems, "have values outside the header's columns")
        if lines:
            yield self._batch(values, lines, first_row)
        self._bytes_read = self.total_bytes

    def _batch(self, values: dict[str, list[str | None]], lines: list[int], first: int) -> RawBatch:
        if self._estimated_rows:
            done = min(1.0, lines[-1] / self._estimated_rows)
            self._bytes_read = int(self.total_bytes * done)
        return string_batch(self.columns, values, lines, first)

    def close(self) -> None:
        self._workbook.close()


def open_xlsx(path: Path, total_bytes: int, head: bytes) -> Source:
    import openpyxl  # imported here: loading a workbook is the rare case
    from openpyxl.utils.exceptions import InvalidFileException

    if head.startswith(OLE2):
        raise Invalid("an Excel 97-2003 .xls workbook; save it as .xlsx or CSV and load that")
    if not head.startswith(ZIP):
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
