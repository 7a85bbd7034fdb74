"""Reading records of a hosted table: equality filters, sorting, paging, counting."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, func, select
from sqlalchemy.orm import Session

from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.errors import Invalid
from hutong.datastore import tables
from hutong.datastore.schemas import RecordPage
from hutong.datastore.service.resources import fields_of, table_of


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    return value


def _parse_sort(sort: str | None, names: Sequence[str], table: Table) -> list[Any]:
    if not sort:
        return []
    order = []
    for part in sort.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        name = bits[0]
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if name not in names or direction not in ("asc", "desc") or len(bits) > 2:
            raise Invalid(f"cannot sort by '{part.strip()}'", field="sort", value=part)
        column = table.c[name]
        order.append(column.desc() if direction == "desc" else column.asc())
    return order


def _filter_conditions(
    table: Table, fields: Sequence[FieldSpec], filters: Mapping[str, Any]
) -> list[Any]:
    by_name = {f.name: f for f in fields}
    conds = []
    for name, value in filters.items():
        if name not in by_name:
            raise Invalid(f"no field '{name}' to filter on", field="filters", value=name)
        values = value if isinstance(value, list) else [value]
        parsed = [coerce_value(by_name[name], v) for v in values]
        conds.append(table.c[name].in_(parsed) if len(parsed) > 1 else table.c[name] == parsed[0])
    return conds


INTEGER_MIN, INTEGER_MAX = -(2**63), 2**63 - 1  # what SQLite's INTEGER and BIGINT hold


def coerce_value(field: FieldSpec, value: Any) -> Any:
    """A filter value as the field's type. Raises Invalid naming the field."""
    try:
        if value is None:
            return None
        if field.type == FieldType.integer:
            number = int(value)
            if not INTEGER_MIN <= number <= INTEGER_MAX:  # no stored integer is wider
                raise ValueError("out of the 64-bit integer range")
            return number
        if field.type == FieldType.decimal:
            return decimal.Decimal(str(value))
        if field.type == FieldType.boolean:
            return str(value).lower() in ("1", "true", "是", "y", "yes")
        if field.type == FieldType.date:
            return dt.date.fromisoformat(str(value))
        if field.type == FieldType.datetime:
            return dt.datetime.fromisoformat(str(value))
        text = str(value)
        if "\x00" in text:  # PostgreSQL text cannot hold it; no stored value has it
            raise ValueError("NUL character")
        return text
    except (ValueError, decimal.InvalidOperation) as exc:
        raise Invalid(
            f"'{value}' is not a valid {field.type.value} for field '{field.name}'",
            field=field.name,
        ) from exc


def search_records(
    *,
    session: Session,
    resource_ref: str,
    filters: Mapping[str, Any] | None = None,
    offset: int = 0,
    limit: int = 100,
    sort: str | None = None,
    fields: Sequence[str] | None = None,
    include_total: bool = True,
) -> RecordPage:
    """Records of a hosted table by equality filters, paged. Raises NotFound, Invalid.

    Callers check who may read (see ``may_read_data``).
    """
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    table = table_of(resource)
    all_fields = fields_of(resource)
    names = [f.name for f in all_fields]
    chosen = list(fields) if fields else names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise Invalid(f"no field(s) {', '.join(unknown)}", field="fields")
    if offset < 0 or limit < 0:
        raise Invalid("offset and limit must not be negative", field="offset")
    spec = [f for f in all_fields if f.name in chosen]
    if resource.table_name is None:
        return RecordPage(
            resource_id=resource.id, fields=spec, records=[], total=0, offset=offset, limit=limit
        )
    conds = _filter_conditions(table, all_fields, filters or {})
    stmt = select(*[table.c[n] for n in chosen])
    if conds:
        stmt = stmt.where(and_(*conds))
    order = (
        _parse_sort(sort, names, table)
        or [table.c[k] for k in (tables.key_names(all_fields) or [])]
        or [table.c[tables.ROWID_COLUMN]]
    )
    rows = session.execute(stmt.order_by(*order).offset(offset).limit(limit))
    records = [{k: _json_value(v) for k, v in zip(chosen, row, strict=True)} for row in rows]
    total = None
    if include_total:
        cstmt = select(func.count()).select_from(table)
        if conds:
            cstmt = cstmt.where(and_(*conds))
        total = session.scalar(cstmt) or 0
    return RecordPage(
        resource_id=resource.id,
        fields=spec,
        records=records,
        total=total,
        offset=offset,
        limit=limit,
    )


SUBJECT_CATEGORIES = ("resident_id",)


def subject_values(page: RecordPage) -> list[str]:
    """The data subjects' identifiers in a page of records (for the audit's subject keys)."""
    names = [
        f.name
        for f in page.fields
        if f.pi_category is not None and f.pi_category.value in SUBJECT_CATEGORIES
    ]
    return [str(r[n]) for r in page.records for n in names if r.get(n)]


def record_count(*, session: Session, resource_ref: str) -> int:
    """Rows in a hosted table."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if resource.table_name is None:
        return 0
    return session.scalar(select(func.count()).select_from(table_of(resource))) or 0
