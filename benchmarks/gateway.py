"""The gateway under load: authorized, masked and audited key lookups on a 1,000,000-row
hosted table, beside a bare Starlette hello world served the same way, in the same run.

Both servers are uvicorn processes started alike (same options, same worker count) on
127.0.0.1 and loaded by ``wrk`` (installed with apt-get when missing) for a fixed time
after a warm-up. The gateway calls are ``GET /gateway/v1/resources/{id}/records/{key}``
with an app's API key and a scenario header, each for a random existing key (a wrk Lua
script draws them); each call checks the grant, meters the rate limit and the daily
quota, masks two personal-information fields and writes its audit entry durably before
answering. Goals (issue 4): at least 0.4x the hello world's requests/s, p99 at most
20 ms. Then a bulk masked snapshot of the whole table as Arrow IPC over HTTP, in rows/s
(goal 2,500,000 rows/s).

``HUTONG_BENCH_QUICK=1``: shorter load runs (for trying a change, or a busy machine).
``HUTONG_BENCH_GATEWAY_PARTS=bulk`` (or ``lookup``): only that part; both by default.
Every run is bounded in time; only processes started here are stopped, by their id.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from benchmarks.common import fresh_database, pg_admin_url
from hutong.catalog import service as catalog_service
from hutong.catalog.schemas import ResourceCreate
from hutong.core.clock import utcnow
from hutong.core.database import Database
from hutong.core.security import SYSTEM
from hutong.datastore import service as datastore_service
from hutong.identity import service as identity_service
from hutong.identity.schemas import AppCreate, OrganizationCreate
from hutong.sharing.models import Grant, Scenario

QUICK = os.environ.get("HUTONG_BENCH_QUICK", "") not in ("", "0")
ROWS = 1_000_000
WORKERS = int(
    os.environ.get("HUTONG_BENCH_WORKERS", os.cpu_count() or 1)
)  # uvicorn workers, both servers
# wrk keep-alive connections. A lookup answers only after its audit entry is durable, so
# each connection waits for a group commit (a WAL sync, about 4 ms here): N connections
# cannot pass N / commit time requests/s, whatever the CPU. 64 lets the gateway reach its
# goal rate at all; the hello world is loaded with the same 64.
CONNECTIONS = int(os.environ.get("HUTONG_BENCH_CONNECTIONS", "64"))
WRK_THREADS = 1
WARMUP_S = 2 if QUICK else 5
LOAD_S = 5 if QUICK else 20
BULK_RUNS = 1 if QUICK else 2
PARTS = set(os.environ.get("HUTONG_BENCH_GATEWAY_PARTS", "lookup,bulk").split(","))
START_TIMEOUT_S = 60
BULK_TIMEOUT_S = 300
GOAL_RATIO = 0.4
GOAL_P99_MS = 20.0
GOAL_BULK = 2_500_000
PROVIDER = "11310000MB2F1A0274"
CONSUMER = "1131000000004242X4"
ROOT = Path(__file__).resolve().parent.parent
FIELDS = [
    {"name": "resident_id", "label": "公民身份号码", "key": True, "pi_category": "resident_id"},
    {"name": "name", "label": "姓名", "pi_category": "name"},
    {"name": "birth_date", "label": "出生日期", "type": "date"},
    {"name": "children", "label": "子女数", "type": "integer"},
]

# wrk's script: a random existing key per request; one machine-readable line at the end
LUA = """
local rows = {rows}
local prefix = "{prefix}"
local counter = 0
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["X-Hutong-Scenario"] = "{scenario}"

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() * 100 + id)
end

function request()
  if rows == 0 then
    return wrk.format("GET", prefix)
  end
  return wrk.format("GET", prefix .. string.format("3101%014d", math.random(0, rows - 1)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50),
    latency:percentile(99), latency.max))
