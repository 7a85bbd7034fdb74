"""Loading a file into a hosted table, all or nothing, through the quality gate."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hutong.audit import service as audit_service
from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import FieldSpec
from hutong.core.clock import utcnow
from hutong.core.errors import Forbidden, Invalid, ProblemList
from hutong.core.security import Actor
from hutong.datastore import tables
from hutong.datastore.convert import KeyTracker, convert_batch
from hutong.datastore.models import IngestBatch
from hutong.datastore.readers import open_source
from hutong.datastore.schemas import IngestResult
from hutong.datastore.service.resources import fields_of, may_manage, table_of
from hutong.datastore.service.writers import copy_postgres, insert_sqlite

Progress = Callable[[int, int], None]  # (bytes read, rows loaded)
HASH_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
                copy_postgres(session, table, typed, fields, batch_no, upsert=not empty)
            else:
                insert_sqlite(session, table, typed, fields, batch_no, upsert=not empty)
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
