"""Each model's field shapes as recorded at the last open (JSON), so that a
model changed under stored data is refused when the store opens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("specql_models", sa.Column("shape", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("specql_models") as batch:
        batch.drop_column("shape")
