"""Articles waiting for their story: where several processes ingest, story clustering runs in
one of them (the holder of a named lock) over the articles stored without a story, oldest
first; ``story_pending`` marks those, with a partial index over just them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PENDING = sa.text("story_pending")


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild, which would drop SQLite's full-text triggers).
    op.add_column(
        "articles",
        sa.Column("story_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_articles_story_pending",
        "articles",
        ["pk"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_articles_story_pending", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("story_pending")
