"""Bulk snapshots (库表同步): the granted fields of a hosted table, full or since a time.

An incremental snapshot holds the rows loaded in batches after ``since``: every hosted
table has a ``_batch`` column with the number of the load that last wrote the row, and
loads are numbered in the order of ``ingest_batch.created_at``. So rows added or changed
by a later load come again; rows deleted by a replacing load do not show up as
deletions (take a full snapshot after a replace).

Rows are read without going through Python objects one at a time, since a snapshot can
hold millions of them (measured: SQLAlchemy rows run at about 0.2 million rows/s):

- PostgreSQL: ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``; runs of rows are parsed by
  pyarrow's CSV reader. The COPY protocol sends one message per row and psycopg hands
  each to Python (about 1 µs a row): that, not parsing, bounds this reader;
- SQLite: chunks of rows in rowid order, each formatted by SQLite itself as one text of
  SQL-quoted values (``quote()``, ``group_concat``) and parsed by pyarrow's CSV reader.
  A chunk holds at most ``batch_rows`` rows and about ``CHUNK_BYTES`` bytes.

Both run inside the caller's (read-only) transaction, so a snapshot is consistent. The
rows come in storage order, not sorted.

Where an ADBC driver is installed (``adbc-driver-sqlite``, ``adbc-driver-postgresql``),
``read_batches`` reads through it instead, straight into Arrow record batches, several
times faster (decision 0011): on a connection of its own, opened for the snapshot, read
only, with one ``SELECT`` (itself a consistent snapshot) and closed when the stream
ends or is closed. The readers above remain the fallback (no driver, an in-memory
SQLite database) and give the same values.
"""

from __future__ import annotations

import datetime as dt
import importlib
import urllib.parse
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.datastore import stream, tables
from hutong.datastore.convert import TIMESTAMP_UTC, arrow_type
from hutong.datastore.models import IngestBatch
from hutong.gateway.service.access import Authorized
from hutong.gateway.service.deliver import ColumnPlan, deliver_batch, delivered_schema
from hutong.objections import flags

CHUNK_BYTES = 16 << 20  # target size of one SQLite chunk's text
MIN_CHUNK_ROWS = 1024
TRUE_VALUES = ["1", "t", "true"]
FALSE_VALUES = ["0", "f", "false"]
DATETIME_TEXT = pa.timestamp("us")  # read naive (UTC), then labelled UTC
Reader = Literal["auto", "adbc", "sql"]  # how read_batches reads (see there)


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk call will stream, decided (and audited) before the first byte."""

    resource_id: str
    scenario_id: str
    table_name: str | None
    columns: tuple[ColumnPlan, ...]
    since: dt.datetime | None
    first_batch: int | None  # None: a full snapshot
    through: dt.datetime | None  # when the newest load in the snapshot was made
    rows: int
    subjects: list[str] | None  # raw identifiers (None: too many rows to list)

    key_fields: tuple[FieldSpec, ...] = ()  # read to flag rows under objection

    @property
    def schema(self) -> pa.Schema:
        return delivered_schema(self.columns)


def _hosted(auth: Authorized) -> Table | None:
    if auth.table_name is None:
        return None
    return tables.build_table(auth.table_name, auth.fields)


def plan_bulk(
    *,
    session: Session,
    auth: Authorized,
    fields: Sequence[FieldSpec],
    since: dt.datetime | None,
    subjects_max: int,
) -> BulkPlan:
    """Count the snapshot's rows and, for a small one, its data subjects."""
    first_batch = None
    if since is not None:
        earlier = session.scalar(
            select(func.count())
            .select_from(IngestBatch)
            .where(IngestBatch.resource_id == auth.resource_id, IngestBatch.created_at <= since)
        )
        first_batch = int(earlier or 0) + 1
    through = session.scalar(
        select(func.max(IngestBatch.created_at)).where(IngestBatch.resource_id == auth.resource_id)
    )
    table = _hosted(auth)
    rows = 0
    subjects: list[str] | None = []
    if table is not None:
        where = [] if first_batch is None else [table.c[tables.BATCH_COLUMN] >= first_batch]
        rows = int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)
        names = [f.name for f in auth.subject_fields]
        if rows > subjects_max:
            subjects = None
        elif names and rows:
            found = session.execute(select(*[table.c[n] for n in names]).where(*where))
            subjects = [str(v) for row in found for v in row if v]
    return BulkPlan(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        table_name=auth.table_name,
        columns=tuple(ColumnPlan(spec=f, delivery=auth.deliveries[f.name]) for f in fields),
        since=since,
        first_batch=first_batch,
        through=through,
        rows=rows,
        subjects=subjects,
        key_fields=tuple(auth.key_fields),
    )


