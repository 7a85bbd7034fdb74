"""gateway policy generation: one counter, bumped by triggers on every policy table

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# the tables of hutong.gateway.models.POLICY_TABLES, as they are at this revision
TABLES = (
    "node",
    "organization",
    "app",
    "scenario",
    "share_grant",
    "resource",
    "upstream_endpoint",
    "objection",
)
BUMP = "UPDATE gateway_policy SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "gateway_policy",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_policy")),
    )
    op.execute("INSERT INTO gateway_policy (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER gateway_policy_{table}_{event.lower()} AFTER {event} "
                    f"ON {table} BEGIN {BUMP}; END"
                )
        return
    op.execute(
        "CREATE FUNCTION gateway_policy_bump() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER gateway_policy_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gateway_policy_bump()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS gateway_policy_{table}_{event}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS gateway_policy_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS gateway_policy_bump()")
    op.drop_table("gateway_policy")
