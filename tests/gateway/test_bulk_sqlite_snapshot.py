"""An ADBC read of SQLite keeps its snapshot while this process writes and checkpoints.

It does not, yet (decision 0014, addendum 2026-12-01): ADBC's SQLite driver links a
SQLite of its own, and POSIX locks taken by one SQLite of a process are invisible to
the other. A checkpoint of the app's connections therefore ignores the driver's read
lock and copies pages newer than its snapshot into the file (the read then fails as
"malformed" or mixes versions). The same read with the writer in another process keeps
its snapshot. With the WAL all copied, the next write of this process starts it over,
overwriting frames the read still uses. Strict: the day the read is safe, this test
says so.
"""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from sqlalchemy import text

from hutong.catalog.schemas import FieldSpec
from hutong.core.database import Database
from hutong.gateway import service as gateway

ROWS = 20_000


@pytest.mark.xfail(strict=True, reason="decision 0014 addendum: two SQLite copies, one process")
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
