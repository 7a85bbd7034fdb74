"""Exporting a hosted table as a stream of Arrow record batches (bounded memory)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.datastore import tables
from hutong.datastore.convert import arrow_schema
from hutong.datastore.service.resources import fields_of, table_of


def export_batches(
    *,
    session: Session,
    resource_ref: str,
    fields: Sequence[str] | None = None,
    batch_rows: int = 65536,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Stream a hosted table as Arrow record batches (server-side cursor, bounded memory)."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    table = table_of(resource)
    all_fields = fields_of(resource)
    chosen = [f for f in all_fields if not fields or f.name in fields]
    schema = arrow_schema(chosen)
    if resource.table_name is None:
        return schema, iter(())
    order = [table.c[k] for k in tables.key_names(all_fields)] or [table.c[tables.ROWID_COLUMN]]
    stmt = select(*[table.c[f.name] for f in chosen]).order_by(*order)

    def generate() -> Iterator[pa.RecordBatch]:
        result = session.execute(
            stmt, execution_options={"stream_results": True, "yield_per": batch_rows}
        )
        for part in result.partitions(batch_rows):
            columns: list[Any] = list(zip(*part, strict=True)) if part else [[] for _ in chosen]
            arrays = [_to_arrow(list(col), schema.field(i).type) for i, col in enumerate(columns)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return schema, generate()


def _to_arrow(values: list[Any], typ: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(typ):
        values = [
            v.replace(tzinfo=dt.UTC) if v is not None and v.tzinfo is None else v for v in values
        ]
    if pa.types.is_decimal(typ):
        values = [decimal.Decimal(str(v)) if isinstance(v, float) else v for v in values]
    return pa.array(values, type=typ)