end
"""


def hello_app() -> Starlette:
    """The baseline: a bare Starlette app with one JSON endpoint."""

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    return Starlette(routes=[Route("/hello", hello)])


def resident_id(seq: int) -> str:
    return f"3101{seq:014d}"


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


def _world(db: Database, workdir: Path) -> dict[str, str]:
    """The provider's hosted table of ROWS people, and a consumer's app, scenario and grant."""
    with db.session_scope() as s:
        for uscc, name, short in (
            (PROVIDER, "上海市公安局", "police"),
            (CONSUMER, "上海市民政局", "civil"),
        ):
            identity_service.create_organization(
                session=s, data=OrganizationCreate(uscc=uscc, name=name, short_name=short)
            )
        resource = catalog_service.create(
            session=s,
            actor=SYSTEM,
            data=ResourceCreate.model_validate(
                {
                    "code": "101001-00001",
                    "name": "人口基本信息",
                    "classification": "101001",
                    "abstract": "基准测试",
                    "provider": PROVIDER,
                    "fields": FIELDS,
                    "sharing": {
                        "type": "conditional",
                        "reason": "含个人信息",
                        "legal_basis": "《上海市数据条例》",
                    },
                    "opening": {
                        "type": "closed",
                        "reason": "个人信息",
                        "legal_basis": "《个人信息保护法》",
                    },
                    "hosted": True,
                }
            ),
        )
    source = workdir / "people.parquet"
    _people(source)
    with db.session_scope() as s:
        datastore_service.ingest_file(
            session=s, actor=SYSTEM, resource_ref=resource.id, path=source
        )
    source.unlink()
    consumer = f"sh:{CONSUMER}"
    today = utcnow().date()
    scenario = str(uuid.uuid4())
    with db.session_scope() as s:
        key = identity_service.create_app(
            session=s,
            actor=SYSTEM,
            data=AppCreate(name="社会救助系统", organization=consumer),
            key_prefix="ht_",
        ).api_key
        s.add(
            Scenario(
                id=scenario,
                organization_id=consumer,
                name="最低生活保障资格核查",
                purpose="核对低保申请人的户籍信息",
                legal_basis="《社会救助暂行办法》",
                valid_from=today,
                valid_until=today + dt.timedelta(days=30),
                created_at=utcnow(),
            )
        )
        s.flush()
        s.add(
            Grant(
                id=str(uuid.uuid4()),
                consumer_org_id=consumer,
                scenario_id=scenario,
                resource_id=resource.id,
                provider_org_id=resource.provider_id,
                fields={
                    "resident_id": "masked",
                    "name": "masked",
                    "birth_date": "clear",
                    "children": "clear",
                },
                call_types=["query", "bulk"],
                daily_quota=10**9,
                expires_on=today + dt.timedelta(days=30),
                created_at=utcnow(),
            )
        )
    return {"resource": resource.id, "key": key, "scenario": scenario}


# processes --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One uvicorn process group on 127.0.0.1; stopped by its own id, always."""

    def __init__(self, app: str, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(WORKERS),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        path = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                env={**os.environ, **env, "PYTHONPATH": path},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the workers stop with it
            )
        self.log = log

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not ready in {START_TIMEOUT_S} s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and every process under it
        (its process group: workers, and the workers' bulk readers and their fork servers,
        live or ended: an ended one's time is in its parent's children's times)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.proc.pid:  # the process group the server leads
                total += sum(int(f) for f in fields[11:15]) / tick
        return total

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


def ensure_wrk() -> str:
    """The wrk binary, installed from the distribution's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, timeout=600)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def _wrk(wrk: str, url: str, script: Path, seconds: int) -> dict[str, float]:
    result = subprocess.run(
        [
            wrk,
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    requests, duration_us, status_errors, socket_errors, p50, p99, worst = map(
        int, line.split()[1:]
    )
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": worst / 1000,
        "errors": status_errors + socket_errors,
    }


def _load(wrk: str, server: Server, script: Path) -> dict[str, float]:
    """A warm-up, then the measured run; with the server's CPU time per request."""
    _wrk(wrk, server.url, script, WARMUP_S)
    cpu = server.cpu_seconds()
    result = _wrk(wrk, server.url, script, LOAD_S)
    result["cpu_ms"] = (server.cpu_seconds() - cpu) * 1000 / max(1, result["requests"])
    return result


class _Chunks(io.RawIOBase):
    """A readable file over the streamed response body."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _bulk(server: Server, world: dict[str, str]) -> dict[str, float]:
    """One masked Arrow IPC snapshot of the whole table, read to the last batch: rows/s,
    and the CPU seconds per million rows of the server and of this client."""
    headers = {"Authorization": f"Bearer {world['key']}", "X-Hutong-Scenario": world["scenario"]}
    rows = 0
    # made before the clock starts: making an httpx client (its TLS context) takes 30-55 ms
    client = httpx.Client(timeout=BULK_TIMEOUT_S)
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    with (
        client,
        client.stream(
            "GET",
            f"{server.url}/gateway/v1/resources/{world['resource']}/bulk",
            params={"format": "arrow"},
            headers=headers,
        ) as response,
    ):
        response.raise_for_status()
        reader = ipc.open_stream(io.BufferedReader(_Chunks(response.iter_bytes()), 1 << 20))
        for batch in reader:
            if rows == 0:
                assert batch.column("resident_id")[0].as_py()[6:14] == "********"
            rows += batch.num_rows
    elapsed = time.perf_counter() - started
    if rows != ROWS:
        raise RuntimeError(f"bulk snapshot gave {rows} rows, not {ROWS}")
    return {
        "rps": rows / elapsed,
        "server_cpu_s": (server.cpu_seconds() - server_cpu) * 1e6 / rows,
        "client_cpu_s": (time.process_time() - client_cpu) * 1e6 / rows,
    }


def _backend(kind: str, workdir: Path, wrk: str, hello: dict[str, float] | None) -> dict[str, Any]:
    name = "bench_gateway"
    db = fresh_database(kind, workdir, name)
    url_db = db.url
    started = time.perf_counter()
    world = _world(db, workdir)
    build_s = time.perf_counter() - started
    db.dispose()
    home = workdir / f"home-{kind}"
    home.mkdir()
    shutil.copytree(workdir / f"keys-{name}", home / "keys")
    env = {
        "HUTONG_HOME": str(home),
        "HUTONG_DATABASE_URL": url_db,
        "HUTONG_LOG_LEVEL": "WARNING",
        "HUTONG_GATEWAY_RATE_PER_SECOND": "1000000",
        "HUTONG_GATEWAY_RATE_BURST": "1000000",
    }
    server = Server("hutong.app:create_app", env, workdir / f"gateway-{kind}.log")
    try:
        server.wait("/healthz")
        prefix = f"/gateway/v1/resources/{world['resource']}/records/"
        check = httpx.get(
            server.url + prefix + resident_id(4242),
            headers={
                "Authorization": f"Bearer {world['key']}",
                "X-Hutong-Scenario": world["scenario"],
            },
            timeout=10,
        )
        record = check.json()["record"]
        if check.status_code != 200 or "*" not in record["resident_id"] + record["name"]:
            raise RuntimeError(f"the gateway answered {check.status_code}: {check.text[:300]}")
        result: dict[str, Any] = {
            "backend": "SQLite" if kind == "sqlite" else "PostgreSQL",
            "build_s": build_s,
        }
        if hello is not None:
            script = workdir / "lookup.lua"
            script.write_text(
                LUA.format(rows=ROWS, prefix=prefix, key=world["key"], scenario=world["scenario"])
            )
            gateway = _load(wrk, server, script)
            result.update(hello=hello, gateway=gateway, ratio=gateway["rps"] / hello["rps"])
        if "bulk" in PARTS:
            runs = [_bulk(server, world) for _ in range(BULK_RUNS)]
            result["bulk"] = max(runs, key=lambda run: run["rps"])
            result["bulk_rps"] = result["bulk"]["rps"]
    finally:
        server.stop()
    return result


def _hello(workdir: Path, wrk: str) -> dict[str, float]:
    server = Server("benchmarks.gateway:hello_app", {}, workdir / "hello.log")
    try:
        server.wait("/hello")
        script = workdir / "hello.lua"
        script.write_text(LUA.format(rows=0, prefix="/hello", key="-", scenario="-"))
        return _load(wrk, server, script)
    finally:
        server.stop()


def bench(workdir: Path) -> list[dict[str, Any]]:
    """Hello world and the gateway on SQLite (and PostgreSQL with HUTONG_TEST_PG_URL)."""
    lookups = "lookup" in PARTS
    wrk = ensure_wrk() if lookups else ""
    kinds = ["sqlite"] + (["postgresql"] if pg_admin_url() else [])
    results = []
    for kind in kinds:
        # measured next to each backend's run: same conditions
        hello = _hello(workdir, wrk) if lookups else None
        results.append(_backend(kind, workdir, wrk, hello))
    return results


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hutong-bench-") as tmp:
        print(json.dumps(bench(Path(tmp)), indent=1))
