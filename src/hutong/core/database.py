"""SQLAlchemy 2 engine, declarative base with a naming convention, and session scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of all control tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SYNCHRONOUS = ("FULL", "NORMAL")
WAL_AUTOCHECKPOINT_PAGES = 10_000  # 40 MB of 4 KiB pages
POOL_SIZE = 45  # defaults of HUTONG_DB_POOL_SIZE and HUTONG_DB_MAX_OVERFLOW
MAX_OVERFLOW = 20


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, synchronous: str = "FULL") -> None:
    # WAL lets readers run beside the single writer; busy_timeout waits instead of failing.
    # synchronous=FULL syncs the WAL at every commit, so a committed audit entry survives a
    # power loss too (group commit shares that cost); NORMAL survives process crashes only.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # The audit checkpointer copies the WAL into the database file in its own thread every
    # second (PASSIVE, see wal_checkpoint); a commit copies it only past this many pages,
    # so the copying and its sync rarely fall on a request's commit.
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.close()


def wal_checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds into the SQLite file without waiting for anyone (PASSIVE)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            # on the driver's connection: SQLAlchemy would BEGIN first, and a checkpoint
            # cannot run inside a transaction
            raw = conn.connection.driver_connection
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]


def _sqlite_begin(conn: Any) -> None:
    # A writing transaction takes the write lock at BEGIN (Datasette's habit), so two writers
    # never deadlock half-way; a read-only one begins deferred and never blocks anyone (WAL).
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    synchronous: str = "FULL",
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
) -> Engine:
    """Create the engine: SQLite in WAL mode with immediate transactions, or PostgreSQL.

    The pool must hold a connection for every request thread and background thread at
    once: a request waiting for a connection while the audit writer waits for one too
    would stall both until the pool's timeout.
    """
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}")
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        event.listen(engine, "connect", lambda c, r: _sqlite_pragmas(c, r, synchronous=synchronous))

        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
    )


class Database:
    """An engine and its session factory."""

    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "FULL",
        pool_size: int = POOL_SIZE,
        max_overflow: int = MAX_OVERFLOW,
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, synchronous=synchronous, pool_size=pool_size, max_overflow=max_overflow
        )
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session_scope(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: commit on success, roll back on error.

        ``readonly`` begins a SQLite transaction deferred (no write lock); a write in it
        still works but may wait for the lock.
        """
        with self.sessionmaker() as session, session.begin():
            if readonly and self.dialect == "sqlite":
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
