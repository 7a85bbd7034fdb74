"""Plan a bulk snapshot (count its rows and subjects) and stream it in a format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec
from hutong.datastore import stream, tables
from hutong.datastore.models import IngestBatch
from hutong.gateway.service.access import Authorized
from hutong.gateway.service.bulk.adbc import adbc_source
from hutong.gateway.service.bulk.child import stream_in_child
from hutong.gateway.service.bulk.encode import Encoding
from hutong.gateway.service.bulk.read import READ_AHEAD_BATCHES, Reader, read_batches
from hutong.gateway.service.deliver import ColumnPlan, delivered_schema
from hutong.objections import flags


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk call will stream, decided (and audited) before the first byte."""

    resource_id: str
    scenario_id: str
    table_name: str | None
    columns: tuple[ColumnPlan, ...]
    since: dt.datetime | None
    first_batch: int | None  # None: a full snapshot
    through: dt.datetime | None  # when the newest load in the snapshot was made
    rows: int
    subjects: list[str] | None  # raw identifiers (None: too many rows to list)

    key_fields: tuple[FieldSpec, ...] = ()  # read to flag rows under objection

    @property
    def schema(self) -> pa.Schema:
        return delivered_schema(self.columns)


def _hosted(auth: Authorized) -> Table | None:
    if auth.table_name is None:
        return None
    return tables.build_table(auth.table_name, auth.fields)


def plan_bulk(
    *,
    session: Session,
    auth: Authorized,
    fields: Sequence[FieldSpec],
    since: dt.datetime | None,
    subjects_max: int,
) -> BulkPlan:
    """Count the snapshot's rows and, for a small one, its data subjects."""
    first_batch = None
    if since is not None:
        earlier = session.scalar(
            select(func.count())
            .select_from(IngestBatch)
            .where(IngestBatch.resource_id == auth.resource_id, IngestBatch.created_at <= since)
        )
        first_batch = int(earlier or 0) + 1
    through = session.scalar(
        select(func.max(IngestBatch.created_at)).where(IngestBatch.resource_id == auth.resource_id)
    )
    table = _hosted(auth)
    rows = 0
    subjects: list[str] | None = []
    if table is not None:
        where = [] if first_batch is None else [table.c[tables.BATCH_COLUMN] >= first_batch]
        rows = int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)
        names = [f.name for f in auth.subject_fields]
        if rows > subjects_max:
            subjects = None
        elif names and rows:
            found = session.execute(select(*[table.c[n] for n in names]).where(*where))
            subjects = [str(v) for row in found for v in row if v]
    return BulkPlan(
        resource_id=auth.resource_id,
        scenario_id=auth.scenario_id,
        table_name=auth.table_name,
        columns=tuple(ColumnPlan(spec=f, delivery=auth.deliveries[f.name]) for f in fields),
        since=since,
        first_batch=first_batch,
        through=through,
        rows=rows,
        subjects=subjects,
        key_fields=tuple(auth.key_fields),
    )


def stream_bulk(
    *,
    session: Session,
    plan: BulkPlan,
    fmt: stream.ExportFormat,
    pseudonym_key: bytes,
    batch_rows: int,
    bom: bool = False,
    reader: Reader = "auto",
    read_ahead_batches: int = READ_AHEAD_BATCHES,
) -> Iterator[bytes]:
    """The snapshot's bytes as CSV, Parquet or Arrow IPC; memory bounded by a few batches.

    ``read_ahead_batches``: how far an ADBC read runs ahead on its own thread (see
    ``read_batches``).

    Closing it early (the client hung up) closes the read at once, so a PostgreSQL COPY
    is cancelled before the transaction ends rather than whenever the garbage collector
    gets to it (the connection is unusable while a COPY is open).
    """
    delivered = plan.schema
    schema = delivered.append(pa.field(flags.FLAG_COLUMN, pa.string()))
    if plan.table_name is None:
        yield from stream.stream(schema, (), fmt, bom=bom)
        return
    flagged = flags.flagged_fields(session=session, resource_id=plan.resource_id)
    specs = [c.spec for c in plan.columns]
    keys = [f for f in plan.key_fields if f not in specs] if flagged else []
    encoding = Encoding(
        columns=plan.columns,
        delivered=delivered,
        schema=schema,
        key_fields=plan.key_fields,
        flagged=flagged,
        pseudonym_key=pseudonym_key,
        fmt=fmt,
        bom=bom,
    )
    source = None if reader == "sql" else adbc_source(session)
    if source is not None and source.dialect == "sqlite":
        # read, masked and encoded in a child (bulk.child): this process only passes the
        # bytes on
        yield from stream_in_child(
            source.uri,
            plan.table_name,
            specs + keys,
            plan.first_batch,
            batch_rows,
            read_ahead_batches,
            encoding,
        )
        return
    stored = read_batches(
        session=session,
        table_name=plan.table_name,
        fields=specs + keys,
        first_batch=plan.first_batch,
        batch_rows=batch_rows,
        reader=reader,
        read_ahead_batches=read_ahead_batches,
    )
    with closing(stored):
        yield from encoding.encode(stored)
