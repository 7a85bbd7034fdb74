"""ORM models of the audit log: entries (leaves), perfect-subtree nodes, checkpoints, statistics."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import UTCDateTime

LEAF_INDEX = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One log entry: its canonical JSON bytes (hashed as a Merkle leaf) and columns to query.

    ``leaf_index`` is dense and in commit order: it is assigned under the log's write lock.
    """

    __tablename__ = "audit_entry"
    # Two secondary indexes on small integers (see AuditOrg, AuditResource): the caller's
    # organization and time; the provider, the (resource, provider) pair and time, which
    # serves the provider's view and the listing by resource (decision 0016).
    __table_args__ = (
        Index("ix_audit_entry_actor_time", "actor_no", "time"),
        Index("ix_audit_entry_provider_resource_time", "provider_no", "resource_no", "time"),
    )

    # INTEGER on SQLite makes the key the table's rowid: one B-tree fewer per append
    leaf_index: Mapped[int] = mapped_column(LEAF_INDEX, primary_key=True, autoincrement=False)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(64))
    actor_org: Mapped[str | None] = mapped_column(String(100), nullable=True)
    provider_org: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resource_id: Mapped[str | None] = mapped_column(String(140), nullable=True)
    scenario_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # None: archived
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # the numbers of actor_org, provider_org and (resource_id, provider_org); 0: none
    actor_no: Mapped[int] = mapped_column(Integer, server_default="0")
    provider_no: Mapped[int] = mapped_column(Integer, server_default="0")
    resource_no: Mapped[int] = mapped_column(Integer, server_default="0")


class AuditOrg(Base):
    """The number an organization goes by in the log's indexes (never changed or reused)."""

    __tablename__ = "audit_org"

    no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    org_id: Mapped[str] = mapped_column(String(100), unique=True)


class AuditResource(Base):
    """The number of a resource as named with a provider (0: none) in the log's entries.

    A resource named with two providers (or with and without one) has two numbers, so a
    resource's entries are found through the provider index whoever the entries named.
    """

    __tablename__ = "audit_resource"
    __table_args__ = (UniqueConstraint("resource_id", "provider_no"),)

    no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resource_id: Mapped[str] = mapped_column(String(140))
    provider_no: Mapped[int] = mapped_column(Integer)


SUBJECT_BUCKET_BITS = 16  # 65,536 entries per bucket of the subject index
SUBJECT_KEY_BYTES = 16  # the first 128 bits of the keyed HMAC


class AuditSubject(Base):
    """Which entries concern a data subject (by keyed HMAC of their identifier).

    Keyed by the entry's bucket (``leaf_index >> 16``) first: a commit inserts into the
    newest bucket's small subtree only, where the random HMAC keys of a whole log would
    dirty about one page per row; a subject's entries are found with one probe per
    bucket. The key is the first 16 bytes of the HMAC, whose whole hex form the entry's
    payload carries (decision 0016).
    """

    __tablename__ = "audit_subject"
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the row: one B-tree

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subject_key: Mapped[bytes] = mapped_column(LargeBinary(SUBJECT_KEY_BYTES), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditNode(Base):
    """The hash of a perfect subtree (level >= 1) of the log's Merkle tree."""

    __tablename__ = "audit_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed checkpoint (C2SP tlog-checkpoint signed note) of the log at a size."""

    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    note: Mapped[str] = mapped_column(Text)


class AuditStat(Base):
    """Calls and records delivered per day, node, organization, resource, scenario and action.

    Maintained as entries arrive (in the same transaction), never by scanning the log.
    """

    __tablename__ = "audit_stat"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor_org: Mapped[str] = mapped_column(String(100), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(140), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    action: Mapped[str] = mapped_column(String(64), primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditArchive(Base):
    """A range of entries whose bytes moved to a compressed Parquet file (by month)."""

    __tablename__ = "audit_archive"

    first_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    end_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    month: Mapped[str] = mapped_column(String(7))
    path: Mapped[str] = mapped_column(Text)  # relative to $HUTONG_HOME
    sha256: Mapped[str] = mapped_column(String(64))
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
