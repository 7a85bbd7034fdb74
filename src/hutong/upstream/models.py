"""ORM models of provider-API resources: the upstream endpoint that serves a resource."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base
from hutong.core.types import JSONType, UTCDateTime


class UpstreamEndpoint(Base):
    """The provider's own API that delivers a resource whose data stays at the provider.

    ``auth_secret`` is the static header value sent upstream, sealed with AES-GCM under
    the node's upstream key (``upstream.secrets``); it is never returned nor logged.
    """

    __tablename__ = "upstream_endpoint"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), unique=True
    )
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    base_url: Mapped[str] = mapped_column(String(2000))
    timeout_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    key_fields: Mapped[list[str]] = mapped_column(JSONType)
    auth_header: Mapped[str | None] = mapped_column(String(64), nullable=True)
    auth_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