def stream_bulk(
    *,
    session: Session,
    plan: BulkPlan,
    fmt: stream.ExportFormat,
    pseudonym_key: bytes,
    batch_rows: int,
    bom: bool = False,
    reader: Reader = "auto",
) -> Iterator[bytes]:
    """The snapshot's bytes as CSV, Parquet or Arrow IPC; memory bounded by one batch.

    Closing it early (the client hung up) closes the read at once, so a PostgreSQL COPY
    is cancelled before the transaction ends rather than whenever the garbage collector
    gets to it (the connection is unusable while a COPY is open).
    """
    delivered_schema_ = plan.schema
    schema = delivered_schema_.append(pa.field(flags.FLAG_COLUMN, pa.string()))
    if plan.table_name is None:
        yield from stream.stream(schema, (), fmt, bom=bom)
        return
    flagged = flags.flagged_fields(session=session, resource_id=plan.resource_id)
    specs = [c.spec for c in plan.columns]
    keys = [f for f in plan.key_fields if f not in specs] if flagged else []
    stored = read_batches(
        session=session,
        table_name=plan.table_name,
        fields=specs + keys,
        first_batch=plan.first_batch,
        batch_rows=batch_rows,
        reader=reader,
    )
    names = {c.spec.name for c in plan.columns}

    def deliver(batch: pa.RecordBatch) -> pa.RecordBatch:
        out = deliver_batch(batch, plan.columns, delivered_schema_, key=pseudonym_key)
        column = _flag_column(batch, plan.key_fields, flagged, names)
        return pa.RecordBatch.from_arrays([*out.columns, column], schema=schema)

    with closing(stored):
        yield from stream.stream(schema, (deliver(b) for b in stored), fmt, bom=bom)


def _flag_column(
    batch: pa.RecordBatch,
    key_fields: Sequence[FieldSpec],
    flagged: dict[str, set[str]],
    delivered: set[str],
) -> pa.Array:
    """Per row, the delivered fields under an open objection, comma-joined (else null)."""
    wanted = {k: sorted(v & delivered) for k, v in flagged.items() if v & delivered}
    if not wanted or not key_fields:
        return pa.nulls(batch.num_rows, pa.string())
    parts = [pc.cast(batch.column(f.name), pa.string()) for f in key_fields]
    keys = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, ",")
    hits = pc.is_in(keys, value_set=pa.array(sorted(wanted), pa.string()))
    values: list[str | None] = [None] * batch.num_rows
    for i in pc.indices_nonzero(pc.fill_null(hits, False)).to_pylist():
        values[i] = ",".join(wanted[keys[i].as_py()])
    return pa.array(values, pa.string())


# reading -----------------------------------------------------------------------------


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


def read_batches(
    *,
    session: Session,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
    reader: Reader = "auto",
) -> Generator[pa.RecordBatch, None, None]:
    """Stored rows of the fields (in order) as Arrow batches, from batch ``first_batch`` on.

    ``reader``: ``auto`` reads through ADBC where it can, else SQL; ``adbc`` insists on
    ADBC (RuntimeError if it cannot); ``sql`` uses the session's own connection.
    """
    if not fields:
        raise ValueError("read_batches needs at least one field")
    source = None if reader == "sql" else adbc_source(session)
    if source is not None:
        yield from _read_adbc(source, table_name, fields, first_batch, batch_rows)
        return
    if reader == "adbc":
        raise RuntimeError("no ADBC driver can read this database")
    if session.get_bind().dialect.name == "postgresql":
        yield from _read_postgres(session, table_name, fields, first_batch, batch_rows)
    else:
        yield from _read_sqlite(session, table_name, fields, first_batch, batch_rows)


