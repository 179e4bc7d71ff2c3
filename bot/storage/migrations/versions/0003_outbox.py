"""The delivery outbox and the stories each channel has been briefed on.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("recipient_type", sa.String(8), nullable=False),
        sa.Column("recipient_id", sa.BigInteger, nullable=False),
        sa.Column("story_id", sa.String(32)),
        sa.Column("subscription_id", sa.Integer),
        sa.Column("feed_id", sa.Integer),
        sa.Column("schedule_id", sa.Integer),
        sa.Column("payload", sa.Text),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("message_id", sa.Text),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_recipient", "outbox", ["recipient_type", "recipient_id", "status"])
    op.create_table(
        "briefed_stories",
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("story_id", sa.String(32), nullable=False),
        sa.Column("briefed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "story_id"),
    )


def downgrade() -> None:
    op.drop_table("briefed_stories")
    op.drop_table("outbox")
