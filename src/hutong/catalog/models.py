"""ORM models of the catalog: resources and their metadata versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import JSONType, UTCDateTime


class Resource(Base):
    """公共数据资源: a catalog entry. Facet columns are copied out of ``meta`` for filtering."""

    __tablename__ = "resource"
    __table_args__ = (UniqueConstraint("provider_id", "code"),)

    id: Mapped[str] = mapped_column(String(140), primary_key=True)  # node:uscc:code
    node: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    classification: Mapped[str] = mapped_column(String(12), index=True)
    sharing_type: Mapped[str] = mapped_column(String(16), index=True)
    open_type: Mapped[str] = mapped_column(String(16), index=True)
    security_grade: Mapped[str] = mapped_column(String(16), index=True)
    base_catalog: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    hosted: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType)  # ResourceBase as JSON
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    table_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    row_count: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    data_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class ResourceVersion(Base):
    """A version of a resource's metadata: who changed it, when, and why."""

    __tablename__ = "resource_version"

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType)
    actor: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
