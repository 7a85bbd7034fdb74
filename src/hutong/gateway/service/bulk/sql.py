"""The fallback readers: SQL text parsed by pyarrow's CSV reader (no ADBC driver needed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import text
from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.datastore import tables
from hutong.datastore.convert import TIMESTAMP_UTC, arrow_type

CHUNK_BYTES = 16 << 20  # target size of one SQLite chunk's text
MIN_CHUNK_ROWS = 1024
TRUE_VALUES = ["1", "t", "true"]
FALSE_VALUES = ["0", "f", "false"]
DATETIME_TEXT = pa.timestamp("us")  # read naive (UTC), then labelled UTC


def _csv_types(fields: Sequence[FieldSpec]) -> dict[str, pa.DataType]:
    return {
        f"c{i}": DATETIME_TEXT if f.type == FieldType.datetime else arrow_type(f.type)
        for i, f in enumerate(fields)
    }


def _typed(table: pa.Table | pa.RecordBatch, fields: Sequence[FieldSpec]) -> pa.RecordBatch:
    """Columns renamed to the fields and datetimes labelled UTC."""
    columns = []
    for i, f in enumerate(fields):
        column = table.column(i)
        if f.type == FieldType.datetime:
            column = column.cast(TIMESTAMP_UTC)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=[f.name for f in fields])


def read_sqlite(
    session: Session,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    values = []
    for f in fields:
        column = quote(f.name)
        if f.type == FieldType.datetime:
            # 'YYYY-MM-DD HH:MM:SS.ffffff'; ingest appends a stray '.%f' (pc.strftime)
            column = f"substr({column}, 1, 26)"
        elif f.type == FieldType.decimal:
            # stored as REAL: ten places, as the field's type holds, never an exponent
            column = f"CASE WHEN {column} IS NULL THEN NULL ELSE printf('%.10f', {column}) END"
        values.append(f"quote({column})")
    where = "rowid > :last"
    if first_batch is not None:
        where += f" AND {quote(tables.BATCH_COLUMN)} >= :first"
    line = " || ',' || ".join(values)
    sql = text(
        f"SELECT group_concat(line, char(10)), max(r), count(*) FROM "
        f"(SELECT rowid AS r, {line} AS line "
        f"FROM {quote(table_name)} WHERE {where} ORDER BY rowid LIMIT :rows)"
    )
    options = _csv_options(fields, quote_char="'", null="NULL")
    last = -(2**63)
    rows = min(batch_rows, 16 * MIN_CHUNK_ROWS)
    while True:
        chunk, high, count = connection.execute(
            sql, {"last": last, "first": first_batch, "rows": rows}
        ).one()
        if not count:
            return
        data = chunk.encode("utf-8", "surrogatepass")
        parsed = pacsv.read_csv(pa.py_buffer(data), **options)
        yield _typed(parsed, fields)
        last = high
        # aim at CHUNK_BYTES of text per chunk, within [MIN_CHUNK_ROWS, batch_rows]
        per_row = max(1, len(data) // count)
        rows = max(MIN_CHUNK_ROWS, min(batch_rows, CHUNK_BYTES // per_row))


def read_postgres(
    session: Session,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    columns = []
    for f in fields:
        column = quote(f.name)
        if f.type == FieldType.datetime:
            column = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
        columns.append(column)
    where = ""
    if first_batch is not None:
        where = f" WHERE {quote(tables.BATCH_COLUMN)} >= {int(first_batch)}"
    sql = (
        f"COPY (SELECT {', '.join(columns)} FROM {quote(table_name)}{where}) TO STDOUT (FORMAT csv)"
    )
    connection.exec_driver_sql("SET LOCAL client_encoding TO 'UTF8'")
    connection.exec_driver_sql("SET LOCAL DateStyle TO 'ISO, YMD'")
    raw: Any = connection.connection.driver_connection
    options = _csv_options(fields, quote_char='"', null="")
    target = max(1 << 20, min(batch_rows * 64, CHUNK_BYTES))
    # Each COPY message is one row, so a run of messages is whole CSV lines: gather them
    # up to about ``target`` bytes or ``batch_rows`` rows, then parse them in one go. All
    # of it on this thread: the connection is never read from anywhere else.
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        # copy each row out at once: keeping psycopg's row buffers alive costs twice as much
        text = bytearray()
        rows = 0
        for row in copy:
            text += row
            rows += 1
            if rows >= batch_rows or len(text) >= target:
                yield _typed(pacsv.read_csv(pa.py_buffer(text), **options), fields)
                text, rows = bytearray(), 0
        if rows:
            yield _typed(pacsv.read_csv(pa.py_buffer(text), **options), fields)


def _csv_options(fields: Sequence[FieldSpec], *, quote_char: str, null: str) -> dict[str, Any]:
    read = pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(fields))])
    return {
        "read_options": read,
        "parse_options": pacsv.ParseOptions(
            quote_char=quote_char, double_quote=True, newlines_in_values=True
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types=_csv_types(fields),
            null_values=[null],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=TRUE_VALUES,
            false_values=FALSE_VALUES,
        ),
    }
