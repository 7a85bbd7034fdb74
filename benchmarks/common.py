"""Benchmark helpers: machine facts, timing, a fresh node database."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from hutong.core.database import Database
from hutong.core.migrate import upgrade
from hutong.identity import service as identity_service
from hutong.identity.schemas import NodeInit


def machine() -> str:
    """One line naming the machine the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores {cpu}{mem}, Python {platform.python_version()}"


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    """The fastest of ``runs`` timed calls, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pg_admin_url() -> str | None:
    return os.environ.get("HUTONG_TEST_PG_URL")


def fresh_database(kind: str, workdir: Path, name: str) -> Database:
    """A migrated database with node 'sh': a SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = pg_admin_url()
        assert admin, "PostgreSQL benchmarks need HUTONG_TEST_PG_URL (make bench starts one)"
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    upgrade(db.engine)
    with db.session_scope() as session:
        identity_service.init_node(
            session=session, keys_dir=workdir / f"keys-{name}", data=NodeInit()
        )
    return db


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0 or "Error" in result.stderr:
        raise RuntimeError(f"{cmd[0]} failed: {result.stderr.strip()[:500]}")
    return result
