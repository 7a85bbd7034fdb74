"""Exports: CSV a spreadsheet cannot run, Parquet and Arrow streams that round-trip."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from hutong.datastore.export import (
    neutralize_batch,
    write_arrow_stream,
    write_csv,
    write_parquet,
)

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("note", pa.string()),
        pa.field("amount", pa.decimal128(38, 10)),
        pa.field("born", pa.date32()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("ok", pa.bool_()),
    ]
)


def make_batches(count: int, rows: int) -> Iterator[pa.RecordBatch]:
    """A generator, so the writers cannot look at all batches at once."""
    for b in range(count):
        start = b * rows
        yield pa.RecordBatch.from_pylist(
            [
                {
                    "id": start + i,
                    "note": f"第{start + i}行",
                    "amount": Decimal(f"{start + i}.25"),
                    "born": dt.date(2000, 1, 1) + dt.timedelta(days=start + i),
                    "at": dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
                    "ok": (start + i) % 2 == 0,
                }
                for i in range(rows)
            ],
            schema=SCHEMA,
        )


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_formula_cells_are_neutralized_and_numbers_left_alone() -> None:
    notes = [
        "=1+1",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1",
        "\r=1",
        "-12",
        "+3.5",
        "-1e5",
        "plain = text",
        None,
    ]
    table = pa.table({"note": notes, "n": pa.array([-12] * len(notes), pa.int64())})
    out = io.BytesIO()
    assert write_csv([table], out) == len(notes)
    rows = csv_rows(out.getvalue())
    assert rows[0] == ["note", "n"]
    assert [row[0] for row in rows[1:]] == [
        "'=1+1",
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1:A9)",
        "'\t=1",
        "'\r=1",
        "-12",
        "+3.5",
        "-1e5",
        "plain = text",
        "",
    ]
    assert {row[1] for row in rows[1:]} == {"-12"}  # an integer column is never touched


def test_neutralize_batch_keeps_the_schema() -> None:
    batch = pa.RecordBatch.from_pylist([{"note": "=HYPERLINK()", "n": -1}])
    result = neutralize_batch(batch)
    assert result.schema == batch.schema
    assert result.to_pylist() == [{"note": "'=HYPERLINK()", "n": -1}]


def test_csv_streams_many_batches_with_one_header_and_readable_values() -> None:
    out = io.BytesIO()
    assert write_csv(make_batches(3, 4), out, bom=True) == 12
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(data)
    assert rows[0] == ["id", "note", "amount", "born", "at", "ok"]
    assert len(rows) == 13
    assert rows[1][:4] == ["0", "第0行", "0.25", "2000-01-01"]
    assert rows[1][5] == "true"
    assert rows[12][2] == "11.25"  # decimals without trailing zeros


def test_csv_of_no_batches_writes_the_header_from_the_schema() -> None:
    out = io.BytesIO()
    assert write_csv([], out, schema=SCHEMA) == 0
    assert csv_rows(out.getvalue()) == [["id", "note", "amount", "born", "at", "ok"]]


def test_parquet_round_trip() -> None:
    out = io.BytesIO()
    assert write_parquet(make_batches(3, 5), out, SCHEMA) == 15
    table = pq.read_table(io.BytesIO(out.getvalue()))
    expected = pa.Table.from_batches(list(make_batches(3, 5)))
    assert table.schema.equals(SCHEMA)
    assert table.equals(expected)
    assert not out.closed


def test_arrow_stream_round_trip_and_tables_are_accepted() -> None:
    out = io.BytesIO()
    items = [pa.Table.from_batches([b]) for b in make_batches(2, 3)]
    assert write_arrow_stream(iter(items), out, SCHEMA) == 6
    reader = pa.ipc.open_stream(out.getvalue())
    assert reader.schema.equals(SCHEMA)
    assert reader.read_all().equals(pa.concat_tables(items))
