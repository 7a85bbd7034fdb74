"""A bulk snapshot of a million rows streams through the gateway in bounded memory."""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import resource
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from hutong.core.clock import utcnow
from hutong.core.security import SYSTEM
from hutong.datastore import service as datastore_service
from hutong.sharing.models import Grant, Scenario
from tests.factories import make_app_key, make_org, make_resource

ROWS = 1_000_000
MAX_GROWTH_BYTES = 300 * 1024 * 1024


class _Chunks(io.RawIOBase):
    """A readable file over an iterator of byte chunks (the streamed response body)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _rss() -> int:
    """Resident memory now (Linux /proc), else the peak so far (getrusage, KiB)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM), where Linux allows it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _people(path: Path) -> None:
    seq = pa.array(range(ROWS), pa.int64())
    table = pa.table(
        {
            "resident_id": pc.binary_join_element_wise(
                "3101", pc.utf8_lpad(pc.cast(seq, pa.string()), 14, "0"), ""
            ),
            "name": pc.binary_join_element_wise(
                "张", pc.cast(pc.bit_wise_and(seq, 1023), pa.string()), ""
            ),
            "birth_date": pc.cast(pc.cast(pc.bit_wise_and(seq, 16383), pa.int32()), pa.date32()),
            "children": pc.bit_wise_and(seq, 3),
        }
    )
    pq.write_table(table, path)


@pytest.mark.slow
def test_bulk_export_of_a_million_rows_streams_in_bounded_memory(client, db, tmp_path):
    provider = make_org(db, name="上海市公安局")
    res = make_resource(db, provider_id=provider)
    source = tmp_path / "people.parquet"
    _people(source)
    with db.session_scope() as s:
        loaded = datastore_service.ingest_file(
            session=s, actor=SYSTEM, resource_ref=res.id, path=source
        )
    assert loaded.rows == ROWS
    source.unlink()

    consumer = make_org(db, name="上海市民政局")
    key = make_app_key(db, org_id=consumer)
    scenario = str(uuid.uuid4())
    today = utcnow().date()
    with db.session_scope() as s:
        s.add(
            Scenario(
                id=scenario,
                organization_id=consumer,
                name="区级库表同步",
                purpose="向区大数据中心同步人口基础信息",
                legal_basis="《上海市数据条例》",
                valid_from=today,
                valid_until=today + dt.timedelta(days=1),
                created_at=utcnow(),
            )
        )
        s.flush()
        s.add(
            Grant(
                id=str(uuid.uuid4()),
                consumer_org_id=consumer,
                scenario_id=scenario,
                resource_id=res.id,
                provider_org_id=provider,
                fields={
                    "resident_id": "masked",
                    "name": "masked",
                    "birth_date": "clear",
                    "children": "clear",
                },
                call_types=["bulk"],
                daily_quota=10,
                expires_on=today,
                created_at=utcnow(),
            )
        )

    gc.collect()
    baseline = _rss()
    peak = baseline
    exact_peak = _reset_peak()
    rows = 0
    started = time.perf_counter()
    with client.stream(
        "GET",
        f"/gateway/v1/resources/{res.id}/bulk",
        params={"format": "arrow"},
        headers={"Authorization": f"Bearer {key}", "X-Hutong-Scenario": scenario},
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-hutong-records"] == str(ROWS)
        reader = ipc.open_stream(io.BufferedReader(_Chunks(response.iter_bytes()), 1 << 20))
        for batch in reader:
            if rows == 0:
                first = batch.column("resident_id")[0].as_py()
                assert first[:6] == "310100" and first[6:14] == "********"
                assert batch.column("name")[0].as_py().startswith("张")
            rows += batch.num_rows
            peak = max(peak, _rss())
    elapsed = time.perf_counter() - started
    kernel_peak = _peak() if exact_peak else None
    if kernel_peak is not None:
        peak = max(peak, kernel_peak)
    growth = peak - baseline
    print(
        f"\nbulk masked Arrow IPC over HTTP: {rows} rows in {elapsed:.2f} s = "
        f"{rows / elapsed:,.0f} rows/s; peak RSS growth {growth / 2**20:.1f} MiB"
    )
    assert rows == ROWS
    assert growth < MAX_GROWTH_BYTES, f"peak RSS grew by {growth / 2**20:.0f} MiB"
