"""Archive old months of the log to compressed Parquet, keeping every proof verifiable.

An archived range keeps its rows' index columns and leaf hashes in the database (so
views, statistics and proofs work as before); only the entry bytes move to a Parquet
file under ``$HUTONG_HOME/audit-archive``, with the signed checkpoint that covers them.
Readers of entry bytes fall back to the archive transparently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hutong.audit.checkpoints import latest
from hutong.audit.models import AuditArchive, AuditEntry
from hutong.core.clock import utcnow
from hutong.core.errors import Conflict, Invalid, NotFound

ROW_GROUP = 65536
SCHEMA = pa.schema(
    [("leaf_index", pa.int64()), ("payload", pa.binary()), ("leaf_hash", pa.binary(32))]
)


def _month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise Invalid("month is YYYY-MM, e.g. 2026-10", field="month", value=month) from exc
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def archive_month(*, session: Session, home: Path, month: str) -> AuditArchive:
    """Move the bytes of every entry up to the end of ``month`` into a Parquet file.

    Only entries covered by a signed checkpoint are archived, and the month must be over.
    Raises Invalid (bad or current month, nothing to archive), Conflict.
    """
    start, end = _month_bounds(month)
    if end > utcnow():
        raise Invalid(f"{month} is not over yet", field="month", value=month)
    checkpoint = latest(session)
    if checkpoint is None:
        raise Invalid("there is no signed checkpoint yet")
    first = session.scalar(select(func.max(AuditArchive.end_index))) or 0
    after = session.scalar(
        select(func.min(AuditEntry.leaf_index)).where(
            AuditEntry.time >= end, AuditEntry.leaf_index >= first
        )
    )
    stop = min(checkpoint.tree_size, after if after is not None else checkpoint.tree_size)
    if stop <= first:
        raise Invalid(
            f"no checkpointed entries up to the end of {month} are left to archive",
            field="month",
            value=month,
        )
    folder = home / "audit-archive"
    folder.mkdir(parents=True, exist_ok=True)
    relative = Path("audit-archive") / f"{month}-{first:012d}-{stop:012d}.parquet"
    target = home / relative
    if target.exists():
        raise Conflict(f"{relative} already exists")
    tmp = target.with_suffix(".tmp")
    rows = session.execute(
        select(AuditEntry.leaf_index, AuditEntry.payload, AuditEntry.leaf_hash)
        .where(AuditEntry.leaf_index >= first, AuditEntry.leaf_index < stop)
        .order_by(AuditEntry.leaf_index),
        execution_options={"stream_results": True, "yield_per": ROW_GROUP},
    )
    metadata = {b"hutong.checkpoint": checkpoint.note.encode(), b"hutong.month": month.encode()}
    with pq.ParquetWriter(tmp, SCHEMA.with_metadata(metadata), compression="zstd") as writer:
        for part in rows.partitions(ROW_GROUP):
            idx, payloads, hashes = zip(*part, strict=True)
            for p, h in zip(payloads, hashes, strict=True):
                if p is None or hashlib.sha256(b"\x00" + p).digest() != h:
                    raise Invalid(
                        "an entry's bytes do not match its leaf hash: run "
                        "`hutong audit verify` before archiving"
                    )
            writer.write_table(
                pa.table(
                    {"leaf_index": list(idx), "payload": list(payloads), "leaf_hash": list(hashes)},
                    schema=SCHEMA,
                )
            )
    _check_file(tmp, first, stop, session)
    tmp.rename(target)
    record = AuditArchive(
        first_index=first,
        end_index=stop,
        month=month,
        path=str(relative),
        sha256=_file_sha256(target),
        checkpoint_size=checkpoint.tree_size,
        created_at=utcnow(),
    )
    session.add(record)
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.leaf_index >= first, AuditEntry.leaf_index < stop)
        .values(payload=None)
    )
    session.flush()
    return record


def _check_file(path: Path, first: int, stop: int, session: Session) -> None:
    """Read the file back: every index once, in order, bytes matching the stored leaf hashes."""
    table = pq.read_table(path)
    if table.num_rows != stop - first:
        raise Invalid("the archive file does not hold every entry of its range")
    expected = pa.array(range(first, stop), pa.int64())
    if not pc.all(pc.equal(table.column("leaf_index").combine_chunks(), expected)).as_py():
        raise Invalid("the archive file's entries are out of order")
    for p, h in zip(
        table.column("payload").to_pylist(), table.column("leaf_hash").to_pylist(), strict=True
    ):
        if hashlib.sha256(b"\x00" + p).digest() != h:
            raise Invalid("the archive file does not reproduce the leaf hashes")


@lru_cache(maxsize=16)
def _open(path: str) -> pq.ParquetFile:
    return pq.ParquetFile(path)


def archived_payloads(session: Session, home: Path, indexes: Iterable[int]) -> dict[int, bytes]:
    """Entry bytes of archived entries, read from their Parquet files."""
    wanted = sorted(set(indexes))
    out: dict[int, bytes] = {}
    if not wanted:
        return out
    archives = list(
        session.scalars(
            select(AuditArchive).where(
                AuditArchive.first_index <= wanted[-1], AuditArchive.end_index > wanted[0]
            )
        )
    )
    for arch in archives:
        inside = {i for i in wanted if arch.first_index <= i < arch.end_index}
        if not inside:
            continue
        path = home / arch.path
        if not path.exists():
            raise NotFound(f"the archive file {arch.path} is missing")
        pf = _open(str(path))
        groups = sorted({(i - arch.first_index) // ROW_GROUP for i in inside})
        for g in groups:
            part = pf.read_row_group(g, columns=["leaf_index", "payload"])
            for i, p in zip(part.column(0).to_pylist(), part.column(1).to_pylist(), strict=True):
                if i in inside:
                    out[i] = p
    return out
