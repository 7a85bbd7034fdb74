"""ORM model of the gateway: the generation of what authorizes a call."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from hutong.core.database import Base

# Tables whose rows decide whether and how a gateway call is answered. A change to any of
# them (by any writer: service, CLI, migration, hand-written SQL) bumps the generation
# through database triggers (migration 0010), so every gateway process drops what it
# cached about apps, scenarios, grants, resources, provider APIs and objections.
POLICY_TABLES = (
    "node",
    "organization",
    "app",
    "scenario",
    "share_grant",
    "resource",
    "upstream_endpoint",
    "objection",
)


class GatewayPolicy(Base):
    """One row: the policy generation the gateway's per-process caches are valid for."""

    __tablename__ = "gateway_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
