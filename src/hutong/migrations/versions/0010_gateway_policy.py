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
    # PostgreSQL: at commit (deferred constraint triggers), once per transaction. Taken any
    # earlier, the counter's row lock would be held across the rest of the transaction and
    # two writers of different policy tables could deadlock on it (a correction racing a
    # load did); taken last, it is held only while the transaction commits.
    op.execute(
        "CREATE FUNCTION gateway_policy_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF current_setting('hutong.gateway_policy_bumped', true) IS DISTINCT FROM '1' THEN "
        f"{BUMP}; "
        "PERFORM set_config('hutong.gateway_policy_bumped', '1', true); "
        "END IF; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER gateway_policy_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION gateway_policy_bump()"
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
