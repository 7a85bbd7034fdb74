"""Crash test: SIGKILL the server under concurrent audited requests; nothing acknowledged is lost.

Every request whose success response the client received must have its audit entry
after a restart, and the log must verify.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from hutong.audit import checkpoints, verify
from hutong.audit.keeper import keeper_pid
from hutong.audit.models import AuditEntry
from hutong.core.security import SYSTEM
from hutong.datastore import service as datastore_service
from tests.factories import make_org, make_resource
from tests.live import LiveServer

pytestmark = pytest.mark.live

THREADS = 6
RUN_SECONDS = 2.0
MAX_REQUESTS_PER_THREAD = 2000


@pytest.fixture
def open_resource(db, tmp_path):
    org = make_org(db, name="上海市规划和自然资源局")
    res = make_resource(
        db,
        provider_id=org,
        name="门牌地址",
        sharing={"type": "unconditional"},
        opening={"type": "open"},
        fields=[
            {"name": "code", "label": "地址编码", "key": True},
            {"name": "address", "label": "标准地址"},
        ],
    )
    f = tmp_path / "addr.csv"
    f.write_text(
        "code,address\n" + "".join(f"{i},上海市黄浦区南京东路{i}号\n" for i in range(200)),
        encoding="utf-8",
    )
    with db.session_scope() as s:
        datastore_service.ingest_file(session=s, actor=SYSTEM, resource_ref=res.id, path=f)
    return res


def test_sigkill_loses_no_acknowledged_audit_entry(
    db, settings, database_url, tmp_path, open_resource
):
    server = LiveServer(home=settings.home, database_url=database_url, workdir=tmp_path)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            for i in range(MAX_REQUESTS_PER_THREAD):
                if stop.is_set():
                    return
                try:
                    r = http.get(
                        f"/api/v1/resources/{open_resource.id}/records/{(n * 31 + i) % 200}"
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 200:
                    with lock:
                        acknowledged.append(r.headers["x-request-id"])

    server.start()
    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(RUN_SECONDS)
        keeper = keeper_pid(database_url)
        assert keeper is not None, "the server appends through its audit keeper"
        server.kill()  # mid-flight, while requests are being audited
        os.kill(keeper, signal.SIGKILL)  # and the keeper process the server started
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acknowledged) > 20, "the load did not get going"
        server.start()  # restart: migrations, writer and checkpointer come back
        with httpx.Client(base_url=server.url, timeout=5) as http:
            r = http.get(f"/api/v1/resources/{open_resource.id}/records/7")
            assert r.status_code == 200
    finally:
        server.stop()
    with db.session_scope() as s:
        logged = set(
            s.scalars(select(AuditEntry.request_id).where(AuditEntry.request_id.in_(acknowledged)))
        )
    missing = set(acknowledged) - logged
    assert not missing, f"{len(missing)} acknowledged requests have no audit entry"
    with db.session_scope() as s:
        checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    with db.session_scope(readonly=True) as s:
        report = verify.verify_database(session=s, keys_dir=settings.keys_dir)
    assert report.ok, report.problem
    assert report.entries >= len(acknowledged)
