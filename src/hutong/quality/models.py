"""ORM models of quality supervision: rule sets, evaluations, quarantined rows, alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import JSONType, UTCDateTime


class QualityRuleSet(Base):
    """质量规则: a resource's rules (as declared), its ingest policy and evaluation cadence."""

    __tablename__ = "quality_rule_set"

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True
    )
    policy: Mapped[str] = mapped_column(String(16))
    cadence_hours: Mapped[int] = mapped_column(Integer)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    actor: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QualityEvaluation(Base):
    """An evaluation of a resource (periodic, on demand, or of an ingest batch) and its scores."""

    __tablename__ = "quality_evaluation"
    __table_args__ = (Index("ix_quality_evaluation_resource_time", "resource_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # periodic | manual | ingest
    batch_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    policy: Mapped[str] = mapped_column(String(16), default="")
    outcome: Mapped[str] = mapped_column(
        String(16), default=""
    )  # passed|warned|quarantined|rejected
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    rules_version: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QuarantinedRow(Base):
    """隔离数据: a row the gate held back, with the rules it failed, for the steward to fix."""

    __tablename__ = "quality_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    evaluation_id: Mapped[str] = mapped_column(
        ForeignKey("quality_evaluation.id", ondelete="CASCADE"), index=True
    )
    source_row: Mapped[int] = mapped_column(BigInteger)
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    failed_rules: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QualityAlert(Base):
    """质量告警: a score under its threshold, or a resource that missed its update cycle."""

    __tablename__ = "quality_alert"
    __table_args__ = (Index("ix_quality_alert_resource_kind", "resource_id", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # score_below | update_missed
    message: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    evaluation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
