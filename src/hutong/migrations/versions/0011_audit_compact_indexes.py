"""audit compact indexes: numbers for organizations and resources, a bucketed binary subject index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 05:00:00

Decision 0016. Existing entries get their numbers, and subject rows their bucket and the
first 16 bytes of their key, in SQL. Downgrading rebuilds the hex subject keys from the
entries' payloads (the whole key is there); subject rows of archived entries, whose
payloads are not in the database any more, are lost on downgrade.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BUCKET_BITS = 16
OLD_INDEXES = (
    ("ix_audit_entry_org_time", ["actor_org", "time"]),
    ("ix_audit_entry_provider_time", ["provider_org", "time"]),
    ("ix_audit_entry_resource_id", ["resource_id"]),
)
NEW_INDEXES = (
    ("ix_audit_entry_actor_time", ["actor_no", "time"]),
    ("ix_audit_entry_provider_resource_time", ["provider_no", "resource_no", "time"]),
)
NUMBER_ORGS = """
INSERT INTO audit_org (no, org_id)
SELECT row_number() OVER (ORDER BY org_id), org_id FROM (
  SELECT actor_org AS org_id FROM audit_entry WHERE actor_org IS NOT NULL AND actor_org <> ''
  UNION
  SELECT provider_org FROM audit_entry WHERE provider_org IS NOT NULL AND provider_org <> ''
) AS names
"""
NUMBER_ENTRY_ORGS = """
UPDATE audit_entry SET
  actor_no = coalesce((SELECT no FROM audit_org WHERE org_id = audit_entry.actor_org), 0),
  provider_no = coalesce((SELECT no FROM audit_org WHERE org_id = audit_entry.provider_org), 0)
"""
NUMBER_RESOURCES = """
INSERT INTO audit_resource (no, resource_id, provider_no)
SELECT row_number() OVER (ORDER BY resource_id, provider_no), resource_id, provider_no FROM (
  SELECT DISTINCT resource_id, provider_no FROM audit_entry
  WHERE resource_id IS NOT NULL AND resource_id <> ''
) AS pairs
"""
NUMBER_ENTRY_RESOURCES = """
UPDATE audit_entry SET resource_no = coalesce((
  SELECT no FROM audit_resource r
  WHERE r.resource_id = audit_entry.resource_id AND r.provider_no = audit_entry.provider_no
), 0)
"""


def _subject_table(name: str, key_type: sa.types.TypeEngine, *, bucketed: bool) -> None:
    columns = [sa.Column("bucket", sa.Integer(), nullable=False)] if bucketed else []
    key = ["bucket", "subject_key", "leaf_index"] if bucketed else ["subject_key", "leaf_index"]
    op.create_table(
        name,
        *columns,
        sa.Column("subject_key", key_type, nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_audit_subject")),
        sqlite_with_rowid=False,
    )


def _set_aside_subjects() -> None:
    """Rename audit_subject (and, on PostgreSQL, its key) out of the new table's way."""
    op.rename_table("audit_subject", "audit_subject_old")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE audit_subject_old RENAME CONSTRAINT pk_audit_subject "
            "TO pk_audit_subject_old"
        )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "audit_org",
        sa.Column("no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("org_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("no", name=op.f("pk_audit_org")),
        sa.UniqueConstraint("org_id", name=op.f("uq_audit_org_org_id")),
    )
    op.create_table(
        "audit_resource",
        sa.Column("no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("resource_id", sa.String(length=140), nullable=False),
        sa.Column("provider_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("no", name=op.f("pk_audit_resource")),
        sa.UniqueConstraint(
            "resource_id", "provider_no", name=op.f("uq_audit_resource_resource_id_provider_no")
        ),
    )
    for column in ("actor_no", "provider_no", "resource_no"):
        op.add_column(
            "audit_entry", sa.Column(column, sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(NUMBER_ORGS)
    op.execute(NUMBER_ENTRY_ORGS)
    op.execute(NUMBER_RESOURCES)
    op.execute(NUMBER_ENTRY_RESOURCES)
    for name, _ in OLD_INDEXES:
        op.drop_index(name, table_name="audit_entry")
    for name, columns in NEW_INDEXES:
        op.create_index(name, "audit_entry", columns)

    _set_aside_subjects()
    _subject_table("audit_subject", sa.LargeBinary(16), bucketed=True)
    if bind.dialect.name == "sqlite":
        raw = bind.connection.driver_connection
        raw.create_function(  # type: ignore[union-attr]  # SQLite 3.40 has no unhex()
            "hutong_key16", 1, lambda k: bytes.fromhex(k[:32]), deterministic=True
        )
        key16 = "hutong_key16(subject_key)"
    else:
        key16 = "decode(substr(subject_key, 1, 32), 'hex')"
    op.execute(
        f"INSERT INTO audit_subject (bucket, subject_key, leaf_index) "
        f"SELECT leaf_index >> {BUCKET_BITS}, {key16}, leaf_index FROM audit_subject_old "
        "WHERE true ON CONFLICT DO NOTHING"
    )
    op.drop_table("audit_subject_old")


def downgrade() -> None:
    bind = op.get_bind()
    _set_aside_subjects()
    _subject_table("audit_subject", sa.String(length=64), bucketed=False)
    rows = bind.execute(
        sa.text(
            "SELECT s.leaf_index, s.subject_key, e.payload FROM audit_subject_old s "
            "JOIN audit_entry e ON e.leaf_index = s.leaf_index "
            "WHERE e.payload IS NOT NULL ORDER BY s.leaf_index"
        )
    )
    back = set()
    for leaf, prefix, payload in rows:
        for key in json.loads(payload).get("subjects", []):
            if key.startswith(bytes(prefix).hex()):
                back.add((key, leaf))
    if back:
        bind.execute(
            sa.text("INSERT INTO audit_subject (subject_key, leaf_index) VALUES (:k, :i)"),
            [{"k": k, "i": i} for k, i in sorted(back)],
        )
    op.drop_table("audit_subject_old")

    for name, _ in NEW_INDEXES:
        op.drop_index(name, table_name="audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        for column in ("resource_no", "provider_no", "actor_no"):
            batch.drop_column(column)
    for name, columns in OLD_INDEXES:
        op.create_index(name, "audit_entry", columns)
    op.drop_table("audit_resource")
    op.drop_table("audit_org")
