"""Test fixtures: a fresh, migrated database per test on SQLite or PostgreSQL.

``HUTONG_TEST_DB=postgresql`` with ``HUTONG_TEST_PG_URL`` (an admin URL of a throw-away
server, started by ``make test``) runs the suite on PostgreSQL; otherwise SQLite.
Each test gets its own database, cloned from a migrated template, so tests run in
parallel (pytest-xdist) and start clean.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hutong.core.database import Database
from hutong.core.migrate import upgrade
from hutong.core.settings import Settings

BACKEND = os.environ.get("HUTONG_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("HUTONG_TEST_PG_URL", "")
# many apps are made in one test process, where a frozen object would never be freed
# (tests/core/test_app_start.py checks the freeze in a process of its own)
os.environ.setdefault("HUTONG_GC_FREEZE", "false")


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def _pg_admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A migrated template database: a file for SQLite, a template database for PostgreSQL."""
    if BACKEND == "postgresql":
        if not PG_ADMIN_URL:
            pytest.exit("HUTONG_TEST_DB=postgresql needs HUTONG_TEST_PG_URL", returncode=2)
        name = f"hutong_tpl_{worker_id}_{uuid.uuid4().hex[:6]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        db = Database(_pg_url(name))
        upgrade(db.engine)
        db.dispose()
        yield name
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db.engine)
        db.dispose()
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        yield str(path)


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL for one test, cloned from the template."""
    if BACKEND == "postgresql":
        name = f"hutong_t_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield _pg_url(name)
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "hutong.db"
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    # no background checkpointer: tests sign checkpoints when they mean to; no audit keeper
    # process per app (tests/audit/test_keeper.py and the live servers use one)
    return Settings(
        audit_keeper=False,
        gc_freeze=False,
        home=home,
        database_url=database_url,
        log_json=True,
        max_upload_bytes=5 * 1024 * 1024,
        audit_checkpoint_seconds=0,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """A fresh migrated database with no node yet."""
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def db(database: Database, settings: Settings) -> Database:
    """A fresh database with the local node 'sh' initialized."""
    from hutong.identity import service as identity_service
    from hutong.identity.schemas import NodeInit

    with database.session_scope() as session:
        identity_service.init_node(session=session, keys_dir=settings.keys_dir, data=NodeInit())
    return database


@pytest.fixture
def node(db: Database) -> str:
    return "sh"


@pytest.fixture
def app(settings: Settings, db: Database, node: str):  # type: ignore[no-untyped-def]
    from hutong.app import create_app

    return create_app(settings, database=db)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c
