"""Archiving a past month to Parquet keeps entries readable and every proof verifiable."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select

from hutong.audit import archive, checkpoints, verify
from hutong.audit import service as audit_service
from hutong.audit.entry import AuditEvent
from hutong.audit.merkle import verify_inclusion
from hutong.audit.models import AuditEntry
from hutong.audit.note import open_note, parse_checkpoint
from hutong.core.errors import Invalid
from hutong.core.security import Role
from tests.factories import make_org, make_user

OCTOBER = dt.datetime(2026, 10, 15, 8, 0, tzinfo=dt.UTC)


def _events(n: int, when: dt.datetime | None, org: str) -> list[AuditEvent]:
    return [AuditEvent(action="data.query", actor_org=org, records=i, time=when) for i in range(n)]


def test_archive_a_month(db, settings, tmp_path):
    org = "sh:113100000000000191"  # the October entries come first in the log
    with db.session_scope() as s:
        audit_service.record_many(session=s, events=_events(40, OCTOBER, org))
    with pytest.raises(Invalid), db.session_scope() as s:  # no checkpoint covers them yet
        archive.archive_month(session=s, home=settings.home, month="2026-10")
    with db.session_scope() as s:
        checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    auditor = make_user(db, roles=[Role.auditor], org_id=make_org(db))  # entries of this month
    with db.session_scope() as s:
        cp, _ = checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    with db.session_scope() as s:
        before = audit_service.get_entry(session=s, actor=auditor, leaf_index=20)
    with db.session_scope() as s:
        rec = archive.archive_month(session=s, home=settings.home, month="2026-10")
    assert (rec.first_index, rec.end_index) == (0, 40) and (settings.home / rec.path).exists()
    with db.session_scope() as s:
        archived = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.payload.is_(None))
        )
    assert archived == rec.end_index - rec.first_index
    with db.session_scope() as s:
        after = audit_service.get_entry(session=s, actor=auditor, leaf_index=20, home=settings.home)
        proof = checkpoints.prove_inclusion(session=s, leaf_index=20)
        vkey = checkpoints.public_verifier_key(session=s, keys_dir=settings.keys_dir)
    assert after.entry == before.entry
    head = parse_checkpoint(open_note(proof.checkpoint, [vkey])[0])
    assert verify_inclusion(
        base64.b64decode(proof.leaf_hash),
        20,
        proof.tree_size,
        [base64.b64decode(p) for p in proof.proof],
        head.root,
    )
    for workers in (1, 2):  # one process, and blocks in worker processes
        with db.session_scope(readonly=True) as s:
            report = verify.verify_database(
                session=s, keys_dir=settings.keys_dir, home=settings.home, workers=workers
            )
        assert report.ok and report.entries == cp.tree_size
    export = tmp_path / "e.jsonl"
    with db.session_scope(readonly=True) as s, export.open("w", encoding="utf-8") as fh:
        verify.export_jsonl(session=s, keys_dir=settings.keys_dir, out=fh)
    assert verify.verify_export(export, vkey).ok
    # an archived month is not archived twice; the current month cannot be archived
    with pytest.raises(Invalid), db.session_scope() as s:
        archive.archive_month(session=s, home=settings.home, month="2026-10")
    this_month = dt.date.today().strftime("%Y-%m")
    with pytest.raises(Invalid), db.session_scope() as s:
        archive.archive_month(session=s, home=settings.home, month=this_month)
    with pytest.raises(Invalid), db.session_scope() as s:
        archive.archive_month(session=s, home=settings.home, month="October")


def test_a_damaged_archive_fails_verification(db, settings):
    org = "sh:113100000000000191"
    with db.session_scope() as s:
        audit_service.record_many(session=s, events=_events(10, OCTOBER, org))
        checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    with db.session_scope() as s:
        rec = archive.archive_month(session=s, home=settings.home, month="2026-10")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = settings.home / rec.path
    table = pq.read_table(path)
    payloads = table.column("payload").to_pylist()
    payloads[3] = payloads[3].replace(b'"records":3', b'"records":9')
    archive._open.cache_clear()
    pq.write_table(table.set_column(1, "payload", pa.array(payloads, pa.binary())), path)
    for workers in (1, 2):
        with db.session_scope(readonly=True) as s:
            report = verify.verify_database(
                session=s, keys_dir=settings.keys_dir, home=settings.home, workers=workers
            )
        assert not report.ok and report.bad_entry == 3
