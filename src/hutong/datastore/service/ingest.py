"""Hosted datasets: create tables, load files all-or-nothing, look up, page and export."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Table, and_, delete, func, select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog import service as catalog_service
from hutong.catalog.models import Resource
from hutong.catalog.schemas import FieldSpec, FieldType
from hutong.core.clock import utcnow
from hutong.core.errors import Forbidden, Invalid, ProblemList
from hutong.core.security import Actor, Role
from hutong.datastore import tables
from hutong.datastore.convert import KeyTracker, arrow_schema, convert_batch
from hutong.datastore.models import IngestBatch
from hutong.datastore.readers import open_source
from hutong.datastore.schemas import IngestResult, RecordPage

Progress = Callable[[int, int], None]  # (bytes read, rows loaded)
HASH_CHUNK = 1 << 20


def _schema_text(resource: Resource) -> str:
    return json.dumps(resource.meta["fields"], sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _parsed_fields(schema: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec.model_validate(f) for f in json.loads(schema))


@functools.lru_cache(maxsize=4096)
def _built_table(name: str, schema: str) -> Table:
    return tables.build_table(name, _parsed_fields(schema))


def fields_of(resource: Resource) -> list[FieldSpec]:
    """The declared fields of a resource row (parsed once per schema; do not mutate them)."""
    return list(_parsed_fields(_schema_text(resource)))


def table_of(resource: Resource) -> Table:
    """The hosted table of a resource. Raises Invalid if the resource is not hosted.

    One Table object per table name and schema, so SQLAlchemy's statement cache holds
    across calls (a new Table each call meant compiling every lookup anew).
    """
    if not resource.hosted:
        raise Invalid(f"resource {resource.id} is not hosted on this node", field="resource")
    name = resource.table_name or tables.table_name_for(resource.id, resource.code)
    return _built_table(name, _schema_text(resource))


def may_manage(actor: Actor, resource: Resource) -> bool:
    """Stewards of the provider and operators manage a resource's data."""
    return actor.has(Role.operator) or (
        actor.has(Role.steward) and actor.organization_id == resource.provider_id
    )


def may_read_data(actor: Actor | None, resource: Resource) -> bool:
    """Open resources are readable by all; others by their managers (consumers use the gateway)."""
    if resource.open_type == "open":
        return True
    return actor is not None and may_manage(actor, resource)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _for_sqlite(batch: pa.Table, fields: Sequence[FieldSpec]) -> list[pa.Array | pa.ChunkedArray]:
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


def _insert_sqlite(
    session: Session,
    table: Table,
    batch: pa.Table,
    fields: Sequence[FieldSpec],
    batch_no: int,
    upsert: bool,
) -> None:
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


def _copy_postgres(
    session: Session,
    table: Table,
    batch: pa.Table,
    fields: Sequence[FieldSpec],
    batch_no: int,
    upsert: bool,
) -> None:
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


