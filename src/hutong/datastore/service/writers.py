"""Writing a typed Arrow batch into a hosted table: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Table
from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.datastore import tables


def _for_sqlite(batch: pa.Table, fields: Sequence[FieldSpec]) -> list[pa.Array | pa.ChunkedArray]:
    """The columns as SQLite stores them: dates and datetimes as text, decimals as floats."""
    cols: list[pa.Array | pa.ChunkedArray] = []
    for f in fields:
        col = batch.column(f.name)
        if f.type == FieldType.date:
            col = pc.cast(col, pa.string())
        elif f.type == FieldType.datetime:
            # Arrow's %S already carries the fraction of a second ("05.123456")
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S") if len(col) else col
            col = pc.cast(col, pa.string()) if len(col) else col
        elif f.type == FieldType.decimal:
            col = pc.cast(col, pa.float64())
        cols.append(col)
    return cols


def insert_sqlite(
    session: Session,
    table: Table,
    batch: pa.Table,
    fields: Sequence[FieldSpec],
    batch_no: int,
    upsert: bool,
) -> None:
    """Insert (or upsert on the key) a batch through SQLite's executemany."""
    names = [f.name for f in fields]
    cols = [c.to_pylist() for c in _for_sqlite(batch, fields)]
    rows = [(*r, batch_no) for r in zip(*cols, strict=True)] if cols else []
    col_sql = ", ".join(f'"{n}"' for n in [*names, tables.BATCH_COLUMN])
    marks = ", ".join("?" for _ in range(len(names) + 1))
    sql = f'INSERT INTO "{table.name}" ({col_sql}) VALUES ({marks})'
    keys = tables.key_names(fields)
    if upsert and keys:
        updates = ", ".join(
            f'"{n}" = excluded."{n}"' for n in [*names, tables.BATCH_COLUMN] if n not in keys
        )
        conflict = ", ".join(f'"{k}"' for k in keys)
        sql += f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    raw = session.connection().connection.driver_connection
    raw.executemany(sql, rows)  # type: ignore[union-attr]


def copy_postgres(
    session: Session,
    table: Table,
    batch: pa.Table,
    fields: Sequence[FieldSpec],
    batch_no: int,
    upsert: bool,
) -> None:
    """COPY a batch into PostgreSQL (through a staging table when it upserts on the key)."""
    names = [f.name for f in fields]
    data = batch.select(names).append_column(
        tables.BATCH_COLUMN, pa.array([batch_no] * batch.num_rows, pa.int32())
    )
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
    cols = [*names, tables.BATCH_COLUMN]
    col_sql = ", ".join(f'"{n}"' for n in cols)
    raw = session.connection().connection.driver_connection
    keys = tables.key_names(fields)
    target = f'"{table.name}"'
    with raw.cursor() as cur:  # type: ignore[union-attr]
        if upsert and keys:
            cur.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS "_stage_{table.name}" '
                f"(LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            cur.execute(f'TRUNCATE "_stage_{table.name}"')
            target = f'"_stage_{table.name}"'
        with cur.copy(f"COPY {target} ({col_sql}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        if upsert and keys:
            conflict = ", ".join(f'"{k}"' for k in keys)
            updates = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in cols if n not in keys)
            cur.execute(
                f'INSERT INTO "{table.name}" ({col_sql}) SELECT {col_sql} FROM {target} '
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
