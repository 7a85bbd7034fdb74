"""The checkpointer thread signs checkpoints while entries arrive, and one more at stop."""

from __future__ import annotations

import time

from hutong.audit import checkpoints
from hutong.audit.checkpoints import Checkpointer
from hutong.audit.entry import AuditEvent
from hutong.audit.writer import AuditWriter


def test_checkpointer_follows_the_writer(db, settings):
    settings.audit_checkpoint_seconds = 0.1
    writer = AuditWriter(db, node=None)
    checkpointer = Checkpointer(db, settings)
    checkpointer.start()
    try:
        futures = [writer.submit([AuditEvent(action="data.query", records=i)]) for i in range(50)]
        indexes = sorted(i for f in futures for i in f.result(timeout=30))
        assert indexes == list(range(50))
        deadline = time.monotonic() + 10
        size = 0
        while time.monotonic() < deadline and size < 50:
            with db.session_scope() as s:
                cp = checkpoints.latest(s)
                size = cp.tree_size if cp else 0
            time.sleep(0.05)
        assert size == 50
        writer.write([AuditEvent(action="data.query")])
    finally:
        writer.stop()
        checkpointer.stop()
    with db.session_scope() as s:
        assert checkpoints.latest(s).tree_size == 51  # the last checkpoint at stop
