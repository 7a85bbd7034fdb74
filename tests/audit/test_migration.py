"""Migration 0011 numbers the organizations and resources of existing entries and rebuilds
the subject index; what readers find is the same before and after, and after a downgrade."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from hutong.audit import names
from hutong.audit.entry import subject_key
from hutong.audit.models import AuditEntry
from hutong.core.database import Base, Database
from hutong.core.migrate import alembic_config
from tests.conftest import BACKEND, _pg_admin, _pg_url

SECRET = b"s" * 32
P1, P2, C1 = "sh:PROVIDER1", "sh:PROVIDER2", "sh:CONSUMER1"
R1, R2 = f"{P1}:res-1", f"{P2}:res-2"
KEYS = [subject_key(f"31010119900101{n:04d}", secret=SECRET) for n in range(3)]
# (actor, provider, resource, subjects): R1 named once without its provider
ENTRIES = [
    (C1, P1, R1, [KEYS[0]]),
    (C1, P2, R2, [KEYS[0], KEYS[1]]),
    (P1, P1, R1, []),
    (None, None, None, []),
    (C1, None, R1, [KEYS[2]]),
    (P2, P2, None, []),
]


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    if BACKEND == "postgresql":
        name = f"hutong_m_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        db = Database(_pg_url(name))
        yield db
        db.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        db = Database(f"sqlite:///{tmp_path / 'old.db'}")
        yield db
        db.dispose()


def _migrate(db: Database, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config(str(db.engine.url))
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _old_rows(db: Database) -> None:
    with db.engine.begin() as conn:
        for i, (actor, provider, resource, subjects) in enumerate(ENTRIES):
            conn.execute(
                text(
                    "INSERT INTO audit_entry (leaf_index, time, action, actor_org, provider_org,"
                    " resource_id, outcome, record_count, payload, leaf_hash) VALUES"
                    " (:i, '2026-12-01 00:00:00.000000', 'data.query', :a, :p, :r, 'ok', 1,"
                    " :payload, :h)"
                ),
                {
                    "i": i,
                    "a": actor,
                    "p": provider,
                    "r": resource,
                    "payload": json.dumps({"subjects": subjects}).encode(),
                    "h": bytes(32),
                },
            )
            for key in subjects:
                conn.execute(
                    text("INSERT INTO audit_subject (subject_key, leaf_index) VALUES (:k, :i)"),
                    {"k": key, "i": i},
                )


def _found(db: Database, cond_of) -> list[int]:  # type: ignore[no-untyped-def]
    with db.session_scope(readonly=True) as s:
        return list(
            s.scalars(
                select(AuditEntry.leaf_index).where(cond_of(s)).order_by(AuditEntry.leaf_index)
            )
        )


def test_upgrade_numbers_existing_entries_and_downgrade_restores_them(empty_db):
    db = empty_db
    _migrate(db, "0010")
    _old_rows(db)
    _migrate(db, "head")

    assert _found(db, lambda s: names.by_resource(s, R1)) == [0, 2, 4]
    assert _found(db, lambda s: names.by_resource(s, R2)) == [1]
    assert _found(db, lambda s: names.by_resource(s, "sh:nobody:x")) == []
    assert _found(db, lambda s: names.by_provider(s, P1)) == [0, 2]
    assert _found(db, lambda s: names.by_provider(s, P2)) == [1, 5]
    assert _found(db, lambda s: names.by_actor(s, C1)) == [0, 1, 4]
    assert _found(db, lambda s: names.by_actor(s, P1)) == [2]
    for key, leaves in ((KEYS[0], [0, 1]), (KEYS[1], [1]), (KEYS[2], [4])):
        assert (
            _found(db, lambda s, k=key: AuditEntry.leaf_index.in_(names.subject_leaves(s, [k])))
            == leaves
        )
    with db.session_scope(readonly=True) as s:
        assert names.is_subject_of(s, KEYS[1], 1) and not names.is_subject_of(s, KEYS[1], 0)

    with db.engine.connect() as conn:  # the migrated tables are what the models make
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    audit = [d for d in diffs if "audit_" in repr(d)]
    assert audit == []

    _migrate(db, "0010", down=True)
    with db.engine.connect() as conn:
        back = conn.execute(
            text("SELECT subject_key, leaf_index FROM audit_subject ORDER BY 2, 1")
        ).all()
        indexes = conn.execute(
            text("SELECT count(*) FROM audit_entry WHERE resource_id = :r"), {"r": R1}
        ).scalar()
    assert sorted(back) == sorted((k, i) for i, e in enumerate(ENTRIES) for k in e[3])
    assert indexes == 3
    _migrate(db, "head")
    assert _found(db, lambda s: names.by_resource(s, R1)) == [0, 2, 4]


def test_numbers_of_a_rolled_back_append_are_not_kept(db):
    from hutong.audit import log
    from hutong.audit.entry import AuditEvent

    event = AuditEvent(action="data.query", actor_org="sh:NEWORG", resource=R1, provider_org=P1)
    with pytest.raises(RuntimeError), db.session_scope() as s:
        log.append(s, [event], node="sh")
        raise RuntimeError("rolled back")
    other = AuditEvent(action="data.query", actor_org="sh:OTHER", resource=R2, provider_org=P2)
    with db.session_scope() as s:
        first = log.append(s, [other], node="sh")[0]
    with db.session_scope() as s:
        second = log.append(s, [event, event], node="sh")
    assert _found(db, lambda s: names.by_actor(s, "sh:NEWORG")) == second
    assert _found(db, lambda s: names.by_resource(s, R1)) == second
    assert _found(db, lambda s: names.by_provider(s, P2)) == [first]
    with db.session_scope(readonly=True) as s:
        orgs = s.execute(text("SELECT org_id FROM audit_org ORDER BY no")).scalars().all()
    assert orgs == ["sh:OTHER", "sh:PROVIDER2", "sh:NEWORG", "sh:PROVIDER1"]
