"""quality rules, evaluations and scores

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hutong.core.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, hutong.core.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "quality_rule_set",
        sa.Column("resource_id", sa.String(length=140), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("cadence_hours", sa.Integer(), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_quality_rule_set_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_quality_rule_set")),
    )
    op.create_table(
        "quality_evaluation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=140), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("failed_rows", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("scores", JSON, nullable=False),
        sa.Column("results", JSON, nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        _time("started_at"),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organization.id"],
            name=op.f("fk_quality_evaluation_provider_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_quality_evaluation_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_evaluation")),
    )
    op.create_index(
        op.f("ix_quality_evaluation_provider_id"), "quality_evaluation", ["provider_id"]
    )
    op.create_index(
        "ix_quality_evaluation_resource_time", "quality_evaluation", ["resource_id", "started_at"]
    )
    op.create_table(
        "quality_quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource_id", sa.String(length=140), nullable=False),
        sa.Column("evaluation_id", sa.String(length=36), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("failed_rules", JSON, nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["quality_evaluation.id"],
            name=op.f("fk_quality_quarantine_evaluation_id_quality_evaluation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_quality_quarantine_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_quarantine")),
    )
    op.create_index(
        op.f("ix_quality_quarantine_evaluation_id"), "quality_quarantine", ["evaluation_id"]
    )
    op.create_index(
        op.f("ix_quality_quarantine_resource_id"), "quality_quarantine", ["resource_id"]
    )
    op.create_table(
        "quality_alert",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=140), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("evaluation_id", sa.String(length=36), nullable=True),
        _time("created_at"),
        _time("resolved_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organization.id"],
            name=op.f("fk_quality_alert_provider_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_quality_alert_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_alert")),
    )
    op.create_index(op.f("ix_quality_alert_created_at"), "quality_alert", ["created_at"])
    op.create_index(op.f("ix_quality_alert_provider_id"), "quality_alert", ["provider_id"])
    op.create_index("ix_quality_alert_resource_kind", "quality_alert", ["resource_id", "kind"])


def downgrade() -> None:
    op.drop_table("quality_alert")
    op.drop_table("quality_quarantine")
    op.drop_table("quality_evaluation")
    op.drop_table("quality_rule_set")
