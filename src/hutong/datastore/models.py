"""ORM models of the datastore: ingest batches (for idempotence and reports)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import UTCDateTime


class IngestBatch(Base):
    """A loaded batch; the same file (by SHA-256) sent again is a no-op (see decision 0003)."""

    __tablename__ = "ingest_batch"
    __table_args__ = (Index("ix_ingest_batch_resource_sha", "resource_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    format: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str] = mapped_column(String(16), default="")
    rows: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(16), default="upsert")
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
