"""Tables, as SQLAlchemy Core metadata. Migrations create them; the store queries them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UTCDateTime",
    "article_feeds",
    "articles",
    "briefed_stories",
    "feeds",
    "metadata",
    "outbox",
    "schedules",
    "subscriptions",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False, server_default="0"),
    Column("url", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("auto_name", Boolean, nullable=False, server_default="0"),
    Column("channel_id", BigInteger),
    Column("extract_full_text", Boolean, nullable=False, server_default="0"),
    Column("interval_minutes", Integer),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("initialized", Boolean, nullable=False, server_default="0"),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("next_poll_at", UTCDateTime),
    Column("failure_count", Integer, nullable=False, server_default="0"),
    Column("paused", Boolean, nullable=False, server_default="0"),
    Column("paused_reason", Text),
    Column("failing_since", UTCDateTime),
    Column("ttl_minutes", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", BigInteger),
    Column("claimed_by", Text),
    UniqueConstraint("guild_id", "url", name="uq_feeds_guild_url"),
)

articles = Table(
    "articles",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("url", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="SET NULL")),
    Column("published_at", UTCDateTime, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("language", String(16)),
    Column("text", Text, nullable=False),
    Column("text_is_teaser", Boolean, nullable=False, server_default="0"),
    Column("backfill", Boolean, nullable=False, server_default="0"),
    Column("story_id", String(32), nullable=False),
    Column("summary", Text),
    Column("sentence_count", Integer),
    Index("ix_articles_published_at", "published_at"),
    Index("ix_articles_story_id", "story_id"),
    Index("ix_articles_feed_id", "feed_id"),
)

article_feeds = Table(
    "article_feeds",
    metadata,
    Column("article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("article_id", "feed_id"),
    Index("ix_article_feeds_feed_id", "feed_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("query", Text, nullable=False),
    Column("delivery", String(8), nullable=False),
    Column("channel_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("disabled_reason", Text),
    Column("breaking_sources", Integer),
    Column("breaking_minutes", Integer),
    Index("ix_subscriptions_guild_user", "guild_id", "user_id"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("time_of_day", String(5), nullable=False),
    Column("timezone", Text, nullable=False),
    Column("days", String(16), nullable=False),
    Column("topic", Text),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_run_at", UTCDateTime),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("disabled_reason", Text),
    Index("ix_schedules_guild", "guild_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", Text, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("guild_id", BigInteger, nullable=False),
    Column("recipient_type", String(8), nullable=False),
    Column("recipient_id", BigInteger, nullable=False),
    Column("story_id", String(32)),
    Column("subscription_id", Integer),
    Column("feed_id", Integer),
    Column("schedule_id", Integer),
    Column("payload", Text),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("message_id", Text),
    Column("last_error", Text),
    Column("claimed_by", Text),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_recipient", "recipient_type", "recipient_id", "status"),
)

briefed_stories = Table(
    "briefed_stories",
    metadata,
    Column("channel_id", BigInteger, nullable=False),
    Column("story_id", String(32), nullable=False),
    Column("briefed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("channel_id", "story_id"),
)