def ingest_file(
    *,
    session: Session,
    actor: Actor,
    resource_ref: str,
    path: Path,
    filename: str | None = None,
    format: str | None = None,
    mode: Literal["upsert", "replace"] = "upsert",
    max_bytes: int | None = None,
    batch_rows: int = 131072,
    problem_limit: int = 100,
    progress: Progress | None = None,
) -> IngestResult:
    """Load a file into a hosted table, all or nothing. Raises Invalid (with problems), Forbidden.

    The same file loaded again into the same resource changes nothing (idempotent).
    """
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not may_manage(actor, resource):
        raise Forbidden("only the provider's stewards or an operator may load data")
    table = table_of(resource)
    fields = fields_of(resource)
    sha = file_sha256(path)
    previous = _same_batch(session, resource.id, sha, mode)
    if previous is not None:
        return IngestResult(
            resource_id=resource.id,
            batch_id=previous.id,
            sha256=sha,
            rows=previous.rows,
            format=previous.format,
            encoding=previous.encoding,
            already_loaded=True,
            row_count=resource.row_count or 0,
            created_at=previous.created_at,
        )
    connection = session.connection()
    if resource.table_name is None:
        tables.create(connection, table)
        resource.table_name = table.name
        session.flush()
    dialect = connection.dialect.name
    batch_no = 1 + (
        session.scalar(
            select(func.count())
            .select_from(IngestBatch)
            .where(IngestBatch.resource_id == resource.id)
        )
        or 0
    )
    from hutong.quality.gate import open_gate  # quality gates every batch before it commits

    gate = open_gate(session=session, actor=actor, resource=resource, fields=fields)
    if mode == "replace":
        session.execute(delete(table))
    empty = mode == "replace" or not resource.row_count
    problems = ProblemList(limit=problem_limit)
    keys = KeyTracker(fields, problems=problems)
    rows = 0
    proposals: list[dict[str, Any]] = []
    with open_source(path, format=format, max_bytes=max_bytes) as source:
        for raw in source.iter_batches(batch_rows=batch_rows):
            typed = convert_batch(raw, fields, problems=problems)
            if typed is None or problems:
                continue  # keep reading: the report names every problem up to the limit
            keys.add(typed, first_row=raw.first_row)
            if problems:
                continue
            if not proposals:
                proposals = _pi_proposals(raw.table, fields)
            if gate is not None:
                typed = gate.check(typed, first_row=raw.first_row)
            if dialect == "postgresql":
                _copy_postgres(session, table, typed, fields, batch_no, upsert=not empty)
            else:
                _insert_sqlite(session, table, typed, fields, batch_no, upsert=not empty)
            rows += typed.num_rows
            if progress:
                progress(source.bytes_read, rows)
        src_format, src_encoding = source.format, source.encoding or ""
    if problems:
        raise Invalid(
            f"the file was not loaded: {problems.total} problem(s); the table is unchanged",
            problems=problems.items,
            extra={"problem_count": problems.total},
        )
    if rows == 0 and (gate is None or not gate.rows):
        raise Invalid("the file has no data rows; nothing was loaded")
    batch_id = str(uuid.uuid4())
    report = gate.finish(batch_id=batch_id) if gate is not None else None
    if report is not None and report.outcome == "rejected":
        return IngestResult(
            resource_id=resource.id,
            batch_id="",
            sha256=sha,
            rows=0,
            format=src_format,
            encoding=src_encoding,
            row_count=resource.row_count or 0,
            created_at=utcnow(),
            quality=report.model_dump(mode="json"),
        )
    now = utcnow()
    batch = IngestBatch(
        id=batch_id,
        resource_id=resource.id,
        sha256=sha,
        filename=(filename or path.name)[:255],
        format=src_format,
        encoding=src_encoding,
        rows=rows,
        mode=mode,
        actor=actor.label,
        created_at=now,
    )
    session.add(batch)
    resource.row_count = session.scalar(select(func.count()).select_from(table))
    resource.data_updated_at = now
    session.flush()
    audit_service.record(
        session=session,
        event=audit_service.event_for(
            actor,
            "data.ingest",
            resource=resource.id,
            provider_org=resource.provider_id,
            records=rows,
            detail={"batch": batch.id, "sha256": sha, "mode": mode},
        ),
    )
    return IngestResult(
        resource_id=resource.id,
        batch_id=batch.id,
        sha256=sha,
        rows=rows,
        format=src_format,
        encoding=src_encoding,
        row_count=resource.row_count or 0,
        pi_proposals=proposals,
        created_at=now,
        quality=report.model_dump(mode="json") if report is not None else None,
    )


def _same_batch(session: Session, resource_id: str, sha: str, mode: str) -> IngestBatch | None:
    """The earlier load this one repeats, if any (decision 0003).

    An upsert of bytes already loaded changes nothing; a replace is a no-op only when the
    newest load was a replace with the same bytes (the table is exactly that file).
    """
    if mode == "replace":
        latest = session.scalars(
            select(IngestBatch)
            .where(IngestBatch.resource_id == resource_id)
            .order_by(IngestBatch.created_at.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.sha256 == sha and latest.mode == "replace":
            return latest
        return None
    return session.scalars(
        select(IngestBatch).where(IngestBatch.resource_id == resource_id, IngestBatch.sha256 == sha)
    ).first()


def _pi_proposals(raw: pa.Table, fields: Sequence[FieldSpec]) -> list[dict[str, Any]]:
    """Propose a PI category per column from a sample, next to the declared one."""
    from hutong.privacy.classify import classify_column

    declared = {f.name: (f.pi_category.value if f.pi_category else None) for f in fields}
    out = []
    sample = raw.slice(0, 1000)
    for name in sample.column_names:
        if name not in declared:
            continue
        values = [None if v is None else str(v) for v in sample.column(name).to_pylist()]
        p = classify_column(name, values)
        if p.category != declared[name]:
            out.append(
                {
                    "field": name,
                    "declared": declared[name],
                    "proposed": p.category,
                    "confidence": round(p.confidence, 3),
                    "hint": p.hint,
                }
            )
    return out


# reading ---------------------------------------------------------------------------------


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
        parsed = [_coerce(by_name[name], v) for v in values]
        conds.append(table.c[name].in_(parsed) if len(parsed) > 1 else table.c[name] == parsed[0])
    return conds


def _coerce(field: FieldSpec, value: Any) -> Any:
    try:
        if value is None:
            return None
        if field.type == FieldType.integer:
            return int(value)
        if field.type == FieldType.decimal:
            return decimal.Decimal(str(value))
        if field.type == FieldType.boolean:
            return str(value).lower() in ("1", "true", "是", "y", "yes")
        if field.type == FieldType.date:
            return dt.date.fromisoformat(str(value))
        if field.type == FieldType.datetime:
            return dt.datetime.fromisoformat(str(value))
        return str(value)
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


def record_count(*, session: Session, resource_ref: str) -> int:
    """Rows in a hosted table."""
    resource = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if resource.table_name is None:
        return 0
    return session.scalar(select(func.count()).select_from(table_of(resource))) or 0
