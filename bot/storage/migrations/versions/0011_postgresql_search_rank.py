"""PostgreSQL search ranks on a small vector: the title and the opening of the text.

On PostgreSQL, ``articles.search_rank``: a stored ``tsvector`` of the title (weight A) and
the text's first 300 characters (weight B), small enough to stay in the table's row, so
ranking thousands of candidates never reads the full ``search`` vector back from TOAST.
SQLite is unchanged (FTS5 ranks in its own index).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_RANK_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, left(text, 300)), 'B')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE articles ADD COLUMN search_rank tsvector "
            f"GENERATED ALWAYS AS ({_RANK_VECTOR}) STORED"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_rank")
