"""PostgreSQL full-text search, and who holds a claim.

On PostgreSQL, ``articles.search``: a stored ``tsvector`` of the title (weight A) and the
text (weight B), with a GIN index (SQLite keeps its FTS5 table). On both engines, the
``claimed_by`` of feeds and outbox rows: the owner of a poll or delivery lease, so a process
that restarts can hand back its own leftovers without touching another process's claims.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SEARCH_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, left(text, 200000)), 'B')"
)
"""The first 200,000 characters of a text are searchable (a ``tsvector`` holds 1 MB)."""


def upgrade() -> None:
    op.add_column("feeds", sa.Column("claimed_by", sa.Text))
    op.add_column("outbox", sa.Column("claimed_by", sa.Text))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE articles ADD COLUMN search tsvector "
            f"GENERATED ALWAYS AS ({_SEARCH_VECTOR}) STORED"
        )
        op.execute("CREATE INDEX ix_articles_search ON articles USING GIN (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("claimed_by")
