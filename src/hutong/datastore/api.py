"""JSON routes of hosted datasets: upload, records, key lookup, export, batches."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select

from hutong.audit.entry import subject_keys
from hutong.audit.runtime import request_event
from hutong.catalog import service as catalog_service
from hutong.core.deps import PUBLIC, AppSettings, DbSession, requires
from hutong.core.errors import Forbidden, Invalid, NotFound, TooLarge
from hutong.core.http import PROBLEM_JSON
from hutong.core.keys import load_keys
from hutong.core.security import Actor, Role
from hutong.datastore import service, stream
from hutong.datastore.models import IngestBatch
from hutong.datastore.schemas import IngestResult, RecordPage

router = APIRouter(tags=["datastore"])
Public = Annotated[Actor | None, Depends(requires(PUBLIC))]
Loader = Annotated[Actor, Depends(requires(Role.steward, Role.operator))]
RESERVED = {"offset", "limit", "sort", "fields", "include_total"}
SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".json", ".parquet"}


@router.post("/resources/{resource_ref}/upload", status_code=201, response_model=IngestResult)
def upload(
    resource_ref: str,
    session: DbSession,
    settings: AppSettings,
    actor: Loader,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON Lines or Parquet")],
    mode: Annotated[str, Query(pattern="^(upsert|replace)$")] = "upsert",
    format: Annotated[str | None, Query(pattern="^(csv|xlsx|jsonl|parquet)$")] = None,
) -> IngestResult | JSONResponse:
    """Load a file into a hosted table, all or nothing (the same file twice changes nothing)."""
    name = Path(file.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES and format is None:
        raise Invalid(
            f"cannot tell the format of '{name}': use .csv, .xlsx, .jsonl or .parquet, "
            "or pass ?format=",
            field="file",
        )
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=settings.uploads_dir, suffix=suffix or ".bin") as tmp:
        written = 0
        while chunk := file.file.read(1 << 20):
            written += len(chunk)
            if written > settings.max_upload_bytes:
                raise TooLarge(f"the file is larger than {settings.max_upload_bytes} bytes")
            tmp.write(chunk)
        tmp.flush()
        result = service.ingest_file(
            session=session,
            actor=actor,
            resource_ref=resource_ref,
            path=Path(tmp.name),
            filename=name,
            format=format,
            mode="replace" if mode == "replace" else "upsert",
            max_bytes=settings.max_upload_bytes,
            batch_rows=settings.ingest_batch_rows,
            problem_limit=settings.ingest_report_problems,
        )
    if result.quality and result.quality["outcome"] == "rejected":
        # returned, not raised: the stored gate report commits while the table stays unchanged
        refusal = Invalid(
            "the quality gate rejected the file: rows fail the resource's rules; "
            "the table is unchanged",
            field="file",
            extra={"quality": result.quality},
        )
        return JSONResponse(refusal.to_problem(), status_code=422, media_type=PROBLEM_JSON)
    return result


def _check_read(session: Any, actor: Actor | None, resource_ref: str) -> str:
    row = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not service.may_read_data(actor, row):
        if actor is None:
            raise Forbidden(
                "this resource is not open: its data is shared through the gateway "
                "to an approved application scenario"
            )
        raise Forbidden("only the provider and operators read this resource's data directly")
    return row.id


@router.get("/resources/{resource_ref}/records")
def records(
    resource_ref: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    actor: Public,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=0)] = 100,
    sort: Annotated[str | None, Query(max_length=200)] = None,
    fields: Annotated[str | None, Query(max_length=2000)] = None,
) -> RecordPage:
    """Records of a hosted table; other query parameters are equality filters (field=value)."""
    rid = _check_read(session, actor, resource_ref)
    if limit > settings.page_size_max:
        raise Invalid(f"limit must be at most {settings.page_size_max}", field="limit")
    filters: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in RESERVED:
            continue
        filters.setdefault(key, []).append(value)
    flat = {k: v[0] if len(v) == 1 else v for k, v in filters.items()}
    page = service.search_records(
        session=session,
        resource_ref=rid,
        filters=flat,
        offset=offset,
        limit=limit,
        sort=sort,
        fields=[f.strip() for f in fields.split(",") if f.strip()] if fields else None,
    )
    _audit_read(request, session, actor, rid, "data.query", page)
    return page


@router.get("/resources/{resource_ref}/records/{key}")
def record_by_key(
    resource_ref: str, key: str, request: Request, session: DbSession, actor: Public
) -> dict[str, Any]:
    """One record by its key (composite keys: values joined by commas, in field order)."""
    rid = _check_read(session, actor, resource_ref)
    row = catalog_service.get_row(session=session, resource_ref=rid)
    keys = [f.name for f in service.fields_of(row) if f.key]
    if not keys:
        raise Invalid("this resource has no key fields; use /records with filters")
    values = key.split(",") if len(keys) > 1 else [key]
    if len(values) != len(keys):
        raise Invalid(f"the key has {len(keys)} parts: {', '.join(keys)}", field="key")
    page = service.search_records(
        session=session,
        resource_ref=rid,
        filters=dict(zip(keys, values, strict=True)),
        limit=1,
        include_total=False,
    )
    _audit_read(request, session, actor, rid, "data.lookup", page)
    if not page.records:
        raise NotFound("no record with this key", field="key")
    return page.records[0]


@router.get("/resources/{resource_ref}/export")
def export(
    resource_ref: str,
    request: Request,
    session: DbSession,
    actor: Public,
    format: Annotated[str, Query(pattern="^(csv|parquet|arrow)$")] = "csv",
    bom: bool = False,
) -> StreamingResponse:
    """The whole hosted table as CSV (formula cells neutralized), Parquet or Arrow IPC stream."""
    rid = _check_read(session, actor, resource_ref)
    row = catalog_service.get_row(session=session, resource_ref=rid)
    request.app.state.audit.write(
        [
            request_event(
                request,
                actor,
                "data.export",
                resource=rid,
                provider_org=row.provider_id,
                call_type=format,
                fields=[f.name for f in service.fields_of(row)],
                records=row.row_count or 0,
            )
        ]
    )
    db = request.app.state.db

    def body() -> Any:
        # its own session: the response streams after the request's transaction has ended
        with db.session_scope(readonly=True) as s:
            schema, batches = service.export_batches(session=s, resource_ref=rid)
            yield from stream.stream(schema, batches, format, bom=bom)  # type: ignore[arg-type]

    filename = f"{rid.replace(':', '_')}.{stream.EXTENSIONS[format]}"
    return StreamingResponse(
        body(),
        media_type=stream.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _audit_read(
    request: Request, session: Any, actor: Actor | None, rid: str, action: str, page: RecordPage
) -> None:
    """Write the data call's audit entry and wait until it is durable (group commit)."""
    row = catalog_service.get_row(session=session, resource_ref=rid)
    secret = load_keys(request.app.state.settings.keys_dir).subject_hmac
    request.app.state.audit.write(
        [
            request_event(
                request,
                actor,
                action,
                resource=rid,
                provider_org=row.provider_id,
                fields=[f.name for f in page.fields],
                records=len(page.records),
                subjects=subject_keys(service.subject_values(page), secret=secret),
                call_type="api",
            )
        ]
    )


@router.get("/resources/{resource_ref}/batches")
def batches(resource_ref: str, session: DbSession, actor: Loader) -> list[dict[str, Any]]:
    """Load history of a hosted resource (its stewards and operators)."""
    row = catalog_service.get_row(session=session, resource_ref=resource_ref)
    if not service.may_manage(actor, row):
        raise Forbidden("only the provider's stewards or an operator see the load history")
    rows = session.scalars(
        select(IngestBatch)
        .where(IngestBatch.resource_id == row.id)
        .order_by(IngestBatch.created_at.desc())
    )
    return [
        {
            "id": b.id,
            "sha256": b.sha256,
            "filename": b.filename,
            "format": b.format,
            "encoding": b.encoding,
            "rows": b.rows,
            "actor": b.actor,
            "created_at": b.created_at.isoformat(),
        }
        for b in rows
    ]
