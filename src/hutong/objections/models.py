"""ORM models of objections (异议): the objection, its evidence files."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import JSONType, UTCDateTime


class Objection(Base):
    """An objection to fields of one record, from a consumer organization or a citizen."""

    __tablename__ = "objection"
    __table_args__ = (
        Index("ix_objection_record", "resource_id", "record_key"),
        Index("ix_objection_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resource.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    record_key: Mapped[str] = mapped_column(String(500))
    fields: Mapped[list[str]] = mapped_column(JSONType)
    proposed: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    explanation: Mapped[str] = mapped_column(Text)
    filer_kind: Mapped[str] = mapped_column(String(16))  # organization | citizen
    filer_org_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    filer_user_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    filer: Mapped[str] = mapped_column(String(100))  # actor label
    status: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_state: Mapped[str] = mapped_column(
        String(16), default=""
    )  # requested|approved|refused
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    operator_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision: Mapped[str] = mapped_column(String(24), default="")  # accepted|partly|rejected
    decision_reasons: Mapped[str] = mapped_column(Text, default="")
    corrected: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # decided after its due time
    appeal_reason: Mapped[str] = mapped_column(Text, default="")
    appeal_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    appeal_decision: Mapped[str] = mapped_column(String(24), default="")  # upheld|dismissed
    appeal_reasons: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Evidence(Base):
    """An evidence file of an objection, checked by its content and stored by its hash."""

    __tablename__ = "objection_evidence"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    objection_id: Mapped[str] = mapped_column(
        ForeignKey("objection.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
