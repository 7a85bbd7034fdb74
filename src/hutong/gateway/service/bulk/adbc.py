"""Reading through ADBC drivers straight into Arrow record batches (decision 0011)."""

from __future__ import annotations

import importlib
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
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
    """An ADBC driver's module (``connect(uri)`` opens a database) and the URI to read."""

    dialect: str
    module: Any
    uri: str


def _driver(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_MANAGER = _driver("adbc_driver_manager")  # installed with every driver

# PostgreSQL's driver reads the server's type table when a database is opened (about
# 40 ms of CPU and 60 ms in all, a tenth of a million-row snapshot): each process keeps
# the few it opened and opens only a connection per snapshot. A database holds no server
# connection of its own.
DATABASES_KEPT = 8
_databases: OrderedDict[str, Any] = OrderedDict()
_databases_lock = threading.Lock()


def _kept_database(source: AdbcSource) -> Any:
    """This process's database for the URI (call with ``_databases_lock`` held)."""
    database = _databases.pop(source.uri, None)
    if database is None:
        database = source.module.connect(source.uri)
    _databases[source.uri] = database
    while len(_databases) > DATABASES_KEPT:
        _, oldest = _databases.popitem(last=False)
        with suppress(RuntimeError):  # a snapshot still reads through it: left to it
            oldest.close()
    return database


@contextmanager
def _connection(source: AdbcSource) -> Iterator[Any]:
    """A connection of its own (autocommit: each statement reads one snapshot)."""
    if source.dialect == "postgresql":
        with _databases_lock:  # opened under the lock: never from a database just closed
            connection = _MANAGER.AdbcConnection(_kept_database(source))
        with connection:
            yield connection
        return
    database = source.module.connect(source.uri)
    try:
        with _MANAGER.AdbcConnection(database) as connection:
            yield connection
    finally:
        database.close()


def adbc_source(session: Session) -> AdbcSource | None:
    """Where ADBC can read the session's database, its driver and URI; else None."""
    url: URL = session.get_bind().url  # type: ignore[union-attr]
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        path = url.database
        module = _driver("adbc_driver_sqlite")
        if _MANAGER is None or module is None or not path or path == ":memory:":
            return None
        if path.startswith("file:"):
            return None
        return AdbcSource(dialect, module, f"file:{urllib.parse.quote(path)}?mode=ro")
    if dialect == "postgresql":
        module = _driver("adbc_driver_postgresql")
        if _MANAGER is None or module is None:
            return None
        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return AdbcSource(dialect, module, uri)
    return None


# a first row that fixes each column's type: ADBC's SQLite driver infers the types from
# the first batch, and a column all NULL there would be taken as an integer. The sentinel
# row and its marker column cost about a tenth of the read, so a read goes without them
# and starts again with them only when its first batch came typed otherwise.
_SENTINEL = {"text": "''", "integer": "0"}


def _adbc_column(
    f: FieldSpec, quote: Any, dialect: str, text_columns: frozenset[str] = frozenset()
) -> tuple[str, str]:
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
    if f.name in text_columns:
        # TEXT affinity: every value is stored as text (or is a BLOB, which the driver reads
        # as the same text CAST gives, see _sqlite_text_columns): the CAST only costs
        return column, "text"
    return f"CAST({column} AS TEXT)", "text"


def _sqlite_text_columns(connection: Any, table_name: str) -> frozenset[str]:
    """The table's columns declared TEXT (SQLite stores every non-BLOB value there as text).

    A read skips their CAST (about 4% of the scan's instructions for two such columns). A
    BLOB in one reads as the same text, except in the first batch, where the driver types
    the column binary: the read then starts again with the typed sentinel row.
    """
    literal = "'" + table_name.replace("'", "''") + "'"
    sql = f"SELECT name FROM pragma_table_info({literal}) WHERE upper(type) = 'TEXT'"
    with closing(_batches(connection, sql, batch_rows=None)) as batches:
        return frozenset(name for batch in batches for name in batch.column(0).to_pylist())


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
    """The stored rows as the driver gives them: the fields' columns first, in order, not
    yet conformed (``conform_batches``), in batches of any size.

    SQLite is read in a child process (``bulk.child``): in this one, the driver's copy
    of SQLite and the app's cannot see each other's locks.
    """
    if source.dialect == "sqlite":
        from hutong.gateway.service.bulk.child import read_in_child

        return read_in_child(source.uri, table_name, fields, first_batch, batch_rows)
    return read_here(source, table_name, fields, first_batch, batch_rows)


def read_here(
    source: AdbcSource,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """:func:`read_adbc` in this process (PostgreSQL, and the child's read of SQLite)."""
    quote = _identifier_quote
    where = ""
    if first_batch is not None:
        where = f" WHERE {quote(tables.BATCH_COLUMN)} >= {int(first_batch)}"
    with _connection(source) as connection:
        text_columns = frozenset[str]()
        if source.dialect == "sqlite":
            text_columns = _sqlite_text_columns(connection, table_name)
        columns = [_adbc_column(f, quote, source.dialect, text_columns) for f in fields]
        select_list = ", ".join(expr for expr, _ in columns)
        select = f"SELECT {select_list} FROM {quote(table_name)}{where}"
        if source.dialect != "sqlite":
            with closing(_batches(connection, select, batch_rows=None)) as batches:
                yield from batches
            return
        with closing(_batches(connection, select, batch_rows=batch_rows)) as batches:
            first = next(batches, None)
            if first is None:
                return
            if all(_typed_as(first.column(i).type, k) for i, (_, k) in enumerate(columns)):
                yield first
                yield from batches
                return
        # a column all NULL in the first batch was typed as something else: read again,
        # after a first row of typed values (dropped again, by its marker column)
        typed = ", ".join(_SENTINEL[kind] for _, kind in columns)
        sentinel = (
            f"SELECT {typed}, 0 UNION ALL SELECT {select_list}, 1 FROM {quote(table_name)}{where}"
        )
        with closing(_batches(connection, sentinel, batch_rows=batch_rows)) as batches:
            for batch in batches:
                marker = batch.column(len(fields))
                if pc.min(marker).as_py() == 0:
                    batch = batch.filter(pc.equal(marker, 1))
                yield batch


def _typed_as(type_: pa.DataType, kind: str) -> bool:
    """True if ADBC's SQLite driver typed a column as a value of this kind gives."""
    if kind == "text":
        return pa.types.is_string(type_) or pa.types.is_large_string(type_)
    return pa.types.is_integer(type_)


def _batches(
    connection: Any, sql: str, *, batch_rows: int | None
) -> Generator[pa.RecordBatch, None, None]:
    with _MANAGER.AdbcStatement(connection) as statement:
        if batch_rows is not None:  # SQLite's driver: rows per batch
            statement.set_options(**{"adbc.sqlite.query.batch_rows": str(max(1, batch_rows))})
        statement.set_sql_query(sql)
        handle, _ = statement.execute_query()
        stream = pa.RecordBatchReader.from_stream(handle)
        try:
            yield from stream
        finally:
            stream.close()


def conform_batches(
    batches: Iterable[pa.RecordBatch], fields: Sequence[FieldSpec], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Driver batches as the fields' Arrow types, named, at most ``batch_rows`` rows each."""
    names = [f.name for f in fields]
    for batch in batches:
        for start in range(0, batch.num_rows, batch_rows):
            part = batch.slice(start, batch_rows)
            yield pa.RecordBatch.from_arrays(
                [_conform(part.column(i), f) for i, f in enumerate(fields)], names=names
            )


def _identifier_quote(name: str) -> str:
    """A double-quoted SQL identifier (SQLite and PostgreSQL quote alike)."""
    return '"' + name.replace('"', '""') + '"'
