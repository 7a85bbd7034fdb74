"""ORM models of sharing: application scenarios (应用场景)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import JSONType, UTCDateTime


class Scenario(Base):
    """应用场景: a consumer organization's declared purpose for using shared data."""

    __tablename__ = "scenario"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    business_system: Mapped[str] = mapped_column(String(200), default="")
    responsible_person: Mapped[str] = mapped_column(String(100), default="")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    expected_daily_volume: Mapped[int] = mapped_column(Integer, default=0)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    disclose_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Application(Base):
    """共享申请: a consumer's application for fields of a resource under a scenario."""

    __tablename__ = "application"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenario.id"), index=True)
    consumer_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resource.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    # [{"name": field, "justification": why this field is needed}]
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    call_types: Mapped[list[str]] = mapped_column(JSONType)
    daily_quota: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), index=True)
    operator_due: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    provider_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_reasons: Mapped[str] = mapped_column(Text, default="")
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    applicant: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Grant(Base):
    """授权: what a consumer organization may call, for one scenario and resource, until when.

    ``fields`` maps each granted field to how it is delivered: ``clear``, ``masked`` or
    ``pseudonym`` (keyed per consumer organization).
    """

    __tablename__ = "share_grant"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("application.id"), nullable=True, index=True
    )
    consumer_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenario.id"), index=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resource.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    fields: Mapped[dict[str, str]] = mapped_column(JSONType)
    call_types: Mapped[list[str]] = mapped_column(JSONType)
    daily_quota: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
