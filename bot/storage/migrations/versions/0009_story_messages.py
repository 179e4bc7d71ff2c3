"""Story messages: members' DM story cards and channel alerts that are edited as their story
gains articles (``/follow``, Follow buttons, "developing" alerts).

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("story_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("recipient_type", sa.String(8), nullable=False),
        sa.Column("recipient_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.Text),
        sa.Column("status", sa.String(8), nullable=False, server_default="active"),
        sa.Column("ended_reason", sa.Text),
        sa.Column("headline", sa.Text, nullable=False, server_default=""),
        sa.Column("shown", sa.Text, nullable=False, server_default="[]"),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("edits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("edited_at", sa.DateTime),
        sa.UniqueConstraint("recipient_type", "recipient_id", "story_id", name="uq_story_messages"),
    )
    op.create_index("ix_story_messages_story", "story_messages", ["story_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_story_messages_story", table_name="story_messages")
    op.drop_table("story_messages")
