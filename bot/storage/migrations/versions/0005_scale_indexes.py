"""An index on the feed of each article, so removing a feed (or a guild's feeds) no longer
reads every article to clear its ``feed_id``.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_feed_id", "articles", ["feed_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_feed_id", table_name="articles")
