"""Hosted tables: a real SQL table per hosted resource, built from its fields."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

from hutong.catalog.schemas import FieldSpec, FieldType

BATCH_COLUMN = "_batch"
ROWID_COLUMN = "_row"

_TYPES: dict[FieldType, Any] = {
    FieldType.string: Text,
    FieldType.integer: BigInteger,
    FieldType.decimal: lambda: Numeric(38, 10),  # the scale convert.py reads decimals at
    FieldType.boolean: Boolean,
    FieldType.date: Date,
    FieldType.datetime: lambda: DateTime(timezone=True),
}


def table_name_for(resource_id: str, code: str) -> str:
    """A stable, safe SQL name for a resource's table: ds_<code>_<hash of the id>."""
    digest = hashlib.sha256(resource_id.encode()).hexdigest()[:8]
    return f"ds_{code.replace('-', '_')}_{digest}"


def sql_type(field: FieldSpec) -> TypeEngine[Any]:
    factory = _TYPES[field.type]
    return factory()  # type: ignore[no-any-return]


def build_table(name: str, fields: Sequence[FieldSpec]) -> Table:
    """The SQLAlchemy Table of a hosted resource (its own MetaData; not in the migrations)."""
    metadata = MetaData()
    keys = [f.name for f in fields if f.key]
    columns: list[Any] = []
    if not keys:
        columns.append(Column(ROWID_COLUMN, Integer, primary_key=True, autoincrement=True))
    for f in fields:
        columns.append(Column(f.name, sql_type(f), nullable=not f.key))
    columns.append(Column(BATCH_COLUMN, Integer, nullable=False))
    if keys:
        columns.append(PrimaryKeyConstraint(*keys, name=f"pk_{name}"))
    return Table(name, metadata, *columns)


def key_names(fields: Sequence[FieldSpec]) -> list[str]:
    return [f.name for f in fields if f.key]


def create(connection: Connection, table: Table) -> None:
    """Create the table (the key fields are its primary key, so lookups are indexed)."""
    table.create(connection, checkfirst=True)
