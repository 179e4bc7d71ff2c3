"""Who added a feed (told when its channel refuses posts), and schedules that stopped.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("created_by", sa.BigInteger))
    op.add_column("schedules", sa.Column("active", sa.Boolean, nullable=False, server_default="1"))
    op.add_column("schedules", sa.Column("disabled_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("disabled_reason")
        batch.drop_column("active")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("created_by")
