"""The storage interface the pipeline and services depend on; backends implement it.

Methods are synchronous: callers run them off the event loop (``asyncio.to_thread``) together
with the CPU-bound work around them, so one thread does one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.models import Article, Feed, NewArticle, Schedule, SearchHit, Subscription

__all__ = ["FeedState", "Store", "StoreStats", "StoredBatch"]


@dataclass(frozen=True, slots=True)
class FeedState:
    """HTTP caching state saved after a successful fetch."""

    etag: str | None
    last_modified: str | None
    body_hash: str | None
    title: str | None = None
    """The feed's own title; it names feeds that were added without a name."""


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """Which of the offered articles were new, and how many were already known."""

    new_ids: tuple[str, ...]
    seen_count: int


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts for status displays."""

    feeds: int
    articles: int
    last_refresh_at: datetime | None


class Store(Protocol):
    """Feeds, articles and their summaries."""

    def add_feed(
        self,
        url: str,
        name: str | None,
        *,
        guild_id: int = 0,
        channel_id: int | None = None,
        extract_full_text: bool = False,
        interval_minutes: int | None = None,
    ) -> Feed:
        """Insert a feed, or update the name and options of the same URL in the same guild.

        Without a name the feed is called after its host (or folder) until its first fetch
        brings its own title."""
        ...

    def get_feed(self, feed_id: int) -> Feed | None:
        """The feed with this id."""
        ...

    def list_feeds(self, guild_id: int | None = None) -> list[Feed]:
        """All feeds, or those of one guild (0 = the config file's)."""
        ...

    def remove_feed(self, feed_id: int) -> bool:
        """Delete a feed; its articles stay. False when it did not exist."""
        ...

    def known_article_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` already stored."""
        ...

    def store_articles(
        self, feed_id: int, articles: Sequence[NewArticle], state: FeedState, at: datetime
    ) -> StoredBatch:
        """In one transaction: insert the new articles, link the known ones to this feed,
        save the caching state, and mark the feed fetched successfully at ``at``."""
        ...

    def record_not_modified(self, feed_id: int, state: FeedState, at: datetime) -> None:
        """A successful fetch that brought nothing new."""
        ...

    def record_feed_error(self, feed_id: int, message: str, at: datetime) -> None:
        """A failed fetch; the feed keeps its caching state."""
        ...

    def articles_between(self, since: datetime, until: datetime, *, limit: int) -> list[Article]:
        """Articles published in [since, until], newest first."""
        ...

    def latest_articles(self, count: int, *, source: str | None = None) -> list[Article]:
        """The newest articles, optionally of one source (name or feed URL host)."""
        ...

    def search(
        self, query: str, *, since: datetime | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """Full-text search for all the query's words ("quoted phrases" kept), best first."""
        ...

    def save_summaries(self, summaries: Mapping[str, tuple[tuple[str, ...], int]]) -> None:
        """Cache summaries: article id -> (sentences, sentence count of the article)."""
        ...

    def stats(self) -> StoreStats:
        """Counts for ``/news status``."""
        ...

    def add_subscription(
        self,
        guild_id: int,
        user_id: int,
        query: str,
        delivery: str,
        channel_id: int | None,
        at: datetime,
    ) -> Subscription:
        """Store a subscription (already validated)."""
        ...

    def list_subscriptions(self, guild_id: int, user_id: int | None = None) -> list[Subscription]:
        """A guild's subscriptions, or one member's."""
        ...

    def remove_subscription(self, guild_id: int, user_id: int, subscription_id: int) -> bool:
        """Delete a member's own subscription; False when there was none."""
        ...

    def add_schedule(
        self,
        guild_id: int,
        channel_id: int,
        time_of_day: str,
        timezone: str,
        days: tuple[int, ...],
        topic: str | None,
        created_by: int,
        at: datetime,
    ) -> Schedule:
        """Store a briefing schedule (already validated)."""
        ...

    def list_schedules(self, guild_id: int | None = None) -> list[Schedule]:
        """All schedules, or a guild's."""
        ...

    def remove_schedule(self, guild_id: int, schedule_id: int) -> bool:
        """Delete a guild's schedule; False when there was none."""
        ...

    def delete_guild(self, guild_id: int) -> None:
        """Forget a guild's feeds, subscriptions and schedules."""
        ...
