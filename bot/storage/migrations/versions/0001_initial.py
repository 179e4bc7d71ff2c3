"""Feeds, articles, the article-feed links and SQLite full-text search.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FTS_TRIGGERS = (
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, summary, text)
        VALUES (new.pk, new.title, coalesce(new.summary, ''), new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)
        VALUES ('delete', old.pk, old.title, coalesce(old.summary, ''), old.text);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)
        VALUES ('delete', old.pk, old.title, coalesce(old.summary, ''), old.text);
        INSERT INTO articles_fts(rowid, title, summary, text)
        VALUES (new.pk, new.title, coalesce(new.summary, ''), new.text);
    END""",
)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("auto_name", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("extract_full_text", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("interval_minutes", sa.Integer),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("initialized", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", UTCDateTime),
        sa.Column("next_poll_at", UTCDateTime),
        sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("paused", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("paused_reason", sa.Text),
        sa.Column("failing_since", UTCDateTime),
        sa.Column("ttl_minutes", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("guild_id", "url", name="uq_feeds_guild_url"),
    )
    op.create_table(
        "articles",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(32), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="SET NULL")),
        sa.Column("published_at", UTCDateTime, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_is_teaser", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("backfill", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("story_id", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("sentence_count", sa.Integer),
    )
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_table(
        "article_feeds",
        sa.Column(
            "article_id",
            sa.String(32),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "feed_id"),
    )
    op.create_index("ix_article_feeds_feed_id", "article_feeds", ["feed_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5("
            "title, summary, text, content='articles', content_rowid='pk', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        for trigger in _FTS_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts")
    op.drop_table("article_feeds")
    op.drop_table("articles")
    op.drop_table("feeds")
