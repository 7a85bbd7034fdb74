"""Verification by blocks in worker processes agrees with the one-process verification."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from hutong.audit import checkpoints, log, verify
from hutong.audit.entry import AuditEvent
from hutong.audit.verify_blocks import verify_blocks, worker_target

SIZES = [1, 15, 16, 17, 100, 512, 1000]


@pytest.fixture
def built(db, settings):
    made = 0
    for size in SIZES:
        with db.session_scope() as s:
            events = [AuditEvent(action="data.query", records=i) for i in range(made, size)]
            log.append(s, events, node="sh")
        made = size
        with db.session_scope() as s:
            checkpoints.checkpoint_now(s, keys_dir=settings.keys_dir)
    return db


def _both(db, settings):
    """The one-process report and the by-block report (blocks of 16, two workers)."""
    with db.session_scope(readonly=True) as s:
        serial = verify.verify_database(session=s, keys_dir=settings.keys_dir)
        vkey = verify.node_vkey(session=s, keys_dir=settings.keys_dir)
        cps = [
            (int(a), bytes(b), c)
            for a, b, c in s.execute(
                text("SELECT tree_size, root_hash, note FROM audit_checkpoint")
            )
        ]
        target = worker_target(s)
        assert target is not None
        blocks = verify_blocks(s, settings.home, target, cps, vkey, 2, None, block_level=4)
        whole = verify.verify_database(session=s, keys_dir=settings.keys_dir, workers=2)
    return serial, blocks, whole


def test_a_sound_log_verifies_by_blocks(built, settings):
    serial, blocks, whole = _both(built, settings)
    for report in (serial, blocks, whole):
        assert report.ok, report.problem
        assert (report.entries, report.checkpoints) == (1000, len(SIZES))


def test_one_altered_byte_is_named_by_blocks(built, settings):
    with built.session_scope() as s:
        old = s.scalar(text("SELECT payload FROM audit_entry WHERE leaf_index = 333"))
        new = bytes(old).replace(b'"records":333', b'"records":334')
        assert new != bytes(old)
        s.execute(text("UPDATE audit_entry SET payload = :p WHERE leaf_index = 333"), {"p": new})
    for report in _both(built, settings):
        assert not report.ok and report.bad_entry == 333, report.problem


def test_a_removed_entry_is_a_gap(built, settings):
    with built.session_scope() as s:
        s.execute(text("DELETE FROM audit_entry WHERE leaf_index = 500"))
    for report in _both(built, settings):
        assert not report.ok and report.bad_entry == 500 and "gap" in report.problem


def test_a_rewritten_entry_breaks_the_next_checkpoint(built, settings):
    """Bytes and leaf hash changed together: the first checkpoint after it no longer holds."""
    with built.session_scope() as s:
        s.execute(
            text("UPDATE audit_entry SET payload = :p, leaf_hash = :h WHERE leaf_index = 50"),
            {"p": b'{"forged":1}', "h": hashlib.sha256(b'\x00{"forged":1}').digest()},
        )
    for report in _both(built, settings):
        assert not report.ok and report.bad_checkpoint == 100, report.problem
