"""Bulk snapshots (库表同步): the granted fields of a hosted table, full or since a time.

An incremental snapshot holds the rows loaded in batches after ``since``: every hosted
table has a ``_batch`` column with the number of the load that last wrote the row, and
loads are numbered in the order of ``ingest_batch.created_at``. So rows added or changed
by a later load come again; rows deleted by a replacing load do not show up as
deletions (take a full snapshot after a replace).

Rows are read without going through Python objects one at a time, since a snapshot can
hold millions of them (measured: SQLAlchemy rows run at about 0.2 million rows/s):

- PostgreSQL: ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``; runs of rows are parsed by
  pyarrow's CSV reader. The COPY protocol sends one message per row and psycopg hands
  each to Python (about 1 µs a row): that, not parsing, bounds this reader;
- SQLite: chunks of rows in rowid order, each formatted by SQLite itself as one text of
  SQL-quoted values (``quote()``, ``group_concat``) and parsed by pyarrow's CSV reader.
  A chunk holds at most ``batch_rows`` rows and about ``CHUNK_BYTES`` bytes.

Both run inside the caller's (read-only) transaction, so a snapshot is consistent. The
rows come in storage order, not sorted.

Where an ADBC driver is installed (``adbc-driver-sqlite``, ``adbc-driver-postgresql``),
``read_batches`` reads through it instead, straight into Arrow record batches, several
times faster (decision 0011): on a connection of its own, opened for the snapshot, read
only, with one ``SELECT`` (itself a consistent snapshot) and closed when the stream
ends or is closed. The readers above remain the fallback (no driver, an in-memory
SQLite database) and give the same values.

A snapshot runs as a pipeline (decision 0014): the ADBC read on a thread of its own,
the masking and the format's writer on another, each a bounded number of batches ahead
of the next stage, so the database read, the masking and the HTTP send overlap.

Modules: ``plan`` (plan and stream a snapshot), ``read`` (``read_batches``), ``adbc``
and ``sql`` (the readers), ``ahead`` (a stage on a thread of its own, decision 0014).
"""

from hutong.gateway.service.bulk.adbc import AdbcSource, adbc_source
from hutong.gateway.service.bulk.ahead import read_ahead
from hutong.gateway.service.bulk.plan import BulkPlan, plan_bulk, stream_bulk
from hutong.gateway.service.bulk.read import Reader, read_batches

__all__ = [
    "AdbcSource",
    "BulkPlan",
    "Reader",
    "adbc_source",
    "plan_bulk",
    "read_ahead",
    "read_batches",
    "stream_bulk",
]
