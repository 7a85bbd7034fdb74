"""Reading through ADBC drivers straight into Arrow record batches (decision 0011)."""

from __future__ import annotations

import importlib
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.datastore import tables
from hutong.datastore.convert import arrow_type
from hutong.gateway.service.bulk.sql import DATETIME_TEXT


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


def read_adbc(
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