def _read_sqlite(
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


def _read_postgres(
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


# reading through ADBC ------------------------------------------------------------------


@dataclass(frozen=True)
class AdbcSource:
    """An ADBC driver's DB-API module and the URI of the session's database."""

    dialect: str
    module: Any
    uri: str


def _driver(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def adbc_source(session: Session) -> AdbcSource | None:
    """Where ADBC can read the session's database, its driver and URI; else None."""
    url: URL = session.get_bind().url  # type: ignore[union-attr]
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        path = url.database
        module = _driver("adbc_driver_sqlite.dbapi")
        if module is None or not path or path == ":memory:" or path.startswith("file:"):
            return None
        return AdbcSource(dialect, module, f"file:{urllib.parse.quote(path)}?mode=ro")
    if dialect == "postgresql":
        module = _driver("adbc_driver_postgresql.dbapi")
        if module is None:
            return None
        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return AdbcSource(dialect, module, uri)
    return None


# a first row that fixes each column's type: ADBC's SQLite driver infers the types from
# the first batch, and a column all NULL there would be taken as an integer
_SENTINEL = {"text": "''", "integer": "0"}


def _adbc_column(f: FieldSpec, quote: Any, dialect: str) -> tuple[str, str]:
    """The select expression of a field and the kind of value it yields (text, integer)."""
    column = quote(f.name)
    if dialect == "postgresql":
        if f.type == FieldType.decimal:  # exact, as text: ADBC gives NUMERIC as text anyway
            return f"CAST({column} AS TEXT)", "text"
        return column, "native"
    if f.type in (FieldType.integer, FieldType.boolean):
        return f"CAST({column} AS INTEGER)", "integer"
    if f.type == FieldType.datetime:
        return f"substr({column}, 1, 26)", "text"  # as the SQL reader (see there)
    if f.type == FieldType.decimal:
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE printf('%.10f', {column}) END", "text"
    return f"CAST({column} AS TEXT)", "text"


def _conform(column: pa.Array, f: FieldSpec) -> pa.Array:
    """A column as the field's Arrow type (the same values the SQL readers give)."""
    target = arrow_type(f.type)
    if column.type == target:
        return column
    if f.type == FieldType.datetime and pa.types.is_string(column.type):
        column = column.cast(DATETIME_TEXT)
    elif f.type == FieldType.boolean and pa.types.is_integer(column.type):
        column = pc.not_equal(column, 0)
    return column.cast(target)


def _read_adbc(
    source: AdbcSource,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    quote = _identifier_quote
    columns = [_adbc_column(f, quote, source.dialect) for f in fields]
    where = ""
    if first_batch is not None:
        where = f" WHERE {quote(tables.BATCH_COLUMN)} >= {int(first_batch)}"
    select_list = ", ".join(expr for expr, _ in columns)
    sentinel = source.dialect == "sqlite"
    if sentinel:
        first = ", ".join(_SENTINEL[kind] for _, kind in columns)
        sql = f"SELECT {first}, 0 UNION ALL SELECT {select_list}, 1 FROM {quote(table_name)}{where}"
    else:
        sql = f"SELECT {select_list} FROM {quote(table_name)}{where}"
    connection = source.module.connect(source.uri, autocommit=True)
    try:
        with connection.cursor() as cursor:
            if source.dialect == "sqlite":
                options = {"adbc.sqlite.query.batch_rows": str(max(1, batch_rows))}
                cursor.adbc_statement.set_options(**options)
            cursor.execute(sql)
            stream = cursor.fetch_record_batch()
            try:
                for batch in stream:
                    if sentinel and pc.min(batch.column(len(fields))).as_py() == 0:
                        batch = batch.filter(pc.equal(batch.column(len(fields)), 1))
                    for start in range(0, batch.num_rows, batch_rows):
                        part = batch.slice(start, batch_rows)
                        yield pa.RecordBatch.from_arrays(
                            [_conform(part.column(i), f) for i, f in enumerate(fields)],
                            names=[f.name for f in fields],
                        )
            finally:
                stream.close()
    finally:
        connection.close()


def _identifier_quote(name: str) -> str:
    """A double-quoted SQL identifier (SQLite and PostgreSQL quote alike)."""
    return '"' + name.replace('"', '""') + '"'
