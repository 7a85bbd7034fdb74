"""audit storage: the entry key as SQLite's rowid, the subject index without rowid

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's tables are already what this makes on SQLite
    with op.batch_alter_table("audit_entry", recreate="always") as batch:
        batch.alter_column("leaf_index", type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table(
        "audit_subject", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.alter_column("leaf_index", existing_type=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("audit_subject", recreate="always") as batch:
        batch.alter_column("leaf_index", existing_type=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table("audit_entry", recreate="always") as batch:
        batch.alter_column("leaf_index", type_=sa.BigInteger(), existing_nullable=False)
