"""System tables: revisions and the model registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "specql_revisions",
        sa.Column("revision_id", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(128), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("parent_revision_id", sa.String(64)),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("data_hash", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary),
    )
    op.create_index(
        "ix_specql_revisions_resource_number",
        "specql_revisions",
        ["model", "resource_id", "number"],
        unique=True,
    )
    op.create_table(
        "specql_models",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("indexed", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("specql_models")
    op.drop_index("ix_specql_revisions_resource_number", table_name="specql_revisions")
    op.drop_table("specql_revisions")
