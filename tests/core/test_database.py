"""The database layer: SQLite read transactions do not block writers; migrations are idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hutong.core.migrate import upgrade


def test_readonly_transaction_does_not_take_the_write_lock(db, backend):
    if backend != "sqlite":
        pytest.skip("a SQLite locking property")
    with db.session_scope(readonly=True) as reader:
        reader.execute(text("SELECT count(*) FROM organization")).scalar()
        # a writer gets the lock at once while the reader's transaction is open
        with db.session_scope() as writer:
            writer.execute(text("UPDATE node SET name = name"))


def test_migrations_are_idempotent(db):
    upgrade(db.engine)
    with db.session_scope() as s:
        assert s.execute(text("SELECT count(*) FROM node")).scalar() == 1


def test_failed_unit_of_work_leaves_nothing(db):
    with pytest.raises(RuntimeError), db.session_scope() as s:
        s.execute(text("UPDATE node SET name = 'changed'"))
        raise RuntimeError("boom")
    with db.session_scope() as s:
        assert s.execute(text("SELECT name FROM node")).scalar() != "changed"
