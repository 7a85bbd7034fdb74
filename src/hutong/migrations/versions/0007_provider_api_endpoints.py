"""provider-API upstream endpoints

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hutong.core.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_endpoint",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=140), nullable=False),
        sa.Column("provider_org_id", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=True),
        sa.Column(
            "key_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("auth_header", sa.String(length=64), nullable=True),
        sa.Column("auth_secret", sa.LargeBinary(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", hutong.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hutong.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_org_id"],
            ["organization.id"],
            name=op.f("fk_upstream_endpoint_provider_org_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_upstream_endpoint_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_endpoint")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_upstream_endpoint_resource_id")),
    )
    with op.batch_alter_table("upstream_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upstream_endpoint_provider_org_id"), ["provider_org_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("upstream_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upstream_endpoint_provider_org_id"))
    op.drop_table("upstream_endpoint")
