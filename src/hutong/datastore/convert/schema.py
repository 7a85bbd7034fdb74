"""The Arrow types of the declared field types, and the limits of conversion."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from hutong.catalog.schemas import FieldSpec, FieldType

DECIMAL_PRECISION = 38
DECIMAL_SCALE = 10
REASON_VALUE_CHARS = 40

TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.string: pa.string(),
    FieldType.integer: pa.int64(),
    FieldType.decimal: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    FieldType.boolean: pa.bool_(),
    FieldType.date: pa.date32(),
    FieldType.datetime: TIMESTAMP_UTC,
}


def arrow_type(field_type: FieldType) -> pa.DataType:
    """The Arrow type that holds values of a declared field type."""
    return ARROW_TYPES[FieldType(field_type)]


def arrow_schema(fields: Sequence[FieldSpec]) -> pa.Schema:
    """The Arrow schema of typed batches: the fields in order; key fields not nullable."""
    return pa.schema([pa.field(f.name, arrow_type(f.type), nullable=not f.key) for f in fields])
