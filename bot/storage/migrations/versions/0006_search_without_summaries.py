"""Full-text search indexes titles and texts only: a summary repeats its article's own words,
so indexing it raised an article's rank once it had been summarised (search results changed
after a briefing showed them) and made every summary write re-index the article.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TRIGGERS = ("articles_fts_insert", "articles_fts_delete", "articles_fts_update")


def _recreate(columns: str, values: str, old_values: str, update_of: str) -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute(
        f"CREATE VIRTUAL TABLE articles_fts USING fts5({columns}, content='articles', "
        "content_rowid='pk', tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, {columns}) VALUES (new.pk, {values});
        END"""
    )
    op.execute(
        f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {columns})
            VALUES ('delete', old.pk, {old_values});
        END"""
    )
    op.execute(
        f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF {update_of} ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {columns})
            VALUES ('delete', old.pk, {old_values});
            INSERT INTO articles_fts(rowid, {columns}) VALUES (new.pk, {values});
        END"""
    )
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate("title, text", "new.title, new.text", "old.title, old.text", "title, text")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(
            "title, summary, text",
            "new.title, coalesce(new.summary, ''), new.text",
            "old.title, coalesce(old.summary, ''), old.text",
            "title, summary, text",
        )
