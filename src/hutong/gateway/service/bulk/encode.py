"""Stored batches to a snapshot's bytes: masked as granted, flagged, in the format.

The same code runs in the server's process (PostgreSQL, the SQL readers) and in the
child that reads a SQLite snapshot (``bulk.child``), so a snapshot is the same bytes
whichever process made it. An ``Encoding`` holds only plain values, so it is sent to
the child as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from hutong.catalog.schemas import FieldSpec
from hutong.datastore import stream
from hutong.gateway.service.deliver import ColumnPlan, deliver_batch


@dataclass(frozen=True)
class Encoding:
    """How a snapshot's stored batches become its bytes.

    ``delivered``: the schema of the masked columns; ``schema``: the same with the flag
    column; ``flagged``: per key text, the fields under an open objection.
    """

    columns: tuple[ColumnPlan, ...]
    delivered: pa.Schema
    schema: pa.Schema
    key_fields: tuple[FieldSpec, ...]
    flagged: dict[str, set[str]]
    pseudonym_key: bytes
    fmt: stream.ExportFormat
    bom: bool = False

    def encode(self, stored: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
        """The snapshot's bytes, chunk by chunk (one per batch, for Arrow IPC)."""
        names = {c.spec.name for c in self.columns}

        def deliver(batch: pa.RecordBatch) -> pa.RecordBatch:
            out = deliver_batch(batch, self.columns, self.delivered, key=self.pseudonym_key)
            column = flag_column(batch, self.key_fields, self.flagged, names)
            return pa.RecordBatch.from_arrays([*out.columns, column], schema=self.schema)

        yield from stream.stream(self.schema, (deliver(b) for b in stored), self.fmt, bom=self.bom)


def flag_column(
    batch: pa.RecordBatch,
    key_fields: Sequence[FieldSpec],
    flagged: dict[str, set[str]],
    delivered: set[str],
) -> pa.Array:
    """Per row, the delivered fields under an open objection, comma-joined (else null)."""
    wanted = {k: sorted(v & delivered) for k, v in flagged.items() if v & delivered}
    if not wanted or not key_fields:
        return pa.nulls(batch.num_rows, pa.string())
    parts = [pc.cast(batch.column(f.name), pa.string()) for f in key_fields]
    keys = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, ",")
    hits = pc.is_in(keys, value_set=pa.array(sorted(wanted), pa.string()))
    values: list[str | None] = [None] * batch.num_rows
    for i in pc.indices_nonzero(pc.fill_null(hits, False)).to_pylist():
        values[i] = ",".join(wanted[keys[i].as_py()])
    return pa.array(values, pa.string())
