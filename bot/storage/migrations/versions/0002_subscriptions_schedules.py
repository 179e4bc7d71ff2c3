"""Topic subscriptions and scheduled briefings, both kept per guild.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("delivery", sa.String(8), nullable=False),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("breaking_sources", sa.Integer),
        sa.Column("breaking_minutes", sa.Integer),
    )
    op.create_index("ix_subscriptions_guild_user", "subscriptions", ["guild_id", "user_id"])
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("time_of_day", sa.String(5), nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("days", sa.String(16), nullable=False),
        sa.Column("topic", sa.Text),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_run_at", UTCDateTime),
    )
    op.create_index("ix_schedules_guild", "schedules", ["guild_id"])


def downgrade() -> None:
    op.drop_table("schedules")
    op.drop_table("subscriptions")
