"""Export typed batches as CSV, Parquet or an Arrow IPC stream, batch by batch (数据导出).

Every writer streams: it writes each batch as it comes and never gathers the whole
table in memory. Each returns the number of rows written.

CSV formula injection (OWASP, "CSV Injection"): a spreadsheet treats a cell that starts
with ``=``, ``+``, ``-``, ``@``, TAB or CR as a formula, which can run commands or leak
data when a recipient opens the file. ``write_csv`` puts an apostrophe (') before such
cells, which spreadsheets show as text. The rule, applied with vectorized compute:

- only string columns are touched. Integer, decimal, date, time and boolean columns
  are written as numbers and dates; they cannot carry a formula and are never changed.
- in a string column, a cell that is a plain number ('-12', '+3.5', '-1e5') is left
  alone: a spreadsheet reads it as that number, not as a formula, and prefixing it
  would change codes and balances that providers keep as text. Anything else starting
  with those characters ('=1+1', '+cmd|...', '-2+3', '@SUM(A1)', TAB...) gets the
  apostrophe.

Quotes, delimiters and line breaks inside cells are quoted by pyarrow (RFC 4180). Decimals
are written without trailing zeros ('1.5', not '1.5000000000').
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
PARQUET_COMPRESSION = "zstd"


def neutralize_formulas(values: Any) -> Any:
    """A string array with an apostrophe before each cell a spreadsheet would run as a formula."""
    starts = pc.match_substring_regex(values, FORMULA_START)
    if not pc.any(starts).as_py():
        return values
    number = pc.fill_null(pc.match_substring_regex(values, PLAIN_NUMBER), False)
    risky = pc.and_(pc.fill_null(starts, False), pc.invert(number))
    return pc.if_else(
        risky, pc.utf8_replace_slice(values, start=0, stop=0, replacement="'"), values
    )


def neutralize_batch(batch: Any) -> Any:
    """A RecordBatch or Table with formula cells of its string columns neutralized; same schema."""
    columns = []
    for column in batch.columns:
        data_type = column.type
        if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
            column = neutralize_formulas(column)
        columns.append(column)
    if isinstance(batch, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, schema=batch.schema)
    return pa.Table.from_arrays(columns, schema=batch.schema)


def _decimal_text(values: Any) -> Any:
    text = pc.cast(values, pa.string())
    text = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
    return pc.replace_substring_regex(text, r"\.$", "")


def _csv_table(table: pa.Table) -> pa.Table:
    """The table as write_csv writes it: strings neutralized, decimals without trailing zeros."""
    columns = []
    for column in table.columns:
        data_type = column.type
        if pa.types.is_dictionary(data_type):
            column = pc.cast(column, data_type.value_type)
            data_type = column.type
        if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
            column = neutralize_formulas(column)
        elif pa.types.is_decimal(data_type):
            column = _decimal_text(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    empty = pa.Table.from_batches([], schema=schema)
    return _csv_table(empty).schema


def _as_table(item: pa.RecordBatch | pa.Table) -> pa.Table:
    if isinstance(item, pa.RecordBatch):
        return pa.Table.from_batches([item])
    return item


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.equals(schema):
        return table
    return table.select(schema.names).cast(schema)


def write_csv(
    batches: Iterable[pa.RecordBatch | pa.Table],
    out: BinaryIO,
    *,
    bom: bool = False,
    schema: pa.Schema | None = None,
) -> int:
    """Write batches as UTF-8 CSV with a header, neutralizing formula cells; return rows written.

    ``bom`` writes a UTF-8 byte order mark, which Excel needs to read Chinese text
    correctly. ``schema`` gives the header when there may be no batches at all.
    """
    if bom:
        out.write(codecs.BOM_UTF8)
    writer: pa_csv.CSVWriter | None = None
    target: pa.Schema | None = None
    rows = 0
    try:
        for item in batches:
            table = _as_table(item)
            if target is None:
                target = table.schema if schema is None else schema
            table = _csv_table(_conform(table, target))
            if writer is None:
                writer = pa_csv.CSVWriter(out, table.schema)
            writer.write_table(table)
            rows += table.num_rows
        if writer is None and schema is not None:
            writer = pa_csv.CSVWriter(out, _csv_schema(schema))
    finally:
        if writer is not None:
            writer.close()
    return rows


def write_parquet(
    batches: Iterable[pa.RecordBatch | pa.Table],
    out: BinaryIO,
    schema: pa.Schema,
    *,
    compression: str = PARQUET_COMPRESSION,
) -> int:
    """Write batches as one Parquet file with ``schema``; return rows written."""
    rows = 0
    with pq.ParquetWriter(out, schema, compression=compression) as writer:
        for item in batches:
            table = _conform(_as_table(item), schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def write_arrow_stream(
    batches: Iterable[pa.RecordBatch | pa.Table], out: BinaryIO, schema: pa.Schema
) -> int:
    """Write batches as an Arrow IPC stream with ``schema``; return rows written."""
    rows = 0
    with pa.ipc.new_stream(out, schema) as writer:
        for item in batches:
            table = _conform(_as_table(item), schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows
