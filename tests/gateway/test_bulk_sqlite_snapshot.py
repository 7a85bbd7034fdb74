"""An ADBC read of SQLite keeps its snapshot while this process writes and checkpoints.

ADBC's SQLite driver links a SQLite of its own, and POSIX locks taken by one SQLite of a
process are invisible to the other: in the server's process, a checkpoint of the app's
connections ignored the driver's read lock and copied pages newer than its snapshot into
the file (the read then failed as "malformed" or mixed versions), and the next write
started the WAL over, overwriting frames the read still used. The read now runs in a
child process (decision 0014, second addendum), where the locks work.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import text

from hutong.catalog.schemas import FieldSpec
from hutong.core.database import Database
from hutong.core.migrate import upgrade
from hutong.gateway import service as gateway
from hutong.sharing.schemas import Delivery

ROWS = 20_000


def test_an_adbc_read_keeps_its_snapshot_through_a_checkpoint_of_this_process(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'snap.db'}")
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v TEXT, _batch INTEGER NOT NULL)"))
            conn.execute(
                text("INSERT INTO t VALUES (:v, 1)"),
                [{"v": f"old-{i:06d}"} for i in range(ROWS)],
            )
        seen: dict[str, int] = {"old": 0, "new": 0}
        with db.session_scope(readonly=True) as s:
            batches = gateway.read_batches(
                session=s,
                table_name="t",
                fields=[FieldSpec(name="v", label="v")],
                first_batch=None,
                batch_rows=500,
                reader="adbc",
                read_ahead_batches=0,
            )
            first = next(batches)  # the read's snapshot: every row old
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE t SET v = 'new' || substr(v, 4)"))
            with db.engine.connect() as conn:  # as the audit checkpointer does every second
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            with db.engine.begin() as conn:  # the next write starts the WAL over
                conn.execute(text("CREATE TABLE other AS SELECT v || v AS w FROM t"))
            try:
                for batch in [first, *batches]:
                    for prefix in seen:
                        hits = pc.sum(pc.starts_with(batch.column(0), f"{prefix}-")).as_py()
                        seen[prefix] += hits or 0
            except Exception as exc:  # "database disk image is malformed"
                pytest.fail(f"the read failed after the checkpoint: {exc}")
        assert seen == {"old": ROWS, "new": 0}
    finally:
        db.dispose()


def _read(db: Database, table: str, **kw):
    with db.session_scope(readonly=True) as s:
        yield from gateway.read_batches(
            session=s,
            table_name=table,
            fields=[FieldSpec(name="v", label="v")],
            first_batch=None,
            batch_rows=kw.get("batch_rows", 500),
            reader="adbc",
            read_ahead_batches=0,
        )


def test_the_reading_child_reports_its_error_and_ends_with_the_reader(tmp_path):
    """A failed read raises the child's error in the server; a reader that stops early
    (a client hanging up) ends the child."""
    db = Database(f"sqlite:///{tmp_path / 'child.db'}")
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v TEXT, _batch INTEGER NOT NULL)"))
            conn.execute(text("INSERT INTO t VALUES (:v, 1)"), [{"v": str(i)} for i in range(5000)])
        with pytest.raises(RuntimeError, match="no such table"):
            list(_read(db, "missing"))
        batches = _read(db, "t", batch_rows=100)
        assert next(batches).num_rows > 0
        assert [p.name for p in multiprocessing.active_children()] == ["hutong-bulk-read"]
        batches.close()
        assert not [p for p in multiprocessing.active_children() if p.name == "hutong-bulk-read"]
        rows = sum(b.num_rows for b in _read(db, "t"))  # and the next read is whole
        assert rows == 5000
    finally:
        db.dispose()


def _plan(table: str, rows: int) -> gateway.BulkPlan:
    return gateway.BulkPlan(
        resource_id="sh:none",
        scenario_id="s",
        table_name=table,
        columns=(gateway.ColumnPlan(spec=FieldSpec(name="v", label="v"), delivery=Delivery.clear),),
        since=None,
        first_batch=None,
        through=None,
        rows=rows,
        subjects=None,
    )


def _snapshot(db: Database, table: str, fmt: str = "arrow", **kw) -> Iterator[bytes]:
    with db.session_scope(readonly=True) as s:
        yield from gateway.stream_bulk(
            session=s,
            plan=_plan(table, ROWS),
            fmt=fmt,  # type: ignore[arg-type]
            pseudonym_key=b"k" * 32,
            batch_rows=kw.get("batch_rows", 500),
            reader=kw.get("reader", "auto"),
        )


def _made(tmp_path, rows: int = ROWS) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'made.db'}")
    upgrade(db.engine)  # the objections the snapshot looks up
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT, _batch INTEGER NOT NULL)"))
        conn.execute(
            text("INSERT INTO t VALUES (:v, 1)"), [{"v": f"old-{i:06d}"} for i in range(rows)]
        )
    return db


def test_a_snapshot_made_in_the_child_keeps_its_snapshot_and_equals_the_sql_readers(tmp_path):
    """The whole snapshot (read, masked, encoded) is made in the child, which keeps its
    read snapshot through this process's writes and checkpoints; its bytes decode to the
    same rows as the SQL reader's in this process."""
    db = _made(tmp_path)
    try:
        chunks = _snapshot(db, "t")
        first = next(chunks)  # the child's read has begun: every row old
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE t SET v = 'new' || substr(v, 4)"))
        with db.engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE other AS SELECT v || v AS w FROM t"))
        made = pa.ipc.open_stream(first + b"".join(chunks)).read_all()
        assert made.num_rows == ROWS
        assert pc.sum(pc.starts_with(made.column("v"), "old-")).as_py() == ROWS
        for fmt in ("arrow", "csv"):  # the new rows, both ways, in this process and the child
            child = b"".join(_snapshot(db, "t", fmt))
            here = b"".join(_snapshot(db, "t", fmt, reader="sql"))
            if fmt == "csv":
                assert child == here and child.count(b'\n"new-') == ROWS
            else:
                assert (
                    pa.ipc.open_stream(child).read_all().equals(pa.ipc.open_stream(here).read_all())
                )
    finally:
        db.dispose()


def _readers() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name == "hutong-bulk-read"]


def test_the_snapshot_child_reports_its_error_and_ends_with_the_reader(tmp_path):
    db = _made(tmp_path, 5000)
    try:
        with pytest.raises(RuntimeError, match="no such table"):
            b"".join(_snapshot(db, "missing"))
        chunks = _snapshot(db, "t", batch_rows=100)
        assert next(chunks)
        assert _readers() == ["hutong-bulk-read"]
        chunks.close()
        assert not _readers()
        whole = pa.ipc.open_stream(b"".join(_snapshot(db, "t"))).read_all()
        assert whole.num_rows == 5000 and whole.column_names == ["v", "_flagged"]
    finally:
        db.dispose()
