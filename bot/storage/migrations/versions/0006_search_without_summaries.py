"""Full-text search indexes titles and texts only: a summary repeats its article's own words,
so indexing it raised an article's rank once it had been summarised (search results changed
after a briefing showed them) and made every summary write re-index the article.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sys

from alembic import op
from tqdm import tqdm

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX_CHUNK = 5000
"""Articles indexed per statement when the index is rebuilt."""
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


def _index_stored_articles() -> None:
    """Index the stored articles a chunk of keys at a time, with a progress bar when stderr is
    a terminal: at a million articles this takes minutes, once."""
    bind = op.get_bind()
    low, high = bind.exec_driver_sql("SELECT min(pk), max(pk) FROM articles").one()
    if low is None:
        return
    statement = (
        "INSERT INTO articles_fts(rowid, title, text) "
        "SELECT pk, title, text FROM articles WHERE pk >= ? AND pk < ?"
    )
    with tqdm(
        total=high - low + 1,
        desc="newsbot: building the search index",
        unit=" keys",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
    ) as progress:
        for start in range(low, high + 1, INDEX_CHUNK):
            bind.exec_driver_sql(statement, (start, start + INDEX_CHUNK))
            progress.update(min(INDEX_CHUNK, high + 1 - start))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate("title, text", "new.title, new.text", "old.title, old.text", "title, text")
        _index_stored_articles()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(
            "title, summary, text",
            "new.title, coalesce(new.summary, ''), new.text",
            "old.title, coalesce(old.summary, ''), old.text",
            "title, summary, text",
        )
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
