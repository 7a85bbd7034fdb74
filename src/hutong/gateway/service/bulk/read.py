"""``read_batches``: stored rows as Arrow batches, through ADBC where it can, else SQL."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Literal

import pyarrow as pa
from sqlalchemy.orm import Session

from hutong.catalog.schemas import FieldSpec
from hutong.gateway.service.bulk.adbc import adbc_source, conform_batches, read_adbc
from hutong.gateway.service.bulk.ahead import read_ahead
from hutong.gateway.service.bulk.sql import read_postgres, read_sqlite

Reader = Literal["auto", "adbc", "sql"]  # how read_batches reads (see there)
READ_AHEAD_BATCHES = 2


def read_batches(
    *,
    session: Session,
    table_name: str,
    fields: Sequence[FieldSpec],
    first_batch: int | None,
    batch_rows: int,
    reader: Reader = "auto",
    read_ahead_batches: int = READ_AHEAD_BATCHES,
) -> Generator[pa.RecordBatch, None, None]:
    """Stored rows of the fields (in order) as Arrow batches, from batch ``first_batch`` on.

    ``reader``: ``auto`` reads through ADBC where it can, else SQL; ``adbc`` insists on
    ADBC (RuntimeError if it cannot); ``sql`` uses the session's own connection. An ADBC
    read runs on a thread of its own, up to ``read_ahead_batches`` batches ahead (0: on
    the caller's thread); the SQL readers use the session's connection, so never.
    """
    if not fields:
        raise ValueError("read_batches needs at least one field")
    source = None if reader == "sql" else adbc_source(session)
    if source is not None:
        batches = read_adbc(source, table_name, fields, first_batch, batch_rows)
        if read_ahead_batches > 0:  # the read is the longest stage: nothing else on its thread
            batches = read_ahead(batches, depth=read_ahead_batches, name="bulk-read")
        yield from conform_batches(batches, fields, batch_rows)
        return
    if reader == "adbc":
        raise RuntimeError("no ADBC driver can read this database")
    if session.get_bind().dialect.name == "postgresql":
        yield from read_postgres(session, table_name, fields, first_batch, batch_rows)
    else:
        yield from read_sqlite(session, table_name, fields, first_batch, batch_rows)
