"""ORM models of sharing: application scenarios (应用场景)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import UTCDateTime


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
