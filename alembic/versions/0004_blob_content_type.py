"""The content type given at a blob's upload, kept with the blob (a write
takes a Binary's content type from the store, not from the client).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("specql_blobs", sa.Column("content_type", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("specql_blobs", "content_type")
